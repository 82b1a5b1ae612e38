# Integration test bed for triaged (bash; source it from a t_*.sh test).
#
# tb_start brings up a private Dovecot (IMAP plain+STARTTLS, IMAPS, LMTP on a
# unix socket) and a recording SMTP server (smtpd.py) on 127.0.0.1, with ports
# picked per run outside the kernel's ephemeral range (restarts reuse them, and
# no client socket may hold them meanwhile) and a fresh self-signed
# certificate. A trap stops exactly what was started (PID files) when the test
# exits. Nothing is mocked.
#
# Exported after tb_start:
#   TB_DIR          the bed's folder (removed on exit unless TB_KEEP=1)
#   TB_IMAP_PORT    IMAP, plain and STARTTLS
#   TB_IMAPS_PORT   IMAP over implicit TLS
#   TB_SMTP_PORT    the SMTP server (STARTTLS offered, AUTH PLAIN LOGIN
#                   XOAUTH2 if TB_SMTP_AUTH)
#   TB_SMTP_DIR     where it records N.eml, then N.json (the envelope)
#   TB_CA           the certificate (PEM) to trust; SAN localhost, 127.0.0.1
#   TB_USER/TB_PASS the practice account hello@practice.example
#   TB_THERAPIST/TB_THERAPIST_PASS   therapist@practice.example
#   TB_LMTP         Dovecot's LMTP socket; TB_DOVECOT_CONF its config
#   TB_REPO         the repository; TRIAGED defaults to $TB_REPO/triaged
# Settings read by tb_start: TB_SMTP_AUTH=user:pass (offer AUTH),
# TB_SMTP_REQUIRE_AUTH=1, TB_SMTP_LMTP=0 (do not deliver on over LMTP),
# TB_KEEP=1 (keep TB_DIR after the test), TB_TMP (parent of TB_DIR),
# TB_SLOW (a factor for the time bounds of tests, for a slow binary),
# TB_CERT_SAN/TB_CERT_CN (the certificate's names, e.g. to test a mismatch).
#
# Helpers (USER may be any address: the helpers log in as a master user):
#   tb_append USER MAILBOX FILE [EPOCH [FLAGS]]   APPEND; prints the new UID
#   tb_append_inquiries USER MAILBOX TEMPLATE PREFIX COUNT   COUNT copies,
#                                  each from PREFIX<n>@client.example
#   tb_flags USER MAILBOX          "uid flag..." for every message
#   tb_dates USER MAILBOX          "uid internaldate-epoch size"
#   tb_fetch_all USER MAILBOX DIR  DIR/UID.eml for every message (BODY.PEEK)
#   tb_list USER                   "mailbox \flags..." per mailbox (names as
#                                  sent, modified UTF-7; helpers take UTF-8)
#   tb_wait_smtp N [TIMEOUT]       wait for N recorded messages (default 10 s)
#   tb_smtp_count                  messages recorded so far
#   tb_json FILE KEY[.KEY]         one field of a JSON file (N.json envelopes)
#   tb_conf FILE [section.key=value | -section.key]...   write a triaged.conf
#   tb_offline_conf DIR [RULES]    DIR/triaged.conf for classify and check,
#                                  which connect nowhere (no tb_start needed)
#   tb_smtp_fail [LINE...]         set (or with no LINE clear) injected
#                                  failures: "<substring> <code> <text>"
#   tb_smtp_stop / tb_smtp_start   take the SMTP server down and up (same port)
#   tb_need_triaged                skip (77) unless $TRIAGED is executable
#   tb_atexit CMD                  run CMD (eval) at exit, before the bed stops
#   tb_stop                        stop everything now (also done at exit)
#   tb_fail MSG                    print MSG and exit 1

TB_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_REPO=$(cd "$TB_LIBDIR/../.." && pwd)
export TB_REPO
: "${TRIAGED:=$TB_REPO/triaged}"
export TRIAGED
if [ -z "${TB_PYTHON:-}" ]; then
	# The system interpreter starts fastest (a pyenv shim is a script).
	if [ -x /usr/bin/python3 ]; then
		TB_PYTHON=/usr/bin/python3
	else
		TB_PYTHON=python3
	fi
fi
TB_ATEXIT=()
TB_STARTED=0
TB_TRAPPED=-1
TB_OWNER=	# the shell ($BASHPID) that started this bed; never exported

# Print a message and fail the test.
tb_fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

# Skip the test (exit 77), which run.sh turns into a failure under CI=true.
tb_skip()
{
	echo "SKIP: $*" >&2
	exit 77
}

