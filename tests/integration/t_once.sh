#!/bin/bash
# End to end: one inquiry per category gets exactly one reply with the right
# template; a newsletter, an out-of-office and a bounce get none; keywords
# are set; messages stay unseen; a second pass sends nothing; queue --json
# lists everything. Real Dovecot, real SMTP server, the real binary.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
conf=$TB_DIR/triaged.conf
tb_conf "$conf"
samples=$TB_REPO/tests/data/samples

# First run on an empty mailbox: nothing to do, position recorded.
"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
[ "$(tb_smtp_count)" = 0 ] || tb_fail "a reply on an empty mailbox"

for f in "$samples"/*.eml; do
	tb_append "$TB_USER" INBOX "$f" >/dev/null
done
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once.log" ||
    tb_fail "once failed: $(cat "$TB_DIR/once.log")"
# Four inquiries are answered; newsletter, out-of-office and bounce are not.
tb_wait_smtp 4 5
sleep 0.3
[ "$(tb_smtp_count)" = 4 ] || tb_fail "expected 4 replies, got $(tb_smtp_count)"

# Each reply: null envelope sender, one recipient, NOTIFY=NEVER, the right
# template for the inquiry it answers.
"$TB_PYTHON" - "$TB_SMTP_DIR" <<'PY' || tb_fail "reply checks failed"
import email, email.policy, glob, json, sys
d = sys.argv[1]
want = {
    '<crisis-1@client.example>': ('maya.r@client.example', ['988', '741741', '911']),
    '<substance-2@client.example>': ('jen.k@client.example', ['al-anon.org', 'coda.org', '1-800-662-4357']),
    '<couples-3@client.example>': ('sam.t@client.example', ['couple']),
    '<individual-4@client.example>': ('lena.p@client.example', ['consultation']),
}
seen = set()
for env in sorted(glob.glob(d + '/*.json')):
    e = json.load(open(env))
    m = email.message_from_binary_file(open(env[:-5] + '.eml', 'rb'),
        policy=email.policy.default)
    irt = m['In-Reply-To']
    assert irt in want, 'unexpected reply to %r' % irt
    assert irt not in seen, 'two replies to %s' % irt
    seen.add(irt)
    rcpt, needles = want[irt]
    assert e['mail_from'] == '<>', e['mail_from']
    assert len(e['rcpt']) == 1, e['rcpt']
    assert e['rcpt'][0]['addr'].lower() == '<%s>' % rcpt, e['rcpt']
    assert 'NOTIFY=NEVER' in e['rcpt'][0]['params'], e['rcpt']
    assert m['To'].addresses[0].addr_spec == rcpt, m['To']
    assert m['Auto-Submitted'] == 'auto-replied'
    assert irt in m['References']
    body = m.get_body(('plain',)).get_content().lower()
    for n in needles:
        assert n in body, '%s: %r not in the reply' % (irt, n)
    # A reply never quotes the inbound text.
    for phrase in ("better off without me", "covering for", "fighting constantly", "trouble sleeping"):
        assert phrase not in body, 'reply quotes the inquiry: %r' % phrase
assert seen == set(want), 'missing replies: %s' % (set(want) - seen)
print('replies ok')
PY

# Keywords on every message, and none is \Seen.
tb_flags "$TB_USER" INBOX >"$TB_DIR/flags"
cat "$TB_DIR/flags"
grep -q '\\Seen' "$TB_DIR/flags" && tb_fail "triaged set \\Seen"
[ "$(grep -c '\$Triage_' "$TB_DIR/flags")" = 7 ] ||
    tb_fail "not every message has a \$Triage_ keyword"
grep -q '^1 .*\$Triage_crisis' "$TB_DIR/flags" || tb_fail "crisis keyword"
# The crisis inquiry, and only it, is flagged for the therapist.
grep -q '^1 .*\\Flagged' "$TB_DIR/flags" || tb_fail "crisis not flagged"
[ "$(grep -c '\\Flagged' "$TB_DIR/flags")" = 1 ] || tb_fail "too many flagged"

# queue --json lists all seven, crisis first, with the right statuses.
"$TRIAGED" -c "$conf" queue --json >"$TB_DIR/queue.json" || tb_fail "queue"
"$TB_PYTHON" - "$TB_DIR/queue.json" <<'PY' || tb_fail "queue checks failed"
import json, sys
q = json.load(open(sys.argv[1]))
assert len(q) == 7, len(q)
for row in q:
    assert set(row) >= {'id', 'received', 'from', 'subject', 'category', 'tags', 'status'}, row
assert q[0]['category'] == 'crisis', q[0]
by = {r['from']: r for r in q}
assert by['maya.r@client.example']['status'] == 'replied'
assert by['jen.k@client.example']['category'] == 'substance'
assert 'alcohol' in by['jen.k@client.example']['tags']
assert by['sam.t@client.example']['category'] == 'couples'
assert by['lena.p@client.example']['category'] == 'individual'
assert by['news@vendor.example']['status'] == 'suppressed'
assert by['dana@partner.example']['status'] == 'suppressed'
assert by['dana@partner.example']['suppressed'] == 'auto-submitted'
assert by['MAILER-DAEMON@mx.client.example']['status'] == 'suppressed'
for r in q:
    assert r['status'] in ('pending', 'replied', 'suppressed', 'failed', 'handled')
print('queue ok')
PY
"$TRIAGED" -c "$conf" queue | tee "$TB_DIR/queue.txt"
grep -q crisis "$TB_DIR/queue.txt" || tb_fail "queue table"
# The table: tags, why a reply was suppressed, how long ago; plain when
# piped.
grep -q '^ID .*TAGS .*STATUS' "$TB_DIR/queue.txt" || tb_fail "queue header"
grep -q 'alcohol' "$TB_DIR/queue.txt" || tb_fail "queue table lacks tags"
grep -q '(auto-submitted)' "$TB_DIR/queue.txt" || tb_fail "queue table: why"
grep -Eq 'just now|min ago' "$TB_DIR/queue.txt" || tb_fail "queue: received"
! grep -q "$(printf '\033')" "$TB_DIR/queue.txt" || tb_fail "colour in a pipe"

# Filters: an unknown value is a usage error naming the valid ones.
rc=0
"$TRIAGED" -c "$conf" queue --status bogus 2>"$TB_DIR/q.err" || rc=$?
[ "$rc" = 64 ] || tb_fail "queue --status bogus: exit $rc"
grep -q 'pending, replied, suppressed, failed, handled' "$TB_DIR/q.err" ||
    tb_fail "queue --status bogus: $(cat "$TB_DIR/q.err")"
rc=0
"$TRIAGED" -c "$conf" queue --category nope 2>"$TB_DIR/q.err" || rc=$?
[ "$rc" = 64 ] || tb_fail "queue --category nope: exit $rc"
grep -q 'crisis, .*couples' "$TB_DIR/q.err" ||
    tb_fail "queue --category nope: $(cat "$TB_DIR/q.err")"
rc=0
"$TRIAGED" -c "$conf" queue --since soon 2>/dev/null || rc=$?
[ "$rc" = 64 ] || tb_fail "queue --since soon: exit $rc"
[ "$("$TRIAGED" -c "$conf" queue --json --category substance --since 1d |
    grep -o '"id"' | wc -l)" = 1 ] || tb_fail "queue --category --since"
[ "$("$TRIAGED" -c "$conf" queue --json --since 2000-01-01 |
    grep -o '"id"' | wc -l)" = 7 ] || tb_fail "queue --since a date"
"$TRIAGED" -c "$conf" queue --since 2999-01-01 | grep -q 'Nothing in the queue matches' ||
    tb_fail "queue --since the future"

# queue show: one item in full, with the rules that decided it.
crisis_id=$("$TB_PYTHON" -c 'import json,sys; print([r["id"] for r in json.load(open(sys.argv[1])) if r["category"] == "crisis"][0])' "$TB_DIR/queue.json")
"$TRIAGED" -c "$conf" queue show "$crisis_id" >"$TB_DIR/show.txt" ||
    tb_fail "queue show failed"
cat "$TB_DIR/show.txt"
grep -q '^Category:  crisis' "$TB_DIR/show.txt" || tb_fail "show: category"
grep -Eq '^Rules: .*(crisis|sign|danger)-' "$TB_DIR/show.txt" ||
    tb_fail "show: the rules"
grep -q '^Reply:     template crisis, sent' "$TB_DIR/show.txt" ||
    tb_fail "show: the reply"
dana_id=$("$TB_PYTHON" -c 'import json,sys; print([r["id"] for r in json.load(open(sys.argv[1])) if r["from"] == "dana@partner.example"][0])' "$TB_DIR/queue.json")
"$TRIAGED" -c "$conf" queue show "$dana_id" | grep -q '^Why:       auto-submitted' ||
    tb_fail "show: why no reply"
rc=0
"$TRIAGED" -c "$conf" queue show 999 2>/dev/null || rc=$?
[ "$rc" = 65 ] || tb_fail "queue show 999: exit $rc"
rc=0
"$TRIAGED" -c "$conf" queue show x 2>/dev/null || rc=$?
[ "$rc" = 64 ] || tb_fail "queue show x: exit $rc"

# A second pass sends nothing.
"$TRIAGED" -c "$conf" once || tb_fail "second once failed"
sleep 0.5
[ "$(tb_smtp_count)" = 4 ] || tb_fail "the second pass sent mail"

# The replies reached the clients' mailboxes over LMTP, and copies are in Sent.
tb_fetch_all maya.r@client.example INBOX "$TB_DIR/maya"
ls "$TB_DIR/maya"/*.eml >/dev/null 2>&1 || tb_fail "reply not delivered"
tb_fetch_all "$TB_USER" Sent "$TB_DIR/sent"
[ "$(ls "$TB_DIR/sent" | wc -l)" = 4 ] || tb_fail "expected 4 copies in Sent"
# The copies are marked read: they are the practice's own mail.
[ "$(tb_flags "$TB_USER" Sent | grep -c '\\Seen')" = 4 ] ||
    tb_fail "Sent copies are not \\Seen"
echo PASS
