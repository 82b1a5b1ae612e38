#!/bin/bash
# The test bed itself: TLS (implicit and STARTTLS) with the bed's CA, APPEND
# with an old INTERNALDATE, BODY.PEEK leaving \Seen unset, the SMTP server's
# null sender and DSN parameters, failure injection, AUTH, LMTP delivery
# readable from the recipient's mailbox, and a cleanup that leaves nothing.
set -eu
. "$(dirname "$0")/lib.sh"

t0=$(date +%s%N)
tb_start
ms=$((($(date +%s%N) - t0) / 1000000))
echo "start took $ms ms"
[ "$ms" -lt 5000 ] || tb_fail "test bed took $ms ms to start"

# Servers restarted on their port (outage tests) need ports no client
# socket can be handed meanwhile: none in the kernel's ephemeral range.
read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
for p in $TB_IMAP_PORT $TB_IMAPS_PORT $TB_SMTP_PORT; do
	[ "$p" -lt "$lo" ] || [ "$p" -gt "$hi" ] ||
	    tb_fail "port $p is in the ephemeral range $lo-$hi"
done
W=$TB_DIR/work
mkdir -p "$W"

# --- IMAP: implicit TLS and STARTTLS, verified against TB_CA only.
"$TB_PYTHON" - <<'EOF'
import imaplib, os, socket, ssl, sys
port, sport = int(os.environ['TB_IMAP_PORT']), int(os.environ['TB_IMAPS_PORT'])
user, pw = os.environ['TB_USER'], os.environ['TB_PASS']
ca = ssl.create_default_context(cafile=os.environ['TB_CA'])

def fails(fn, what):
    try:
        fn()
    except (ssl.SSLError, imaplib.IMAP4.error, OSError):
        return
    sys.exit('unexpectedly succeeded: ' + what)

for host in ('127.0.0.1', 'localhost'):
    c = imaplib.IMAP4_SSL(host, sport, ssl_context=ca)
    c.login(user, pw)
    c.logout()
c = imaplib.IMAP4('127.0.0.1', port)
assert 'STARTTLS' in c.capabilities, c.capabilities
c.starttls(ssl_context=ca)
c.login(user, pw)
c.logout()
# The certificate is not trusted by the system store...
fails(lambda: imaplib.IMAP4_SSL('127.0.0.1', sport,
      ssl_context=ssl.create_default_context()), 'system trust')
# ...nor valid for another name...
def other_name():
    sock = socket.create_connection(('127.0.0.1', sport))
    ca.wrap_socket(sock, server_hostname='mail.example.org')
fails(other_name, 'wrong host name')
# ...and a wrong password is refused.
c = imaplib.IMAP4_SSL('127.0.0.1', sport, ssl_context=ca)
fails(lambda: c.login(user, pw + 'x'), 'wrong password')
print('imap tls ok')
EOF

# --- APPEND with an old INTERNALDATE; new mailboxes are created on demand.
old=1577934245	# 2020-01-02 03:04:05 UTC
printf 'From: Someone <someone@client.example>\r\nTo: %s\r\nSubject: old\r\nMessage-ID: <old@client.example>\r\n\r\nOld mail.\r\n' \
    "$TB_USER" >"$W/old.eml"
uid=$(tb_append "$TB_USER" INBOX "$W/old.eml" "$old")
[ "$uid" = 1 ] || tb_fail "APPEND gave uid '$uid'"
tb_dates "$TB_USER" INBOX >"$W/dates"
grep -qx "1 $old [0-9]*" "$W/dates" || tb_fail "INTERNALDATE: $(cat "$W/dates")"
now=$(date +%s)
uid=$(tb_append "$TB_USER" INBOX "$W/old.eml")
d=$(tb_dates "$TB_USER" INBOX | awk '$1 == 2 { print $2 }')
[ $((d - now)) -le 5 ] && [ $((now - d)) -le 5 ] ||
    tb_fail "APPEND without date: INTERNALDATE $d, now $now"
