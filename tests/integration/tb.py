#!/usr/bin/env python3
"""Helpers for lib.sh (standard library only).

    tb.py ports N                       print N free 127.0.0.1 TCP ports (not ephemeral)
    tb.py append USER MBOX FILE [EPOCH] [FLAGS]
    tb.py flags USER MBOX               "uid flag..." per message
    tb.py dates USER MBOX               "uid internaldate-epoch size" per message
    tb.py fetch-all USER MBOX DIR       DIR/UID.eml per message (BODY.PEEK)
    tb.py list USER                     one mailbox per line, with its flags
    tb.py append-inquiries USER MAILBOX TEMPLATE PREFIX COUNT
    tb.py conf FILE [section.key=value | -section.key]...
    tb.py json FILE KEY[.KEY|.N]...     print one field of a JSON file

IMAP helpers connect over IMAPS to $TB_IMAPS_PORT, verify the test bed's
certificate ($TB_CA) and log in to USER's mailbox with SASL PLAIN as the
bed's master user ($TB_MASTER/$TB_MASTER_PASS), so any user works,
including recipients that only received mail over LMTP.
"""

import base64
import imaplib
import json
import os
import random
import re
import socket
import ssl
import sys
import time


def die(msg):
    sys.stderr.write('tb.py: %s\n' % msg)
    sys.exit(1)


def connect(user):
    ctx = ssl.create_default_context(cafile=os.environ['TB_CA'])
    c = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['TB_IMAPS_PORT']),
                          ssl_context=ctx, timeout=30)
    token = '%s\0%s\0%s' % (user, os.environ['TB_MASTER'],
                            os.environ['TB_MASTER_PASS'])
    c.authenticate('PLAIN', lambda _: token.encode())
    return c


def mutf7(name):
    """UTF-8 mailbox name -> IMAP modified UTF-7 (RFC 3501 5.1.3)."""
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode(''.join(run).encode('utf-16-be'))
            out.append('&' + b.decode().rstrip('=').replace('/', ',') + '-')
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) < 0x7f:
            flush()
            out.append('&-' if ch == '&' else ch)
        else:
            run.append(ch)
    flush()
    return ''.join(out)


def quote(mbox):
    mbox = mutf7(mbox)
    return '"' + mbox.replace('\\', '\\\\').replace('"', '\\"') + '"'


def check(typ, data, what):
    if typ != 'OK':
        die('%s: %s %r' % (what, typ, data))
    return data


def select(c, mbox):
    check(*c.select(quote(mbox), readonly=True), what='SELECT ' + mbox)


def fetch_items(c, spec):
    """UID FETCH 1:* spec -> list of (meta-bytes, literal-bytes-or-None)."""
    typ, data = c.uid('FETCH', '1:*', spec)
    check(typ, data, 'UID FETCH')
    out = []
    for item in data:
        if item is None or item == b')':
            continue
        if isinstance(item, tuple):
            out.append((item[0], item[1]))
        else:
            out.append((item, None))
    return out


def uid_of(meta):
    m = re.search(rb'UID (\d+)', meta)
    return int(m.group(1)) if m else None


