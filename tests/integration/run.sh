#!/bin/bash
# Run triaged's integration tests: every tests/integration/t_*.sh, or those
# named as arguments (t_imap_tls or t_imap_tls.sh). Each runs under bash -x
# with its own test bed; the log is kept and printed only on failure.
# Exit code 77 from a test means skip, which counts as a failure when
# CI=true. $TRIAGED names the binary (default: the repository's ./triaged).
# TB_TEST_TIMEOUT (seconds, default 300) bounds each test; TB_JOBS (default
# 2) tests run at a time.

dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$dir/../.." && pwd)
: "${TRIAGED:=$repo/triaged}"
export TRIAGED

ci=0
[ "${CI:-}" = true ] && ci=1

# Tests that need Dovecot skip (77) through tb_start when it is missing;
# under CI=true a skip counts as a failure.

if [ $# -eq 0 ]; then
	set -- "$dir"/t_*.sh
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/triaged-it.XXXXXX") || exit 1
# On INT/TERM, pass the signal on to the running tests (through timeout),
# which then stop their own test beds; wait for that before leaving.
stop()
{
	local p
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	wait
	exit "$1"
}
trap 'rm -rf "$logdir"' EXIT
trap 'stop 130' INT
trap 'stop 143' TERM

pass=0
fail=0
skip=0
failed=
# Tests run TB_JOBS at a time (default 2: each waits mostly on its servers
# and sleeps, and every one has its own test bed and ports); each line is
# printed as its test finishes.
jobs=${TB_JOBS:-2}
running=0
pids=

# Report a finished test from its log and exit code file.
report()
{
	local name=$1 rc secs log=$logdir/$1.log
	rc=$(cat "$logdir/$name.rc")
	secs=$(cat "$logdir/$name.secs")
	if [ "$rc" -eq 0 ]; then
		echo "ok   $name (${secs}s)"
		pass=$((pass + 1))
	elif [ "$rc" -eq 77 ] && [ $ci = 0 ]; then
		why=$(grep '^SKIP:' "$log" | tail -n 1)
		echo "skip $name${why:+: ${why#SKIP: }}"
		skip=$((skip + 1))
	else
		[ "$rc" -eq 124 ] && echo "timeout after ${secs}s" >>"$log"
		[ "$rc" -eq 77 ] && echo "skipped, which fails under CI=true" \
		    >>"$log"
		echo "FAIL $name (exit $rc, ${secs}s); log follows"
		sed 's/^/    /' "$log"
		fail=$((fail + 1))
		failed="$failed $name"
	fi
}

# Run one test in the background; its exit code lands in NAME.rc.
start_test()
{
	local t=$1 name=$2
	(
		start=$(date +%s)
		timeout -k 10 "${TB_TEST_TIMEOUT:-300}" bash -x "$t" \
		    >"$logdir/$name.log" 2>&1 </dev/null &
		tp=$!
		# A stop passes on to the test, which stops its own bed.
		trap 'kill -TERM $tp 2>/dev/null; wait $tp; exit 143' TERM INT
		wait "$tp"
		rc=$?
		echo $(($(date +%s) - start)) >"$logdir/$name.secs"
		echo "$rc" >"$logdir/$name.rc.tmp"
		mv "$logdir/$name.rc.tmp" "$logdir/$name.rc"
	) &
	pids="$pids $!"
	running=$((running + 1))
}

# Wait for one test to finish and report every one that has.
reap()
{
	local f name
	wait -n 2>/dev/null
	for f in "$logdir"/*.rc; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .rc)
		report "$name"
		rm -f "$f"
		running=$((running - 1))
	done
}

for t in "$@"; do
	case $t in
	*/*) ;;
	*) t=$dir/$t ;;
	esac
	case $t in
	*.sh) ;;
	*) t=$t.sh ;;
	esac
	name=$(basename "$t" .sh)
	if [ ! -f "$t" ]; then
		echo "FAIL $name (no such test)"
		fail=$((fail + 1))
		failed="$failed $name"
		continue
	fi
	while [ "$running" -ge "$jobs" ]; do
		reap
	done
	start_test "$t" "$name"
done
while [ "$running" -gt 0 ]; do
	reap
done

echo "integration: $pass passed, $fail failed, $skip skipped${failed:+ (failed:$failed)}"
[ $fail -eq 0 ]
