#!/bin/bash
# [queue] file_into through the real binary and Dovecot:
# - each triaged inquiry moves to its category's folder (created,
#   subscribed, named in modified UTF-7), keeps its keyword, \Flagged and
#   unread state; noise stays in the inbox unless file_noise = yes; a
#   message the therapist marked \Deleted in the inbox is never expunged;
# - the handled check follows the messages into their folders (\Answered
#   there, or deleted there);
# - without MOVE (Dovecot told to hide it), UID COPY + UID EXPUNGE of the
#   moved UIDs alone;
# - `triaged reply ID` reads a filed item from its folder;
# - one the therapist drags into another category's folder is a
#   correction, its keyword follows, it stays open there, and
#   `triaged train` learns from it;
# - a move a crash interrupted (the state says begun; the copy is in the
#   folder, the original still in the inbox, or already gone) is finished
#   on the next pass without a duplicate;
# - the crisis alert names the folder;
# - with CONDSTORE a running daemon skips folders whose STATUS did not
#   change, and sees the ones that did;
# - a bad file_into is a config error naming the file and line.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
command -v sqlite3 >/dev/null || tb_fail "sqlite3 (the CLI) is needed"
tb_start
conf=$TB_DIR/triaged.conf
db=$TB_DIR/state.db
tb_conf "$conf" 'queue.file_into=Café/%c' 'alerts.crisis_to=phone@alerts.example'
tb=("$TB_PYTHON" "$TB_LIBDIR/tb.py")