tb_append "$TB_USER" Inquiries/Crisis "$W/old.eml" >/dev/null
tb_list "$TB_USER" >"$W/list"
grep -qx 'Inquiries/Crisis.*' "$W/list" || tb_fail "no Inquiries/Crisis"
grep -qx 'Sent .*\\Sent.*' "$W/list" || tb_fail "no \\Sent special-use"

# --- BODY.PEEK leaves \Seen unset; a plain BODY[] fetch sets it.
tb_fetch_all "$TB_USER" INBOX "$W/inbox" >/dev/null
cmp -s "$W/inbox/1.eml" "$W/old.eml" || tb_fail "fetched message differs"
tb_flags "$TB_USER" INBOX >"$W/flags"
! grep -q 'Seen' "$W/flags" || tb_fail "\\Seen set by BODY.PEEK: $(cat "$W/flags")"
"$TB_PYTHON" - <<'EOF'
import imaplib, os, ssl
ca = ssl.create_default_context(cafile=os.environ['TB_CA'])
c = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['TB_IMAPS_PORT']),
                      ssl_context=ca)
c.login(os.environ['TB_USER'], os.environ['TB_PASS'])
c.select('INBOX')
assert c.uid('FETCH', '2', '(BODY[])')[0] == 'OK'
assert c.uid('STORE', '1', '+FLAGS.SILENT', '($Triage_crisis)')[0] == 'OK'
c.logout()
EOF
tb_flags "$TB_USER" INBOX >"$W/flags"
grep -qx '1 .*\$Triage_crisis.*' "$W/flags" || tb_fail "keyword: $(cat "$W/flags")"
! grep -q '^1 .*Seen' "$W/flags" || tb_fail "uid 1 seen: $(cat "$W/flags")"
grep -q '^2 .*\\Seen' "$W/flags" || tb_fail "uid 2 not seen: $(cat "$W/flags")"

# --- SMTP: null sender, DSN parameters, STARTTLS, LMTP on to Dovecot.
"$TB_PYTHON" - <<'EOF'
import os, smtplib, ssl
ca = ssl.create_default_context(cafile=os.environ['TB_CA'])
s = smtplib.SMTP('127.0.0.1', int(os.environ['TB_SMTP_PORT']))
s.ehlo('tester.example')
for ext in ('pipelining', '8bitmime', 'dsn', 'size', 'starttls'):
    assert s.has_extn(ext), ext
s.starttls(context=ca)
s.ehlo('tester.example')
assert not s.has_extn('starttls')
msg = ('From: Practice Name <hello@practice.example>\r\n'
       'To: alice@client.example\r\nSubject: tb-reply-1\r\n'
       'Auto-Submitted: auto-replied\r\n\r\n'
       '.leading dot\r\nGr\u00fc\u00dfe\r\n').encode('utf-8')
assert s.mail('', ['RET=HDRS', 'SIZE=%d' % len(msg)])[0] == 250
assert s.rcpt('alice@client.example', ['NOTIFY=NEVER'])[0] == 250
assert s.rcpt('bob@client.example')[0] == 250
code, _ = s.data(msg)
assert code == 250, code
s.quit()
# Plain session, plain sender.
s = smtplib.SMTP('127.0.0.1', int(os.environ['TB_SMTP_PORT']))
s.sendmail('hello@practice.example', ['carol@client.example'],
           b'Subject: tb-plain\r\n\r\nplain\r\n')
s.quit()
EOF
tb_wait_smtp 2 || tb_fail "messages not recorded"
J=$TB_SMTP_DIR/1.json
[ "$(tb_json "$J" mail_from)" = "<>" ] || tb_fail "mail_from $(cat "$J")"
tb_json "$J" mail_params | grep -q '^\["RET=HDRS", "SIZE=[0-9]*"\]$' ||
    tb_fail "mail_params $(cat "$J")"
[ "$(tb_json "$J" rcpt.0.addr)" = "<alice@client.example>" ] ||
    tb_fail "rcpt $(cat "$J")"
[ "$(tb_json "$J" rcpt.0.params)" = '["NOTIFY=NEVER"]' ] ||
    tb_fail "rcpt params $(cat "$J")"
