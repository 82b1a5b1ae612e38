#!/bin/bash
# The binary is built hardened: PIE, full RELRO (BIND_NOW), a stack
# protector and FORTIFY's checked functions. Needs no test bed: readelf
# on the binary under test.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
command -v readelf >/dev/null 2>&1 || tb_skip "readelf is not installed"
bin=$TRIAGED
# make valgrind runs a wrapper script: test the binary it runs.
head -c 2 "$bin" | grep -q '#!' && bin=$TB_REPO/triaged
[ -f "$bin" ] || tb_skip "no binary to inspect"
readelf -h "$bin" | grep -q 'Type:.*DYN' || tb_fail "not PIE"
readelf -l "$bin" | grep -q GNU_RELRO || tb_fail "no RELRO"
readelf -d "$bin" | grep -Eq 'BIND_NOW|FLAGS.*NOW' || tb_fail "RELRO is not full"
readelf -sW --dyn-syms "$bin" | grep -q '__stack_chk_fail' ||
    tb_fail "no stack protector"
# A sanitized build leaves FORTIFY out on purpose.
case $bin in
*obj-san*) ;;
*) readelf -sW --dyn-syms "$bin" | grep -Eq '__[a-z]+_chk@' ||
    tb_fail "no FORTIFY checked functions" ;;
esac
echo PASS
