# Webhooks end to end on loopback: a signed delivery verified by a receiver,
# retries through a receiver that fails three times, a dead letter revived
# through the API, and nothing lost or sent twice across a restart. No
# sleeps: the receiver reports each request on a FIFO the test reads.
set -e
. "$(dirname "$0")/lib.inc"
command -v node >/dev/null || { echo "node is required (scripts/install-deps installs it)"; exit 1; }
C="$SRC/contracts/example.yaml"
DB="$TMP/baton.db"
printf 'whsec-test-3f9a\n' > "$TMP/secret"
ingest=$("$BATON" token create --db "$DB" --role ingest 2>/dev/null)
admin=$("$BATON" token create --db "$DB" --role admin 2>/dev/null)
mkfifo "$TMP/report"
exec 3<>"$TMP/report"   # read-write: opening never blocks, and a receiver's exit is no end of file

# start_receiver PORT [FAIL_FIRST]: sets $hook
start_receiver() {
    rm -f "$TMP/rport"; mkfifo "$TMP/rport"
    SECRET=whsec-test-3f9a PORT=$1 REPORT="$TMP/report" FAIL_FIRST=${2:-0} FAIL_FLAG="$TMP/failing" \
        node "$SRC/tests/cli/webhook-receiver.js" > "$TMP/rport" &
    receiver=$!
    pids="$pids $receiver"
    read -r rport < "$TMP/rport"
    hook="http://127.0.0.1:$rport/hook"
}
stop_receiver() { kill "$receiver"; wait "$receiver" || true; }

# start_server ARGS...: sets $url
start_server() {
    rm -f "$TMP/ready"; mkfifo "$TMP/ready"
    "$BATON" serve --contract "$C" --db "$DB" --listen 127.0.0.1:0 --webhook-secret-file "$TMP/secret" \
        "$@" > "$TMP/ready" 2> "$TMP/server.err" &
    server=$!
    pids="$pids $server"
    read -r line < "$TMP/ready"
    url=${line#baton: listening on }
    case "$url" in http://127.0.0.1:*) ok ;; *) bad "server did not start: $line $(cat "$TMP/server.err")"; finish; exit 1 ;; esac
}
stop_server() { kill -TERM "$server"; wait "$server" || true; }

post() { curl -s -o "$TMP/body" -w '%{http_code}' -u "$ingest:" -H 'Content-Type: application/json' --data-binary "$2" "$url$1"; }
admin_get() { curl -s -o "$TMP/body" -w '%{http_code}' -H "Authorization: Bearer $admin" "$url$1"; }
admin_post() { curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" "$url$1"; }
# outbox_until STATE PATTERN: lists the outbox rows in STATE until one
# matches. The receiver reports an attempt when it answers, before the
# server has recorded it: a bounded number of reads, never a sleep.
outbox_until() {
    n=0
    while [ $n -lt 500 ]; do
        admin_get "/api/webhooks?state=$1" >/dev/null
        grep -q "$2" "$TMP/body" && return 0
        n=$((n + 1))
    done
    return 0
}
# next: the receiver's next report line
next() { read -r got <&3; }
expect_next() { next; case "$got" in "$1") ok ;; *) bad "$2: the receiver saw '$got', want '$1'" ;; esac; }

