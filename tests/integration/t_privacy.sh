#!/bin/bash
# Private by default, through the real binary against the test bed:
# `forget ADDRESS` erases one person's messages, replies and window
# entries (a relay's reply included) from the database files, not only
# from the rows; retention erases the personal data of old messages on a
# pass and keeps their verdicts; the database and its WAL are 0600; a
# missing state folder is a configuration error (exit 78, "error:").
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
conf=$TB_DIR/triaged.conf
short=$TB_DIR/short.conf
tb_conf "$conf" "triage.relays=@forms.example"
tb_conf "$short" "triage.relays=@forms.example" "triage.retention=1s"
db=$TB_DIR/state.db

# An inquiry from $1 (Return-Path and From) with subject $2; $3 Reply-To,
# $4 the text (an individual inquiry by default).
inquiry()
{
	local f=$TB_DIR/$RANDOM.eml
	{
		printf 'Return-Path: <%s>\nFrom: <%s>\n' "$1" "$1"
		[ -n "${3:-}" ] && printf 'Reply-To: <%s>\n' "$3"
		printf 'To: hello@practice.example\nSubject: %s\n' "$2"
		printf 'Date: %s\n' "$(date -R)"
		printf 'Message-ID: <%s.%s@client.example>\n' "$RANDOM" "$RANDOM"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain\n\n'
		printf '%s\n' "${4:-Hello, I would like to start therapy for anxiety.}"
	} >"$f"
	tb_append "$TB_USER" INBOX "$f" >/dev/null
}

# Does the database or its WAL hold the bytes of $1?
in_state()
{
	grep -aqF -- "$1" "$db" "$db-wal" 2>/dev/null
}

"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
inquiry dana.person@client.example "Dana-Subject-1"
inquiry dana.person@client.example "Dana-Subject-2"
# Through a web form: another template, so the window lets it be answered.
inquiry form@forms.example "Dana-Via-Form" dana.person@client.example \
    "My husband and I would like couples counseling, we argue constantly."

inquiry eli.other@client.example "Eli-Subject"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once.log" ||
    tb_fail "once failed: $(cat "$TB_DIR/once.log")"
tb_wait_smtp 3 10 || tb_fail "replies were not sent"
[ "$(stat -c %a "$db")" = 600 ] || tb_fail "state.db mode $(stat -c %a "$db")"
# The WAL is removed when the last connection closes; when it is there,
# it is as private as the database.
[ ! -e "$db-wal" ] || [ "$(stat -c %a "$db-wal")" = 600 ] || tb_fail "WAL mode"
in_state dana.person@client.example || tb_fail "the test's premise: no address"
in_state Dana-Subject-1 || tb_fail "the test's premise: no subject"

"$TRIAGED" -c "$conf" forget Dana.Person@client.example >"$TB_DIR/forget.out" ||
    tb_fail "forget failed"
grep -q '^Forgot Dana.Person@client.example: 3 messages, 2 replies, 2 reply-window entries' \
    "$TB_DIR/forget.out" || tb_fail "forget said: $(cat "$TB_DIR/forget.out")"
for s in dana.person@client.example Dana-Subject-1 Dana-Subject-2 Dana-Via-Form; do
	! in_state "$s" || tb_fail "still in the state files: $s"
done
in_state Eli-Subject || tb_fail "forget erased someone else"
"$TRIAGED" -c "$conf" queue --json >"$TB_DIR/q.json" || tb_fail "queue failed"
! grep -q Dana "$TB_DIR/q.json" || tb_fail "queue still shows Dana"
"$TRIAGED" -c "$conf" forget nobody@client.example | grep -q '^Nothing stored about' ||
    tb_fail "forget of an unknown address"
"$TRIAGED" -c "$conf" forget 'not an address' 2>/dev/null
[ $? = 64 ] || tb_fail "forget of a non-address is not a usage error"
# The daemon does not answer Dana again on the next pass.
"$TRIAGED" -c "$conf" once || tb_fail "once after forget failed"
sleep 0.3
[ "$(tb_smtp_count)" = 3 ] || tb_fail "mail after forget: $(tb_smtp_count)"

# Retention: after 1 s everything is old; a pass erases it.
sleep 1.5
"$TRIAGED" -c "$short" once 2>"$TB_DIR/ret.log" || tb_fail "once failed"
grep -q 'retention: erased the personal data of 1 message' "$TB_DIR/ret.log" ||
    tb_fail "retention log: $(cat "$TB_DIR/ret.log")"
! in_state Eli-Subject || tb_fail "retention left the subject in the files"
! in_state eli.other@client.example || tb_fail "retention left the address"
"$TRIAGED" -c "$conf" queue >"$TB_DIR/q.txt" || tb_fail "queue failed"
grep -q 'individual .*replied .*(erased)' "$TB_DIR/q.txt" ||
    tb_fail "the verdict did not stay: $(cat "$TB_DIR/q.txt")"

# A state folder that is not there is a configuration error.
tb_conf "$TB_DIR/gone.conf" "triage.state=$TB_DIR/no-such-folder/state.db"
"$TRIAGED" -c "$TB_DIR/gone.conf" once 2>"$TB_DIR/gone.log"
rc=$?
[ "$rc" = 78 ] || tb_fail "missing state folder: exit $rc"
grep -q 'error: the state folder .*no-such-folder is missing: create it' \
    "$TB_DIR/gone.log" || tb_fail "missing folder log: $(cat "$TB_DIR/gone.log")"
echo PASS
