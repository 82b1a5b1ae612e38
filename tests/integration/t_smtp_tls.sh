#!/bin/bash
# SMTP delivery through the real binary. smtps:// is verified: without
# ca_file the bed's certificate is refused and the reply stays pending with
# the cause in the queue; with it the reply goes out over TLS. The envelope
# is MAIL FROM:<> and exactly one RCPT with NOTIFY=NEVER (the server offers
# DSN). A 4xx keeps a reply pending, a 5xx marks it failed with the
# server's text, and the state file is private (0600).
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
samples=$TB_REPO/tests/data/samples

# An implicit-TLS SMTP server: the bed's smtpd.py with each accepted socket
# wrapped in TLS before the session starts.
tls_dir=$TB_DIR/smtps
mkdir -p "$tls_dir/mail"
smtps_py=$(cat <<'PY'
import sys
sys.path.insert(0, sys.argv.pop(1))
import smtpd
class ImplicitTLS(smtpd.Server):
    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(10)
        return self.tls_ctx.wrap_socket(sock, server_side=True), addr
smtpd.Server = ImplicitTLS
sys.exit(smtpd.main())
PY
)
"$TB_PYTHON" -c "$smtps_py" "$TB_LIBDIR" --dir "$tls_dir/mail" \
    --port-file "$tls_dir/port" --pid-file "$tls_dir/pid" \
    --cert "$TB_DIR/cert.pem" --key "$TB_DIR/key.pem" \
    >>"$tls_dir/log" 2>&1 &
tb_atexit 'tb_kill_pidfile "$tls_dir/pid"'
for _ in $(seq 100); do
	[ -s "$tls_dir/port" ] && [ -s "$tls_dir/pid" ] && break
	sleep 0.05
done
[ -s "$tls_dir/port" ] ||
    tb_fail "implicit-TLS smtpd did not start: $(cat "$tls_dir/log")"
tls_port=$(cat "$tls_dir/port")

# One envelope check: null sender, one recipient with NOTIFY=NEVER.
check_envelope()
{
	"$TB_PYTHON" - "$1" "$2" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
assert e['mail_from'] == '<>', e['mail_from']
assert e['mail_raw'].startswith('FROM:<>'), e['mail_raw']
assert len(e['rcpt']) == 1, e['rcpt']
r = e['rcpt'][0]
assert r['addr'] == '<%s>' % sys.argv[2], r
assert 'NOTIFY=NEVER' in [p.upper() for p in r['params']], r
PY
}

# Status and error of the queue row for sender.
queue_field()
{
	"$TRIAGED" -c "$1" queue --json | "$TB_PYTHON" -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["from"] == sys.argv[1]]
assert len(rows) == 1, rows
print(rows[0][sys.argv[2]])' "$2" "$3"
}

tb_append "$TB_USER" INBOX "$samples/04-individual.eml" >/dev/null
lena=lena.p@client.example

# smtps:// without ca_file: refused, nothing delivered, the reply waits.
tb_conf "$TB_DIR/a.conf" triage.first_run=reply "triage.state=$TB_DIR/a.db" \
    "smtp.url=smtps://127.0.0.1:$tls_port"
"$TRIAGED" -c "$TB_DIR/a.conf" once 2>"$TB_DIR/a.log" ||
    tb_fail "once (a) failed: $(cat "$TB_DIR/a.log")"
sleep 0.3
ls "$tls_dir/mail"/*.json >/dev/null 2>&1 &&
    tb_fail "a reply went out over an unverified TLS connection"
[ "$(queue_field "$TB_DIR/a.conf" "$lena" status)" = pending ] ||
    tb_fail "the refused reply is not pending"
queue_field "$TB_DIR/a.conf" "$lena" error |
    grep -q 'certificate verification failed' ||
    tb_fail "no certificate cause: $(cat "$TB_DIR/a.log")"
grep -q 's3cret\|password' "$TB_DIR/a.log" && tb_fail "a secret in the log"

# smtps:// with the bed's CA: delivered once over TLS, marked replied.
# (Each case starts a fresh state on the same message: the keyword the
# last one filed would mark it triaged already.)
tb_unkeyword "$TB_USER" INBOX
tb_conf "$TB_DIR/b.conf" triage.first_run=reply "triage.state=$TB_DIR/b.db" \
    "smtp.url=smtps://127.0.0.1:$tls_port" "smtp.ca_file=$TB_CA"
"$TRIAGED" -c "$TB_DIR/b.conf" once 2>"$TB_DIR/b.log" ||
    tb_fail "once (b) failed: $(cat "$TB_DIR/b.log")"
for _ in $(seq 100); do
	[ -e "$tls_dir/mail/1.json" ] && break
	sleep 0.05
done
[ -e "$tls_dir/mail/1.json" ] ||
    tb_fail "no reply over smtps: $(cat "$TB_DIR/b.log")"
[ ! -e "$tls_dir/mail/2.json" ] || tb_fail "more than one reply over smtps"
check_envelope "$tls_dir/mail/1.json" "$lena" || tb_fail "smtps envelope"
[ "$(queue_field "$TB_DIR/b.conf" "$lena" status)" = replied ] ||
    tb_fail "the delivered reply is not marked replied"
[ "$(stat -c %a "$TB_DIR/b.db")" = 600 ] ||
    tb_fail "state file mode $(stat -c %a "$TB_DIR/b.db")"

# Plain SMTP on loopback with injected failures: 4xx stays pending,
# 5xx is failed with the server's text; the inquiry case b answered is
# found answered in Sent and not answered again.
tb_append "$TB_USER" INBOX "$samples/01-crisis.eml" >/dev/null
tb_append "$TB_USER" INBOX "$samples/03-couples.eml" >/dev/null
tb_smtp_fail "maya.r 450 4.2.0 mailbox busy" "sam.t 550 5.1.1 no such user"
tb_unkeyword "$TB_USER" INBOX
tb_conf "$TB_DIR/c.conf" triage.first_run=reply "triage.state=$TB_DIR/c.db"
"$TRIAGED" -c "$TB_DIR/c.conf" once 2>"$TB_DIR/c.log" ||
    tb_fail "once (c) failed: $(cat "$TB_DIR/c.log")"
sleep 0.5
# Lena's inquiry has the reply of case b in Sent: not answered again.
[ "$(tb_smtp_count)" = 0 ] || tb_fail "expected no delivery, got $(tb_smtp_count)"
[ "$(queue_field "$TB_DIR/c.conf" "$lena" suppressed)" = already-answered ] ||
    tb_fail "an inquiry answered in Sent was not recognised"
[ "$(queue_field "$TB_DIR/c.conf" maya.r@client.example status)" = pending ] ||
    tb_fail "the 450 reply is not pending"
queue_field "$TB_DIR/c.conf" maya.r@client.example error |
    grep -q '450 4.2.0 mailbox busy' || tb_fail "no 450 text in the queue"
[ "$(queue_field "$TB_DIR/c.conf" sam.t@client.example status)" = failed ] ||
    tb_fail "the 550 reply is not failed"
queue_field "$TB_DIR/c.conf" sam.t@client.example error |
    grep -q '550 5.1.1 no such user' || tb_fail "no 550 text in the queue"
tb_smtp_fail
echo PASS