# Skip unless the triaged binary exists.
tb_need_triaged()
{
	[ -x "$TRIAGED" ] || tb_skip "no triaged binary at $TRIAGED"
}

# Register a command to run at exit, before the servers stop.
tb_atexit()
{
	TB_ATEXIT+=("$*")
	tb_trap_exit
}

# Set the EXIT trap once per shell: a test that never starts the bed
# (t_install) still runs its tb_atexit hooks and removes its temporary
# folder. A subshell starts without the traps (a second bed started in
# "( ... )" needs its own), so the level it was set at is remembered.
tb_trap_exit()
{
	[ "$TB_TRAPPED" = "$BASH_SUBSHELL" ] && return 0
	TB_TRAPPED=$BASH_SUBSHELL
	trap tb_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# Is process PID alive (a zombie counts as gone)?
tb_alive()
{
	local -
	set +x
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Print PID and all its descendants, one per line.
tb_tree()
{
	ps -e -o pid=,ppid= | awk -v root="$1" '
	    { parent[$1] = $2 }
	    END {
		want[root] = 1; n = 1
		while (n) {
			n = 0
			for (p in parent)
				if (!(p in want) && (parent[p] in want)) {
					want[p] = 1; n++
				}
		}
		for (p in want) print p
	    }'
}

# Stop the process in PIDFILE and its descendants. SIGTERM goes to the process
# alone first, as a server's own stop does (Dovecot's master shuts its
# children down; a TERM to every process at once can leave the master
# respawning its log process). Whatever of the tree is left after 3 s gets
# SIGTERM, and SIGKILL after 10 s. Only processes we started are touched, and
# a stop that needed SIGKILL is no failure of the caller (set -e).
tb_kill_pidfile()
{
	local -
	set +x
	local pidfile=$1 pid pids p i left
	[ -s "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	rm -f "$pidfile"
	tb_alive "$pid" || return 0
	pids=$(tb_tree "$pid")
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 200); do
		left=
		for p in $pids; do
			tb_alive "$p" && left="$left $p"
		done
		pids=$left
		[ -z "$pids" ] && break
		[ "$i" = 60 ] && kill -TERM $pids 2>/dev/null
		[ "$i" = 200 ] && kill -KILL $pids 2>/dev/null
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || true
	return 0
}

# Wait until something accepts connections on 127.0.0.1:PORT.
tb_wait_port()
{
	local -
	set +x
	local port=$1 i
	for i in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# Write the Dovecot configuration of the bed.
tb_write_dovecot_conf()
{
	cat >"$TB_DOVECOT_CONF" <<EOF
# triaged test bed: standalone, nothing from /etc/dovecot.
base_dir = $TB_DIR/run
state_dir = $TB_DIR/state
instance_name = $TB_INSTANCE
log_path = $TB_DIR/dovecot.log
listen = 127.0.0.1
protocols = imap lmtp
shutdown_clients = yes
first_valid_uid = 1
mail_uid = 65534
mail_gid = 65534
mail_location = maildir:$TB_DIR/mail/%u
ssl = yes
ssl_cert = <$TB_DIR/cert.pem
ssl_key = <$TB_DIR/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
auth_mechanisms = plain login${TB_OAUTH2_URL:+ xoauth2 oauthbearer}
disable_plaintext_auth = no
lda_mailbox_autocreate = yes
lda_mailbox_autosubscribe = yes
log_timestamp = "%Y-%m-%d %H:%M:%S "

# The bed's helpers read any user's mailbox as this master user.
passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN username_format=%u $TB_DIR/master.passwd
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $TB_DIR/passwd
}
$( [ -n "${TB_OAUTH2_URL:-}" ] && cat <<OAUTH
# XOAUTH2 logins: tokens checked by the bed's introspection endpoint.
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $TB_DIR/dovecot-oauth2.conf.ext
}
OAUTH
)
# Static: LMTP accepts any recipient and creates the mailbox.
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$TB_DIR/mail/%u allow_all_users=yes
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Trash {
    special_use = \\Trash
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $TB_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $TB_IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
EOF
}

# Start the SMTP server (again, on the same port once one was chosen).
tb_smtp_start()
{
	local args i
	args=(--dir "$TB_SMTP_DIR" --port "${TB_SMTP_PORT:-0}"
	    --port-file "$TB_DIR/smtpd.port" --pid-file "$TB_DIR/smtpd.pid"
	    --cert "$TB_DIR/cert.pem" --key "$TB_DIR/key.pem")
	[ "${TB_SMTP_LMTP:-1}" = 1 ] && args+=(--lmtp "$TB_LMTP")
	[ -n "${TB_SMTP_AUTH:-}" ] && args+=(--auth "$TB_SMTP_AUTH")
	[ "${TB_SMTP_REQUIRE_AUTH:-0}" = 1 ] && args+=(--require-auth)
	rm -f "$TB_DIR/smtpd.port"
	"$TB_PYTHON" "$TB_LIBDIR/smtpd.py" "${args[@]}" \
	    >>"$TB_DIR/smtpd.log" 2>&1 &
	for i in $(seq 1 250); do
		[ -s "$TB_DIR/smtpd.port" ] && [ -s "$TB_DIR/smtpd.pid" ] && break
		kill -0 $! 2>/dev/null || break
		sleep 0.02
	done
	[ -s "$TB_DIR/smtpd.port" ] || {
		cat "$TB_DIR/smtpd.log" >&2
		tb_fail "smtpd.py did not start"
	}
	TB_SMTP_PORT=$(cat "$TB_DIR/smtpd.port")
	export TB_SMTP_PORT
}

# Stop the SMTP server (tb_smtp_start brings it back on the same port).
tb_smtp_stop()
{
	tb_kill_pidfile "$TB_DIR/smtpd.pid"
}

# Start the whole bed: folder, certificate, Dovecot, SMTP server.
tb_start()
{
	local t0 ports i
	t0=$(date +%s%N)
	[ "$(id -u)" = 0 ] || tb_skip "the test bed needs root (Dovecot)"
	command -v dovecot >/dev/null 2>&1 || tb_skip "dovecot is not installed"
	command -v openssl >/dev/null 2>&1 || tb_skip "openssl is not installed"
	"$TB_PYTHON" -c '' 2>/dev/null || tb_skip "python3 is not installed"
	[ "$TB_STARTED" = 0 ] || tb_fail "tb_start called twice"

	TB_DIR=$(mktemp -d "${TB_TMP:-/tmp}/triaged-tb.XXXXXX") ||
	    tb_fail "mktemp"
	TB_STARTED=1
	TB_OWNER=$BASHPID
	tb_trap_exit
	# dovecot and dovenull must traverse every folder above the config:
	# open our own folder, and refuse (never chmod) a closed parent.
	chmod go+rx "$TB_DIR"
	local d
	d=$(dirname "$TB_DIR")
	while [ "$d" != / ]; do
		[ "$(stat -c %A "$d" | cut -c10)" != - ] ||
		    tb_fail "$d is not traversable by others; set TB_TMP"
		d=$(dirname "$d")
	done
	mkdir -p "$TB_DIR/run" "$TB_DIR/state" "$TB_DIR/mail" "$TB_DIR/smtp"
	chown 65534:65534 "$TB_DIR/mail"
	TB_SMTP_DIR=$TB_DIR/smtp
	TB_DOVECOT_CONF=$TB_DIR/dovecot.conf
	TB_LMTP=$TB_DIR/run/lmtp
	TB_INSTANCE=tb-${TB_DIR##*.}
	TB_CA=$TB_DIR/cert.pem
	TB_USER=hello@practice.example
	TB_THERAPIST=therapist@practice.example
	TB_PASS=tb-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	TB_THERAPIST_PASS=tb-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	TB_MASTER=tbmaster
	TB_MASTER_PASS=tb-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	export TB_DIR TB_SMTP_DIR TB_DOVECOT_CONF TB_LMTP TB_INSTANCE TB_CA \
	    TB_USER TB_PASS TB_THERAPIST TB_THERAPIST_PASS TB_MASTER \
	    TB_MASTER_PASS

	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 3 -subj "/CN=${TB_CERT_CN:-localhost}" \
	    -addext "subjectAltName=${TB_CERT_SAN:-DNS:localhost,IP:127.0.0.1}" \
	    -keyout "$TB_DIR/key.pem" -out "$TB_DIR/cert.pem" \
	    >"$TB_DIR/openssl.log" 2>&1 || {
		cat "$TB_DIR/openssl.log" >&2
		tb_fail "openssl req"
	}
	chmod 644 "$TB_DIR/cert.pem"
	chmod 600 "$TB_DIR/key.pem"

	printf '%s:{PLAIN}%s\n%s:{PLAIN}%s\n' "$TB_USER" "$TB_PASS" \
	    "$TB_THERAPIST" "$TB_THERAPIST_PASS" >"$TB_DIR/passwd"
	printf '%s:{PLAIN}%s\n' "$TB_MASTER" "$TB_MASTER_PASS" \
	    >"$TB_DIR/master.passwd"
	chgrp dovecot "$TB_DIR/passwd" "$TB_DIR/master.passwd" 2>/dev/null
	chmod 640 "$TB_DIR/passwd" "$TB_DIR/master.passwd"
	(umask 077 && printf '%s\n' "$TB_PASS" >"$TB_DIR/imap.secret")

	ports=$("$TB_PYTHON" "$TB_LIBDIR/tb.py" ports 3) || tb_fail "ports"
	read -r TB_IMAP_PORT TB_IMAPS_PORT TB_SMTP_PORT <<<"$ports"
	export TB_IMAP_PORT TB_IMAPS_PORT
	tb_write_dovecot_conf
	tb_dovecot_start

	tb_smtp_start
	echo "test bed up in $((($(date +%s%N) - t0) / 1000000)) ms:" \
	    "imap $TB_IMAP_PORT imaps $TB_IMAPS_PORT smtp $TB_SMTP_PORT" \
	    "dir $TB_DIR" >&2
}

# Serve OAuth2 token introspection on loopback (introspect.py) and restart
# Dovecot with an oauth2 passdb that asks it: XOAUTH2 logins for TB_USER
# succeed with any token listed in $TB_DIR/oauth2.tokens (none at first).
tb_oauth2_start()
{
	local i
	: >"$TB_DIR/oauth2.tokens"
	"$TB_PYTHON" "$TB_LIBDIR/introspect.py" --tokens "$TB_DIR/oauth2.tokens" \
	    --user "$TB_USER" --port-file "$TB_DIR/oauth2.port" \
	    --pid-file "$TB_DIR/oauth2.pid" --log "$TB_DIR/oauth2.log" \
	    >>"$TB_DIR/oauth2.out" 2>&1 &
	for i in $(seq 1 250); do
		[ -s "$TB_DIR/oauth2.port" ] && break
		sleep 0.02
	done
	[ -s "$TB_DIR/oauth2.port" ] || tb_fail "introspect.py did not start"
	TB_OAUTH2_URL=http://127.0.0.1:$(cat "$TB_DIR/oauth2.port")/introspect
	export TB_OAUTH2_URL
	cat >"$TB_DIR/dovecot-oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = $TB_OAUTH2_URL
tokeninfo_url = $TB_OAUTH2_URL?access_token=
username_attribute = username
active_attribute = active
active_value = true
EOF
	chmod 644 "$TB_DIR/dovecot-oauth2.conf.ext"
	tb_dovecot_stop
	tb_write_dovecot_conf
	tb_dovecot_start
}

# Start the bed's Dovecot (again, after tb_dovecot_stop: same ports, same
# mail) and wait until it listens.
tb_dovecot_start()
{
	local i
	dovecot -F -c "$TB_DOVECOT_CONF" >>"$TB_DIR/dovecot.out" 2>&1 &
	echo $! >"$TB_DIR/dovecot.pid"
	for i in $(seq 1 250); do
		[ -S "$TB_LMTP" ] && break
		kill -0 "$(cat "$TB_DIR/dovecot.pid")" 2>/dev/null || break
		sleep 0.02
	done
	if ! [ -S "$TB_LMTP" ] || ! tb_wait_port "$TB_IMAP_PORT" ||
	    ! tb_wait_port "$TB_IMAPS_PORT"; then
		cat "$TB_DIR/dovecot.out" "$TB_DIR/dovecot.log" >&2
		tb_fail "dovecot did not start"
	fi
}

# Stop the bed's Dovecot (an outage of the IMAP server).
tb_dovecot_stop()
{
	tb_kill_pidfile "$TB_DIR/dovecot.pid"
}

# Stop everything the bed started; safe to call more than once.
tb_stop()
{
	[ -n "${TB_DIR:-}" ] && [ -d "$TB_DIR" ] || return 0
	tb_kill_pidfile "$TB_DIR/smtpd.pid"
	tb_kill_pidfile "$TB_DIR/dovecot.pid"
	tb_kill_pidfile "$TB_DIR/oauth2.pid"
}

# The EXIT trap: hooks, then stop, show server logs on failure, clean up.
tb_exit()
{
	local rc=$? c
	set +e
	for c in "${TB_ATEXIT[@]}"; do
		eval "$c"
	done
	# TB_DIR is exported for the test's child scripts, and a subshell
	# inherits it: only the shell that started the bed stops it here.
	[ "$TB_OWNER" = "$BASHPID" ] || exit "$rc"
	tb_stop
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -d "${TB_DIR:-}" ]; then
		echo "--- dovecot.log (tail)" >&2
		tail -n 40 "$TB_DIR/dovecot.log" >&2 2>/dev/null
		echo "--- smtpd.log (tail)" >&2
		tail -n 40 "$TB_DIR/smtpd.log" >&2 2>/dev/null
	fi
	if [ "${TB_KEEP:-0}" = 1 ]; then
		echo "test bed kept in $TB_DIR" >&2
	elif [ -n "${TB_DIR:-}" ]; then
		rm -rf "$TB_DIR"
	fi
	exit "$rc"
}

# APPEND FILE to USER's MAILBOX (created if missing), dated EPOCH if given.
tb_append()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" append "$@"
}

# APPEND COUNT copies of TEMPLATE to USER's MAILBOX, each from
# PREFIX<n>@client.example with its own Message-ID, in one session.
tb_append_inquiries()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" append-inquiries "$@"
}

