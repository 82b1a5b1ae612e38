#!/bin/sh
# make bench: parse and classify cost per message, as ratios against a
# baseline measured in the same run. BENCH_ITER sets the repetitions
# (bench-smoke uses 1). Uses the repository's samples and inquiries, and
# the shared real-world corpus where it exists.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
iter=${BENCH_ITER:-200}
bin=${BENCH_BIN:-$repo/obj/bench_classify}
files=$(ls "$repo"/tests/data/samples/*.eml "$repo"/tests/data/inquiries/*.eml 2>/dev/null || true)
echo "== our inquiries"
# shellcheck disable=SC2086
"$bin" "$repo/rules" "$iter" $files
corpus=$repo/../shared/corpus/mime
if [ -d "$corpus" ]; then
	echo "== shared real-world corpus"
	# shellcheck disable=SC2046
	"$bin" "$repo/rules" $(( (iter + 9) / 10 )) \
	    $(find "$corpus" -type f -name '*.eml' | head -300)
fi
# Hostile shapes, each measured alone against its own copy: a 1 MiB HTML
# message reduced to text, and multiparts nested 5,000 and 20,000 deep
# (refused by the pre-scan). These were wall-clock limits in the unit
# tests; here they are ratios (a jump of a thousandfold is the bug).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
row = '<div class="x">Hello &amp; welcome, <b>caf\u00e9</b> &#8364;5<br></div>\n'
body = row * ((1024 * 1024 - 200) // len(row.encode()))
open(d + '/big-html.eml', 'w', encoding='utf-8').write('Subject: big\nContent-Type: text/html; charset=utf-8\n\n<html><body>' + body + '</body></html>\n')
for depth in (5000, 20000):
    parts = ['Subject: deep\n']
    parts += ['Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)]
    parts.append('Content-Type: text/plain\n\ndeep text\n')
    parts += ['--b%d--\n' % i for i in range(depth - 1, -1, -1)]
    open('%s/nested-%d.eml' % (d, depth), 'w', encoding='utf-8').write(''.join(parts))
PY
for f in big-html nested-5000 nested-20000; do
	echo "== hostile shape: $f"
	"$bin" "$repo/rules" $(( (iter + 19) / 20 )) "$tmp/$f.eml"
done
