#!/bin/bash
# IMAP TLS through the real binary: the bed's self-signed certificate is
# refused without ca_file (implicit TLS and STARTTLS) before any credential
# is sent, accepted with it (by IP and by name), a certificate for another
# name is refused, plaintext works only on loopback, and the password never
# shows in ps, in logs or in the state. Fatal failures are logged as
# error: with what to do: a refused login names the user and the secret
# file, implicit TLS on a plain port says "set tls = starttls", STARTTLS on
# a TLS port says "set tls = implicit", a refused connection asks about
# host and port.
set -eu
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
W=$TB_DIR/work
mkdir -p "$W"

printf 'From: Alice <alice@client.example>\r\nTo: %s\r\nSubject: hello\r\nMessage-ID: <tls-1@client.example>\r\nDate: %s\r\n\r\nI would like to book a first appointment.\r\n' \
    "$TB_USER" "$(date -R)" >"$W/in.eml"
tb_append "$TB_USER" INBOX "$W/in.eml" >/dev/null

# Successful logins of the practice account in Dovecot's log so far.
logins()
{
	grep -c "Login: user=<$TB_USER>" "$TB_DIR/dovecot.log" || true
}

# Run "triaged -c CONF once"; check the exit code and, if given, stderr.
once()
{
	local conf=$1 want=$2 pattern=${3:-} rc=0
	"$TRIAGED" -c "$conf" once >"$W/out" 2>"$W/err" || rc=$?
	cat "$W/err" >&2
	[ "$rc" = "$want" ] || tb_fail "$conf: exit $rc, wanted $want"
	if [ -n "$pattern" ]; then
		grep -q -- "$pattern" "$W/err" ||
		    tb_fail "$conf: stderr lacks '$pattern'"
	fi
	cat "$W/err" >>"$W/all.log"
}

# --- Without ca_file the self-signed certificate is refused, and no
# credential reaches the server (no login, no failed authentication).
n0=$(logins)
tb_conf "$W/implicit-noca.conf" -imap.ca_file
once "$W/implicit-noca.conf" 69 "certificate verification failed for 127.0.0.1"
tb_conf "$W/starttls-noca.conf" -imap.ca_file imap.tls=starttls \
    "imap.port=$TB_IMAP_PORT"
once "$W/starttls-noca.conf" 69 "certificate verification failed for 127.0.0.1"
[ "$(logins)" = "$n0" ] || tb_fail "logged in despite a bad certificate"
! grep -q 'auth failed\|[Pp]assword mismatch' "$TB_DIR/dovecot.log" ||
    tb_fail "a credential was tried over an unverified connection"
[ "$(grep -c 'no auth attempts.*TLS' "$TB_DIR/dovecot.log")" -ge 2 ] ||
    tb_fail "the refused sessions did not reach TLS"
! tb_flags "$TB_USER" INBOX | grep -q 'Triage_\|Seen' || tb_fail "mail touched"

# --- With ca_file: implicit TLS, STARTTLS, by IP and by DNS name.
n0=$(logins)
tb_conf "$W/implicit.conf"
once "$W/implicit.conf" 0
tb_conf "$W/starttls.conf" imap.tls=starttls "imap.port=$TB_IMAP_PORT"
once "$W/starttls.conf" 0
tb_conf "$W/localhost.conf" imap.host=localhost
once "$W/localhost.conf" 0
[ "$(logins)" = $((n0 + 3)) ] || tb_fail "expected 3 logins"
! grep "Login: user=<$TB_USER>" "$TB_DIR/dovecot.log" | grep -vq TLS ||
    tb_fail "a login went without TLS"
tb_flags "$TB_USER" INBOX >"$W/flags"
grep -q '^1 .*\$Triage_' "$W/flags" || tb_fail "not triaged: $(cat "$W/flags")"
! grep -q 'Seen' "$W/flags" || tb_fail "\\Seen set: $(cat "$W/flags")"

# --- Plaintext is allowed on loopback only.
tb_conf "$W/plain.conf" imap.tls=none "imap.port=$TB_IMAP_PORT" \
    -imap.ca_file
once "$W/plain.conf" 0

