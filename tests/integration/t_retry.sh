#!/bin/bash
# SMTP delivery that loses nothing: a 451 keeps the reply pending (with the
# server's text in queue) until it is due again, then it goes out exactly
# once; a 550 marks it failed with the server's text and it is never
# retried; a server that offers DSN but refuses NOTIFY=NEVER gets the
# reply once more without the parameters; with the SMTP server down, replies stay pending across process
# exit and the next pass after the server is back sends each exactly once.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
command -v sqlite3 >/dev/null 2>&1 || tb_skip "sqlite3 is not installed"
conf=$TB_DIR/triaged.conf
fast=$TB_DIR/fast.conf
tb_conf "$conf"
# Same state; the first retry is due after 1 s instead of 1 min.
tb_conf "$fast" smtp.retry_base=1s

# An individual inquiry from $1 with Message-ID <$2@client.example>.
inquiry()
{
	local f=$TB_DIR/$2.eml
	cat >"$f" <<EOF
Return-Path: <$1>
From: Client <$1>
To: hello@practice.example
Subject: Looking for a therapist
Date: Wed, 25 Nov 2026 10:00:00 -0500
Message-ID: <$2@client.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, I have been feeling low for months and would like to start
therapy. Are you taking new clients?
EOF
	tb_append "$TB_USER" INBOX "$f" >/dev/null
}

# The queue --json row of sender $1, field $2.
row()
{
	"$TRIAGED" -c "$conf" queue --json >"$TB_DIR/q.json" ||
	    tb_fail "queue failed"
	"$TB_PYTHON" - "$TB_DIR/q.json" "$1" "$2" <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r['from'] == sys.argv[2]]
assert len(rows) == 1, rows
v = rows[0][sys.argv[3]]
print('null' if v is None else v)
PY
}

