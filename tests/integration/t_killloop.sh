#!/bin/bash
# kill -9 at random points, over and over, while inquiries keep arriving:
# 30 kills of `triaged run` while 200 inquiries (200 senders) are delivered,
# then a clean pass. Every inquiry is answered, none twice except a reply
# that a kill caught between its claim and its record (the same
# Message-ID goes out again, which the receiver may drop): those are
# counted and printed, and there can be at most one per kill.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
inquiry=$TB_REPO/tests/data/samples/04-individual.eml
conf=$TB_DIR/triaged.conf
tb_conf "$conf" triage.max_replies_per_hour=1000 triage.poll_interval=5s
kills=30
total=200

"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
# The inquiries arrive in bursts of 10 while the daemon is killed.
(
	for b in $(seq 0 19); do
		tb_append_inquiries "$TB_USER" INBOX "$inquiry" "k$b-" 10 \
		    >/dev/null || exit 1
		sleep 0.6
	done
) &
feeder=$!
tb_atexit "kill $feeder 2>/dev/null"
RANDOM=7
for k in $(seq "$kills"); do
	"$TRIAGED" -c "$conf" run 2>>"$TB_DIR/run.log" &
	pid=$!
	# 0.1 to 0.9 s: in a fetch, a record, a send, a filing or a wait.
	sleep "0.$((RANDOM % 9 + 1))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
wait "$feeder" || tb_fail "the feeder failed"
# The state and lock survive every kill; a clean run finishes the work.
for i in 1 2 3; do
	"$TRIAGED" -c "$conf" once 2>>"$TB_DIR/run.log" ||
	    tb_fail "once after the kills failed: $(tail -5 "$TB_DIR/run.log")"
done
tb_wait_smtp "$total" 30 || tb_fail "$(tb_smtp_count) replies of $total"
sleep 1

"$TB_PYTHON" - "$TB_SMTP_DIR" "$total" "$kills" <<'PY' || tb_fail "replies wrong"
import collections, email, glob, json, sys
smtp, total, kills = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per_rcpt = collections.defaultdict(list)
for f in glob.glob(smtp + '/*.json'):
    env = json.load(open(f))
    msg = email.message_from_binary_file(open(f[:-5] + '.eml', 'rb'))
    for r in env['rcpt']:
        per_rcpt[r['addr']].append(msg['Message-ID'])
missing = total - len(per_rcpt)
doubles = 0
for rcpt, ids in per_rcpt.items():
    if len(ids) > 1:
        # A second copy must be the same reply (same Message-ID).
        assert len(set(ids)) == 1, (rcpt, ids)
        doubles += len(ids) - 1
print('%d inquiries, %d answered, %d answered twice (in flight at a kill),'
      ' %d kills' % (total, len(per_rcpt), doubles, kills))
assert missing == 0, '%d inquiries never answered' % missing
assert doubles <= kills, 'more doubles than kills'
PY
echo PASS
