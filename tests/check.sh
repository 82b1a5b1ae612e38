#!/bin/sh
# make check: the unit tests, the integration tests, a smoke run of the
# benchmark and of the fuzzers, one line per test and one summary line at
# the end ("check: N passed, N failed, N skipped"). What a passing step
# prints (cmocka's lines, the fuzzers' chatter, the benchmark's table) is
# kept in $CHECK_LOGS and shown only when the step fails, or always with
# V=1. Expected warnings inside a passing test are never shown.
#
# Environment (set by the Makefile): UNIT_BINS, TRIAGED, BENCH_BIN, MAKE,
# TB_TEST_TIMEOUT; CI=true makes skips fail (as run.sh does).
repo=$(cd "$(dirname "$0")/.." && pwd)
logs=${CHECK_LOGS:-$repo/obj/check-logs}
mkdir -p "$logs"
pass=0
fail=0
skip=0
failed=

# step NAME COMMAND...: run it, its output to $logs/NAME.log.
step()
{
	name=$1
	log=$logs/$(echo "$1" | tr / -).log
	shift
	start=$(date +%s)
	if [ "${V:-0}" = 1 ]; then
		"$@" >"$log" 2>&1
		rc=$?
		cat "$log"
	else
		"$@" >"$log" 2>&1
		rc=$?
	fi
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "ok   $name (${secs}s)"
		pass=$((pass + 1))
	else
		echo "FAIL $name (exit $rc, ${secs}s); log follows"
		[ "${V:-0}" = 1 ] || sed 's/^/    /' "$log"
		fail=$((fail + 1))
		failed="$failed $name"
	fi
}

for t in $UNIT_BINS; do
	step "unit/$(basename "$t")" sh -c 'cd "$1/tests/unit" && "$2"' sh \
	    "$repo" "$repo/$t"
done

# The integration runner prints its own line per test (shown as it comes,
# its own summary left out); count them.
TB_TEST_TIMEOUT=${TB_TEST_TIMEOUT:-300} bash "$repo/tests/integration/run.sh" \
    2>&1 | tee "$logs/integration.out" | grep --line-buffered -v '^integration: '
p=$(grep -c '^ok   ' "$logs/integration.out")
f=$(grep -c '^FAIL ' "$logs/integration.out")
s=$(grep -c '^skip ' "$logs/integration.out")
pass=$((pass + p))
fail=$((fail + f))
skip=$((skip + s))
[ "$f" -gt 0 ] && failed="$failed$(sed -n 's/^integration: .*(failed:\(.*\))$/\1/p' "$logs/integration.out")"

step bench-smoke env BENCH_ITER=1 BENCH_BIN="$BENCH_BIN" sh "$repo/bench/run.sh"
step fuzz-smoke ${MAKE:-make} -s -C "$repo" fuzz FUZZ_SECONDS=10

echo "check: $pass passed, $fail failed, $skip skipped${failed:+ (failed:$failed)}"
[ $fail -eq 0 ]
