#!/usr/bin/env python3
"""A small recording SMTP server for triaged's integration tests.

Standard library only.  It binds 127.0.0.1, accepts the null reverse-path
and any MAIL/RCPT parameters (NOTIFY=NEVER, RET=HDRS, SIZE=...), and
records each message as <dir>/<n>.eml followed by <dir>/<n>.json (the
envelope), both renamed into place so that a test can wait for the .json
as the sign that message n is complete.

Failure injection: each line of <dir>/fail is "<substring> <code> <text>";
a RCPT whose address contains substring gets that reply (a substring
"NOTIFY=" matches a RCPT that carries a NOTIFY parameter instead: a
server that offers DSN but refuses its syntax).  The file is read
on every RCPT, so a test may change it between runs.  A substring of
"DATA" (exactly) sets the reply to the final dot of DATA instead.

Hook: when <dir>/data-hook exists, it is run with /bin/sh (and waited for)
after a message is recorded and before its 250 is sent, so a test can act
between the server's acceptance and the client's bookkeeping.

With --lmtp SOCKET every recorded message is delivered on to Dovecot over
LMTP, one transaction per recipient, BEFORE the .json is written and the
client is answered: once a test has seen n.json it can read the message
back from the recipient's mailbox.
"""

import argparse
import base64
import binascii
import json
import os
import signal
import smtplib
import socketserver
import ssl
import subprocess
import sys
import threading

MAX_LINE = 4096


class Closed(Exception):
    """The client went away or broke the protocol beyond repair."""


def split_path_and_params(arg, prefix):
    """Split 'FROM:<a@b> X=Y' into ('<a@b>', ['X=Y']); None if malformed."""
    if arg[:len(prefix)].upper() != prefix:
        return None
    rest = arg[len(prefix):].lstrip(' ')
    if rest.startswith('<'):
        end = rest.find('>')
        if end < 0:
            return None
        path = rest[:end + 1]
        params = rest[end + 1:].split()
    else:
        parts = rest.split()
        if not parts:
            return None
        path, params = parts[0], parts[1:]
    return path, params


def bare(path):
    """'<a@b>' -> 'a@b', '<>' -> ''."""
    if path.startswith('<') and path.endswith('>'):
        return path[1:-1]
    return path


