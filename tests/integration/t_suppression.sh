#!/bin/bash
# The suppression corpus (tests/data/suppress): every RFC 3834 / RFC 5230
# rule, known correspondents (file and Sent folder), relays and near misses
# that must be answered, run through the real daemon against the test bed.
# Each NAME.eml has NAME.expect: "reply: yes|no", "reason: R" (the queue's
# suppressed reason) and for replies "to: ADDRESS". Exactly the expected
# replies go out, one each, to the right address; a second pass sends
# nothing.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
corpus=$TB_REPO/tests/data/suppress
conf=$TB_DIR/triaged.conf
tb_conf "$conf" \
    "triage.addresses=hello@practice.example, info@practice.example" \
    "triage.known_senders=$corpus/known_senders" \
    "triage.skip_known=sent" \
    "triage.relays=noreply@*.psychologytoday.com, @forms.example" \
    "triage.max_replies_per_hour=100"

# First run on an empty mailbox: nothing to answer, position recorded.
"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
[ "$(tb_smtp_count)" = 0 ] || tb_fail "a reply on an empty mailbox"

# The practice wrote to former.client@ before (and to an address that only
# contains joann.existing@ as a substring, which must not count).
for f in "$corpus"/sent/*.eml; do
	tb_append "$TB_USER" Sent "$f" >/dev/null
done
ncases=0
for f in "$corpus"/*.eml; do
	tb_append "$TB_USER" INBOX "$f" >/dev/null
	ncases=$((ncases + 1))
done
[ "$ncases" -ge 40 ] || tb_fail "only $ncases cases in the corpus"
want=$(grep -l '^reply: yes' "$corpus"/*.expect | wc -l)

"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once.log" ||
    tb_fail "once failed: $(cat "$TB_DIR/once.log")"
tb_wait_smtp "$want" 10 || tb_fail "expected $want replies"
sleep 0.5
[ "$(tb_smtp_count)" = "$want" ] ||
    tb_fail "expected $want replies, got $(tb_smtp_count)"
"$TRIAGED" -c "$conf" queue --json >"$TB_DIR/queue.json" ||
    tb_fail "queue failed"

"$TB_PYTHON" - "$corpus" "$TB_SMTP_DIR" "$TB_DIR/queue.json" <<'PY' ||
import email, email.policy, glob, json, os, sys
corpus, smtp, queue = sys.argv[1:]
cases = {}
for path in sorted(glob.glob(corpus + '/*.eml')):
    name = os.path.basename(path)[:-4]
    exp = dict(line.split(': ', 1) for line in
               open(path[:-4] + '.expect').read().splitlines() if line)
    m = email.message_from_binary_file(open(path, 'rb'),
                                       policy=email.policy.compat32)
    cases[m['Message-ID'].strip()] = (name, exp, m)
bad = []
# Every reply answers a "yes" case, once, at the expected address.
got = {}
for env in sorted(glob.glob(smtp + '/*.json')):
    e = json.load(open(env))
    r = email.message_from_binary_file(open(env[:-5] + '.eml', 'rb'),
                                       policy=email.policy.default)
    irt = r['In-Reply-To']
    if irt not in cases:
        bad.append('reply to an unknown message %r' % irt)
        continue
    name, exp, _ = cases[irt]
    if name in got:
        bad.append('%s: two replies' % name)
    got[name] = True
    if exp['reply'] != 'yes':
        bad.append('%s: answered, expected no reply (%s)' %
                   (name, exp.get('reason')))
        continue
    rcpts = [x['addr'].lower() for x in e['rcpt']]
    if rcpts != ['<%s>' % exp['to'].lower()]:
        bad.append('%s: RCPT %s, expected %s' % (name, rcpts, exp['to']))
    if r['To'].addresses[0].addr_spec.lower() != exp['to'].lower():
        bad.append('%s: To: %s, expected %s' % (name, r['To'], exp['to']))
    if e['mail_from'] != '<>':
        bad.append('%s: MAIL FROM %s' % (name, e['mail_from']))
for name, exp, _ in cases.values():
    if exp['reply'] == 'yes' and name not in got:
        bad.append('%s: no reply' % name)
# queue --json: every case, with the expected status and reason.
q = json.load(open(queue))
if len(q) != len(cases):
    bad.append('queue has %d rows, expected %d' % (len(q), len(cases)))
# Rows carry no Message-ID: match them by order of arrival (row ids).
order = sorted(cases.values(), key=lambda c: c[0])
qs = sorted(q, key=lambda row: row['id'])
if len(qs) == len(order):
    for (name, exp, m), row in zip(order, qs):
        if exp['reply'] == 'yes':
            if row['status'] != 'replied' or row.get('suppressed'):
                bad.append('%s: queue says %s/%s, expected replied' %
                           (name, row['status'], row.get('suppressed')))
        else:
            if row['status'] not in ('suppressed', 'handled'):
                bad.append('%s: queue status %s' % (name, row['status']))
            if row.get('suppressed') != exp['reason']:
                bad.append('%s: queue reason %r, expected %r' %
                           (name, row.get('suppressed'), exp['reason']))
for b in bad:
    print('FAIL:', b)
print('%d cases, %d replies' % (len(cases), len(got)))
sys.exit(1 if bad else 0)
PY
    tb_fail "corpus checks failed"

# Known senders are triaged as usual (a category keyword), only unanswered.
tb_flags "$TB_USER" INBOX >"$TB_DIR/flags"
[ "$(grep -c '\$Triage_' "$TB_DIR/flags")" = "$ncases" ] ||
    tb_fail "not every message was filed"

# A second pass over the same mailbox sends nothing.
"$TRIAGED" -c "$conf" once || tb_fail "second once failed"
sleep 0.5
[ "$(tb_smtp_count)" = "$want" ] || tb_fail "the second pass sent mail"

# classify (no IMAP) reports the same for what it can tell alone.
"$TRIAGED" -c "$conf" classify --json "$corpus"/*-relay-directory.eml \
    >"$TB_DIR/c.json" || tb_fail "classify failed"
grep -q '"to":"rita.relay@client.example"' "$TB_DIR/c.json" ||
    tb_fail "classify: relay reply address: $(cat "$TB_DIR/c.json")"
"$TRIAGED" -c "$conf" classify --json "$corpus"/*-known-domain.eml \
    >"$TB_DIR/c.json" || tb_fail "classify failed"
grep -q '"suppressed":"known-sender"' "$TB_DIR/c.json" ||
    tb_fail "classify: known sender: $(cat "$TB_DIR/c.json")"
echo PASS