[ "$(tb_json "$J" rcpt.1.addr)" = "<bob@client.example>" ] ||
    tb_fail "rcpt 2 $(cat "$J")"
[ "$(tb_json "$J" tls)" = true ] || tb_fail "tls $(cat "$J")"
[ "$(tb_json "$J" auth)" = null ] || tb_fail "auth $(cat "$J")"
grep -q '^\.leading dot' "$TB_SMTP_DIR/1.eml" || tb_fail "dot-stuffing"
grep -q 'Grüße' "$TB_SMTP_DIR/1.eml" || tb_fail "8-bit data"
[ "$(tb_json "$TB_SMTP_DIR/2.json" tls)" = false ] || tb_fail "tls 2"
[ "$(tb_json "$TB_SMTP_DIR/2.json" mail_from)" = "<hello@practice.example>" ] ||
    tb_fail "mail_from 2"

# Delivered on over LMTP, one transaction per recipient, before n.json.
for who in alice bob; do
	n=$(tb_fetch_all "$who@client.example" INBOX "$W/$who")
	[ "$n" = 1 ] || tb_fail "$who has $n messages"
	grep -q '^Subject: tb-reply-1' "$W/$who/1.eml" || tb_fail "$who subject"
	grep -qi "^Delivered-To: <\?$who@client.example" "$W/$who/1.eml" ||
	    tb_fail "$who: no Delivered-To"
	grep -qi '^Return-Path: <>' "$W/$who/1.eml" || tb_fail "$who: Return-Path"
	! grep -q Seen <(tb_flags "$who@client.example" INBOX) ||
	    tb_fail "$who: seen"
done

# --- Failure injection.
tb_smtp_fail "bounce 550 5.1.1 no such user" "later 451 4.3.0 try again later"
"$TB_PYTHON" - <<'EOF'
import os, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['TB_SMTP_PORT']))
s.ehlo()
s.mail('')
assert s.rcpt('bounce@client.example')[0] == 550
assert s.rcpt('Later@client.example')[0] == 451
assert s.rcpt('fine@client.example')[0] == 250
s.quit()
EOF
tb_smtp_fail "DATA 554 5.7.1 rejected"
"$TB_PYTHON" - <<'EOF'
import os, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['TB_SMTP_PORT']))
try:
    s.sendmail('', ['x@client.example'], b'Subject: x\r\n\r\nx\r\n')
    raise SystemExit('DATA failure not injected')
except smtplib.SMTPDataError as e:
    assert e.smtp_code == 554, e
s.quit()
EOF
tb_smtp_fail
[ "$(tb_smtp_count)" = 2 ] || tb_fail "a refused message was recorded"

# --- Stop and restart the SMTP server on the same port.
port=$TB_SMTP_PORT
tb_smtp_stop
! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || tb_fail "smtpd still up"
tb_smtp_start
[ "$TB_SMTP_PORT" = "$port" ] || tb_fail "smtpd moved to $TB_SMTP_PORT"
"$TB_PYTHON" -c '
import os, smtplib
s = smtplib.SMTP("127.0.0.1", int(os.environ["TB_SMTP_PORT"]))
s.sendmail("", ["dave@client.example"], b"Subject: 3\r\n\r\nx\r\n")
s.quit()'
tb_wait_smtp 3 || tb_fail "no message 3 after restart"
[ -f "$TB_SMTP_DIR/3.eml" ] || tb_fail "numbering restarted"

# --- tb_conf writes the contract keys and applies overrides.
tb_conf "$W/c.conf" imap.tls=starttls "imap.port=$TB_IMAP_PORT" -imap.ca_file \
    queue.file_into=Inquiries/%c
grep -qx "port = $TB_IMAP_PORT" "$W/c.conf" || tb_fail "conf port"
grep -qx 'tls = starttls' "$W/c.conf" || tb_fail "conf tls"
! grep -q ca_file "$W/c.conf" || tb_fail "conf ca_file not removed"
grep -qx "url = smtp://127.0.0.1:$TB_SMTP_PORT" "$W/c.conf" || tb_fail "url"
grep -qx '\[queue\]' "$W/c.conf" || tb_fail "conf [queue]"
[ "$(stat -c %a "$TB_DIR/imap.secret")" = 600 ] || tb_fail "secret mode"
[ "$(cat "$TB_DIR/imap.secret")" = "$TB_PASS" ] || tb_fail "secret"

