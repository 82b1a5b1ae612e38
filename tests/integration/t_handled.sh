#!/bin/bash
# Handled state from the mailbox itself, through the real binary and a
# second IMAP client on the same Dovecot mailbox:
# - mail from before the first run is "suppressed" (first-run) in the
#   queue, no longer "handled";
# - an inquiry the therapist answered in their mail client (\Answered set
#   by that client) turns handled ("answered") on the next pass;
# - one they deleted is handled ("moved"): noted, not an error;
# - a $Triage_ keyword the therapist replaced with another category's is a
#   correction (`queue --corrections`, the digest), once, and the queue
#   follows it;
# - one left alone stays open; `queue done ID` marks it handled by hand,
#   once; --status handled lists all three.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
conf=$TB_DIR/triaged.conf
tb_conf "$conf"

# An inquiry from writer$1@client.example.
inquiry()
{
	printf 'Return-Path: <writer%s@client.example>\nFrom: <writer%s@client.example>\nTo: hello@practice.example\nSubject: therapy %s\nDate: %s\nMessage-ID: <handled-%s@client.example>\nMIME-Version: 1.0\nContent-Type: text/plain\n\nHello, I would like to start therapy for anxiety.\n' \
	    "$1" "$1" "$1" "$(date -R)" "$1" >"$TB_DIR/in$1.eml"
	tb_append "$TB_USER" INBOX "$TB_DIR/in$1.eml" >/dev/null
}
# The queue as JSON, one "uid-free" line per item: from status handled.
queue_lines()
{
	"$TRIAGED" -c "$conf" queue --json | "$TB_PYTHON" -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["from"], r["status"], r["handled"], r["suppressed"])'
}

inquiry 0
"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
queue_lines | tee "$TB_DIR/q0"
grep -q '^writer0@client.example suppressed None first-run$' "$TB_DIR/q0" ||
    tb_fail "first-run mail: $(cat "$TB_DIR/q0")"

inquiry 1
inquiry 2
inquiry 3
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
tb_wait_smtp 3 10 || tb_fail "replies not sent"
queue_lines | tee "$TB_DIR/q1"
[ "$(grep -c ' replied None None$' "$TB_DIR/q1")" = 3 ] ||
    tb_fail "replied: $(cat "$TB_DIR/q1")"

# Another client answers 1 and deletes 2 (UIDs 2 and 3).
"$TB_PYTHON" "$TB_LIBDIR/tb.py" store "$TB_USER" INBOX 2 '\Answered' ||
    tb_fail "cannot set \\Answered"
"$TB_PYTHON" "$TB_LIBDIR/tb.py" expunge "$TB_USER" INBOX 3 ||
    tb_fail "cannot delete"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once.log" || tb_fail "once failed"
cat "$TB_DIR/once.log"
! grep -v 'state folder' "$TB_DIR/once.log" | grep -qi 'warn\|error' ||
    tb_fail "a deletion is no error"
queue_lines | tee "$TB_DIR/q2"
grep -q '^writer1@client.example handled answered None$' "$TB_DIR/q2" ||
    tb_fail "answered: $(cat "$TB_DIR/q2")"
grep -q '^writer2@client.example handled moved None$' "$TB_DIR/q2" ||
    tb_fail "deleted: $(cat "$TB_DIR/q2")"
grep -q '^writer3@client.example replied None None$' "$TB_DIR/q2" ||
    tb_fail "left alone: $(cat "$TB_DIR/q2")"
# Once handled, a later \Answered changes nothing.
"$TB_PYTHON" "$TB_LIBDIR/tb.py" store "$TB_USER" INBOX 1 '\Answered'
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
grep -q '^writer0@client.example handled answered first-run$' <(queue_lines) ||
    tb_fail "first-run mail answered later"
grep -q '^writer1@client.example handled answered None$' <(queue_lines) ||
    tb_fail "handled twice"

# The therapist re-sorts writer3 (UID 4) from individual to couples by
# replacing its keyword: a correction, and the queue follows it; the
# digest counts it.
"$TB_PYTHON" "$TB_LIBDIR/tb.py" store "$TB_USER" INBOX 4 '$Triage_individual' \
    -FLAGS || tb_fail "cannot remove the keyword"
"$TB_PYTHON" "$TB_LIBDIR/tb.py" store "$TB_USER" INBOX 4 '$Triage_couples' ||
    tb_fail "cannot set the keyword"
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
"$TRIAGED" -c "$conf" queue --corrections --json >"$TB_DIR/corr.json"
"$TB_PYTHON" -c '
import json, sys
c = json.load(open(sys.argv[1]))
assert len(c) == 1 and c[0]["from"] == "individual" and c[0]["to"] == "couples", c
' "$TB_DIR/corr.json" || tb_fail "corrections: $(cat "$TB_DIR/corr.json")"
"$TRIAGED" -c "$conf" queue --json | grep -q '"from":"writer3@client.example","subject":"therapy 3","category":"couples"' ||
    tb_fail "the queue did not follow the correction"
"$TRIAGED" -c "$conf" queue --corrections | grep -Eq 'individual +couples' ||
    tb_fail "corrections table: $("$TRIAGED" -c "$conf" queue --corrections)"
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
[ "$("$TRIAGED" -c "$conf" queue --corrections --json | grep -o '"id"' | wc -l)" = 1 ] ||
    tb_fail "the correction was recorded twice"
tb_conf "$TB_DIR/digest.conf" digest.to=office@practice.example
"$TRIAGED" -c "$TB_DIR/digest.conf" digest || tb_fail "digest failed"
digest=$(grep -l '"<office@practice.example>"' "$TB_SMTP_DIR"/*.json) ||
    tb_fail "no digest"
grep -q 'Your corrections: 1 (individual to couples' "${digest%.json}.eml" ||
    tb_fail "the digest does not count the correction"

# By hand, once.
id=$("$TRIAGED" -c "$conf" queue --json | "$TB_PYTHON" -c '
import json, sys
print([r["id"] for r in json.load(sys.stdin) if r["from"] == "writer3@client.example"][0])')
"$TRIAGED" -c "$conf" queue done "$id" | grep -q "Item $id is handled" ||
    tb_fail "queue done"
rc=0
"$TRIAGED" -c "$conf" queue done "$id" 2>/dev/null || rc=$?
[ "$rc" = 65 ] || tb_fail "queue done twice: exit $rc"
grep -q '^writer3@client.example handled by hand None$' <(queue_lines) ||
    tb_fail "by hand: $(queue_lines)"
"$TRIAGED" -c "$conf" queue show "$id" | grep -q '^Status:    handled (by hand, .*); the reply: replied' ||
    tb_fail "queue show: $("$TRIAGED" -c "$conf" queue show "$id")"
[ "$("$TRIAGED" -c "$conf" queue --json --status handled | grep -o '"id"' | wc -l)" = 4 ] ||
    tb_fail "--status handled"
"$TRIAGED" -c "$conf" queue --status handled | grep -q 'handled (by hand)' ||
    tb_fail "the table says how"
tb_exit