# Print "uid flag..." for every message of USER's MAILBOX.
tb_flags()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" flags "$@"
}

# Remove the $Triage_ keywords of USER's MAILBOX: a fresh state then meets
# the mailbox as never triaged (triaged answers nothing a keyword marks).
tb_unkeyword()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" unkeyword "$@"
}

# Print "uid internaldate-epoch size" for every message of USER's MAILBOX.
tb_dates()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" dates "$@"
}

# Save every message of USER's MAILBOX as DIR/UID.eml; prints the count.
tb_fetch_all()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" fetch-all "$@"
}

# List USER's mailboxes with their flags.
tb_list()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" list "$@"
}

# Print one field of a JSON file, e.g. tb_json "$TB_SMTP_DIR/1.json" mail_from.
tb_json()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" json "$@"
}

# Write a triaged.conf for this bed; arguments override or add keys.
tb_conf()
{
	"$TB_PYTHON" "$TB_LIBDIR/tb.py" conf "$@"
}

# A configuration for the commands that connect nowhere (classify, check):
# the repository's rules (or RULES) and templates, servers on loopback that
# are never contacted, a private dummy secret.
tb_offline_conf()
{
	local dir=$1 rules=${2:-$TB_REPO/rules}
	(umask 077 && printf 'unused\n' >"$dir/offline.secret")
	cat >"$dir/triaged.conf" <<EOF
[imap]
host = 127.0.0.1
tls = none
user = hello@practice.example
password_file = $dir/offline.secret

[smtp]
url = smtp://127.0.0.1:25
from = Harbor Counseling <hello@practice.example>

[practice]
name = Harbor Counseling
phone = (555) 010-0100
booking_url = https://practice.example/book

[triage]
rules = $rules
templates = $TB_REPO/templates
state = $dir/state.db
EOF
}