q()
{
	sqlite3 -cmd '.timeout 5000' "$db" "$1"
}
# A message from writer$1 with body $2 (unique Message-ID), into INBOX;
# prints its UID.
mail()
{
	printf 'Return-Path: <writer%s@client.example>\nFrom: <writer%s@client.example>\nTo: hello@practice.example\nSubject: hello %s\nDate: %s\nMessage-ID: <file-%s@client.example>\nMIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n' \
	    "$1" "$1" "$1" "$(date -R)" "$1" "$2" >"$TB_DIR/m$1.eml"
	tb_append "$TB_USER" INBOX "$TB_DIR/m$1.eml"
}
# How many messages of a folder hold Message-ID <file-$2@...>.
copies()
{
	rm -rf "$TB_DIR/dump"
	mkdir -p "$TB_DIR/dump"
	"${tb[@]}" fetch-all "$TB_USER" "$1" "$TB_DIR/dump" >/dev/null
	grep -l -i "^Message-ID: <file-$2@" "$TB_DIR/dump"/* 2>/dev/null |
	    wc -l
}

# The first run files what it finds but answers none of it.
mail 0 "Hello, I am looking for a therapist for depression." >/dev/null
"$TRIAGED" -c "$conf" once || tb_fail "first once failed"
[ "$(copies 'Café/Individual' 0)" = 1 ] || tb_fail "first-run mail not filed"
mail 1 "I want to kill myself tonight, I have the pills ready." >/dev/null
mail 2 "My husband and I keep fighting and want couples counseling." >/dev/null
mail 3 "I would like therapy for anxiety at work." >/dev/null
tb_append "$TB_USER" INBOX "$TB_REPO/tests/data/samples/05-newsletter.eml" \
    >/dev/null
# The therapist's own message, marked deleted but not expunged.
kept=$("${tb[@]}" append "$TB_USER" INBOX "$TB_DIR/m3.eml" '' '\Deleted')
[ -n "$kept" ] || tb_fail "no APPENDUID"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once1.log" || {
	cat "$TB_DIR/once1.log"; tb_fail "once failed"; }
cat "$TB_DIR/once1.log"
grep -q 'filed into Café/Crisis (UID MOVE)' "$TB_DIR/once1.log" ||
    tb_fail "not moved with UID MOVE"
tb_wait_smtp 4 10 || tb_fail "the replies and the alert were not sent"
# The crisis alert names the folder the message now sits in.
grep -l 'phone@alerts.example' "$TB_SMTP_DIR"/*.json >"$TB_DIR/alert.json" ||
    tb_fail "no crisis alert"
grep -q 'Where: the Café/Crisis folder, flagged' \
    "$(sed 's/\.json$/.eml/' "$TB_DIR/alert.json")" || tb_fail "alert: folder"

"${tb[@]}" list "$TB_USER" | tee "$TB_DIR/list"
for f in Crisis Couples Individual; do
	grep -q "^Caf&AOk-/$f " "$TB_DIR/list" ||
	    tb_fail "folder Café/$f missing (modified UTF-7)"
done
! grep -q 'Not inquiry' "$TB_DIR/list" || tb_fail "noise was filed"
"${tb[@]}" lsub "$TB_USER" | tee "$TB_DIR/lsub"
grep -q '^Caf&AOk-/Crisis$' "$TB_DIR/lsub" || tb_fail "not subscribed"

"${tb[@]}" flags "$TB_USER" 'Café/Crisis' | tee "$TB_DIR/crisis.flags"
[ "$(wc -l <"$TB_DIR/crisis.flags")" = 1 ] || tb_fail "crisis folder"
grep -q '\$Triage_crisis' "$TB_DIR/crisis.flags" &&
    grep -q '\\Flagged' "$TB_DIR/crisis.flags" ||
    tb_fail "keyword or \\Flagged lost in the move"
! grep -q '\\Seen' "$TB_DIR/crisis.flags" || tb_fail "the move read it"
"${tb[@]}" flags "$TB_USER" INBOX | tee "$TB_DIR/inbox.flags"
[ "$(wc -l <"$TB_DIR/inbox.flags")" = 2 ] ||
    tb_fail "the inbox should hold the newsletter and the deleted one"
grep -q "^$kept .*\\\\Deleted" "$TB_DIR/inbox.flags" ||
    tb_fail "the therapist's deleted message was expunged"
[ "$(q "SELECT count(*) FROM messages WHERE moved = 2 AND folder_uid > 0")" = 4 ] ||
    tb_fail "state: $(q 'SELECT uid, category, moved, folder, folder_uid FROM messages')"
[ "$(q "SELECT moved FROM messages WHERE category = 'not-inquiry'")" = 3 ] ||
    tb_fail "noise not noted as staying"
# The queue says where each item went.
id=$(q "SELECT id FROM messages WHERE category = 'crisis'")
"$TRIAGED" -c "$conf" queue show "$id" | tee "$TB_DIR/show"
grep -q '^Folder:    Café/Crisis, UID 1 ' "$TB_DIR/show" || tb_fail "queue show"
"$TRIAGED" -c "$conf" queue --json | grep -q '"folder":"Café/Crisis"' ||
    tb_fail "queue --json has no folder"

# The therapist answers the couples inquiry in its folder and deletes
# the individual one there: the queue follows them.
"${tb[@]}" store "$TB_USER" 'Café/Couples' 1 '\Answered' ||
    tb_fail "cannot set \\Answered"
"${tb[@]}" expunge "$TB_USER" 'Café/Individual' 2 || tb_fail "cannot delete"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once2.log" || tb_fail "once failed"
! grep -v 'state folder' "$TB_DIR/once2.log" | grep -qi 'warn\|error' || {
	cat "$TB_DIR/once2.log"; tb_fail "following into folders warned"; }
[ "$(q "SELECT handled_how FROM messages WHERE category = 'couples'")" = answered ] ||
    tb_fail "\\Answered in the folder not seen"
[ "$(q "SELECT handled_how FROM messages WHERE uid = 4")" = moved ] ||
    tb_fail "deleted in the folder not seen"
[ -z "$(q "SELECT handled_how FROM messages WHERE category = 'crisis'")" ] ||
    tb_fail "the crisis item was left alone"

# `triaged reply ID` reads a filed first-run item where it sits now.
id0=$(q "SELECT id FROM messages WHERE uid = 1")
"$TRIAGED" -c "$conf" reply "$id0" || tb_fail "reply to a filed item failed"
tb_wait_smtp 5 10 || tb_fail "the late reply was not sent"
grep -l 'writer0@client.example' "$TB_SMTP_DIR"/*.json >/dev/null ||
    tb_fail "no reply to writer0"

# The therapist drags that item from Café/Individual into Café/Couples:
# a correction; the keyword follows and the item stays open there.
"${tb[@]}" move "$TB_USER" 'Café/Individual' 1 'Café/Couples' ||
    tb_fail "cannot drag"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/drag.log" || tb_fail "once failed"
cat "$TB_DIR/drag.log"
[ "$(q "SELECT category, folder, handled_at IS NULL FROM messages WHERE id = $id0")" = 'couples|Café/Couples|1' ] ||
    tb_fail "drag: $(q "SELECT category, folder, folder_uid, handled_how FROM messages WHERE id = $id0")"
"$TRIAGED" -c "$conf" queue --corrections | tee "$TB_DIR/corr"
grep -q 'individual.*couples' "$TB_DIR/corr" || tb_fail "no correction listed"
"${tb[@]}" flags "$TB_USER" 'Café/Couples' | tee "$TB_DIR/couples.flags"
grep -q '\$Triage_couples' <(grep -v '\Answered' "$TB_DIR/couples.flags") &&
    ! grep -q '\$Triage_individual' "$TB_DIR/couples.flags" ||
    tb_fail "the keyword did not follow"
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
[ "$(q "SELECT count(*) FROM corrections")" = 1 ] ||
    tb_fail "the correction flip-flopped"
# `triaged train` learns from it: fetched again from its folder, counted
# as a couples message (a copy of the rules, so the shipped model stays).
cp -r "$TB_REPO/rules" "$TB_DIR/rules"
rm -f "$TB_DIR/rules/triage.model"
mkdir "$TB_DIR/corpus"
cp "$TB_REPO/tests/data/samples/01-crisis.eml" "$TB_REPO/tests/data/samples/03-couples.eml" \
    "$TB_DIR/corpus/"
printf 'category: crisis\ntags: urgent\n' >"$TB_DIR/corpus/01-crisis.expect"
printf 'category: couples\n' >"$TB_DIR/corpus/03-couples.expect"
tb_conf "$TB_DIR/train.conf" 'queue.file_into=Café/%c' \
    "triage.rules=$TB_DIR/rules"
"$TRIAGED" -c "$TB_DIR/train.conf" train "$TB_DIR/corpus" | tee "$TB_DIR/train.out" ||
    tb_fail "train failed"
grep -q 'trained on 2 messages .* and 1 correction$' "$TB_DIR/train.out" ||
    tb_fail "the correction was not trained on"
grep -q '^category couples 2 ' "$TB_DIR/rules/triage.model" ||
    tb_fail "model: $(grep '^category' "$TB_DIR/rules/triage.model")"

# A server without MOVE: UID COPY, then UID EXPUNGE of those alone.
tb_dovecot_stop
echo 'imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS' \
    >>"$TB_DOVECOT_CONF"
tb_dovecot_start
u4=$(mail 4 "Looking for help with grief after my mother died.")
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once3.log" || {
	cat "$TB_DIR/once3.log"; tb_fail "once without MOVE failed"; }
grep -q 'filed into Café/Individual (UID COPY, then UID EXPUNGE' \
    "$TB_DIR/once3.log" || { cat "$TB_DIR/once3.log"; tb_fail "no COPY"; }
[ "$(copies 'Café/Individual' 4)" = 1 ] || tb_fail "copy missing"
[ "$(copies INBOX 4)" = 0 ] || tb_fail "original left in the inbox"
"${tb[@]}" flags "$TB_USER" INBOX | grep -q "^$kept .*\\\\Deleted" ||
    tb_fail "UID EXPUNGE removed the therapist's deleted message"

# A crash after the copy, before the original went: the state says the
# move began, the copy is in the folder, the original (same Message-ID)
# is back in the inbox. The next pass removes the original only.
u4b=$(tb_append "$TB_USER" INBOX "$TB_DIR/m4.eml")
q "UPDATE messages SET uid = $u4b, moved = 1, folder_uid = NULL WHERE uid = $u4"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once4.log" || tb_fail "once failed"
cat "$TB_DIR/once4.log"
grep -q 'interrupted; the copy is there' "$TB_DIR/once4.log" ||
    tb_fail "the interrupted move was not looked into"
[ "$(copies 'Café/Individual' 4)" = 1 ] || tb_fail "a duplicate in the folder"
[ "$(copies INBOX 4)" = 0 ] || tb_fail "the original stayed"
[ "$(q "SELECT moved FROM messages WHERE uid = $u4b")" = 2 ] &&
    [ "$(q "SELECT folder_uid > 0 FROM messages WHERE uid = $u4b")" = 1 ] ||
    tb_fail "state after recovery: $(q "SELECT moved, folder_uid FROM messages WHERE uid = $u4b")"
# A crash after a move the server finished: the state says begun, the
# original is gone. The next pass finds it and moves nothing.
q "UPDATE messages SET moved = 1, folder_uid = NULL WHERE category = 'crisis'"
"$TRIAGED" -c "$conf" once 2>"$TB_DIR/once5.log" || tb_fail "once failed"
[ "$(copies 'Café/Crisis' 1)" = 1 ] || tb_fail "crisis duplicated"
[ "$(q "SELECT moved = 2 AND folder_uid > 0 FROM messages WHERE category = 'crisis'")" = 1 ] ||
    tb_fail "crisis state not restored"

# file_noise = yes: new noise moves too.
tb_conf "$conf" 'queue.file_into=Café/%c' 'queue.file_noise=yes'
sed 's/^Message-ID:.*/Message-ID: <file-5@client.example>/' \
    "$TB_REPO/tests/data/samples/05-newsletter.eml" >"$TB_DIR/m5.eml"
tb_append "$TB_USER" INBOX "$TB_DIR/m5.eml" >/dev/null
"$TRIAGED" -c "$conf" once || tb_fail "once failed"
[ "$(copies 'Café/Not inquiry' 5)" = 1 ] || tb_fail "noise not filed"

# With CONDSTORE (Dovecot's own capabilities again) a running daemon
# does not read a quiet folder again: STATUS says it is unchanged. A
# flag the therapist sets there changes it, and is seen.
tb_dovecot_stop
sed -i '/^imap_capability/d' "$TB_DOVECOT_CONF"
tb_dovecot_start
"$TRIAGED" -v -c "$conf" run 2>"$TB_DIR/runv.log" &
pid=$!
tb_atexit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
wait_log()
{
	local i
	for i in $(seq $((200 * ${TB_SLOW:-1}))); do
		[ "$(grep -c "$1" "$TB_DIR/runv.log")" -ge "${2:-1}" ] && return 0
		sleep 0.05
	done
	cat "$TB_DIR/runv.log"
	return 1
}
wait_log 'started' || tb_fail "the daemon did not start"
# A pass reads every folder once; the pass after it skips the quiet ones.
mail 6 "I am hoping to find a therapist for my panic attacks." >/dev/null
wait_log ': reply sent' || tb_fail "the first pass did not end"
mail 7 "Looking for help with stress at work." >/dev/null
wait_log 'Café/Crisis: unchanged since the last pass' ||
    tb_fail "a quiet folder was read again"
"${tb[@]}" store "$TB_USER" 'Café/Crisis' 1 '\Answered' ||
    tb_fail "cannot set \Answered"
mail 8 "I would like to talk to someone about my grief." >/dev/null
for i in $(seq 100); do
	[ "$(q "SELECT handled_how FROM messages WHERE category = 'crisis'")" = answered ] &&
	    break
	sleep 0.1
done
[ "$(q "SELECT handled_how FROM messages WHERE category = 'crisis'")" = answered ] ||
    tb_fail "a change in a quiet folder was missed"
kill "$pid"
wait "$pid"

# A bad folder name is a config error naming the file and line.
tb_conf "$TB_DIR/bad.conf" 'queue.file_into=/Inquiries/%c'
! "$TRIAGED" -c "$TB_DIR/bad.conf" check 2>"$TB_DIR/bad.err" ||
    tb_fail "a bad file_into passed the check"
line=$(grep -n '^file_into' "$TB_DIR/bad.conf" | cut -d: -f1)
grep -q "bad.conf:$line: .*file_into" "$TB_DIR/bad.err" ||
    tb_fail "no file and line: $(cat "$TB_DIR/bad.err")"
tb_conf "$TB_DIR/bad.conf" 'queue.file_into=Inquiries/%d'
! "$TRIAGED" -c "$TB_DIR/bad.conf" check 2>/dev/null ||
    tb_fail "%d passed the check"
echo "ok"