# --- A wrong password: 69, and the cause does not hold a secret.
printf 'not-%s\n' "$TB_PASS" >"$W/wrong.secret"
chmod 600 "$W/wrong.secret"
tb_conf "$W/wrong.conf" "imap.password_file=$W/wrong.secret"
once "$W/wrong.conf" 69 "LOGIN failed"
! grep -q "not-$TB_PASS" "$W/err" || tb_fail "password in the error"
# An error, and it says where to look.
grep -q "error: .*LOGIN failed.*check \[imap\] user ($TB_USER) and the password in $W/wrong.secret" \
    "$W/err" || tb_fail "wrong password: no hint: $(cat "$W/err")"

# --- The wrong port or TLS mode says what to set.
tb_conf "$W/implicit-on-plain.conf" "imap.port=$TB_IMAP_PORT"
once "$W/implicit-on-plain.conf" 69 \
    "error: .*this port answers in plain text (it speaks STARTTLS): set tls = starttls"
tb_conf "$W/starttls-on-tls.conf" imap.tls=starttls imap.timeout=3
once "$W/starttls-on-tls.conf" 69 \
    "error: .*this port sends no IMAP greeting (it may expect implicit TLS): set tls = implicit"
# Library noise never reaches the log raw: no bare "GnuTLS error" line
# from libetpan in any of the failures above.
! grep -q '^GnuTLS error' "$W/all.log" ||
    tb_fail "raw library noise: $(grep '^GnuTLS' "$W/all.log" | head -3)"
closed=$("$TB_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tb_conf "$W/refused.conf" "imap.port=$closed"
once "$W/refused.conf" 69 \
    "error: imap: 127.0.0.1 port $closed: cannot connect; is the server up, and are \[imap\] host and port right?"

# --- The password never shows in ps while the daemon runs.
"$TRIAGED" -c "$W/implicit.conf" run >"$W/run.out" 2>"$W/run.err" &
pid=$!
tb_atexit "kill -TERM $pid 2>/dev/null"
: >"$W/ps"
for i in $(seq 1 20); do
	ps -eo args= >>"$W/ps"
	sleep 0.1
done
# Match the config path: $TRIAGED may be a wrapper (make valgrind).
grep -q -- "-c $W/implicit.conf run" "$W/ps" || tb_fail "the daemon did not run"
# A TERM before the handlers are set would end it by the default action:
# wait for "started" (slow under valgrind) so the test checks a clean stop.
for i in $(seq 1 300); do
	grep -q started "$W/run.err" && break
	sleep 0.1
done
grep -q started "$W/run.err" || tb_fail "the daemon did not start"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || tb_fail "triaged run exited $rc on SIGTERM"
cat "$W/run.err" >>"$W/all.log"
! grep -q -- "$TB_PASS" "$W/ps" || tb_fail "password visible in ps"

# --- Nor in any log or in the state (only the secret files hold it).
for f in "$W/all.log" "$TB_DIR/dovecot.log" "$TB_DIR/smtpd.log" \
    "$TB_DIR"/state.db*; do
	[ -e "$f" ] || continue
	! grep -qa -- "$TB_PASS" "$f" || tb_fail "password found in $f"
done

# --- A certificate that is trusted but names another host is refused.
(
	TB_STARTED=0 TB_CERT_CN=mail.other.example \
	    TB_CERT_SAN=DNS:mail.other.example
	tb_start
	tb_conf "$TB_DIR/other.conf"
	rc=0
	"$TRIAGED" -c "$TB_DIR/other.conf" once 2>"$TB_DIR/err" || rc=$?
	cat "$TB_DIR/err" >&2
	[ "$rc" = 69 ] || tb_fail "name mismatch: exit $rc"
	grep -q "certificate verification failed for 127.0.0.1.*match" \
	    "$TB_DIR/err" || tb_fail "name mismatch: wrong cause"
	tb_conf "$TB_DIR/other-st.conf" imap.tls=starttls \
	    "imap.port=$TB_IMAP_PORT"
	rc=0
	"$TRIAGED" -c "$TB_DIR/other-st.conf" once 2>"$TB_DIR/err" || rc=$?
	cat "$TB_DIR/err" >&2
	[ "$rc" = 69 ] || tb_fail "name mismatch (STARTTLS): exit $rc"
	grep -q "Login: user=" "$TB_DIR/dovecot.log" &&
	    tb_fail "logged in to a server with the wrong name"
	exit 0
)
echo "imap tls ok"
