#!/bin/bash
# The IMAP server goes away mid-pass and comes back: Dovecot is stopped
# while the daemon works through a backlog of 40 inquiries, stays down for
# a minute, and is started again (same ports, same mail). The daemon
# reconnects by itself: an inquiry delivered at the moment of the return is answered
# within 10 s of it (reconnects back off to 8 s, jitter at most 10 s), and
# every inquiry of the backlog is answered, none twice.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
# The bounds are the behaviour asked for; TB_SLOW (make valgrind) stretches
# them for a binary run many times slower.
slow=${TB_SLOW:-1}
tb_start
inquiry=$TB_REPO/tests/data/samples/04-individual.eml
conf=$TB_DIR/triaged.conf
tb_conf "$conf" triage.max_replies_per_hour=1000 triage.poll_interval=600s

"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
tb_append_inquiries "$TB_USER" INBOX "$inquiry" backlog- 40 >/dev/null
tb_run_daemon "$conf"
pid=$TB_DAEMON_PID
# Mid-pass: the first replies are out, the backlog is not done.
tb_wait_smtp 3 90 || tb_fail "the backlog did not start: $(tail -3 "$TB_DIR/run.log")"
tb_dovecot_stop
down=$(tb_smtp_count)
echo "Dovecot stopped after $down replies"
sleep 55
# `triaged status`: down (the inbox cannot be read), exit 2.
rc=0
"$TRIAGED" -c "$conf" status >"$TB_DIR/status.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || tb_fail "status during the outage: exit $rc: $(cat "$TB_DIR/status.out")"
grep -q 'inbox .*FAILING since' "$TB_DIR/status.out" ||
    tb_fail "status does not say the inbox fails: $(cat "$TB_DIR/status.out")"
sleep 5
tb_dovecot_start
t0=$(date +%s)
sed 's/^Message-ID: .*/Message-ID: <at-return@client.example>/;
    s/[a-z.]*@client\.example/returned@client.example/g' "$inquiry" \
    >"$TB_DIR/return.eml"
tb_append "$TB_USER" INBOX "$TB_DIR/return.eml" >/dev/null
for i in $(seq $((300 * slow))); do
	grep -q '"<returned@client.example>"' "$TB_SMTP_DIR"/*.json 2>/dev/null &&
	    break
	sleep 0.1
done
t1=$(date +%s)
grep -q '"<returned@client.example>"' "$TB_SMTP_DIR"/*.json ||
    tb_fail "the inquiry at the return was not answered: $(tail -5 "$TB_DIR/run.log")"
[ $((t1 - t0)) -le $((10 * slow)) ] ||
    tb_fail "answered $((t1 - t0)) s after the server's return"
tb_wait_smtp 41 $((30 * slow)) || tb_fail "$(tb_smtp_count) replies of 41"
sleep 1
[ "$(tb_smtp_count)" = 41 ] || tb_fail "$(tb_smtp_count) replies, expected 41"
n=$(grep -h -i -m1 '^Message-ID:' "$TB_SMTP_DIR"/*.eml | sort -u | wc -l)
[ "$n" = 41 ] || tb_fail "only $n distinct replies: one went twice"
rc=0
"$TRIAGED" -c "$conf" status >"$TB_DIR/status.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || tb_fail "status after the return: exit $rc: $(cat "$TB_DIR/status.out")"
echo "answered $((t1 - t0)) s after the IMAP server came back; backlog complete"
kill -TERM "$pid"
wait "$pid" || tb_fail "run exited $? on SIGTERM"
echo PASS