class Session(socketserver.BaseRequestHandler):
    """One SMTP session: a line reader over the (possibly TLS) socket."""

    def setup(self):
        self.sock = self.request
        self.inbuf = bytearray()
        self.tls = False
        self.auth_user = None
        self.helo = None
        self.reset()

    def reset(self):
        self.mail_from = None
        self.mail_params = []
        self.mail_raw = None
        self.rcpts = []

    def send(self, line):
        try:
            self.sock.sendall(line.encode('utf-8', 'replace') + b'\r\n')
        except OSError as e:
            raise Closed() from e

    def readline(self, limit=MAX_LINE):
        while True:
            i = self.inbuf.find(b'\n')
            if i >= 0:
                line = bytes(self.inbuf[:i + 1])
                del self.inbuf[:i + 1]
                if line.endswith(b'\r\n'):
                    return line[:-2]
                return line[:-1]
            if len(self.inbuf) > limit:
                raise Closed()
            try:
                data = self.sock.recv(65536)
            except (OSError, ssl.SSLError) as e:
                raise Closed() from e
            if not data:
                raise Closed()
            self.inbuf += data

    def handle(self):
        try:
            self.send('220 localhost ESMTP triaged-test-smtpd')
            while True:
                raw = self.readline()
                line = raw.decode('utf-8', 'replace')
                verb, _, arg = line.partition(' ')
                verb = verb.upper()
                fn = getattr(self, 'cmd_' + verb, None)
                if fn is None:
                    self.send('500 5.5.2 command not recognized')
                    continue
                if fn(arg) == 'quit':
                    break
        except Closed:
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def cmd_HELO(self, arg):
        self.helo = arg.strip()
        self.reset()
        self.send('250 localhost')

    def cmd_EHLO(self, arg):
        srv = self.server
        self.helo = arg.strip()
        self.reset()
        ext = ['PIPELINING', '8BITMIME', 'DSN', 'SIZE %d' % srv.max_size,
               'ENHANCEDSTATUSCODES']
        if srv.tls_ctx is not None and not self.tls:
            ext.append('STARTTLS')
        if srv.auth is not None:
            ext.append('AUTH PLAIN LOGIN XOAUTH2')
        lines = ['localhost'] + ext
        for i, text in enumerate(lines):
            sep = ' ' if i == len(lines) - 1 else '-'
            self.send('250' + sep + text)

    def cmd_STARTTLS(self, arg):
        srv = self.server
        if srv.tls_ctx is None or self.tls:
            self.send('502 5.5.1 STARTTLS not available')
            return
        if self.inbuf:
            # Pipelined data after STARTTLS (the CVE-2011-0411 pattern).
            self.send('501 5.5.4 data after STARTTLS')
            raise Closed()
        self.send('220 2.0.0 ready to start TLS')
        try:
            self.sock = srv.tls_ctx.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            raise Closed() from e
        self.tls = True
        self.helo = None
        self.auth_user = None
        self.reset()

    def cmd_AUTH(self, arg):
        srv = self.server
        if srv.auth is None:
            self.send('502 5.5.1 AUTH not available')
            return
        if self.auth_user is not None:
            self.send('503 5.5.1 already authenticated')
            return
        parts = arg.split()
        if not parts:
            self.send('501 5.5.4 mechanism required')
            return
        mech = parts[0].upper()
        try:
            if mech == 'PLAIN':
                if len(parts) > 1:
                    resp = parts[1]
                else:
                    self.send('334 ')
                    resp = self.readline().decode('ascii', 'replace')
                if resp == '*':
                    self.send('501 5.7.0 cancelled')
                    return
                dec = base64.b64decode(resp, validate=True).split(b'\0')
                if len(dec) != 3:
                    raise ValueError
                user, pw = dec[1].decode(), dec[2].decode()
            elif mech == 'LOGIN':
                if len(parts) > 1:
                    user = base64.b64decode(parts[1], validate=True).decode()
                else:
                    self.send('334 VXNlcm5hbWU6')
                    user = base64.b64decode(self.readline(),
                                            validate=True).decode()
                self.send('334 UGFzc3dvcmQ6')
                pw = base64.b64decode(self.readline(), validate=True).decode()
            elif mech == 'XOAUTH2':
                # "user=U^Aauth=Bearer TOKEN^A^A"; the token is the password.
                if len(parts) > 1:
                    resp = parts[1]
                else:
                    self.send('334 ')
                    resp = self.readline().decode('ascii', 'replace')
                dec = base64.b64decode(resp, validate=True).decode()
                fields = dict(f.split('=', 1) for f in dec.split('\x01')
                              if '=' in f)
                user = fields.get('user', '')
                bearer = fields.get('auth', '')
                if not bearer.startswith('Bearer '):
                    raise ValueError
                pw = bearer[len('Bearer '):]
                self.auth_mech = 'XOAUTH2'
            else:
                self.send('504 5.5.4 mechanism not supported')
                return
        except (ValueError, binascii.Error, UnicodeDecodeError):
            self.send('501 5.5.2 cannot decode response')
            return
        if (user, pw) == srv.auth:
            self.auth_user = user
            self.send('235 2.7.0 authentication succeeded')
        else:
            self.send('535 5.7.8 authentication credentials invalid')

    def cmd_MAIL(self, arg):
        srv = self.server
        if self.helo is None:
            self.send('503 5.5.1 EHLO first')
            return
        if self.mail_from is not None:
            self.send('503 5.5.1 nested MAIL')
            return
        if srv.require_auth and self.auth_user is None:
            self.send('530 5.7.0 authentication required')
            return
        sp = split_path_and_params(arg, 'FROM:')
        if sp is None:
            self.send('501 5.5.4 syntax: MAIL FROM:<address>')
            return
        for p in sp[1]:
            k, _, v = p.partition('=')
            if k.upper() == 'SIZE' and v.isdigit() and int(v) > srv.max_size:
                self.send('552 5.3.4 message too big')
                return
        self.mail_from, self.mail_params = sp
        self.mail_raw = arg
        self.send('250 2.1.0 ok')

    def cmd_RCPT(self, arg):
        if self.mail_from is None:
            self.send('503 5.5.1 MAIL first')
            return
        sp = split_path_and_params(arg, 'TO:')
        if sp is None:
            self.send('501 5.5.4 syntax: RCPT TO:<address>')
            return
        injected = self.server.injected(bare(sp[0]), params=sp[1])
        if injected is not None:
            self.send(injected)
            return
        self.rcpts.append({'addr': sp[0], 'params': sp[1], 'raw': arg})
        self.send('250 2.1.5 ok')

    def cmd_DATA(self, arg):
        srv = self.server
        if self.mail_from is None or not self.rcpts:
            self.send('503 5.5.1 RCPT first')
            return
        self.send('354 end data with <CR><LF>.<CR><LF>')
        data = bytearray()
        too_big = False
        while True:
            line = self.readline(limit=srv.max_size + MAX_LINE)
            if line == b'.':
                break
            if line.startswith(b'.'):
                line = line[1:]
            if len(data) + len(line) + 2 > srv.max_size:
                too_big = True
                continue
            data += line + b'\r\n'
        if too_big:
            self.send('552 5.3.4 message too big')
        else:
            injected = srv.injected('', data_phase=True)
            if injected is not None:
                self.send(injected)
            else:
                n = srv.record(self, bytes(data))
                srv.hook('data-hook')
                self.send('250 2.0.0 ok: queued as %d' % n)
        self.reset()

    def cmd_RSET(self, arg):
        self.reset()
        self.send('250 2.0.0 ok')

    def cmd_NOOP(self, arg):
        self.send('250 2.0.0 ok')

    def cmd_VRFY(self, arg):
        self.send('252 2.5.0 cannot verify')

    def cmd_QUIT(self, arg):
        self.send('221 2.0.0 bye')
        return 'quit'


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, opts):
        self.dir = opts.dir
        self.max_size = opts.max_size
        self.lmtp = opts.lmtp
        self.require_auth = opts.require_auth
        self.auth = None
        if opts.auth:
            user, _, pw = opts.auth.partition(':')
            self.auth = (user, pw)
        self.tls_ctx = None
        if opts.cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(opts.cert, opts.key or opts.cert)
            self.tls_ctx = ctx
        self.lock = threading.Lock()
        self.count = 0
        for name in os.listdir(self.dir):
            if name.endswith('.eml') and name[:-4].isdigit():
                self.count = max(self.count, int(name[:-4]))
        super().__init__(('127.0.0.1', opts.port), Session)

    def injected(self, addr, data_phase=False, params=()):
        """The reply the fail file asks for, or None."""
        try:
            with open(os.path.join(self.dir, 'fail'), encoding='utf-8') as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        for line in lines:
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[1].isdigit():
                continue
            sub, code = parts[0], parts[1]
            text = parts[2] if len(parts) > 2 else 'injected failure'
            if data_phase != (sub == 'DATA'):
                continue
            if sub.upper() == 'NOTIFY=':
                if any(p.upper().startswith('NOTIFY=') for p in params):
                    return '%s %s' % (code, text)
            elif data_phase or sub.lower() in addr.lower():
                return '%s %s' % (code, text)
        return None

    def write_atomic(self, name, data):
        tmp = os.path.join(self.dir, '.' + name + '.tmp')
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.dir, name))

    def deliver(self, mail_from, rcpts, data):
        """LMTP delivery, one transaction per recipient; {rcpt: reply}."""
        out = {}
        for r in rcpts:
            addr = bare(r['addr'])
            try:
                c = smtplib.LMTP(self.lmtp)
                try:
                    c.sendmail(bare(mail_from), [addr], data)
                    out[addr] = '250'
                finally:
                    try:
                        c.quit()
                    except smtplib.SMTPException:
                        pass
            except smtplib.SMTPRecipientsRefused as e:
                code, msg = e.recipients[addr]
                out[addr] = '%d %s' % (code, msg.decode('utf-8', 'replace'))
            except smtplib.SMTPResponseException as e:
                out[addr] = '%d %s' % (e.smtp_code,
                                       e.smtp_error.decode('utf-8', 'replace'))
            except (OSError, smtplib.SMTPException) as e:
                out[addr] = 'error: %s' % e
        return out

    def hook(self, name):
        """Run <dir>/<name> with /bin/sh when it exists; wait for it."""
        path = os.path.join(self.dir, name)
        if os.path.exists(path):
            subprocess.run(['/bin/sh', path], check=False)

    def record(self, sess, data):
        with self.lock:
            self.count += 1
            n = self.count
            self.write_atomic('%d.eml' % n, data)
        env = {
            'n': n,
            'helo': sess.helo,
            'mail_from': sess.mail_from,
            'mail_params': sess.mail_params,
            'mail_raw': sess.mail_raw,
            'rcpt': sess.rcpts,
            'tls': sess.tls,
            'auth': sess.auth_user,
            'auth_mech': getattr(sess, 'auth_mech', None),
            'size': len(data),
        }
        if self.lmtp:
            env['lmtp'] = self.deliver(sess.mail_from, sess.rcpts, data)
        self.write_atomic('%d.json' % n,
                          (json.dumps(env, indent=1) + '\n').encode())
        return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dir', required=True, help='where messages go')
    ap.add_argument('--port', type=int, default=0, help='0: any free port')
    ap.add_argument('--port-file', help='write the bound port here')
    ap.add_argument('--pid-file')
    ap.add_argument('--cert', help='PEM certificate: offer STARTTLS')
    ap.add_argument('--key', help='PEM key (default: in --cert)')
    ap.add_argument('--auth', help='USER:PASS: offer AUTH PLAIN LOGIN '
                    'XOAUTH2 (PASS is then the bearer token)')
    ap.add_argument('--require-auth', action='store_true')
    ap.add_argument('--lmtp', help='Dovecot LMTP unix socket')
    ap.add_argument('--max-size', type=int, default=10 * 1024 * 1024)
    opts = ap.parse_args()

    os.makedirs(opts.dir, exist_ok=True)
    srv = Server(opts)

    def term(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, term)
    signal.signal(signal.SIGINT, term)

    if opts.pid_file:
        with open(opts.pid_file + '.tmp', 'w') as f:
            f.write('%d\n' % os.getpid())
        os.rename(opts.pid_file + '.tmp', opts.pid_file)
    if opts.port_file:
        with open(opts.port_file + '.tmp', 'w') as f:
            f.write('%d\n' % srv.server_address[1])
        os.rename(opts.port_file + '.tmp', opts.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        if opts.pid_file:
            try:
                os.unlink(opts.pid_file)
            except OSError:
                pass


if __name__ == '__main__':
    sys.exit(main())
