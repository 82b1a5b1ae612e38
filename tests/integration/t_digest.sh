#!/bin/bash
# The daily digest, through the real binary, Dovecot and the SMTP server:
# - the first pass of a new machine sends none;
# - `triaged digest` sends one to [digest] to: what arrived per category,
#   the replies that failed, the inquiries waiting longer than
#   unanswered_after (crisis first; one the therapist answered in another
#   client is not among them), plain text and HTML, no sender or subject
#   unless include_details = yes;
# - a digest missed (its time passed since the last one, as after a night
#   with the machine off) goes on the next pass, once;
# - without [digest] to, `triaged digest` is a configuration error.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
office=office@practice.example
conf=$TB_DIR/triaged.conf
tb_conf "$conf" "digest.to=$office" digest.unanswered_after=1s

# Mail recorded for $1, as a count.
mail_to()
{
	grep -l "\"<$1>\"" "$TB_SMTP_DIR"/*.json 2>/dev/null | wc -l
}
# The newest mail to $1.
last_mail_to()
{
	local f
	f=$(grep -l "\"<$1>\"" "$TB_SMTP_DIR"/*.json | sort -V | tail -1)
	cat "${f%.json}.eml"
}
# An inquiry from writer$1@client.example with body $2.
inquiry()
{
	printf 'Return-Path: <writer%s@client.example>\nFrom: <writer%s@client.example>\nTo: hello@practice.example\nSubject: Private-Subject-%s\nDate: %s\nMessage-ID: <digest-%s@client.example>\nMIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n' \
	    "$1" "$1" "$1" "$(date -R)" "$1" "$2" >"$TB_DIR/in$1.eml"
	tb_append "$TB_USER" INBOX "$TB_DIR/in$1.eml" >/dev/null
}

"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
inquiry 1 "Hello, I would like to start therapy for anxiety."
inquiry 2 "I want to kill myself tonight."
inquiry 3 "My wife and I would like couples counseling."
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
tb_wait_smtp 3 10 || tb_fail "replies not sent"
[ "$(mail_to "$office")" = 0 ] || tb_fail "a new machine sent a digest"
# The therapist answers the couples inquiry (UID 3) in their client.
"$TB_PYTHON" "$TB_LIBDIR/tb.py" store "$TB_USER" INBOX 3 '\Answered'
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
# Waiting means received < now - 1 s in whole seconds: a difference of 2.
sleep 2.1

"$TRIAGED" -c "$conf" digest || tb_fail "digest failed"
[ "$(mail_to "$office")" = 1 ] || tb_fail "no digest"
last_mail_to "$office" >"$TB_DIR/d1.eml"
cat "$TB_DIR/d1.eml"
grep -q '^Subject: triaged digest: 3 new, 2 waiting, a crisis among them' \
    "$TB_DIR/d1.eml" || tb_fail "digest subject"
grep -q '^Content-Type: multipart/alternative' "$TB_DIR/d1.eml" ||
    tb_fail "digest: not text and HTML"
grep -q '<table' "$TB_DIR/d1.eml" || tb_fail "digest: no HTML table"
grep -Eq '^  crisis +1' "$TB_DIR/d1.eml" || tb_fail "digest: the counts"
grep -q '^Replies that failed: 0' "$TB_DIR/d1.eml" || tb_fail "failed"
# Waiting: crisis first, then the individual one; the couples one is
# handled.
"$TB_PYTHON" - "$TB_DIR/d1.eml" <<'PY' || tb_fail "digest: the waiting list"
import re, sys
text = open(sys.argv[1]).read().split('Content-Type: text/html')[0]
rows = re.findall(r'^  #\d+ +(\S+) ', text, re.M)
assert rows == ['crisis', 'individual'], rows
PY
for secret in writer Private-Subject; do
	! grep -q "$secret" "$TB_DIR/d1.eml" || tb_fail "the digest holds $secret"
done

# With details: the senders and subjects of what waits.
tb_conf "$TB_DIR/details.conf" "digest.to=$office" \
    digest.unanswered_after=1s digest.include_details=yes
"$TRIAGED" -c "$TB_DIR/details.conf" digest || tb_fail "digest failed"
last_mail_to "$office" >"$TB_DIR/d2.eml"
grep -q 'writer2@client.example: Private-Subject-2' "$TB_DIR/d2.eml" ||
    tb_fail "details missing: $(cat "$TB_DIR/d2.eml")"
! grep -q 'Private-Subject-3' "$TB_DIR/d2.eml" || tb_fail "handled listed"

# A missed digest: the last one before yesterday's time goes on the next
# pass, once.
sqlite3 "$TB_DIR/state.db" "UPDATE health SET value = value - 2 * 86400
    WHERE key = 'digest_at'" || tb_fail "cannot age the last digest"
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
[ "$(mail_to "$office")" = 3 ] || tb_fail "the missed digest did not go"
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
[ "$(mail_to "$office")" = 3 ] || tb_fail "the digest went twice"

# Not configured.
tb_conf "$TB_DIR/none.conf"
rc=0
"$TRIAGED" -c "$TB_DIR/none.conf" digest 2>"$TB_DIR/none.err" || rc=$?
[ "$rc" = 78 ] || tb_fail "digest without [digest] to: exit $rc"
grep -q '\[digest\] to is not set' "$TB_DIR/none.err" || tb_fail "the message"
tb_exit
