#!/bin/bash
# `triaged reply ID`: the reply an item would have had, with the guard's
# checks, once, through the real binary, Dovecot and the SMTP server:
# - mail from before the first run is answered on request, and only once;
# - a newsletter is refused with the guard's reason, a second inquiry
#   from the same sender with the reply window's, and one the practice
#   answered by hand meanwhile (its reply in Sent) as already answered;
# - while the daemon runs, the reply is queued and the daemon sends it.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
conf=$TB_DIR/triaged.conf
tb_conf "$conf"
samples=$TB_REPO/tests/data/samples

# An inquiry from writer$1@client.example.
inquiry()
{
	printf 'Return-Path: <writer%s@client.example>\nFrom: <writer%s@client.example>\nTo: hello@practice.example\nSubject: therapy %s\nDate: %s\nMessage-ID: <late-%s-%s@client.example>\nMIME-Version: 1.0\nContent-Type: text/plain\n\nHello, I would like to start therapy for anxiety.\n' \
	    "$1" "$1" "$2" "$(date -R)" "$1" "$2" >"$TB_DIR/in$1.eml"
	tb_append "$TB_USER" INBOX "$TB_DIR/in$1.eml" >/dev/null
}
# The queue id of the item from $1 with subject $2.
item()
{
	"$TRIAGED" -c "$conf" queue --json | "$TB_PYTHON" -c '
import json, sys
print([r["id"] for r in json.load(sys.stdin)
       if r["from"] == sys.argv[1] and r["subject"] == sys.argv[2]][0])' "$1" "$2"
}
# `triaged reply ID`: its exit status, its output in $TB_DIR/reply.out.
reply()
{
	local rc=0
	"$TRIAGED" -c "$conf" reply "$1" >"$TB_DIR/reply.out" 2>&1 || rc=$?
	echo "$rc"
}

inquiry 1 a
inquiry 1 b
inquiry 2 a
inquiry 4 a
tb_append "$TB_USER" INBOX "$samples/05-newsletter.eml" >/dev/null
"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
sleep 0.3
[ "$(tb_smtp_count)" = 0 ] || tb_fail "the first run answered"

id=$(item writer1@client.example "therapy a")
[ "$(reply "$id")" = 0 ] || tb_fail "reply: $(cat "$TB_DIR/reply.out")"
grep -q "Item $id: the reply was sent" "$TB_DIR/reply.out" ||
    tb_fail "reply said: $(cat "$TB_DIR/reply.out")"
tb_wait_smtp 1 5 || tb_fail "no reply went"
"$TRIAGED" -c "$conf" queue show "$id" | grep -q '^Status:    replied' ||
    tb_fail "not replied in the queue"
# Once.
[ "$(reply "$id")" = 65 ] || tb_fail "second reply: $(cat "$TB_DIR/reply.out")"
grep -q 'has its reply already' "$TB_DIR/reply.out" || tb_fail "why not twice"
# The window: the same writer's second message.
[ "$(reply "$(item writer1@client.example "therapy b")")" = 65 ] ||
    tb_fail "window: $(cat "$TB_DIR/reply.out")"
grep -q 'no reply for item .*: window' "$TB_DIR/reply.out" ||
    tb_fail "window said: $(cat "$TB_DIR/reply.out")"
# A newsletter: the guard says no.
news=$("$TRIAGED" -c "$conf" queue --json | "$TB_PYTHON" -c '
import json, sys
print([r["id"] for r in json.load(sys.stdin) if r["category"] == "not-inquiry"][0])')
[ "$(reply "$news")" = 65 ] || tb_fail "newsletter: $(cat "$TB_DIR/reply.out")"
[ "$(tb_smtp_count)" = 1 ] || tb_fail "something else was sent"
# Answered by hand from the practice's mail client meanwhile: not again.
printf 'From: hello@practice.example\nTo: writer4@client.example\nSubject: Re: therapy a\nDate: %s\nMessage-ID: <by-hand-4@practice.example>\nIn-Reply-To: <late-4-a@client.example>\n\nCall me on Monday.\n' \
    "$(date -R)" >"$TB_DIR/byhand.eml"
tb_append "$TB_USER" Sent "$TB_DIR/byhand.eml" >/dev/null
[ "$(reply "$(item writer4@client.example "therapy a")")" = 65 ] ||
    tb_fail "answered by hand: $(cat "$TB_DIR/reply.out")"
grep -q 'already-answered' "$TB_DIR/reply.out" ||
    tb_fail "answered by hand said: $(cat "$TB_DIR/reply.out")"
[ "$(tb_smtp_count)" = 1 ] || tb_fail "something else was sent"
rc=0
"$TRIAGED" -c "$conf" reply nope 2>/dev/null || rc=$?
[ "$rc" = 64 ] || tb_fail "reply nope: exit $rc"

# With the daemon running: queued, and the daemon sends it.
tb_run_daemon --started "$conf"
id=$(item writer2@client.example "therapy a")
[ "$(reply "$id")" = 0 ] || tb_fail "reply, daemon: $(cat "$TB_DIR/reply.out")"
grep -q 'the running daemon sends it' "$TB_DIR/reply.out" ||
    tb_fail "reply said: $(cat "$TB_DIR/reply.out")"
inquiry 3 a	# new mail wakes the daemon
tb_wait_smtp 3 20 || tb_fail "the daemon did not send the queued reply"
[ "$(grep -l '"<writer2@client.example>"' "$TB_SMTP_DIR"/*.json | wc -l)" = 1 ] ||
    tb_fail "writer2 got no reply"
tb_exit
