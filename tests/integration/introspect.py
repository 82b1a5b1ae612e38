#!/usr/bin/env python3
"""A tiny OAuth2 token-introspection endpoint (RFC 7662) for the test bed.

Standard library only; binds 127.0.0.1. POST /introspect with token=... (or a GET with ?access_token=..., the
tokeninfo form Dovecot uses first) answers {"active": true, "username": USER} when the token is a line of
--tokens (read on every request, so a test can expire or add tokens),
else {"active": false}. Each request is logged to --log (token count
only, never the token).
"""
import argparse
import json
import os
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n).decode('utf-8', 'replace')
        query = urllib.parse.urlsplit(self.path).query
        token = (urllib.parse.parse_qs(body).get('token', [''])[0] or
                 urllib.parse.parse_qs(query).get('access_token', [''])[0])
        if not token:
            auth = self.headers.get('Authorization') or ''
            if auth.lower().startswith('bearer '):
                token = auth[7:].strip()
        try:
            with open(self.server.tokens, encoding='utf-8') as f:
                valid = set(line.strip() for line in f if line.strip())
        except FileNotFoundError:
            valid = set()
        ok = token in valid
        out = {'active': ok}
        if ok:
            out['username'] = self.server.user
        data = json.dumps(out).encode()
        with open(self.server.logfile, 'a', encoding='utf-8') as f:
            f.write('introspect %s %s active=%s\n' % (
                self.command, self.path.split('?')[0], ok))
            if os.environ.get('INTROSPECT_DEBUG'):
                f.write('  body-keys=%s query-keys=%s auth=%s\n' % (
                    sorted(urllib.parse.parse_qs(body)),
                    sorted(urllib.parse.parse_qs(query)),
                    bool(self.headers.get('Authorization'))))
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--tokens', required=True)
    ap.add_argument('--user', required=True)
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--pid-file', required=True)
    ap.add_argument('--log', required=True)
    a = ap.parse_args()
    srv = HTTPServer(('127.0.0.1', 0), Handler)
    srv.tokens, srv.user, srv.logfile = a.tokens, a.user, a.log
    with open(a.pid_file, 'w') as f:
        f.write('%d\n' % os.getpid())
    with open(a.port_file + '.tmp', 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.rename(a.port_file + '.tmp', a.port_file)
    srv.serve_forever()


if __name__ == '__main__':
    main()
