#!/bin/bash
# First run: mail already in the mailbox is triaged and filed but not
# answered (unless first_run = reply); mail older than reply_max_age is
# never answered; a state that starts afresh never answers mail that the
# mailbox shows was triaged ($Triage_ keyword) or answered (Sent).
. "$(dirname "$0")/lib.sh"
tb_need_triaged
tb_start
samples=$TB_REPO/tests/data/samples
old=$(($(date +%s) - 5 * 86400))

tb_append "$TB_USER" INBOX "$samples/03-couples.eml" >/dev/null
tb_conf "$TB_DIR/a.conf"
"$TRIAGED" -c "$TB_DIR/a.conf" once || tb_fail "once failed"
sleep 0.3
[ "$(tb_smtp_count)" = 0 ] || tb_fail "first run answered existing mail"
tb_flags "$TB_USER" INBOX | grep -q '\$Triage_couples' ||
    tb_fail "first run did not file the keyword"
# Not answered, and the queue says why (it is not "handled": nobody has).
"$TRIAGED" -c "$TB_DIR/a.conf" queue --json |
    grep -q '"status":"suppressed","suppressed":"first-run"' ||
    tb_fail "first-run mail is not suppressed (first-run) in the queue"
"$TRIAGED" -c "$TB_DIR/a.conf" queue | grep -q 'suppressed (first-run)' ||
    tb_fail "the queue table does not say first-run"

# A message 5 days old arriving later is triaged, not answered.
tb_append "$TB_USER" INBOX "$samples/04-individual.eml" "$old" >/dev/null
"$TRIAGED" -c "$TB_DIR/a.conf" once || tb_fail "once failed"
sleep 0.3
[ "$(tb_smtp_count)" = 0 ] || tb_fail "old mail was answered"
"$TRIAGED" -c "$TB_DIR/a.conf" queue --json | grep -q '"too-old"' ||
    tb_fail "old mail not marked too-old"

# first_run = reply with a state that starts afresh (lost, or a new
# machine) on a mailbox triaged before: the mailbox is the backup of the
# state. Mail with a $Triage_ keyword was triaged (the couples and the old
# message above), mail with a reply in Sent was answered (by hand here):
# neither is answered again. Untouched mail that was there is answered.
now=$(date -R)
msg()
{
	cat >"$TB_DIR/$1.eml" <<EOF
Return-Path: <$1@client.example>
From: <$1@client.example>
To: hello@practice.example
Subject: Looking for a therapist
Date: $now
Message-ID: <$1.id@client.example>
MIME-Version: 1.0
Content-Type: text/plain

Hello, I have been anxious for months and would like to start therapy.
EOF
	tb_append "$TB_USER" INBOX "$TB_DIR/$1.eml" >/dev/null
}
msg untouched
msg byhand
cat >"$TB_DIR/sent.eml" <<EOF
From: Harbor Counseling <hello@practice.example>
To: <byhand@client.example>
Subject: Re: Looking for a therapist
Date: $now
Message-ID: <answer.byhand@practice.example>
In-Reply-To: <byhand.id@client.example>
MIME-Version: 1.0
Content-Type: text/plain

Thank you for writing; I can see you on Tuesday.
EOF
tb_append "$TB_USER" Sent "$TB_DIR/sent.eml" >/dev/null
tb_conf "$TB_DIR/b.conf" triage.first_run=reply \
    "triage.state=$TB_DIR/b.db"
"$TRIAGED" -c "$TB_DIR/b.conf" once || tb_fail "once failed"
tb_wait_smtp 1 5
sleep 0.5
[ "$(tb_smtp_count)" = 1 ] ||
    tb_fail "first_run=reply on a triaged mailbox: $(tb_smtp_count) replies"
grep -l '"<untouched@client.example>"' "$TB_SMTP_DIR"/*.json >/dev/null ||
    tb_fail "the untouched inquiry was not the one answered"
"$TRIAGED" -c "$TB_DIR/b.conf" queue --json >"$TB_DIR/b.json" ||
    tb_fail "queue failed"
[ "$(grep -o '"already-triaged"' "$TB_DIR/b.json" | wc -l)" = 2 ] ||
    tb_fail "keyword mail not marked already-triaged: $(cat "$TB_DIR/b.json")"
grep -q '"already-answered"' "$TB_DIR/b.json" ||
    tb_fail "mail answered by hand not marked: $(cat "$TB_DIR/b.json")"
echo PASS