# --- A second bed at the same time, with SMTP AUTH required.
(
	TB_STARTED=0 TB_SMTP_AUTH=sender:s3cret TB_SMTP_REQUIRE_AUTH=1
	tb_start
	"$TB_PYTHON" - <<'EOF'
import os, smtplib
s = smtplib.SMTP('127.0.0.1', int(os.environ['TB_SMTP_PORT']))
s.ehlo()
assert s.has_extn('auth'), s.esmtp_features
assert s.mail('')[0] == 530
s.rset()
try:
    s.login('sender', 'wrong')
    raise SystemExit('bad password accepted')
except smtplib.SMTPAuthenticationError:
    pass
s.login('sender', 's3cret')
s.sendmail('', ['erin@client.example'], b'Subject: a\r\n\r\nx\r\n')
s.quit()
EOF
	tb_wait_smtp 1
	[ "$(tb_json "$TB_SMTP_DIR/1.json" auth)" = sender ] ||
	    tb_fail "auth not recorded"
)
[ "$(tb_smtp_count)" = 3 ] || tb_fail "second bed wrote into the first"

# --- Cleanup leaves no processes and no folder, also when killed, and also
# for a bed started in a subshell after the outer shell set its own trap
# (a subshell starts without traps: it needs one of its own).
for how in exit term subshell; do
	bash -c '
		. "$1/lib.sh"
		bed() {
			tb_start 2>/dev/null
			echo "$TB_DIR $TB_INSTANCE $(cat "$TB_DIR/dovecot.pid")" \
			    "$(cat "$TB_DIR/smtpd.pid")" \
			    $(tb_tree "$(cat "$TB_DIR/dovecot.pid")") >"$2"
		}
		if [ "$3" = subshell ]; then
			tb_atexit :
			(bed "$@")
			exit 0
		fi
		bed "$@"
		[ "$3" = exit ] && exit 0
		sleep 60 & wait $!
	' child "$TB_LIBDIR" "$W/child" "$how" &
	child=$!
	for i in $(seq 1 100); do
		[ -s "$W/child" ] && break
		sleep 0.05
	done
	[ -s "$W/child" ] || tb_fail "child bed did not start ($how)"
	read -r cdir cinst cpids <"$W/child"
	[ "$how" = term ] && kill -TERM "$child"
	wait "$child" || true
	[ ! -e "$cdir" ] || tb_fail "$cdir left behind ($how)"
	for p in $cpids; do
		! tb_alive "$p" || tb_fail "process $p left behind ($how)"
	done
	! ps -eo stat=,args= | grep -v '^Z' | grep -q "[d]ovecot-$cinst/" ||
	    tb_fail "processes of $cinst left behind ($how)"
	rm -f "$W/child"
done

# A tb_atexit hook runs at exit also in a test that starts no bed.
# The child inherits this bed's exported TB_DIR; its exit must leave the
# bed alone (only the shell that started a bed stops it).
hooked=$(mktemp -d)
bash -c '
	. "$1/lib.sh"
	tb_atexit "rmdir \"$2\""
' child "$TB_LIBDIR" "$hooked"
[ ! -e "$hooked" ] || tb_fail "tb_atexit hook did not run without a bed"
[ -d "$W" ] || tb_fail "a child's exit removed this bed's folder"
tb_alive "$(cat "$TB_DIR/dovecot.pid")" ||
    tb_fail "a child's exit stopped this bed's Dovecot"

# And this bed's own stop.
pids="$(cat "$TB_DIR/smtpd.pid") $(tb_tree "$(cat "$TB_DIR/dovecot.pid")")"
tb_stop
for p in $pids; do
	! tb_alive "$p" || tb_fail "process $p left behind"
done
for p in $TB_IMAP_PORT $TB_IMAPS_PORT $TB_SMTP_PORT; do
	! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || tb_fail "port $p open"
done
echo "test bed ok"
