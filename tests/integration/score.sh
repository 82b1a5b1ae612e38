#!/bin/bash
# Score the rules on labelled sets with the real binary (`triaged classify
# --json`, which connects nowhere) and accuracy.py.
#
#   score.sh [--blind] DIR...   score each DIR (the .eml and .expect files in
#                               it); --blind prints aggregates only
#   score.sh --record DIR...    score each DIR, aggregates only, and
#                               rewrite DIR/accuracy.floor at the
#                               measured figures (after a rules change)
#   score.sh --report           the figures of README.md's "Triage
#                               quality": training corpus
#                               (tests/data/inquiries), crisis probes
#                               (tests/data/probes), blind validation set
#                               (tests/data/blind), fresh batch
#                               (tests/data/fresh), each with its table
#
# Exit 0 when every set passes (accuracy.py: floors, crisis misses), else 1.
# $TRIAGED names the binary (default ./triaged), $ACCURACY_RULES the rules
# (default ./rules).
set -u
dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$dir/../.." && pwd)
: "${TRIAGED:=$repo/triaged}"
: "${ACCURACY_RULES:=$repo/rules}"
. "$dir/lib.sh"

[ -x "$TRIAGED" ] || { echo "no binary at $TRIAGED (make first)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/triaged-score.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
tb_offline_conf "$tmp" "$ACCURACY_RULES"
"$TRIAGED" -c "$tmp/triaged.conf" check >"$tmp/check.out" 2>&1 || {
	cat "$tmp/check.out" >&2
	exit 1
}

# Classify every message of $1 into $2: NAME, a tab, the JSON verdict,
# sorted by name. ACCURACY_EVERY=N classifies every Nth message only (make
# valgrind): the run then checks for errors, not the floors. The messages
# are shared out among one worker per CPU (ACCURACY_JOBS).
classify_one()
{
	local f=$1 name out
	name=$(basename "$f" .eml)
	if out=$("$TRIAGED" -c "$tmp/triaged.conf" classify --json "$f" \
	    2>"$tmp/err.$name"); then
		printf '%s\t%s\n' "$name" "$out"
	else
		printf '%s\tERROR: exit %s: %s\n' "$name" "$?" \
		    "$(head -c 200 "$tmp/err.$name" | tr '\n' ' ')"
	fi
	rm -f "$tmp/err.$name"
}

classify_all()
{
	local f i=0 k jobs=${ACCURACY_JOBS:-$(nproc 2>/dev/null || echo 1)}
	for f in "$1"/*.eml; do
		[ -e "$f" ] || continue
		i=$((i + 1))
		[ $(( (i - 1) % ${ACCURACY_EVERY:-1} )) = 0 ] || continue
		echo "$f"
	done >"$tmp/list"
	for k in $(seq 0 $((jobs - 1))); do
		awk -v k="$k" -v n="$jobs" '(NR - 1) % n == k' "$tmp/list" \
		    >"$tmp/list.$k"
		classify_batch "$tmp/list.$k" >"$tmp/part.$k" &
	done
	wait
	sort "$tmp"/part.* >"$2"
	rm -f "$tmp"/part.* "$tmp"/list*
}

# Classify the files listed in $1 with one run per few hundred (the rules
# compile once per run), then one by one whatever a run did not print,
# and every file of a run that failed (a crash, a valgrind error), so a
# message that breaks the binary is named with its error.
classify_batch()
{
	local f
	if tr '\n' '\0' <"$1" | xargs -0 -r -n 300 "$TRIAGED" \
	    -c "$tmp/triaged.conf" classify --json >"$1.json" 2>/dev/null; then
		"$TB_PYTHON" -c '
import json, os, sys
for line in open(sys.argv[1]):
    try:
        v = json.loads(line)
    except ValueError:
        continue
    f = v.pop("file", None)
    if f:
        print("%s\t%s" % (os.path.basename(f)[:-4], json.dumps(v)))
' "$1.json" >"$1.done"
	else
		: >"$1.done"
	fi
	cat "$1.done"
	# One pass for the files no run printed.
	awk 'FILENAME == ARGV[1] { seen[$1] = 1; next }
	    { n = $0; sub(/.*\//, "", n); sub(/\.eml$/, "", n) }
	    !(n in seen)' "$1.done" "$1" |
	while read -r f; do classify_one "$f"; done
}

# Score one set; $1 is --blind or "", $2 the folder.
score_one()
{
	local mode=$1 set=$2
	[ -d "$set" ] || { echo "no such set: $set" >&2; return 1; }
	classify_all "$set" "$tmp/results"
	[ -s "$tmp/results" ] || { echo "no messages in $set" >&2; return 1; }
	[ -n "${ACCURACY_EVERY:-}" ] && mode="--sample"
	python3 "$dir/accuracy.py" $mode "$set" "$tmp/results"
}

{ set +x; } 2>/dev/null
rc=0
case ${1:-} in
--report)
	for s in inquiries:"training corpus (the rules were tuned on it)" \
	    probes:"crisis probes (one clinical sign per message, written with the rules)" \
	    blind:"blind validation set (never read by whoever edits rules)" \
	    fresh:"fresh blind batch (never read, each part scored once before it was added)"; do
		name=${s%%:*}
		[ -d "$repo/tests/data/$name" ] || continue
		echo "## ${s#*:}: tests/data/$name"
		echo
		mode=--blind
		case $name in inquiries|probes) mode=--summary ;; esac
		score_one "$mode" "$repo/tests/data/$name" || rc=1
		echo
	done
	;;
--blind|--record)
	mode=$1
	shift
	for s in "$@"; do score_one "$mode" "$s" || rc=1; done
	;;
*)
	for s in "$@"; do score_one "" "$s" || rc=1; done
	;;
esac
exit $rc
