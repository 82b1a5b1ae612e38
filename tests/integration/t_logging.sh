#!/bin/bash
# Where the log goes: standard error, plain ("triaged: LEVEL: ..."); under
# systemd (JOURNAL_STREAM set) each line starts with its syslog priority
# ("<3>" error, "<4>" warning) so journald keeps the level; with -s,
# syslog and nothing on standard error. Driven by a pass that cannot
# reach its IMAP server (a loopback port nobody listens on).
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tmp=$(mktemp -d "${TMPDIR:-/tmp}/triaged-log.XXXXXX") || exit 1
tb_atexit "rm -rf '$tmp'"
tb_offline_conf "$tmp"
port=$("$TB_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/^tls = none/tls = none\nport = $port/" "$tmp/triaged.conf"

"$TRIAGED" -c "$tmp/triaged.conf" once 2>"$tmp/plain.log" &&
    tb_fail "once succeeded without a server"
grep -q '^triaged: [a-z]*: ' "$tmp/plain.log" ||
    tb_fail "plain log: $(cat "$tmp/plain.log")"
! grep -q '^<' "$tmp/plain.log" || tb_fail "a priority prefix outside systemd"

JOURNAL_STREAM=9:99 "$TRIAGED" -c "$tmp/triaged.conf" once 2>"$tmp/j.log" &&
    tb_fail "once succeeded without a server"
[ -s "$tmp/j.log" ] || tb_fail "nothing logged under JOURNAL_STREAM"
! grep -qv '^<[0-7]>triaged: ' "$tmp/j.log" ||
    tb_fail "a journal line without its priority: $(cat "$tmp/j.log")"
grep -q '^<4>triaged: warning: \|^<3>triaged: error: ' "$tmp/j.log" ||
    tb_fail "priority and level disagree: $(cat "$tmp/j.log")"

"$TRIAGED" -s -c "$tmp/triaged.conf" once 2>"$tmp/s.log" &&
    tb_fail "once succeeded without a server"
[ ! -s "$tmp/s.log" ] || tb_fail "-s still wrote to stderr: $(cat "$tmp/s.log")"
echo PASS