# Start `triaged -c CONF run` in the background, its stderr in
# $TB_DIR/run.log, its pid in $TB_DAEMON_PID and in run/triaged.pid (so
# tb_stop reaches it), stopped at exit. With --started, wait (up to 5 s,
# times TB_SLOW) for its first pass to log "started".
tb_run_daemon()
{
	local started=0 i
	[ "$1" = --started ] && { started=1; shift; }
	"$TRIAGED" -c "$1" run 2>"$TB_DIR/run.log" &
	TB_DAEMON_PID=$!
	echo "$TB_DAEMON_PID" >"$TB_DIR/run/triaged.pid"
	tb_atexit "kill $TB_DAEMON_PID 2>/dev/null; wait $TB_DAEMON_PID 2>/dev/null"
	[ "$started" = 1 ] || return 0
	for i in $(seq $((100 * ${TB_SLOW:-1}))); do
		grep -q started "$TB_DIR/run.log" && return 0
		sleep 0.05
	done
}

# Number of messages the SMTP server has recorded completely.
tb_smtp_count()
{
	local -
	set +x
	local n=0 f
	for f in "$TB_SMTP_DIR"/*.json; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

# Wait until at least N messages were recorded (default timeout 10 s).
tb_wait_smtp()
{
	local -
	set +x
	local want=$1 timeout=${2:-10} end
	end=$(($(date +%s) + timeout))
	while [ "$(tb_smtp_count)" -lt "$want" ]; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "tb_wait_smtp: $(tb_smtp_count) of $want" \
			    "messages after ${timeout}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# Replace the SMTP failure injection lines (none: clear).
tb_smtp_fail()
{
	if [ $# = 0 ]; then
		rm -f "$TB_SMTP_DIR/fail"
	else
		printf '%s\n' "$@" >"$TB_SMTP_DIR/fail.tmp"
		mv "$TB_SMTP_DIR/fail.tmp" "$TB_SMTP_DIR/fail"
	fi
}