def ephemeral_range():
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def cmd_ports(n):
    # Ports the bed restarts a server on must lie outside the kernel's
    # ephemeral range: any client socket on the machine (or the daemon's own
    # connect during an outage, which on loopback can connect to itself) may
    # take an ephemeral port in between and make the restart fail.
    lo, hi = ephemeral_range()
    pool = [p for p in range(10000, 65536) if not lo <= p <= hi]
    rng = random.SystemRandom()
    socks = []
    while len(socks) < int(n):
        s = socket.socket()
        try:
            s.bind(('127.0.0.1', rng.choice(pool)))
        except OSError:
            s.close()
            continue
        socks.append(s)
    print(' '.join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()


def cmd_append(user, mbox, path, epoch=None, flags=''):
    with open(path, 'rb') as f:
        data = f.read()
    data = re.sub(rb'\r?\n', b'\r\n', data)
    date = imaplib.Time2Internaldate(float(epoch)) if epoch else None
    fl = '(%s)' % flags if flags else None
    c = connect(user)
    typ, resp = c.append(quote(mbox), fl, date, data)
    if typ != 'OK' and b'TRYCREATE' in b' '.join(resp):
        check(*c.create(quote(mbox)), what='CREATE')
        typ, resp = c.append(quote(mbox), fl, date, data)
    check(typ, resp, 'APPEND')
    m = re.search(rb'APPENDUID \d+ (\d+)', resp[0] or b'')
    if m:
        print(m.group(1).decode())
    c.logout()


def cmd_append_inquiries(user, mbox, template, prefix, count):
    """APPEND count copies of template, each from <prefix>N@client.example
    with its own Message-ID (one session: fast for large backlogs)."""
    with open(template, 'rb') as f:
        base = re.sub(rb'\r?\n', b'\r\n', f.read())
    sender = re.search(rb'^Return-Path: <([^>]+)>', base, re.M).group(1)
    c = connect(user)
    created = False
    for i in range(1, int(count) + 1):
        who = ('%s%d@client.example' % (prefix, i)).encode()
        data = base.replace(sender, who)
        data = re.sub(rb'^Message-ID: <[^>]*>',
                      b'Message-ID: <' + who + b'.m@client.example>', data,
                      count=1, flags=re.M | re.I)
        typ, resp = c.append(quote(mbox), None, None, data)
        if typ != 'OK' and not created and b'TRYCREATE' in b' '.join(resp):
            check(*c.create(quote(mbox)), what='CREATE')
            created = True
            typ, resp = c.append(quote(mbox), None, None, data)
        check(typ, resp, 'APPEND')
    c.logout()


def cmd_flags(user, mbox):
    c = connect(user)
    select(c, mbox)
    rows = []
    for meta, _ in fetch_items(c, '(UID FLAGS)'):
        m = re.search(rb'FLAGS \(([^)]*)\)', meta)
        uid = uid_of(meta)
        if uid is not None and m:
            rows.append((uid, m.group(1).decode()))
    for uid, fl in sorted(rows):
        print(('%d %s' % (uid, fl)).rstrip())
    c.logout()


def cmd_unkeyword(user, mbox):
    """Remove every $Triage_ keyword in mbox (a mailbox never triaged)."""
    c = connect(user)
    check(*c.select(quote(mbox)), what='SELECT ' + mbox)
    for meta, _ in fetch_items(c, '(UID FLAGS)'):
        uid = uid_of(meta)
        m = re.search(rb'FLAGS \(([^)]*)\)', meta)
        if uid is None or not m:
            continue
        kws = [f for f in m.group(1).decode().split()
               if f.lower().startswith('$triage_')]
        if kws:
            check(*c.uid('STORE', str(uid), '-FLAGS.SILENT',
                         '(%s)' % ' '.join(kws)), what='UID STORE')
    c.logout()


def cmd_store(user, mbox, uid, flags, op='+FLAGS'):
    """Add (or with op -FLAGS remove) flags, as another mail client would."""
    c = connect(user)
    check(*c.select(quote(mbox)), what='SELECT ' + mbox)
    check(*c.uid('STORE', uid, op, '(%s)' % flags), what='UID STORE')
    c.logout()


def cmd_expunge(user, mbox, uid):
    """Delete one message (\\Deleted and EXPUNGE), as a mail client would."""
    c = connect(user)
    check(*c.select(quote(mbox)), what='SELECT ' + mbox)
    check(*c.uid('STORE', uid, '+FLAGS.SILENT', r'(\Deleted)'),
          what='UID STORE')
    check(*c.expunge(), what='EXPUNGE')
    c.logout()


def cmd_move(user, mbox, uid, dest):
    """UID MOVE one message, as a mail client's drag does."""
    c = connect(user)
    check(*c.select(quote(mbox)), what='SELECT ' + mbox)
    check(*c.uid('MOVE', uid, quote(dest)), what='UID MOVE')
    c.logout()


def cmd_dates(user, mbox):
    c = connect(user)
    select(c, mbox)
    rows = []
    for meta, _ in fetch_items(c, '(UID INTERNALDATE RFC822.SIZE)'):
        uid = uid_of(meta)
        t = imaplib.Internaldate2tuple(meta)
        sz = re.search(rb'RFC822\.SIZE (\d+)', meta)
        if uid is not None and t is not None:
            rows.append((uid, int(time.mktime(t)), int(sz.group(1))))
    for row in sorted(rows):
        print('%d %d %d' % row)
    c.logout()


def cmd_fetch_all(user, mbox, outdir):
    os.makedirs(outdir, exist_ok=True)
    c = connect(user)
    select(c, mbox)
    n = 0
    for meta, lit in fetch_items(c, '(UID BODY.PEEK[])'):
        uid = uid_of(meta)
        if uid is None or lit is None:
            continue
        with open(os.path.join(outdir, '%d.eml' % uid), 'wb') as f:
            f.write(lit)
        n += 1
    c.logout()
    print(n)


def listed(data):
    """(name, attributes) from LIST or LSUB response lines."""
    for line in data:
        m = re.match(rb'\(([^)]*)\) (?:"[^"]*"|NIL) (.*)$', line)
        if m:
            name = m.group(2).decode()
            if name.startswith('"'):
                name = name[1:-1].replace('\\"', '"').replace('\\\\', '\\')
            yield name, m.group(1).decode()


def cmd_list(user):
    c = connect(user)
    typ, data = c.list()
    check(typ, data, 'LIST')
    for name, attrs in listed(data):
        print(('%s %s' % (name, attrs)).rstrip())
    c.logout()


def cmd_lsub(user):
    """The subscribed folders, one per line."""
    c = connect(user)
    typ, data = c.lsub()
    check(typ, data, 'LSUB')
    for name, _ in listed(data):
        print(name)
    c.logout()


def cmd_conf(path, *overrides):
    """Write the test bed's triaged.conf with overrides applied."""
    env = os.environ
    repo = env['TB_REPO']
    sections = {
        'imap': {
            'host': '127.0.0.1',
            'port': env['TB_IMAPS_PORT'],
            'tls': 'implicit',
            'ca_file': env['TB_CA'],
            'user': env['TB_USER'],
            'password_file': env['TB_DIR'] + '/imap.secret',
            'mailbox': 'INBOX',
        },
        'smtp': {
            'url': 'smtp://127.0.0.1:%s' % env['TB_SMTP_PORT'],
            'from': 'Practice Name <%s>' % env['TB_USER'],
        },
        'practice': {
            'name': 'Practice Name',
            'phone': '+1 555 0100',
            'booking_url': 'https://practice.example/book',
        },
        'triage': {
            'rules': repo + '/rules',
            'templates': repo + '/templates',
            'state': env['TB_DIR'] + '/state.db',
        },
    }
    for o in overrides:
        if o.startswith('-'):
            sec, _, key = o[1:].partition('.')
            if not key:
                die('bad override %r (want -section.key)' % o)
            sections.get(sec, {}).pop(key, None)
            continue
        m = re.match(r'([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)=(.*)$', o, re.S)
        if not m:
            die('bad override %r (want section.key=value)' % o)
        sections.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
    out = []
    for sec, kv in sections.items():
        out.append('[%s]' % sec)
        out += ['%s = %s' % (k, v) for k, v in kv.items()]
        out.append('')
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out))
    os.rename(tmp, path)


def cmd_json(path, key):
    with open(path, encoding='utf-8') as f:
        v = json.load(f)
    for k in key.split('.'):
        v = v[int(k)] if isinstance(v, list) else v[k]
    if isinstance(v, (dict, list)):
        print(json.dumps(v))
    elif v is None:
        print('null')
    elif isinstance(v, bool):
        print('true' if v else 'false')
    else:
        print(v)


COMMANDS = {
    'ports': cmd_ports,
    'append': cmd_append,
    'append-inquiries': cmd_append_inquiries,
    'flags': cmd_flags,
    'unkeyword': cmd_unkeyword,
    'store': cmd_store,
    'expunge': cmd_expunge,
    'move': cmd_move,
    'dates': cmd_dates,
    'fetch-all': cmd_fetch_all,
    'list': cmd_list,
    'lsub': cmd_lsub,
    'conf': cmd_conf,
    'json': cmd_json,
}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        die('usage: tb.py %s ...' % '|'.join(COMMANDS))
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except TypeError as e:
        die('%s: %s' % (sys.argv[1], e))
    except (imaplib.IMAP4.error, OSError, KeyError) as e:
        die('%s: %s' % (sys.argv[1], e))


if __name__ == '__main__':
    main()
