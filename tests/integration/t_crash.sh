#!/bin/bash
# The reply engine's state under every interruption, through the real
# binary against the test bed: nothing answered twice, nothing lost, no
# reply to mail that was there before triaged first looked. Each case
# reads its own mailbox (CaseN) with its own state and its own senders
# (cN-<n>@client.example), so their replies can be counted apart.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
command -v sqlite3 >/dev/null || tb_fail "sqlite3 (the CLI) is needed"
tb_start
inquiry=$TB_REPO/tests/data/samples/04-individual.eml

# Replies recorded by the SMTP server to senders whose address has $1.
sent_to()
{
	local -
	set +x
	local n=0 f
	for f in "$TB_SMTP_DIR"/*.json; do
		[ -e "$f" ] || continue
		grep -q "\"$1" "$f" && n=$((n + 1))
	done
	echo "$n"
}

# Distinct Message-IDs among the replies to $1 (a double has the same).
distinct_to()
{
	local -
	set +x
	local f
	for f in "$TB_SMTP_DIR"/*.json; do
		[ -e "$f" ] || continue
		grep -q "\"$1" "$f" || continue
		grep -i -m1 '^Message-ID:' "${f%.json}.eml"
	done | sort -u | wc -l
}

# One SQL answer from a case's state.
q()
{
	sqlite3 -cmd '.timeout 5000' "$1" "$2"
}

# A config for case N: its mailbox (created with one newsletter in it,
# never answered), its state, extra overrides.
case_conf()
{
	local n=$1
	shift
	tb_append "$TB_USER" "Case$n" \
	    "$TB_REPO/tests/data/samples/05-newsletter.eml" >/dev/null
	tb_conf "$TB_DIR/c$n.conf" imap.mailbox=Case$n \
	    "triage.state=$TB_DIR/c$n.db" "$@"
	echo "$TB_DIR/c$n.conf"
}

# --- 1. A first run killed half-way answers none of the old mail. ------
conf=$(case_conf 1 imap.batch=1)
tb_append_inquiries "$TB_USER" Case1 "$inquiry" c1- 200
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/c1.log" &
pid=$!
echo "$pid" >"$TB_DIR/run/c1.pid"
for i in $(seq 2000); do
	n=$(q "$TB_DIR/c1.db" "SELECT count(*) FROM messages" 2>/dev/null)
	[ "${n:-0}" -ge 13 ] && break
	sleep 0.01
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
n=$(q "$TB_DIR/c1.db" "SELECT count(*) FROM messages")
[ "$n" -ge 13 ] && [ "$n" -lt 201 ] ||
    tb_fail "case 1: killed after $n of 201 messages, not half-way"
"$TRIAGED" -c "$conf" once || tb_fail "case 1: second once failed"
sleep 0.3
[ "$(sent_to c1-)" = 0 ] ||
    tb_fail "case 1: $(sent_to c1-) replies to mail from before the first run"
[ "$(q "$TB_DIR/c1.db" "SELECT count(*) FROM messages")" = 201 ] ||
    tb_fail "case 1: not every message was triaged"
[ "$(q "$TB_DIR/c1.db" "SELECT count(*) FROM messages WHERE
    suppressed = 'first-run'")" = 200 ] ||
    tb_fail "case 1: old mail not marked first-run"
# Mail that arrives after the first look is answered.
tb_append_inquiries "$TB_USER" Case1 "$inquiry" c1-new- 1
"$TRIAGED" -c "$conf" once || tb_fail "case 1: third once failed"
tb_wait_smtp 1 10 || tb_fail "case 1: new mail was not answered"
[ "$(sent_to c1-new-)" = 1 ] || tb_fail "case 1: new mail not answered once"

# --- 2. An SMTP outage defers replies; none lost, none doubled. ---------
conf=$(case_conf 2 triage.max_replies_per_hour=5 smtp.retry_base=1s)
"$TRIAGED" -c "$conf" once || tb_fail "case 2: first run failed"
tb_smtp_stop
tb_append_inquiries "$TB_USER" Case2 "$inquiry" c2- 8
"$TRIAGED" -c "$conf" once || tb_fail "case 2: once during the outage"
[ "$(q "$TB_DIR/c2.db" "SELECT count(*) FROM outbox WHERE
    status = 'pending'")" = 8 ] || tb_fail "case 2: replies not pending"
[ "$(q "$TB_DIR/c2.db" "SELECT count(*) FROM messages WHERE
    status = 'suppressed' AND category = 'individual'")" = 0 ] ||
    tb_fail "case 2: replies suppressed during the outage"
# The server's failure is charged to no reply (an outage of any length
# never makes a reply fail for good); the one that tried says why.
[ "$(q "$TB_DIR/c2.db" "SELECT sum(attempts) FROM outbox")" = 0 ] ||
    tb_fail "case 2: the outage was charged to a reply"
[ "$(q "$TB_DIR/c2.db" "SELECT count(*) FROM outbox WHERE
    error IS NOT NULL")" = 1 ] || tb_fail "case 2: the outage is not recorded"
tb_smtp_start
sleep 1.1
"$TRIAGED" -c "$conf" once || tb_fail "case 2: once after the outage"
"$TRIAGED" -c "$conf" once || tb_fail "case 2: once after the outage"
sleep 0.3
[ "$(sent_to c2-)" = 5 ] || tb_fail "case 2: $(sent_to c2-) sent, cap is 5"
[ "$(distinct_to c2-)" = 5 ] || tb_fail "case 2: a reply went twice"
[ "$(q "$TB_DIR/c2.db" "SELECT count(*) FROM outbox WHERE
    status = 'pending'")" = 3 ] || tb_fail "case 2: the rest is not pending"
[ "$(q "$TB_DIR/c2.db" "SELECT count(*) FROM messages WHERE
    status = 'suppressed' AND category = 'individual'")" = 0 ] ||
    tb_fail "case 2: replies were dropped"
# Deferred by the cap: due again when the hour allows, no attempt charged.
[ "$(q "$TB_DIR/c2.db" "SELECT count(*) FROM outbox WHERE
    status = 'pending' AND next_try > strftime('%s','now') + 3000")" = 3 ] ||
    tb_fail "case 2: deferred replies are not due when the hour allows"

# --- 3. A failure to record after the 250 never sends again. -----------
conf=$(case_conf 3)
"$TRIAGED" -c "$conf" once || tb_fail "case 3: first run failed"
# While the reply is accepted, another process takes the database's
# write lock for 20 s: longer than the daemon's own retries.
cat >"$TB_SMTP_DIR/data-hook" <<EOF
rm -f "$TB_DIR/locked"
"$TB_PYTHON" - "$TB_DIR/c3.db" "$TB_DIR/locked" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(20)
db.execute("ROLLBACK")
PY
echo \$! >"$TB_DIR/run/holder.pid"
while [ ! -e "$TB_DIR/locked" ]; do sleep 0.05; done
EOF
tb_atexit "tb_kill_pidfile $TB_DIR/run/holder.pid"
tb_append_inquiries "$TB_USER" Case3 "$inquiry" c3- 1
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/c3.log" ||
    tb_fail "case 3: once failed: $(cat "$TB_DIR/c3.log")"
rm -f "$TB_SMTP_DIR/data-hook"
grep -q "could not be updated" "$TB_DIR/c3.log" ||
    tb_fail "case 3: the lock did not stop the recording: $(cat "$TB_DIR/c3.log")"
"$TRIAGED" -c "$conf" once || tb_fail "case 3: once after the lock"
"$TRIAGED" -c "$conf" once || tb_fail "case 3: once after the lock"
sleep 0.3
[ "$(sent_to c3-)" = 1 ] || tb_fail "case 3: $(sent_to c3-) copies sent"
[ "$(q "$TB_DIR/c3.db" "SELECT status FROM outbox")" = sent ] ||
    tb_fail "case 3: the send was never recorded"

# --- 4. A second instance on one state is refused. ---------------------
conf=$(case_conf 4 triage.poll_interval=10m)
"$TRIAGED" -c "$conf" once || tb_fail "case 4: first run failed"
"$TRIAGED" -c "$conf" run 2>"$TB_DIR/c4.log" &
pid=$!
echo "$pid" >"$TB_DIR/run/c4.pid"
tb_atexit "tb_kill_pidfile $TB_DIR/run/c4.pid"
for i in $(seq 200); do
	grep -q started "$TB_DIR/c4.log" && break
	sleep 0.05
done
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/c4b.log"
rc=$?
[ "$rc" = 75 ] || tb_fail "case 4: a second instance ran (exit $rc)"
grep -q "another triaged (pid $pid)" "$TB_DIR/c4b.log" ||
    tb_fail "case 4: unclear refusal: $(cat "$TB_DIR/c4b.log")"
# Two started together over new mail: one reply each, never two.
kill -TERM "$pid"
wait "$pid"
tb_append_inquiries "$TB_USER" Case4 "$inquiry" c4- 10
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/c4c.log" &
a=$!
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/c4d.log" &
b=$!
wait "$a"
wait "$b"
"$TRIAGED" -c "$conf" once || tb_fail "case 4: once after the race"
sleep 0.5
[ "$(sent_to c4-)" = 10 ] || tb_fail "case 4: $(sent_to c4-) replies to 10"
[ "$(distinct_to c4-)" = 10 ] || tb_fail "case 4: a reply went twice"

# --- 5. A black-holed SMTP server costs one timeout per pass, no charge.
"$TB_PYTHON" - "$TB_DIR/hole.port" "$TB_DIR/run/hole.pid" <<'PY' &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)          # connections complete in the backlog; never read
with open(sys.argv[2], "w") as f:
    f.write("%d\n" % os.getpid())
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % s.getsockname()[1])
time.sleep(600)
PY
tb_atexit "tb_kill_pidfile $TB_DIR/run/hole.pid"
for i in $(seq 100); do
	[ -s "$TB_DIR/hole.port" ] && break
	sleep 0.05
done
conf=$(case_conf 5 smtp.timeout=2)
"$TRIAGED" -c "$conf" once || tb_fail "case 5: first run failed"
tb_conf "$conf" imap.mailbox=Case5 "triage.state=$TB_DIR/c5.db" \
    smtp.timeout=2 "smtp.url=smtp://127.0.0.1:$(cat "$TB_DIR/hole.port")"
tb_append_inquiries "$TB_USER" Case5 "$inquiry" c5- 6
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/c5.log" ||
    tb_fail "case 5: once failed: $(cat "$TB_DIR/c5.log")"
[ "$(grep -c 'reply deferred' "$TB_DIR/c5.log")" = 1 ] ||
    tb_fail "case 5: not one deferral: $(cat "$TB_DIR/c5.log")"
[ "$(q "$TB_DIR/c5.db" "SELECT sum(attempts) FROM outbox")" = 0 ] ||
    tb_fail "case 5: the dead server was charged to a reply"
[ "$(q "$TB_DIR/c5.db" "SELECT count(*) FROM outbox WHERE
    status = 'pending'")" = 6 ] || tb_fail "case 5: replies lost"
tb_kill_pidfile "$TB_DIR/run/hole.pid"

# --- 6. A message the server will not send is queued as unreadable. ----
conf=$(case_conf 6 imap.batch=10)
"$TRIAGED" -c "$conf" once || tb_fail "case 6: first run failed"
tb_append_inquiries "$TB_USER" Case6 "$inquiry" c6- 5
# Dovecot cannot read the third message's file: it fails that FETCH.
box=$TB_DIR/mail/$TB_USER/.Case6
[ -d "$box" ] || box=$(find "$TB_DIR/mail" -type d -name '*Case6' | head -1)
third=$(ls -1 "$box"/new/* "$box"/cur/* 2>/dev/null | sort | sed -n 3p)
[ -n "$third" ] || tb_fail "case 6: no message file in $box"
chmod 000 "$third"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/c6.log" ||
    tb_fail "case 6: the bad message stalled the pass: $(cat "$TB_DIR/c6.log")"
"$TRIAGED" -c "$conf" queue --json >"$TB_DIR/c6.json"
[ "$(grep -o '"category":"unreadable"' "$TB_DIR/c6.json" | wc -l)" = 1 ] ||
    tb_fail "case 6: no unreadable item: $(cat "$TB_DIR/c6.json")"
[ "$(grep -o '"category":"individual"' "$TB_DIR/c6.json" | wc -l)" = 4 ] ||
    tb_fail "case 6: the other messages were not triaged"
tb_wait_smtp 1 5
sleep 0.3
[ "$(sent_to c6-)" = 4 ] || tb_fail "case 6: $(sent_to c6-) replies to 4"
tb_flags "$TB_USER" Case6 | grep '\$Triage_unreadable' | grep -q Flagged ||
    tb_fail "case 6: the unreadable message is not flagged"
chmod 600 "$third"

# --- 7. SIGHUP and SIGTERM during a long pass. -------------------------
conf=$(case_conf 7 imap.batch=1 triage.poll_interval=10m)
tb_append_inquiries "$TB_USER" Case7 "$inquiry" c7- 300
"$TRIAGED" -c "$conf" run 2>"$TB_DIR/c7.log" &
pid=$!
echo "$pid" >"$TB_DIR/run/c7.pid"
tb_atexit "tb_kill_pidfile $TB_DIR/run/c7.pid"
for i in $(seq 400); do
	grep -q "new messages" "$TB_DIR/c7.log" && break
	sleep 0.01
done
# Reload requests rain on the pass; each is taken between messages.
for i in $(seq 20); do
	kill -HUP "$pid"
	sleep 0.02
done
# The pass finishes, then the reload is taken (slowly under valgrind).
for i in $(seq 6000); do
	[ "$(q "$TB_DIR/c7.db" "SELECT count(*) FROM messages")" = 301 ] &&
	    grep -q reloaded "$TB_DIR/c7.log" && break
	sleep 0.05
done
kill -0 "$pid" || tb_fail "case 7: SIGHUP killed the daemon"
grep -q reloaded "$TB_DIR/c7.log" || tb_fail "case 7: no reload"
grep -qi -e "stream" -e "connection lost" -e "interrupted" "$TB_DIR/c7.log" &&
    tb_fail "case 7: a signal broke the session: $(cat "$TB_DIR/c7.log")"
[ "$(q "$TB_DIR/c7.db" "SELECT count(*) FROM messages")" = 301 ] ||
    tb_fail "case 7: the pass did not finish"
# SIGTERM in the middle of the next backlog: a clean exit between
# messages; the next pass takes the rest, nothing twice.
tb_append_inquiries "$TB_USER" Case7 "$inquiry" c7b- 300
for i in $(seq 400); do
	n=$(q "$TB_DIR/c7.db" "SELECT count(*) FROM messages")
	[ "$n" -gt 310 ] && break
	sleep 0.01
done
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" = 0 ] || tb_fail "case 7: run exited $rc on SIGTERM"
grep -q stopping "$TB_DIR/c7.log" || tb_fail "case 7: no clean stop"
grep -qi -e "stream" -e "connection lost" "$TB_DIR/c7.log" &&
    tb_fail "case 7: SIGTERM broke the session: $(cat "$TB_DIR/c7.log")"
"$TRIAGED" -c "$conf" once || tb_fail "case 7: once after SIGTERM"
[ "$(q "$TB_DIR/c7.db" "SELECT count(*) FROM messages")" = 601 ] ||
    tb_fail "case 7: messages lost after SIGTERM"
[ "$(q "$TB_DIR/c7.db" "SELECT count(DISTINCT uid) FROM messages")" = 601 ] ||
    tb_fail "case 7: a message was recorded twice"

# --- 8. A crisis rule past its match limit fails safe. -----------------
mkdir -p "$TB_DIR/limit/rules"
cat >"$TB_DIR/limit/rules/00.rules" <<'EOF'
category crisis      priority 100 template crisis
category individual  priority 40  template individual
default individual
# Catastrophic backtracking on a long line: pcre2's match limit stops it.
rule crisis-slow
	match body /^(\w+\s?)+$/
	category crisis
	tag urgent
EOF
tb_offline_conf "$TB_DIR/limit" "$TB_DIR/limit/rules"
printf '%s\n' 'Return-Path: <c8@client.example>' 'From: c8@client.example' \
    'To: hello@practice.example' 'Subject: hello' '' \
    'i would like to ask about an appointment for next week if you have one!' \
    >"$TB_DIR/limit/m.eml"
"$TRIAGED" -c "$TB_DIR/limit/triaged.conf" classify --json \
    "$TB_DIR/limit/m.eml" >"$TB_DIR/limit/out" 2>"$TB_DIR/limit/err" ||
    tb_fail "case 8: classify failed"
grep -q '"category":"crisis"' "$TB_DIR/limit/out" ||
    tb_fail "case 8: a match limit on a crisis rule lost the crisis"
grep -q "fails safe" "$TB_DIR/limit/err" ||
    tb_fail "case 8: the limit hit was not logged"
"$TRIAGED" -c "$TB_DIR/limit/triaged.conf" classify --explain \
    "$TB_DIR/limit/m.eml" 2>/dev/null | grep -q "counted as a match" ||
    tb_fail "case 8: --explain does not say why"
# The same rule in another category: the limit hit is no match.
sed -i 's/category crisis$/category individual/' "$TB_DIR/limit/rules/00.rules"
"$TRIAGED" -c "$TB_DIR/limit/triaged.conf" classify --json \
    "$TB_DIR/limit/m.eml" 2>/dev/null | grep -q '"rules":\[\]' ||
    tb_fail "case 8: a limit hit outside crisis counted as a match"
echo PASS
