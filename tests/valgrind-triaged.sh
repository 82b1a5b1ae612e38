#!/bin/sh
# Run the triaged binary under valgrind (make valgrind sets TRIAGED to this
# script): any memory error or leak makes the command exit 99, which fails
# the integration test that ran it.
repo=$(cd "$(dirname "$0")/.." && pwd)
exec valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect \
    --suppressions="$repo/tests/valgrind.supp" "$repo/triaged" "$@"
