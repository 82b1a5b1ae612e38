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
. "$dir/lib.sh"

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

[ -x "$TRIAGED" ] || fail "no binary at $TRIAGED (make first)"
command -v python3 >/dev/null || fail "python3 is needed"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/triaged-acc.XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT

# A throwaway configuration; classify never connects.
tb_offline_conf "$tmp" "$ACCURACY_RULES"

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
