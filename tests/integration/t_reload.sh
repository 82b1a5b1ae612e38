#!/bin/bash
# SIGHUP reload: a broken rules file is reported with file:line and the old
# rules stay in force; once fixed, the new rules are used at once. The
# configuration is reloaded too: a new [practice] phone is in the next
# reply; a broken configuration keeps the old one in force.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
rules=$TB_DIR/rules
cp -r "$TB_REPO/rules" "$rules"
conf=$TB_DIR/triaged.conf
tb_conf "$conf" triage.poll_interval=30s "triage.rules=$rules"
sample=$TB_REPO/tests/data/samples/03-couples.eml
# The couples inquiry again, from another sender (one reply per sender).
inquiry()
{
	sed -e "s/sam\.t@client\.example/$1@client.example/g" \
	    -e "s/couples-3@/$1@/" "$sample" >"$TB_DIR/$1.eml"
	tb_append "$TB_USER" INBOX "$TB_DIR/$1.eml" >/dev/null
}
# The tags triaged recorded for the message from $1.
tags_of()
{
	"$TRIAGED" -c "$conf" queue --json | "$TB_PYTHON" -c '
import json, sys
for r in json.load(sys.stdin):
    if r["from"].startswith(sys.argv[1] + "@"):
        print(" ".join(r["tags"]))' "$1"
}
wait_log()
{
	for i in $(seq 150); do
		grep -q "$1" "$TB_DIR/run.log" && return 0
		sleep 0.1
	done
	tb_fail "no \"$1\" in the log: $(cat "$TB_DIR/run.log")"
}

"$TRIAGED" -c "$conf" once || tb_fail "once failed"

# A reload asked while the daemon still loads its rules and model (a
# logrotate at boot) is taken once it runs; it never kills it.
"$TRIAGED" -c "$conf" run 2>"$TB_DIR/early.log" &
early=$!
tb_atexit "kill $early 2>/dev/null; wait $early 2>/dev/null"
# Once it blocks SIGHUP to take it in its loop, which must be before the
# rules and the model are loaded ("started" is logged after).
for i in $(seq 5000); do
	blk=$(awk '/^SigBlk/ { print $2 }' /proc/$early/status 2>/dev/null)
	[ -n "$blk" ] && [ $(( 0x$blk & 1 )) = 1 ] && break
	grep -q started "$TB_DIR/early.log" && break
	sleep 0.001
done
grep -q started "$TB_DIR/early.log" &&
    tb_fail "SIGHUP was blocked only after the rules were loaded"
kill -HUP "$early"
# The reload parses everything again: slow under a sanitizer or valgrind.
for i in $(seq $((600 * ${TB_SLOW:-1}))); do
	grep -q "reloaded" "$TB_DIR/early.log" && break
	kill -0 "$early" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$early" 2>/dev/null ||
    tb_fail "a SIGHUP while loading killed the daemon: $(cat "$TB_DIR/early.log")"
grep -q "reloaded" "$TB_DIR/early.log" ||
    tb_fail "the early SIGHUP was not taken: $(cat "$TB_DIR/early.log")"
kill -TERM "$early"
wait "$early" || tb_fail "run exited $? on SIGTERM after the early reload"

"$TRIAGED" -c "$conf" run 2>"$TB_DIR/run.log" &
pid=$!
tb_atexit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
wait_log started

# Break the rules: a bad pattern and an unknown category, two errors.
cat >>"$rules/40-couples.rules" <<'RULES'

rule broken-pattern
	match body /(unclosed/
	category couples

rule unknown-category
	match body /x/
	category nowhere
RULES
kill -HUP "$pid"
wait_log "reload failed"
grep -q '40-couples.rules:[0-9]*:[0-9]*: .*missing closing parenthesis' \
    "$TB_DIR/run.log" || tb_fail "the pattern error lacks file:line:col"
grep -q '40-couples.rules:[0-9]*:.*nowhere' "$TB_DIR/run.log" ||
    tb_fail "the second error was not reported"
kill -0 "$pid" || tb_fail "a broken reload killed the daemon"

# The old rules are in force: the inquiry is triaged and answered.
inquiry first
tb_wait_smtp 1 60 || tb_fail "no reply with the old rules in force"
[ "$(tags_of first)" = "" ] || tb_fail "unexpected tags: $(tags_of first)"

# Fixed, with a new rule: it takes effect after the next SIGHUP.
cp "$TB_REPO/rules/40-couples.rules" "$rules/40-couples.rules"
cat >"$rules/45-reload-test.rules" <<'RULES'
rule reload-test
	match subject /couples/i
	category couples
	tag reloaded
RULES
kill -HUP "$pid"
wait_log "reloaded the configuration"
inquiry second
tb_wait_smtp 2 60 || tb_fail "no reply after the fixed reload"
[ "$(tags_of second)" = "reloaded" ] ||
    tb_fail "the new rules are not in force: tags '$(tags_of second)'"

# The configuration: a new phone number is in the next reply.
sed -i 's/^phone = .*/phone = (555) 010-0199/' "$conf"
grep -q '^phone = (555) 010-0199' "$conf" || tb_fail "the test's premise: no phone key"
kill -HUP "$pid"
for i in $(seq 150); do
	[ "$(grep -c 'reloaded the configuration' "$TB_DIR/run.log")" -ge 2 ] &&
	    break
	sleep 0.1
done
inquiry third
tb_wait_smtp 3 60 || tb_fail "no reply after the configuration reload"
grep -l 'third@client.example' "$TB_SMTP_DIR"/*.json |
    sed 's/json$/eml/' | xargs grep -q '010-0199' ||
    tb_fail "the reply does not carry the reloaded phone number"

# A broken configuration: reported, the old one stays in force.
echo 'no_such_key = 1' >>"$conf"
kill -HUP "$pid"
for i in $(seq 150); do
	[ "$(grep -c 'reload failed' "$TB_DIR/run.log")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c 'reload failed' "$TB_DIR/run.log")" -ge 2 ] ||
    tb_fail "a broken configuration was not reported: $(cat "$TB_DIR/run.log")"
grep -q 'triaged.conf:[0-9]*: .*no_such_key' "$TB_DIR/run.log" ||
    tb_fail "the configuration error lacks file:line"
inquiry fourth
tb_wait_smtp 4 60 || tb_fail "no reply with the old configuration in force"
grep -l 'fourth@client.example' "$TB_SMTP_DIR"/*.json |
    sed 's/json$/eml/' | xargs grep -q '010-0199' ||
    tb_fail "the old configuration is not in force"

kill -TERM "$pid"
wait "$pid" || tb_fail "run exited $? on SIGTERM"
echo PASS
