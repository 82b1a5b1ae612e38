#!/bin/bash
# XOAUTH2 for IMAP (what Google Workspace and Microsoft 365 require),
# against Dovecot's oauth2 passdb asking a token-introspection endpoint the
# bed serves on loopback (introspect.py): `once` logs in with the token
# oauth2_token_command prints; the daemon, when its token has expired and
# the session is lost, fails one login, runs the command again, gets the
# refreshed token and goes on (an inquiry that arrived meanwhile is
# answered). The token never reaches a log.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
tb_oauth2_start
samples=$TB_REPO/tests/data/samples
conf=$TB_DIR/triaged.conf
tok1=tok-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
tok2=tok-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
# The "refresh": the command prints whatever token the file holds now.
printf '%s\n' "$tok1" >"$TB_DIR/token"
printf '%s\n' "$tok1" >"$TB_DIR/oauth2.tokens"
tb_conf "$conf" -imap.password_file \
    "imap.oauth2_token_command=cat $TB_DIR/token" triage.poll_interval=600s

xoauth_logins()
{
	grep -c "Login: user=<$TB_USER>, method=XOAUTH2" "$TB_DIR/dovecot.log" ||
	    true
}

"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once.log" ||
    tb_fail "once with XOAUTH2 failed: $(cat "$TB_DIR/once.log")"
[ "$(xoauth_logins)" = 1 ] || tb_fail "no XOAUTH2 login: $(tail -5 "$TB_DIR/dovecot.log")"
grep -q 'introspect active=True' "$TB_DIR/oauth2.log" ||
    tb_fail "Dovecot did not ask the introspection endpoint"

tb_run_daemon --started "$conf"
pid=$TB_DAEMON_PID
# (A slow run, under valgrind, may take a while to log in.)
for i in $(seq 300); do
	[ "$(xoauth_logins)" = 2 ] && break
	sleep 0.1
done
[ "$(xoauth_logins)" = 2 ] || tb_fail "the daemon did not log in with XOAUTH2"

# The token expires; the session is lost (its Dovecot process ends).
printf '%s\n' "$tok2" >"$TB_DIR/oauth2.tokens"
master=$(cat "$TB_DIR/dovecot.pid")
session=$(ps -o pid=,comm= --ppid "$master" | awk '$2 == "imap" {print $1}')
[ -n "$session" ] || tb_fail "no imap session to end"
kill $session
# A login with the expired token fails...
for i in $(seq 100); do
	grep -q 'AUTHENTICATE XOAUTH2 failed' "$TB_DIR/run.log" && break
	sleep 0.1
done
grep -q 'AUTHENTICATE XOAUTH2 failed' "$TB_DIR/run.log" ||
    tb_fail "the expired token was not refused: $(tail -5 "$TB_DIR/run.log")"
# ...then the command hands out the refreshed one, and work goes on.
printf '%s\n' "$tok2" >"$TB_DIR/token"
tb_append "$TB_USER" INBOX "$samples/04-individual.eml" >/dev/null
tb_wait_smtp 1 30 || tb_fail "no reply after the token refresh: $(tail -5 "$TB_DIR/run.log")"
[ "$(xoauth_logins)" = 3 ] || tb_fail "$(xoauth_logins) XOAUTH2 logins, expected 3"
kill -TERM "$pid"
wait "$pid" || tb_fail "run exited $? on SIGTERM"
for f in "$TB_DIR/run.log" "$TB_DIR/once.log" "$TB_DIR/state.db"; do
	! grep -qa -- "$tok1\|$tok2" "$f" || tb_fail "a token in $f"
done
echo PASS
