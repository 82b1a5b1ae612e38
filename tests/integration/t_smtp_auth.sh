#!/bin/bash
# SMTP authentication: a password from a file, an OAuth2 bearer token from a
# command (XOAUTH2), and a wrong password, which keeps the reply pending
# (retried later) and never shows the secret.
. "$(dirname "$0")/lib.sh"
tb_need_triaged
secret=tok-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
TB_SMTP_AUTH="hello@practice.example:$secret" TB_SMTP_REQUIRE_AUTH=1 tb_start
samples=$TB_REPO/tests/data/samples
printf '%s\n' "$secret" >"$TB_DIR/smtp.secret"
chmod 600 "$TB_DIR/smtp.secret"
printf 'not-%s\n' "$secret" >"$TB_DIR/wrong.secret"
chmod 600 "$TB_DIR/wrong.secret"
base=(smtp.user=hello@practice.example "triage.state=$TB_DIR/state.db")
tb_conf "$TB_DIR/pw.conf" "${base[@]}" "smtp.password_file=$TB_DIR/smtp.secret"
tb_conf "$TB_DIR/oauth.conf" "${base[@]}" \
    "smtp.oauth2_token_command=cat $TB_DIR/smtp.secret"
tb_conf "$TB_DIR/wrong.conf" "${base[@]}" \
    "smtp.password_file=$TB_DIR/wrong.secret"
"$TRIAGED" -c "$TB_DIR/pw.conf" once || tb_fail "first once"

# A wrong password: nothing sent, the reply stays pending with the reason.
tb_append "$TB_USER" INBOX "$samples/03-couples.eml" >/dev/null
"$TRIAGED" -c "$TB_DIR/wrong.conf" once 2>"$TB_DIR/wrong.log" ||
    tb_fail "once with a wrong SMTP password failed"
[ "$(tb_smtp_count)" = 0 ] || tb_fail "sent with a wrong password"
"$TRIAGED" -c "$TB_DIR/pw.conf" queue --json >"$TB_DIR/q.json"
grep -q '"status":"pending"' "$TB_DIR/q.json" || tb_fail "not pending"

# The right password: the pending reply goes out, authenticated.
sqlite3 "$TB_DIR/state.db" "UPDATE outbox SET next_try = 0" 2>/dev/null ||
    "$TB_PYTHON" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE outbox SET next_try = 0"); c.commit()' "$TB_DIR/state.db"
"$TRIAGED" -c "$TB_DIR/pw.conf" once 2>>"$TB_DIR/wrong.log" || tb_fail "once"
tb_wait_smtp 1 10 || tb_fail "no reply with the password"
[ "$(tb_json "$TB_SMTP_DIR/1.json" auth)" = hello@practice.example ] ||
    tb_fail "not authenticated"

# OAuth2: the token comes from a command and is sent with XOAUTH2.
tb_append "$TB_USER" INBOX "$samples/04-individual.eml" >/dev/null
"$TRIAGED" -c "$TB_DIR/oauth.conf" once 2>>"$TB_DIR/wrong.log" ||
    tb_fail "once with oauth2"
tb_wait_smtp 2 10 || tb_fail "no reply with the OAuth2 token"
[ "$(tb_json "$TB_SMTP_DIR/2.json" auth_mech)" = XOAUTH2 ] ||
    tb_fail "not XOAUTH2"

# The secret is in no log and no error.
cat "$TB_DIR/wrong.log"
! grep -q "$secret" "$TB_DIR/wrong.log" || tb_fail "secret in the log"
! grep -q "$secret" "$TB_DIR/q.json" || tb_fail "secret in the queue"
echo PASS
