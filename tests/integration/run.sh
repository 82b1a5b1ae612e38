#!/bin/sh
# Run triaged's integration tests: every tests/integration/t_*.sh, or those
# named as arguments (t_imap_tls or t_imap_tls.sh). Each runs under bash -x
# with its own test bed; the log is kept and printed only on failure.
# Exit code 77 from a test means skip, which counts as a failure when
# CI=true. $TRIAGED names the binary (default: the repository's ./triaged).
# TB_TEST_TIMEOUT (seconds, default 300) bounds each test.

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
tpid=
# On INT/TERM, let timeout pass the signal on to the test, which then stops
# its own test bed; wait for that before leaving.
stop()
{
	if [ -n "$tpid" ]; then
		kill -TERM "$tpid" 2>/dev/null
		wait "$tpid"
	fi
	exit "$1"
}
trap 'rm -rf "$logdir"' EXIT
trap 'stop 130' INT
trap 'stop 143' TERM

pass=0
fail=0
skip=0
failed=
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
	log=$logdir/$name.log
	start=$(date +%s)
	timeout -k 10 "${TB_TEST_TIMEOUT:-300}" bash -x "$t" >"$log" 2>&1 \
	    </dev/null &
	tpid=$!
	wait "$tpid"
	rc=$?
	tpid=
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "ok   $name (${secs}s)"
		pass=$((pass + 1))
	elif [ $rc -eq 77 ] && [ $ci = 0 ]; then
		why=$(grep '^SKIP:' "$log" | tail -n 1)
		echo "skip $name${why:+: ${why#SKIP: }}"
		skip=$((skip + 1))
	else
		[ $rc -eq 124 ] && echo "timeout after ${secs}s" >>"$log"
		[ $rc -eq 77 ] && echo "skipped, which fails under CI=true" \
		    >>"$log"
		echo "FAIL $name (exit $rc, ${secs}s); log follows"
		sed 's/^/    /' "$log"
		fail=$((fail + 1))
		failed="$failed $name"
	fi
done

echo "integration: $pass passed, $fail failed, $skip skipped${failed:+ (failed:$failed)}"
[ $fail -eq 0 ]
