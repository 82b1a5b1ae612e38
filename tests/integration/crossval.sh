#!/bin/bash
# Choose the learned model's crisis bar without looking at the blind set:
# k-fold cross-validation on the training corpus. Each fold trains a model
# on the other folds (with the shipped rules), then classifies its own
# messages at each bar of the recall-first category, and the sums are
# printed: held-out crises missed and non-crisis mail flagged crisis (a
# verdict the .expect does not allow). Takes a few minutes per fold.
#
#   crossval.sh [FOLDS [BAR...]]     default 5 folds, bars 0.10 to 0.30
#
# $TRIAGED names the binary (default ./triaged), $ACCURACY_RULES the rules
# (default ./rules), $CROSSVAL_SET the labelled set (default the corpus).
set -u
dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$dir/../.." && pwd)
: "${TRIAGED:=$repo/triaged}"
: "${ACCURACY_RULES:=$repo/rules}"
: "${CROSSVAL_SET:=$repo/tests/data/inquiries}"
. "$dir/lib.sh"

folds=${1:-5}
shift 2>/dev/null
bars=${*:-0.10 0.15 0.20 0.25 0.30}
[ -x "$TRIAGED" ] || { echo "no binary at $TRIAGED (make first)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/triaged-crossval.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Share the batches out by a hash of their name (what comes before the
# first "-": t360 for t360-017-msg), so a fold is the same from run to run
# and a batch is held out whole. One writer's names, phrases and habits
# then never sit on both sides, as on the blind set, where every batch is
# new; spread over the folds they let a model that learned them look
# better than it is. CROSSVAL_SPLIT=message shares out single messages.
"$TB_PYTHON" - "$CROSSVAL_SET" "$tmp" "$folds" "${CROSSVAL_SPLIT:-batch}" <<'EOF'
import glob, os, sys, zlib
src, tmp, k = os.path.abspath(sys.argv[1]), sys.argv[2], int(sys.argv[3])
by_message = sys.argv[4] == "message"
for j in range(k):
    for d in ("train", "test"):
        os.makedirs("%s/%s%d" % (tmp, d, j))
for f in sorted(glob.glob(src + "/*.eml")):
    name = os.path.basename(f)[:-4]
    if not os.path.exists(f[:-4] + ".expect"):
        continue
    key = name if by_message else name.split("-", 1)[0]
    fold = zlib.crc32(key.encode()) % k
    for j in range(k):
        d = "%s/%s%d/" % (tmp, "test" if j == fold else "train", j)
        os.symlink(f, d + name + ".eml")
        os.symlink(f[:-4] + ".expect", d + name + ".expect")
EOF

for j in $(seq 0 $((folds - 1))); do
	mkdir -p "$tmp/rules$j" "$tmp/conf$j"
	cp "$ACCURACY_RULES"/*.rules "$tmp/rules$j/"
	[ -f "$ACCURACY_RULES/triage.model" ] &&
	    cp "$ACCURACY_RULES/triage.model" "$tmp/rules$j/"
	tb_offline_conf "$tmp/conf$j" "$tmp/rules$j"
	"$TRIAGED" -c "$tmp/conf$j/triaged.conf" train "$tmp/train$j" \
	    >/dev/null || exit 1
	for bar in $bars; do
		sed -i "s/^recall \([a-z-]*\) .*/recall \1 $bar/" \
		    "$tmp/rules$j/triage.model"
		find "$tmp/test$j" -name '*.eml' | sort |
		    xargs -r -n 300 "$TRIAGED" -c "$tmp/conf$j/triaged.conf" \
		    classify --json 2>/dev/null |
		    "$TB_PYTHON" -c '
import json, sys
sys.path.insert(0, sys.argv[2])
from accuracy import read_expect
hit = miss = flag = 0
for line in sys.stdin:
    v = json.loads(line)
    e = read_expect(v["file"][:-4] + ".expect")
    if e["category"] == "crisis":
        hit += v["category"] == "crisis"
        miss += v["category"] != "crisis"
    elif v["category"] == "crisis" and "crisis" not in e["acceptable"]:
        flag += 1
print(sys.argv[1], hit, miss, flag)' "$bar" "$dir" >>"$tmp/results"
	done
done

echo "bar    crises caught  missed  non-crisis flagged ($folds folds, held out)"
awk '{ hit[$1] += $2; miss[$1] += $3; flag[$1] += $4 }
    END { for (b in hit) printf "%s %14d %7d %19d\n", b, hit[b], miss[b], flag[b] }' \
    "$tmp/results" | sort
