#!/bin/bash
# Accuracy of the shipped rules, with the real binary (score.sh; no mail
# server needed): the training corpus (tests/data/inquiries: every miss
# is listed), the crisis probes (tests/data/probes), the blind validation
# set (tests/data/blind) and the fresh batch (tests/data/fresh), these two
# as aggregates only, never a message's name. Fails on any crisis miss in the corpus,
# and when any category's accuracy or tag accuracy falls below the floor
# recorded in the set's accuracy.floor. $TRIAGED names the binary
# (default ./triaged); $ACCURACY_RULES another rules folder to score.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$dir/../.." && pwd)
: "${TRIAGED:=$repo/triaged}"
. "$dir/lib.sh"
rc=0

# score.sh classifies many files per run: each verdict must be the one a
# run on that file alone gives, and an unreadable file is reported (66)
# without losing the others.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/triaged-acc.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
tb_offline_conf "$tmp"
set -- $(ls "$repo"/tests/data/probes/*.eml | sed -n '1p;40p;90p')
for f in "$@"; do
	"$TRIAGED" -c "$tmp/triaged.conf" classify --json "$f" |
	    sed "s|^{|{\"file\":\"$f\",|"
done >"$tmp/one"
"$TRIAGED" -c "$tmp/triaged.conf" classify --json "$1" "$tmp/absent.eml" \
    "$2" "$3" >"$tmp/many" 2>"$tmp/err"
batch_rc=$?
if [ "$batch_rc" != 66 ] || ! grep -q absent.eml "$tmp/err" ||
    ! cmp -s "$tmp/one" "$tmp/many"; then
	echo "FAIL: classify of several files (exit $batch_rc) differs from" \
	    "one file at a time:" >&2
	diff "$tmp/one" "$tmp/many" >&2
	rc=1
fi

# score.sh --record rewrites a set's floors at the measured figures and
# keeps its comments: a copy of a few probes under floors none can meet
# fails, then passes after --record, with every floor below 100. Every
# message of the copy counts, also when ACCURACY_EVERY samples the sets
# (a sample is scored without floors).
mkdir "$tmp/rec"
for f in $(ls "$repo"/tests/data/probes/*.eml | sed -n '1~40p'); do
	cp "$f" "${f%.eml}.expect" "$tmp/rec/"
done
{
	echo "# floors no set meets"
	for c in crisis substance couples individual existing-client \
	    not-inquiry; do
		grep -qx "category: $c" "$tmp"/rec/*.expect && echo "$c 100.1 100.1"
	done
} >"$tmp/rec/accuracy.floor"
if env -u ACCURACY_EVERY bash "$dir/score.sh" --blind "$tmp/rec" \
    >"$tmp/rec.out" 2>&1; then
	echo "FAIL: floors above 100% did not fail" >&2
	rc=1
elif ! env -u ACCURACY_EVERY bash "$dir/score.sh" --record "$tmp/rec" \
    >"$tmp/rec.out" 2>&1 ||
    ! env -u ACCURACY_EVERY bash "$dir/score.sh" --blind "$tmp/rec" \
    >"$tmp/rec.out" 2>&1 ||
    ! grep -qx "# floors no set meets" "$tmp/rec/accuracy.floor" ||
    awk '!/^#/ && NF == 3 && ($2 > 99.9 || $3 > 99.9) { bad = 1 }
	END { exit !bad }' "$tmp/rec/accuracy.floor"; then
	echo "FAIL: score.sh --record did not record passing floors:" >&2
	cat "$tmp/rec.out" "$tmp/rec/accuracy.floor" >&2
	rc=1
fi

bash "$dir/score.sh" "$repo/tests/data/inquiries" || rc=1
# One clinical sign per message (tests/data/probes/README): every one
# must stay crisis, every ordinary strong word must not.
echo
echo "== crisis probes"
bash "$dir/score.sh" "$repo/tests/data/probes" || rc=1
if [ -d "$repo/tests/data/blind" ]; then
	echo
	echo "== blind validation set (aggregates only)"
	bash "$dir/score.sh" --blind "$repo/tests/data/blind" || rc=1
fi
if [ -d "$repo/tests/data/fresh" ]; then
	echo
	echo "== fresh blind batch (aggregates only)"
	bash "$dir/score.sh" --blind "$repo/tests/data/fresh" || rc=1
fi
exit $rc
