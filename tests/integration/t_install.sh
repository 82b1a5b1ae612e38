#!/bin/bash
# make install as a practice meets it: everything under DESTDIR, the state
# folder private, a second install after the practice edited a rules file,
# a template and the configuration keeps their edits and puts the new
# defaults beside them as .dist files, which `triaged check` names; the
# systemd units pass systemd-analyze verify and its sandbox exposure check
# (at most 3.0 of 10; they score 1.7).
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tmp=$(mktemp -d "${TMPDIR:-/tmp}/triaged-install.XXXXXX") || exit 1
tb_atexit "rm -rf '$tmp'"
# make install installs ./triaged, the plain build; a sanitizer run
# (make check SANITIZE=1) has built only obj-san/triaged, so build it.
# SANITIZE= here: under make check SANITIZE=1, MAKEFLAGS hands the
# setting down, and with it the Makefile has no plain triaged target.
if [ ! -x "$TB_REPO/triaged" ]; then
	make -s -C "$TB_REPO" SANITIZE= triaged >"$tmp/build.out" 2>&1 ||
	    tb_fail "make triaged: $(tail -5 "$tmp/build.out")"
fi
inst()
{
	make -s -C "$TB_REPO" SANITIZE= install "$@" >"$tmp/install.out" 2>&1 ||
	    tb_fail "make install $*: $(cat "$tmp/install.out")"
}

d=$tmp/dest
inst DESTDIR="$d" PREFIX=/usr
etc=$d/etc/triaged
for f in usr/sbin/triaged usr/share/man/man8/triaged.8 \
    usr/share/man/man5/triaged.conf.5 usr/share/man/man5/triaged.rules.5 \
    usr/lib/systemd/system/triaged.service \
    usr/lib/systemd/system/triaged@.service \
    etc/triaged/triaged.conf etc/triaged/rules/10-crisis.rules \
    etc/triaged/rules/triage.model etc/triaged/templates/crisis; do
	[ -f "$d/$f" ] || tb_fail "not installed: $f"
done
[ "$(stat -c %a "$d/var/lib/triaged")" = 700 ] ||
    tb_fail "state folder mode $(stat -c %a "$d/var/lib/triaged")"
[ "$(stat -c %a "$etc/triaged.conf")" = 640 ] || tb_fail "config mode"
grep -q '^ExecStart=/usr/sbin/triaged -c /etc/triaged/triaged.conf run$' \
    "$d/usr/lib/systemd/system/triaged.service" ||
    tb_fail "unit paths: $(grep Exec "$d/usr/lib/systemd/system/triaged.service")"
! ls "$etc"/rules/*.dist "$etc"/templates/*.dist >/dev/null 2>&1 ||
    tb_fail ".dist files on a first install"

# The practice edits; an update installs again.
echo '# our own note' >>"$etc/rules/40-couples.rules"
echo 'With warm regards from all of us.' >>"$etc/templates/individual"
sed -i 's/^name = .*/name = Our Practice/' "$etc/triaged.conf"
cp "$etc/rules/40-couples.rules" "$tmp/edited.rules"
inst DESTDIR="$d" PREFIX=/usr
cmp -s "$etc/rules/40-couples.rules" "$tmp/edited.rules" ||
    tb_fail "make install overwrote an edited rules file"
grep -q '^name = Our Practice' "$etc/triaged.conf" ||
    tb_fail "make install overwrote the configuration"
cmp -s "$etc/rules/40-couples.rules.dist" "$TB_REPO/rules/40-couples.rules" ||
    tb_fail "no new default beside the edited rules file"
cmp -s "$etc/templates/individual.dist" "$TB_REPO/templates/individual" ||
    tb_fail "no new default beside the edited template"
[ -f "$etc/triaged.conf.dist" ] || tb_fail "no triaged.conf.dist"
[ "$(ls "$etc"/rules/*.dist "$etc"/templates/*.dist | wc -l)" = 2 ] ||
    tb_fail "unedited files got .dist: $(ls "$etc"/*/*.dist)"
grep -q 'kept .*40-couples.rules' "$tmp/install.out" ||
    tb_fail "install did not say what it kept: $(cat "$tmp/install.out")"

# check names each difference and still passes; the .dist template is
# not loaded as a template of its own.
tb_offline_conf "$tmp" "$etc/rules"
sed -i "s|^templates = .*|templates = $etc/templates|" "$tmp/triaged.conf"
"$TRIAGED" -c "$tmp/triaged.conf" check >"$tmp/check.out" 2>&1 ||
    tb_fail "check failed: $(cat "$tmp/check.out")"
grep -q "40-couples.rules: warning: differs from the new default .*40-couples.rules.dist" \
    "$tmp/check.out" || tb_fail "check: no rules note: $(cat "$tmp/check.out")"
grep -q "templates/individual: warning: differs from the new default" \
    "$tmp/check.out" || tb_fail "check: no template note: $(cat "$tmp/check.out")"
[ "$(grep -c warning: "$tmp/check.out")" = 2 ] ||
    tb_fail "check: other warnings: $(cat "$tmp/check.out")"
# Merged by hand: the note goes away.
cp "$etc/templates/individual.dist" "$etc/templates/individual"
rm "$etc/templates/individual.dist"
"$TRIAGED" -c "$tmp/triaged.conf" check >"$tmp/check.out" 2>&1 ||
    tb_fail "check failed after merging"
! grep -q "templates/individual" "$tmp/check.out" ||
    tb_fail "check: a note after merging: $(cat "$tmp/check.out")"

# The units, installed with paths that exist here, verify cleanly.
if command -v systemd-analyze >/dev/null 2>&1; then
	p=$tmp/prefix
	inst PREFIX="$p" SYSCONFDIR="$p/etc" STATEDIR="$p/var/lib/triaged"
	for u in triaged.service triaged@.service; do
		systemd-analyze verify --man=no "$p/lib/systemd/system/$u" \
		    >"$tmp/verify.out" 2>&1 || tb_fail "verify $u failed"
		[ ! -s "$tmp/verify.out" ] ||
		    tb_fail "verify $u: $(cat "$tmp/verify.out")"
		systemd-analyze security --offline=yes --threshold=30 \
		    "$p/lib/systemd/system/$u" >"$tmp/sec.out" 2>&1 ||
		    tb_fail "$u exposure: $(tail -1 "$tmp/sec.out")"
	done
else
	echo "note: no systemd-analyze, units not verified"
fi
echo PASS
