#!/bin/bash
# Headers of captured replies (tests/data/replyhdr): every header RFC 3834
# and the practice need, From: with the address the client wrote to,
# X-Loop, CRLF only, no line over 998 octets, and no header or recipient
# injected through a hostile Subject, display name or Reply-To (encoded
# CR/LF, LIBRARIES.md #8): the envelope has exactly one RCPT.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
data=$TB_REPO/tests/data/replyhdr
conf=$TB_DIR/triaged.conf
tb_conf "$conf" \
    "triage.addresses=hello@practice.example, info@practice.example" \
    "triage.relays=noreply@*.psychologytoday.com"
"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
n=0
for f in "$data"/*.eml; do
	tb_append "$TB_USER" INBOX "$f" >/dev/null
	n=$((n + 1))
done
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once.log" ||
    tb_fail "once failed: $(cat "$TB_DIR/once.log")"
tb_wait_smtp "$n" 10 || tb_fail "expected $n replies"
sleep 0.3
[ "$(tb_smtp_count)" = "$n" ] || tb_fail "expected $n replies"

"$TB_PYTHON" - "$TB_SMTP_DIR" <<'PY' || tb_fail "header checks failed"
import email, email.policy, email.utils, glob, json, re, sys
smtp = sys.argv[1]
# Message-ID -> (reply address, the practice address the client wrote to)
want = {
    '<hostile-subject@client.example>': ('hana@client.example',
                                         'info@practice.example'),
    '<hostile-name@client.example>': ('eve@client.example',
                                      'hello@practice.example'),
    '<long-subject@client.example>': ('lukas@client.example',
                                      'hello@practice.example'),
    '<relay-hdr@mail.psychologytoday.com>': ('ren@client.example',
                                             'hello@practice.example'),
}
allowed = {'date', 'from', 'to', 'subject', 'message-id', 'in-reply-to',
           'references', 'auto-submitted', 'precedence',
           'x-auto-response-suppress', 'x-loop', 'mime-version',
           'content-type', 'content-transfer-encoding'}
required = allowed - {'content-transfer-encoding'}
bad = []
seen = set()
for env in sorted(glob.glob(smtp + '/*.json')):
    e = json.load(open(env))
    raw = open(env[:-5] + '.eml', 'rb').read()
    tag = env
    # CRLF only, no line longer than 998 octets.
    if re.search(rb'(?<!\r)\n', raw) or re.search(rb'\r(?!\n)', raw):
        bad.append('%s: bare CR or LF' % tag)
    for line in raw.split(b'\r\n'):
        if len(line) > 998:
            bad.append('%s: line of %d octets' % (tag, len(line)))
    head = raw.split(b'\r\n\r\n', 1)[0].decode('ascii')
    names = [l.split(':', 1)[0].lower() for l in head.split('\r\n')
             if l and l[0] not in ' \t']
    for h in names:
        if h not in allowed:
            bad.append('%s: unexpected header %r' % (tag, h))
        if names.count(h) != 1:
            bad.append('%s: %s appears %d times' % (tag, h, names.count(h)))
    for h in required:
        if h not in names:
            bad.append('%s: no %s' % (tag, h))
    m = email.message_from_bytes(raw, policy=email.policy.default)
    irt = m['In-Reply-To']
    if irt not in want:
        bad.append('%s: reply to %r' % (tag, irt))
        continue
    seen.add(irt)
    rcpt, ours = want[irt]
    tag = irt
    # The envelope: null sender, exactly one recipient.
    if e['mail_from'] != '<>':
        bad.append('%s: MAIL FROM %s' % (tag, e['mail_from']))
    if [r['addr'] for r in e['rcpt']] != ['<%s>' % rcpt]:
        bad.append('%s: RCPT %s' % (tag, e['rcpt']))
    to = m['To'].addresses
    if len(to) != 1 or to[0].addr_spec != rcpt:
        bad.append('%s: To: %s' % (tag, m['To']))
    fr = m['From'].addresses
    if len(fr) != 1 or fr[0].addr_spec != ours or \
            fr[0].display_name != 'Practice Name':
        bad.append('%s: From: %s, expected Practice Name <%s>' %
                   (tag, m['From'], ours))
    if m['X-Loop'] != ours:
        bad.append('%s: X-Loop: %s' % (tag, m['X-Loop']))
    if m['Auto-Submitted'] != 'auto-replied':
        bad.append('%s: Auto-Submitted: %s' % (tag, m['Auto-Submitted']))
    if m['Precedence'] != 'bulk':
        bad.append('%s: Precedence: %s' % (tag, m['Precedence']))
    if m['X-Auto-Response-Suppress'] != 'All':
        bad.append('%s: X-Auto-Response-Suppress' % tag)
    if m['MIME-Version'] != '1.0':
        bad.append('%s: MIME-Version' % tag)
    if m.get_content_type() != 'text/plain' or \
            m.get_content_charset() != 'utf-8':
        bad.append('%s: Content-Type: %s' % (tag, m['Content-Type']))
    if email.utils.parsedate_to_datetime(m['Date']) is None:
        bad.append('%s: Date: %s' % (tag, m['Date']))
    if not re.fullmatch(r'<[^<>@\s]+@practice\.example>', m['Message-ID']):
        bad.append('%s: Message-ID: %s' % (tag, m['Message-ID']))
    refs = m['References'].split()
    if refs[-1] != irt:
        bad.append('%s: References: %s' % (tag, m['References']))
    if irt == '<hostile-name@client.example>' and refs != [
            '<older-1@client.example>', '<older-2@client.example>', irt]:
        bad.append('%s: References: %s' % (tag, m['References']))
    # Decoded values hold no line breaks; nothing became a header.
    subj = str(m['Subject'])
    if '\r' in subj or '\n' in subj:
        bad.append('%s: line break in the decoded Subject' % tag)
    if not subj.startswith('Auto: '):
        bad.append('%s: Subject: %r' % (tag, subj))
    if m['Bcc'] is not None or m['Cc'] is not None or \
            m['X-Evil'] is not None:
        bad.append('%s: injected header' % tag)
    for line in head.split('\r\n'):
        if re.match(r'(?i)\s*(bcc|cc|x-evil)\s*:', line):
            bad.append('%s: injected header line %r' % (tag, line))
    if re.search(r'victim', head) and irt != '<hostile-subject@client.example>':
        bad.append('%s: hostile text in the header' % tag)
    if irt == '<long-subject@client.example>' and \
            'Grüße' not in subj:
        bad.append('%s: non-ASCII subject lost: %r' % (tag, subj))
    body = m.get_body(('plain',)).get_content()
    if 'anxiety' in body or 'new clients?' in body:
        bad.append('%s: the reply quotes the inquiry' % tag)
if seen != set(want):
    bad.append('missing replies: %s' % (set(want) - seen))
for b in bad:
    print('FAIL:', b)
sys.exit(1 if bad else 0)
PY
echo PASS
