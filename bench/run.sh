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
