#!/bin/bash
# A hung SMTP server never delays triage, and replies leave soon after it
# comes back, crisis first. The daemon runs; the SMTP server is frozen
# (SIGSTOP: it accepts TCP and never answers). A couples inquiry and then
# a crisis inquiry arrive: both are triaged, filed and the crisis flagged
# within seconds, not after an SMTP timeout. Once the server is thawed,
# both replies go out within about 10 s, the crisis reply first, each once.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
# The bounds are the behaviour asked for; TB_SLOW (make valgrind) stretches
# them for a binary run many times slower.
slow=${TB_SLOW:-1}
tb_start
samples=$TB_REPO/tests/data/samples
conf=$TB_DIR/triaged.conf
tb_conf "$conf" triage.poll_interval=600s

"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
tb_run_daemon --started "$conf"
pid=$TB_DAEMON_PID
sleep 0.5

smtpd=$(cat "$TB_DIR/smtpd.pid")
kill -STOP "$smtpd"
tb_atexit "kill -CONT $smtpd 2>/dev/null"
tb_append "$TB_USER" INBOX "$samples/03-couples.eml" >/dev/null
sleep 1
t0=$(date +%s)
tb_append "$TB_USER" INBOX "$samples/01-crisis.eml" >/dev/null
# Dovecot notifies IDLE within a second; the crisis flag must follow it,
# even though the couples reply is stuck on the frozen server.
flagged=0
for i in $(seq $((80 * slow))); do
	if tb_flags "$TB_USER" INBOX | grep -q 'Flagged.*\$Triage_crisis\|\$Triage_crisis.*Flagged'; then
		flagged=1
		break
	fi
	sleep 0.1
done
t1=$(date +%s)
[ "$flagged" = 1 ] ||
    tb_fail "the crisis was not flagged while SMTP hung: $(tb_flags "$TB_USER" INBOX)"
[ $((t1 - t0)) -le $((8 * slow)) ] || tb_fail "the crisis flag took $((t1 - t0)) s"
tb_flags "$TB_USER" INBOX | grep -q '\$Triage_couples' ||
    tb_fail "the couples inquiry was not filed"
[ "$(tb_smtp_count)" = 0 ] || tb_fail "mail recorded by a frozen server"
# `triaged status`: degraded (replies are not going out), exit 1.
rc=0
"$TRIAGED" -c "$conf" status >"$TB_DIR/status.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || tb_fail "status with SMTP frozen: exit $rc: $(cat "$TB_DIR/status.out")"
grep -q 'replies     FAILING' "$TB_DIR/status.out" ||
    tb_fail "status does not say replies fail: $(cat "$TB_DIR/status.out")"

# Thawed: both replies within about 10 s (the probe runs every 8 s at most
# and the connect gives up after 10 s), crisis first.
sleep 12
t2=$(date +%s)
kill -CONT "$smtpd"
tb_wait_smtp 2 $((25 * slow)) || tb_fail "replies did not follow the thaw: $(tail -5 "$TB_DIR/run.log")"
t3=$(date +%s)
[ $((t3 - t2)) -le $((20 * slow)) ] || tb_fail "replies left $((t3 - t2)) s after the thaw"
sleep 1
[ "$(tb_smtp_count)" = 2 ] || tb_fail "$(tb_smtp_count) replies, expected 2"
first=$(ls "$TB_SMTP_DIR" | grep -E '^[0-9]+\.eml$' | sort -n | head -1)
grep -qi '988' "$TB_SMTP_DIR/$first" || tb_fail "the crisis reply was not first"
rc=0
"$TRIAGED" -c "$conf" status >"$TB_DIR/status.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || tb_fail "status after the thaw: exit $rc: $(cat "$TB_DIR/status.out")"
echo "crisis flagged in $((t1 - t0)) s with SMTP frozen; replies $((t3 - t2)) s after the thaw"
kill -TERM "$pid"
wait "$pid" || tb_fail "run exited $? on SIGTERM"
echo PASS
