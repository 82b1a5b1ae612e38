#!/bin/bash
# A stale IMAP connection is found and replaced within 60 s: the Dovecot
# process serving the daemon's session is stopped (SIGSTOP: its kernel
# still answers TCP, the server says nothing); the daemon's IDLE check
# notices, reconnects (Dovecot starts a new process) and an inquiry that
# arrived meanwhile is answered, all within a minute of the stop.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
# The bounds are the behaviour asked for; TB_SLOW (make valgrind) stretches
# them for a binary run many times slower.
slow=${TB_SLOW:-1}
tb_start
samples=$TB_REPO/tests/data/samples
conf=$TB_DIR/triaged.conf
tb_conf "$conf" triage.poll_interval=600s imap.timeout=60

# The pids of Dovecot's imap processes (one per session), children of the
# master this test bed started.
imap_pids()
{
	local master
	master=$(cat "$TB_DIR/dovecot.pid")
	ps -o pid=,comm= --ppid "$master" | awk '$2 == "imap" {print $1}'
}

"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
tb_run_daemon --started "$conf"
pid=$TB_DAEMON_PID
# The daemon's session: wait for it to log in (slow under valgrind).
for i in $(seq $((20 * slow))); do
	session=$(imap_pids)
	[ -n "$session" ] && break
	sleep 0.5
done
sleep 1
session=$(imap_pids)
[ "$(echo "$session" | wc -w)" = 1 ] ||
    tb_fail "expected one imap session, found: $session"
kill -STOP "$session"
tb_atexit "kill -CONT $session 2>/dev/null; kill $session 2>/dev/null"
t0=$(date +%s)
sleep 2
tb_append "$TB_USER" INBOX "$samples/04-individual.eml" >/dev/null
tb_wait_smtp 1 $((70 * slow)) || tb_fail "no reply after the session stalled: $(tail -5 "$TB_DIR/run.log")"
t1=$(date +%s)
[ $((t1 - t0)) -le $((60 * slow)) ] || tb_fail "the stale session took $((t1 - t0)) s to replace"
grep -q 'stopped responding' "$TB_DIR/run.log" ||
    tb_fail "the log does not say why: $(tail -5 "$TB_DIR/run.log")"
echo "stale session replaced and the inquiry answered $((t1 - t0)) s after the stop"
kill -TERM "$pid"
wait "$pid" || tb_fail "run exited $? on SIGTERM"
echo PASS