# fast_track LEAD N: a fitting lead with context looks at pricing for three minutes
fast_track() {
    post /v1/batch "{\"batch\":[
      {\"type\":\"group\",\"userId\":\"$1\",\"groupId\":\"northwind.example\",\"traits\":{\"domain\":\"northwind.example\",\"industry\":\"software\",\"employees\":450,\"status\":\"prospect\"},\"timestamp\":\"2026-10-05T08:59:00Z\",\"messageId\":\"g-$1\"},
      {\"type\":\"identify\",\"userId\":\"$1\",\"traits\":{\"email\":\"$1@northwind.example\",\"pain\":\"triage by hand\",\"impact\":\"lost deals\"},\"timestamp\":\"2026-10-05T09:00:00Z\",\"messageId\":\"i-$1\"},
      {\"type\":\"page\",\"userId\":\"$1\",\"category\":\"pricing\",\"properties\":{\"seconds\":185},\"timestamp\":\"2026-10-05T09:0$2:00Z\",\"messageId\":\"p-$1\"}]}" >/dev/null
}

start_receiver 0 3
start_server --webhook "$hook" --webhook-backoff 20ms --webhook-attempts 5 --webhook-events handoff.created

# 1. A handoff: three refusals, then the fourth attempt is taken, signed.
fast_track ana 1
expect_next "fail 1 handoff.created" "first attempt (the receiver fails it)"
expect_next "fail 1 handoff.created" "second attempt"
expect_next "fail 1 handoff.created" "third attempt"
expect_next "ok 1 handoff.created" "the fourth attempt is delivered and its signature verifies"
outbox_until delivered '"id":1,.*"state":"delivered","attempts":4'
if grep -q '"id":1,.*"state":"delivered","attempts":4' "$TMP/body"; then ok; else bad "the outbox records 4 attempts: $(cat "$TMP/body")"; fi
if grep -q '"data":{"record":"handoff"' "$TMP/body"; then ok; else bad "the data is the handoff packet: $(cat "$TMP/body")"; fi

# 2. A receiver that keeps failing: dead-lettered after 5 attempts, then
# revived through the API once it is fixed.
: > "$TMP/failing"
fast_track bo 2
for i in 1 2 3 4 5; do expect_next "fail 2 handoff.created" "attempt $i of 5"; done
outbox_until dead '"id":2,.*"state":"dead","attempts":5'
if grep -q '"id":2,.*"state":"dead","attempts":5,.*"last_error":"HTTP 503: fail"' "$TMP/body"; then ok
else bad "the dead letter is listed with its error: $(cat "$TMP/body")"; fi
status=$(admin_post /api/webhooks/1/retry)
[ "$status" = 404 ] && ok || bad "a delivered row is not retried: HTTP $status"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ingest" "$url/api/webhooks/2/retry")
[ "$status" = 401 ] || [ "$status" = 403 ] && ok || bad "an ingest token cannot retry: HTTP $status"
rm -f "$TMP/failing"
status=$(admin_post /api/webhooks/2/retry)
[ "$status" = 200 ] && ok || bad "retry: HTTP $status $(cat "$TMP/body")"
expect_next "ok 2 handoff.created" "the revived dead letter is delivered"

# 3. A forged signature is what the receiver refuses: a request signed with
# another secret is reported as forged.
body='{"id":9,"type":"handoff.created","created":"2026-10-05T09:00:00Z","data":{}}'
curl -s -o /dev/null -X POST -H 'Baton-Webhook-Id: 9' -H 'Baton-Event: handoff.created' \
    -H "Baton-Signature: t=$(date +%s),v1=$(printf '%s' "0.$body" | sha256sum | cut -c1-64)" --data-binary "$body" "$hook"
expect_next "forged 9 handoff.created" "a wrong signature is refused by the receiver"

# 4. A restart with deliveries pending: the receiver is down while three
# handoffs are made and the server stops; once both are back every one of
# them arrives exactly once.
stop_server
start_server --webhook "$hook" --webhook-backoff 1s --webhook-attempts 50 --webhook-events handoff.created
stop_receiver
fast_track cy 3
fast_track di 4
fast_track ed 5
stop_server
start_receiver "$rport"
start_server --webhook "$hook" --webhook-backoff 20ms --webhook-attempts 50 --webhook-events handoff.created
: > "$TMP/seen"
for i in 1 2 3; do next; echo "$got" >> "$TMP/seen"; done
stop_server
stop_receiver
sort "$TMP/seen" > "$TMP/seen.sorted"
printf 'ok 3 handoff.created\nok 4 handoff.created\nok 5 handoff.created\n' > "$TMP/want"
if cmp -s "$TMP/seen.sorted" "$TMP/want"; then ok; else bad "after the restart: $(cat "$TMP/seen.sorted")"; fi
sqlite3 "$DB" "SELECT state, count(*) FROM outbox GROUP BY state" > "$TMP/states"
if [ "$(cat "$TMP/states")" = "delivered|5" ]; then ok; else bad "outbox states: $(cat "$TMP/states")"; fi

# 5. Every kind of event, when subscribed to all: a handoff also moves the
# lead to the development stage, and, made on 5 October and never touched,
# it is long past both SLA deadlines on the server's wall clock.
start_receiver 0
start_server --webhook "$hook" --webhook-backoff 20ms
fast_track fu 6
: > "$TMP/seen"
for i in 1 2 3 4; do next; echo "${got#ok [0-9]* }" >> "$TMP/seen"; done
stop_server
stop_receiver
sort "$TMP/seen" > "$TMP/seen.sorted"
printf 'handoff.created\nlead.stage_changed\nsla.breached\nsla.breached\n' > "$TMP/want"
if cmp -s "$TMP/seen.sorted" "$TMP/want"; then ok; else bad "events of one handoff: $(cat "$TMP/seen.sorted")"; fi
sqlite3 "$DB" "SELECT json_extract(data, '$.clock') || ' ' || json_extract(data, '$.due') FROM outbox
               WHERE type = 'sla.breached' ORDER BY 1" > "$TMP/breaches"
printf 'first_touch 2026-10-05T17:00:00Z\nmeeting 2026-10-19T21:00:00Z\n' > "$TMP/want"
if cmp -s "$TMP/breaches" "$TMP/want"; then ok; else bad "the breaches' deadlines: $(cat "$TMP/breaches")"; fi
sqlite3 "$DB" "SELECT cause FROM timeline WHERE lead = 'fu' AND cause LIKE 'sla%' ORDER BY at" > "$TMP/causes"
if grep -q '^sla breached: first_touch due 2026-10-05T17:00:00Z$' "$TMP/causes"; then ok; else bad "the timeline: $(cat "$TMP/causes")"; fi

# 6. Usage errors.
run serve --contract "$C" --db "$DB" --webhook ftp://x
expect_code 2 "a webhook must be http(s)"
run serve --contract "$C" --db "$DB" --webhook http://127.0.0.1:9/x --webhook-events handoff.made
expect_code 2 "an unknown event"
expect_err "unknown event 'handoff.made'" "the message names it"
BATON_WEBHOOK_SECRET= run serve --contract "$C" --db "$DB" --webhook http://127.0.0.1:9/x
expect_code 2 "a webhook needs a secret"
expect_err "needs a secret" "the message names what is missing"
finish
