#!/bin/bash
# make demo: install what is missing (as root), build, start a throwaway
# local mail server (Dovecot + a recording SMTP server on 127.0.0.1), drop
# sample inquiries into the practice inbox, run `triaged once`, then print
# the queue and the replies that were sent. Nothing outside a temporary
# folder is touched, and everything started is stopped at the end.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

missing=
for p in $(grep -v '^#' dist/debian-packages); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "demo: missing Debian packages:$missing" >&2
		echo "demo: run 'make demo' as root to install them" >&2
		exit 1
	fi
	echo "== installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null
fi
[ "$(id -u)" = 0 ] || { echo "demo: the local mail server needs root" >&2; exit 1; }

echo "== building"
make -s triaged
export TRIAGED=$repo/triaged

. "$repo/tests/integration/lib.sh"
echo "== starting a throwaway Dovecot and SMTP server on 127.0.0.1"
tb_start
conf=$TB_DIR/triaged.conf
tb_conf "$conf"

# The first run only learns where the mailbox stands (existing mail is
# triaged, never answered); inquiries that arrive after it are answered.
"$TRIAGED" -c "$conf" once 2>/dev/null
echo "== dropping sample inquiries into $TB_USER's INBOX"
n=0
for f in "$repo"/tests/data/samples/*.eml; do
	uid=$(tb_append "$TB_USER" INBOX "$f")
	printf '   uid %-3s %s\n' "$uid" "$(basename "$f")"
	n=$((n + 1))
done

echo "== triaged once"
"$TRIAGED" -c "$conf" once

echo
echo "== triaged queue"
"$TRIAGED" -c "$conf" queue

echo
echo "== IMAP keywords on the inbox (messages stay unread)"
tb_flags "$TB_USER" INBOX

for env in "$TB_SMTP_DIR"/*.json; do
	[ -e "$env" ] || continue
	echo
	echo "== reply ${env##*/}: envelope $(tb_json "$env" mail_from) ->" \
	    "$(tb_json "$env" rcpt)"
	# Show the headers and the decoded body.
	"$TB_PYTHON" - "${env%.json}.eml" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'),
    policy=email.policy.default)
for k in ('From', 'To', 'Subject', 'Auto-Submitted', 'In-Reply-To',
          'Message-ID'):
    if m[k] is not None:
        print('%s: %s' % (k, m[k]))
print()
print(m.get_body(('plain',)).get_content().rstrip())
PY
done
echo
echo "== done; the mail servers are stopped and their folder removed"