# Replies recorded for recipient $1.
sent_to()
{
	grep -l "\"<$1>\"" "$TB_SMTP_DIR"/*.json 2>/dev/null | wc -l
}

"$TRIAGED" -c "$conf" once || tb_fail "first once failed"

# 451: pending with the server's text, not retried before it is due.
tb_smtp_fail "retry451 451 4.3.0 greylisted, try again later"
inquiry retry451@client.example r451
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
[ "$(tb_smtp_count)" = 0 ] || tb_fail "a reply despite 451"
[ "$(row retry451@client.example status)" = pending ] ||
    tb_fail "451: not pending"
row retry451@client.example error | grep -q 'greylisted' ||
    tb_fail "451: the server's text is not in queue"
tb_smtp_fail
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
sleep 0.3
[ "$(tb_smtp_count)" = 0 ] || tb_fail "retried before it was due"
[ "$(row retry451@client.example status)" = pending ] ||
    tb_fail "451: no longer pending before the retry"
# Make it due now (the backoff itself is tested with retry_base below).
sqlite3 "$TB_DIR/state.db" "UPDATE outbox SET next_try = 0" ||
    tb_fail "sqlite3 update"
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
tb_wait_smtp 1 5 || tb_fail "the deferred reply was not sent"
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
sleep 0.3
[ "$(sent_to retry451@client.example)" = 1 ] ||
    tb_fail "451: $(sent_to retry451@client.example) replies, expected 1"
[ "$(row retry451@client.example status)" = replied ] ||
    tb_fail "451: not replied after the retry"

# 550: failed with the server's text, never tried again.
tb_smtp_fail "refuse550 550 5.1.1 <refuse550@client.example>: no such mailbox here"
inquiry refuse550@client.example r550
"$TRIAGED" -c "$fast" once 2>"$TB_DIR/550.log" || tb_fail "once failed"
# The log says why, but never names the address the server quoted back.
grep -q 'reply refused: .*550 5.1.1 <address>.* no such' "$TB_DIR/550.log" ||
    tb_fail "550 not logged: $(cat "$TB_DIR/550.log")"
! grep -q 'refuse550@' "$TB_DIR/550.log" || tb_fail "an address in the log"
[ "$(row refuse550@client.example status)" = failed ] ||
    tb_fail "550: not failed"
row refuse550@client.example error | grep -q '5.1.1 <refuse550@client.example>: no such mailbox here' ||
    tb_fail "550: the server's text is not in queue"
"$TRIAGED" -c "$fast" queue | grep -q failed || tb_fail "queue table"
tb_smtp_fail
sleep 1.2
"$TRIAGED" -c "$fast" once || tb_fail "once failed"
sleep 0.3
[ "$(sent_to refuse550@client.example)" = 0 ] ||
    tb_fail "550: a failed reply was sent later"
[ "$(tb_smtp_count)" = 1 ] || tb_fail "unexpected mail after the 550"

# Outage: the SMTP server is down during a pass; the replies stay pending
# across process exit; once it is back, each goes out exactly once.
tb_smtp_stop
inquiry outage1@client.example out1
inquiry outage2@client.example out2
"$TRIAGED" -c "$fast" once 2>"$TB_DIR/outage.log" ||
    tb_fail "once failed during the outage: $(cat "$TB_DIR/outage.log")"
[ "$(row outage1@client.example status)" = pending ] ||
    tb_fail "outage: not pending"
[ "$(row outage2@client.example status)" = pending ] ||
    tb_fail "outage: not pending"
[ "$(row outage1@client.example error)" != null ] ||
    tb_fail "outage: no error recorded"
tb_smtp_start
sleep 1.2	# retry_base = 1s
"$TRIAGED" -c "$fast" once || tb_fail "once failed after the outage"
tb_wait_smtp 3 5 || tb_fail "the pending replies were not sent"
"$TRIAGED" -c "$fast" once || tb_fail "once failed"
sleep 1.2
"$TRIAGED" -c "$fast" once || tb_fail "once failed"
sleep 0.3
[ "$(sent_to outage1@client.example)" = 1 ] ||
    tb_fail "outage1: $(sent_to outage1@client.example) replies"
[ "$(sent_to outage2@client.example)" = 1 ] ||
    tb_fail "outage2: $(sent_to outage2@client.example) replies"
[ "$(tb_smtp_count)" = 3 ] || tb_fail "expected 3 replies in all"
[ "$(row outage1@client.example status)" = replied ] ||
    tb_fail "outage1 not replied"

# DSN offered, NOTIFY refused (555): sent again at once without the
# parameters, exactly one reply, and the refusal is logged.
tb_smtp_fail "NOTIFY= 555 5.5.4 unsupported parameter NOTIFY"
inquiry dsn555@client.example d555
"$TRIAGED" -c "$fast" once 2>"$TB_DIR/dsn.log" || tb_fail "once failed"
tb_wait_smtp 4 5 || tb_fail "no reply after the NOTIFY refusal"
tb_smtp_fail
sleep 0.3
[ "$(sent_to dsn555@client.example)" = 1 ] ||
    tb_fail "dsn555: $(sent_to dsn555@client.example) replies"
grep -q 'refused NOTIFY=NEVER (555)' "$TB_DIR/dsn.log" ||
    tb_fail "the refusal is not logged: $(cat "$TB_DIR/dsn.log")"
"$TB_PYTHON" - "$TB_SMTP_DIR" <<'PY' || tb_fail "the retry carried DSN parameters"
import glob, json, sys
env = [json.load(open(f)) for f in glob.glob(sys.argv[1] + '/*.json')]
rows = [e for e in env if any('dsn555@' in r['addr'] for r in e['rcpt'])]
assert len(rows) == 1 and rows[0]['rcpt'][0]['params'] == [], rows
# The others, before the refusal, did carry them.
assert any(r['params'] for e in env if e not in rows for r in e['rcpt'])
PY
[ "$(row dsn555@client.example status)" = replied ] ||
    tb_fail "dsn555 not replied"
echo PASS
