#!/bin/bash
# A message triaged again (a new state, and the rules changed meanwhile)
# keeps one verdict in the mailbox: the new $Triage_ keyword replaces the
# old one instead of sitting beside it; nothing is answered twice.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
samples=$TB_REPO/tests/data/samples

tb_conf "$TB_DIR/a.conf" triage.first_run=reply
tb_append "$TB_USER" INBOX "$samples/04-individual.eml" >/dev/null
"$TRIAGED" -c "$TB_DIR/a.conf" once || tb_fail "first once failed"
tb_flags "$TB_USER" INBOX | tee "$TB_DIR/f1"
grep -q '^1 .*\$Triage_individual' "$TB_DIR/f1" || tb_fail "first keyword"

# The practice edits its rules; the state starts afresh.
cp -r "$TB_REPO/rules" "$TB_DIR/rules"
cat >>"$TB_DIR/rules/40-couples.rules" <<'RULES'

rule test-retriage
	match subject /anxiety since my baby/i
	category couples
RULES
tb_conf "$TB_DIR/b.conf" "triage.rules=$TB_DIR/rules" \
    "triage.state=$TB_DIR/b.db" triage.first_run=reply
"$TRIAGED" -c "$TB_DIR/b.conf" once || tb_fail "second once failed"
tb_flags "$TB_USER" INBOX | tee "$TB_DIR/f2"
grep -q '^1 .*\$Triage_couples' "$TB_DIR/f2" || tb_fail "new keyword"
! grep -q '\$Triage_individual' "$TB_DIR/f2" || tb_fail "old keyword stayed"
"$TRIAGED" -c "$TB_DIR/b.conf" queue --json | grep -q '"already-triaged"' ||
    tb_fail "answered again"
[ "$(tb_smtp_count)" = 1 ] || tb_fail "replies: $(tb_smtp_count)"
tb_exit
