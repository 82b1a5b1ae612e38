#!/bin/bash
# Accuracy of the shipped rules on the labelled inquiries: classify every
# tests/data/inquiries/*.eml with the real binary (`triaged classify
# --json`, which connects nowhere) and score the verdicts with accuracy.py.
# Fails on any crisis miss, and when a category's accuracy or tag accuracy
# falls below tests/data/inquiries/accuracy.floor. Needs no mail server.
# Exit 0 pass, 1 fail. $TRIAGED names the binary (default ./triaged);
# $ACCURACY_RULES another rules folder to score (default ./rules).
set -u
dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$dir/../.." && pwd)
: "${TRIAGED:=$repo/triaged}"
: "${ACCURACY_RULES:=$repo/rules}"
data=$repo/tests/data/inquiries

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

[ -x "$TRIAGED" ] || fail "no binary at $TRIAGED (make first)"
command -v python3 >/dev/null || fail "python3 is needed"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/triaged-acc.XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT

# A throwaway configuration: the repository's rules and templates; imap and
# smtp point at the loopback but classify never connects.
umask 077
printf 'unused\n' >"$tmp/secret"
cat >"$tmp/triaged.conf" <<CONF
[imap]
host = 127.0.0.1
port = 143
tls = none
user = hello@practice.example
password_file = secret

[smtp]
url = smtp://127.0.0.1:25
user = hello@practice.example
password_file = secret
from = Harbor Counseling <hello@practice.example>

[practice]
name = Harbor Counseling
phone = (555) 010-0100
booking_url = https://practice.example/book

[triage]
rules = $ACCURACY_RULES
templates = $repo/templates
state = $tmp/state.db
CONF

"$TRIAGED" -c "$tmp/triaged.conf" check >"$tmp/check.out" 2>&1 ||
    fail "check failed: $(cat "$tmp/check.out")"
grep -qi warning "$tmp/check.out" &&
    fail "check warns: $(cat "$tmp/check.out")"

# One line per message: NAME, a tab, the JSON verdict (or ERROR). Tracing
# off for the loop: run.sh runs tests under bash -x.
{ set +x; } 2>/dev/null
n=0
for f in "$data"/*.eml; do
	name=$(basename "$f" .eml)
	if out=$("$TRIAGED" -c "$tmp/triaged.conf" classify --json "$f" \
	    2>"$tmp/err"); then
		printf '%s\t%s\n' "$name" "$out"
	else
		printf '%s\tERROR: exit %s: %s\n' "$name" "$?" \
		    "$(head -c 200 "$tmp/err" | tr '\n' ' ')"
	fi
	n=$((n + 1))
done >"$tmp/results"
[ "$n" -gt 0 ] || fail "no inquiries in $data"

python3 "$dir/accuracy.py" "$data" "$tmp/results"
