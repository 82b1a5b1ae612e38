#!/bin/bash
# A crisis reaches a person ([alerts] crisis_to), through the real binary,
# Dovecot and the SMTP server:
# - mail in the inbox before the first run (first_run = triage) alerts
#   nobody;
# - a crisis inquiry that arrives later gets its crisis reply and exactly
#   one alert to crisis_to: when, where, the queue id and that the sender
#   got the crisis resources, and nothing of the sender, subject or text;
# - an inquiry that is no crisis alerts nobody;
# - another pass and a restart of the daemon repeat nothing (the outbox
#   row is claimed and recorded like a reply, see t_killloop);
# - with the SMTP server down, the alert waits in the outbox and goes
#   when it is back, before the replies of the same pass.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
phone=therapist-phone@practice.example
conf=$TB_DIR/triaged.conf
tb_conf "$conf" "alerts.crisis_to=$phone"

# Mail recorded for $1, as a count.
mail_to()
{
	grep -l "\"<$1>\"" "$TB_SMTP_DIR"/*.json 2>/dev/null | wc -l
}
# An inquiry from writer$1@client.example with body $2.
inquiry()
{
	printf 'Return-Path: <writer%s@client.example>\nFrom: Private Name <writer%s@client.example>\nTo: hello@practice.example\nSubject: Private-Subject-Words %s\nDate: %s\nMessage-ID: <crisis-alert-%s@client.example>\nMIME-Version: 1.0\nContent-Type: text/plain\n\n%s Private-Body-Words.\n' \
	    "$1" "$1" "$1" "$(date -R)" "$1" "$2" >"$TB_DIR/in$1.eml"
	tb_append "$TB_USER" INBOX "$TB_DIR/in$1.eml" >/dev/null
}
crisis="I want to kill myself, I have the pills counted out."

# Before the first run: triaged, flagged, never alerted.
inquiry 1 "$crisis"
"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
sleep 0.5
[ "$(mail_to "$phone")" = 0 ] || tb_fail "a first-run crisis was alerted"

# New mail: a crisis and an ordinary inquiry.
inquiry 2 "$crisis"
inquiry 3 "Hello, I would like to start therapy for anxiety."
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
tb_wait_smtp 3 10 || tb_fail "replies and alert not sent"
[ "$(mail_to "$phone")" = 1 ] || tb_fail "alerts: $(mail_to "$phone")"
[ "$(mail_to writer2@client.example)" = 1 ] || tb_fail "no crisis reply"
[ "$(mail_to writer3@client.example)" = 1 ] || tb_fail "no reply to 3"
f=$(grep -l "\"<$phone>\"" "$TB_SMTP_DIR"/*.json)
alert=${f%.json}.eml
cat "$alert"
id=$("$TRIAGED" -c "$conf" queue --json | "$TB_PYTHON" -c '
import json, sys
print([r["id"] for r in json.load(sys.stdin) if r["from"] == "writer2@client.example"][0])')
grep -q "^Subject: triaged: crisis inquiry, queue item $id" "$alert" ||
    tb_fail "alert subject"
grep -q "queue show $id" "$alert" || tb_fail "alert: queue id"
grep -q 'INBOX mailbox, flagged' "$alert" || tb_fail "alert: where"
grep -q '988' "$alert" || tb_fail "alert: what the sender got"
grep -q '^Auto-Submitted: auto-generated' "$alert" || tb_fail "Auto-Submitted"
for secret in writer2 Private-Name Private-Subject Private-Body pills; do
	! grep -qi "$secret" "$alert" || tb_fail "the alert holds $secret"
done
"$TRIAGED" -c "$conf" queue show "$id" | grep -q '^Alert: .*sent' ||
    tb_fail "queue show: the alert"

# Again, and after a restart of the daemon: nothing repeats.
"$TRIAGED" -c "$conf" once || tb_fail "second once failed"
tb_run_daemon --started "$conf"
sleep 1
kill "$TB_DAEMON_PID"; wait "$TB_DAEMON_PID" 2>/dev/null
[ "$(mail_to "$phone")" = 1 ] || tb_fail "the alert was repeated"

# The SMTP server down: the alert waits, then goes with the reply.
tb_smtp_stop
inquiry 4 "$crisis"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/down.log" || tb_fail "once, SMTP down"
grep -q 'crisis alert deferred' "$TB_DIR/down.log" ||
    tb_fail "no deferral: $(cat "$TB_DIR/down.log")"
tb_smtp_start
"$TRIAGED" -c "$conf" once || tb_fail "once, SMTP back"
tb_wait_smtp 5 10 || tb_fail "nothing sent after the outage"
[ "$(mail_to "$phone")" = 2 ] || tb_fail "alert after the outage"
[ "$(mail_to writer4@client.example)" = 1 ] || tb_fail "reply after outage"
# The alert went first: it was recorded before the reply.
first=$(grep -l -e "\"<$phone>\"" -e '"<writer4@client.example>"' \
    "$TB_SMTP_DIR"/*.json | sort -V | head -1)
grep -q "\"<$phone>\"" "$first" || tb_fail "the reply went before the alert"

# An address that is not one is a file:line error.
tb_conf "$TB_DIR/bad.conf" "alerts.crisis_to=Therapist <t@x>"
rc=0
"$TRIAGED" -c "$TB_DIR/bad.conf" check 2>"$TB_DIR/bad.err" || rc=$?
[ "$rc" = 78 ] || tb_fail "bad crisis_to: exit $rc"
grep -q 'crisis_to.*not an address' "$TB_DIR/bad.err" ||
    tb_fail "bad crisis_to: $(cat "$TB_DIR/bad.err")"
tb_exit
