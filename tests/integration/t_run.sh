#!/bin/bash
# The daemon: `triaged run` answers mail that arrives while it waits (IDLE),
# survives SIGHUP, and exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
conf=$TB_DIR/triaged.conf
# A poll interval far beyond the waits below: only IDLE can answer in time.
tb_conf "$conf" triage.poll_interval=10m
samples=$TB_REPO/tests/data/samples

# A first pass records the position, so that mail appended below is new
# mail, whenever the daemon's own first pass happens to run.
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
# Wait for the first pass (the empty mailbox) to finish.
tb_run_daemon --started "$conf"
pid=$TB_DAEMON_PID
sleep 0.5
# No core dump may hold a password or an inquiry (a wrapper such as make
# valgrind's is another process: only the binary itself is checked).
if ! head -c 2 "$TRIAGED" | grep -q '#!'; then
	grep -Eq '^Max core file size +0 +0 ' "/proc/$pid/limits" ||
	    tb_fail "core dumps allowed: $(grep core "/proc/$pid/limits")"
fi
tb_append "$TB_USER" INBOX "$samples/03-couples.eml" >/dev/null
# IDLE wakes the daemon (Dovecot notifies within a second), long before
# the 10 min poll interval.
tb_wait_smtp 1 10 || tb_fail "no reply while running: $(cat "$TB_DIR/run.log")"

kill -HUP "$pid"
for i in $(seq 100); do
	grep -q "reloaded" "$TB_DIR/run.log" && break
	sleep 0.1
done
kill -0 "$pid" || tb_fail "SIGHUP killed the daemon"
grep -q "reloaded" "$TB_DIR/run.log" || tb_fail "no reload on SIGHUP"
tb_append "$TB_USER" INBOX "$samples/04-individual.eml" >/dev/null
tb_wait_smtp 2 10 || tb_fail "no reply after reload"

kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" = 0 ] || tb_fail "run exited $rc on SIGTERM"
cat "$TB_DIR/run.log"
# No message content in the log.
grep -qi -e couples\ counseling -e sam.t@ -e anxiety "$TB_DIR/run.log" &&
    tb_fail "the log contains message content"
echo PASS
