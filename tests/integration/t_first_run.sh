#!/bin/bash
# First run: mail already in the mailbox is triaged and filed but not
# answered (unless first_run = reply); mail older than reply_max_age is
# never answered.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
samples=$TB_REPO/tests/data/samples
old=$(($(date +%s) - 5 * 86400))

tb_append "$TB_USER" INBOX "$samples/03-couples.eml" >/dev/null
tb_conf "$TB_DIR/a.conf"
"$TRIAGED" -c "$TB_DIR/a.conf" once || tb_fail "once failed"
sleep 0.3
[ "$(tb_smtp_count)" = 0 ] || tb_fail "first run answered existing mail"
tb_flags "$TB_USER" INBOX | grep -q '\$Triage_couples' ||
    tb_fail "first run did not file the keyword"
"$TRIAGED" -c "$TB_DIR/a.conf" queue --json | grep -q '"handled"' ||
    tb_fail "first-run mail is not handled in the queue"

# A message 5 days old arriving later is triaged, not answered.
tb_append "$TB_USER" INBOX "$samples/04-individual.eml" "$old" >/dev/null
"$TRIAGED" -c "$TB_DIR/a.conf" once || tb_fail "once failed"
sleep 0.3
[ "$(tb_smtp_count)" = 0 ] || tb_fail "old mail was answered"
"$TRIAGED" -c "$TB_DIR/a.conf" queue --json | grep -q '"too-old"' ||
    tb_fail "old mail not marked too-old"

# first_run = reply answers what is there (but still not old mail).
tb_conf "$TB_DIR/b.conf" triage.first_run=reply \
    "triage.state=$TB_DIR/b.db"
"$TRIAGED" -c "$TB_DIR/b.conf" once || tb_fail "once failed"
tb_wait_smtp 1 5
sleep 0.3
[ "$(tb_smtp_count)" = 1 ] || tb_fail "first_run=reply: $(tb_smtp_count) replies"
echo PASS
