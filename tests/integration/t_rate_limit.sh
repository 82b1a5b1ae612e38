#!/bin/bash
# The hourly cap on replies protects against floods of forged senders:
# past max_replies_per_hour, replies are deferred (still pending, answered
# when the hour allows), never dropped.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
conf=$TB_DIR/triaged.conf
tb_conf "$conf" triage.max_replies_per_hour=2
"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
for who in ann bea cat dee; do
	sed -e "s/sam\.t@client\.example/$who@client.example/g" \
	    -e "s/couples-3@/$who@/" \
	    "$TB_REPO/tests/data/samples/03-couples.eml" >"$TB_DIR/$who.eml"
	tb_append "$TB_USER" INBOX "$TB_DIR/$who.eml" >/dev/null
done
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
sleep 0.5
[ "$(tb_smtp_count)" = 2 ] || tb_fail "cap 2, sent $(tb_smtp_count)"
n=$("$TRIAGED" -c "$conf" queue --json | grep -o '"pending"' | wc -l)
[ "$n" = 2 ] || tb_fail "expected 2 deferred (pending) replies, got $n"
"$TRIAGED" -c "$conf" queue --json | grep -q '"status":"suppressed"' &&
    tb_fail "a reply over the cap was suppressed"
# Another pass inside the hour sends nothing more.
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
sleep 0.3
[ "$(tb_smtp_count)" = 2 ] || tb_fail "cap 2, sent $(tb_smtp_count)"
echo PASS
