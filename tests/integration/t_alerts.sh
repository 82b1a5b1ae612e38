#!/bin/bash
# Told when it stops working, through the real daemon and test bed:
# - a wrong IMAP password: `triaged status` says down (exit 2), exactly one
#   alert mail reaches [alerts] to after [alerts] after, naming the failure
#   and what to do and nothing of the inbox; once the password is fixed,
#   one recovery mail, and status is healthy (exit 0);
# - replies refused by the SMTP server (5xx for every client): status says
#   degraded (exit 1) and one alert goes out; a reply that goes out again
#   closes it with a recovery mail;
# - rules that do not load at start: one alert with the file:line errors.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
admin=admin@practice.example
conf=$TB_DIR/triaged.conf
printf 'wrong-%s\n' "$TB_PASS" >"$TB_DIR/alert.secret"
chmod 600 "$TB_DIR/alert.secret"
tb_conf "$conf" "imap.password_file=$TB_DIR/alert.secret" \
    "alerts.to=$admin" alerts.after=2s triage.poll_interval=2s

# Mail recorded for $1, as a count.
mail_to()
{
	grep -l "\"<$1>\"" "$TB_SMTP_DIR"/*.json 2>/dev/null | wc -l
}
# Wait until $1 got $2 mails (up to $3 s).
wait_mail_to()
{
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(mail_to "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# The text of the newest mail to $1.
last_mail_to()
{
	local f
	f=$(grep -l "\"<$1>\"" "$TB_SMTP_DIR"/*.json | sort -V | tail -1)
	cat "${f%.json}.eml"
}
# triaged status (args: --json); prints the exit status.
status()
{
	local rc=0
	"$TRIAGED" -c "$conf" status "$@" >"$TB_DIR/status.out" 2>&1 || rc=$?
	echo "$rc"
}
# An inquiry from writer$1@client.example.
inquiry()
{
	printf 'Return-Path: <writer%s@client.example>\nFrom: <writer%s@client.example>\nTo: hello@practice.example\nSubject: Private-Subject-Words\nDate: %s\nMessage-ID: <alert-test-%s@client.example>\nMIME-Version: 1.0\nContent-Type: text/plain\n\nHello, I would like to start therapy for anxiety. Private-Body-Words.\n' \
	    "$1" "$1" "$(date -R)" "$1" >"$TB_DIR/in$1.eml"
	tb_append "$TB_USER" INBOX "$TB_DIR/in$1.eml" >/dev/null
}

[ "$(status)" = 2 ] || tb_fail "status before any pass: $(cat "$TB_DIR/status.out")"
# A first pass with the right password records the position, so that the
# inquiry that arrives during the outage is new mail, answered after it.
tb_conf "$TB_DIR/good.conf"
"$TRIAGED" -c "$TB_DIR/good.conf" once || tb_fail "first once failed"
[ "$(status)" = 0 ] || tb_fail "status after a pass: $(cat "$TB_DIR/status.out")"

tb_run_daemon "$conf"
pid=$TB_DAEMON_PID
wait_mail_to "$admin" 1 30 || tb_fail "no alert: $(cat "$TB_DIR/run.log")"
last_mail_to "$admin" >"$TB_DIR/alert.eml"
grep -q '^Subject: triaged: cannot read the inbox' "$TB_DIR/alert.eml" ||
    tb_fail "alert subject: $(head -20 "$TB_DIR/alert.eml")"
grep -q 'LOGIN failed' "$TB_DIR/alert.eml" || tb_fail "alert lacks the cause"
grep -q 'What to do: Check \[imap\]' "$TB_DIR/alert.eml" ||
    tb_fail "alert lacks what to do"
grep -q '^Auto-Submitted: auto-generated' "$TB_DIR/alert.eml" ||
    tb_fail "alert is not marked automatic"
! grep -q "wrong-$TB_PASS" "$TB_DIR/alert.eml" || tb_fail "password in the alert"
[ "$(status)" = 2 ] || tb_fail "status while failing: $(cat "$TB_DIR/status.out")"
grep -q 'inbox .*FAILING since' "$TB_DIR/status.out" ||
    tb_fail "status does not say the inbox fails: $(cat "$TB_DIR/status.out")"
grep -q 'open: inbox' "$TB_DIR/status.out" || tb_fail "status: no open alert"
status --json >/dev/null
grep -q '"status":"down"' "$TB_DIR/status.out" || tb_fail "status --json"
# Still failing some passes later: still one alert (once a day).
sleep 6
[ "$(mail_to "$admin")" = 1 ] || tb_fail "$(mail_to "$admin") alerts, not one"

# Fixed: the inquiry that waited is answered, and one recovery mail.
inquiry 1
printf '%s\n' "$TB_PASS" >"$TB_DIR/alert.secret"
wait_mail_to "$admin" 2 60 || tb_fail "no recovery mail: $(tail -5 "$TB_DIR/run.log")"
last_mail_to "$admin" >"$TB_DIR/recovered.eml"
grep -q '^Subject: triaged: reads the inbox again' "$TB_DIR/recovered.eml" ||
    tb_fail "recovery subject: $(head -20 "$TB_DIR/recovered.eml")"
wait_mail_to writer1@client.example 1 30 || tb_fail "the inquiry was not answered"
for f in "$TB_SMTP_DIR"/*.eml; do
	grep -q "\"<$admin>\"" "${f%.eml}.json" || continue
	! grep -q 'Private-' "$f" || tb_fail "inquiry content in an alert"
done
sleep 1
[ "$(status)" = 0 ] || tb_fail "status after recovery: $(cat "$TB_DIR/status.out")"
grep -q 'daemon      running (pid' "$TB_DIR/status.out" ||
    tb_fail "status does not see the daemon: $(cat "$TB_DIR/status.out")"

# Replies refused (5xx for every client address): an alert, then a
# recovery mail once a reply goes out again.
tb_smtp_fail "client.example 554 5.7.1 relaying denied for this sender"
inquiry 2
sleep 3
inquiry 3
wait_mail_to "$admin" 3 30 || tb_fail "no alert for refused replies: $(tail -5 "$TB_DIR/run.log")"
last_mail_to "$admin" | grep -q '^Subject: triaged: replies are not going out' ||
    tb_fail "reply alert subject"
[ "$(status)" = 1 ] || tb_fail "status with replies failing: $(cat "$TB_DIR/status.out")"
tb_smtp_fail
inquiry 4
wait_mail_to "$admin" 4 30 || tb_fail "no recovery mail for replies"
last_mail_to "$admin" | grep -q '^Subject: triaged: replies go out again' ||
    tb_fail "reply recovery subject"
kill -TERM "$pid"
wait "$pid" || tb_fail "run exited $? on SIGTERM"

# Rules that do not load at start: one alert with the errors.
mkdir "$TB_DIR/badrules"
cp "$TB_REPO"/rules/*.rules "$TB_DIR/badrules/"
printf '\nrule broken\n\tmatch body /(unclosed/\n\tcategory couples\n' \
    >>"$TB_DIR/badrules/40-couples.rules"
tb_conf "$TB_DIR/bad.conf" "triage.rules=$TB_DIR/badrules" \
    "alerts.to=$admin" "triage.state=$TB_DIR/bad.db"
rc=0
"$TRIAGED" -c "$TB_DIR/bad.conf" run 2>"$TB_DIR/bad.log" || rc=$?
[ "$rc" = 78 ] || tb_fail "broken rules: exit $rc"
wait_mail_to "$admin" 5 10 || tb_fail "no alert for broken rules"
last_mail_to "$admin" >"$TB_DIR/rules.eml"
grep -q '^Subject: triaged: did not start' "$TB_DIR/rules.eml" ||
    tb_fail "rules alert subject"
grep -q '40-couples.rules:[0-9]*:[0-9]*: .*missing closing parenthesis' \
    "$TB_DIR/rules.eml" || tb_fail "rules alert lacks file:line"
echo PASS
