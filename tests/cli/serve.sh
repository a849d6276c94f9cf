# baton serve, end to end on loopback: Segment ingest, the sales API, tokens,
# limits, duplicates, and a kill -9 in the middle. No sleeps: the test waits
# for the server's "listening" line and for its exit.
set -e
. "$(dirname "$0")/lib.inc"
C="$SRC/contracts/example.yaml"
DB="$TMP/baton.db"

ingest=$("$BATON" token create --db "$DB" --role ingest --name website 2>/dev/null)
sales=$("$BATON" token create --db "$DB" --role sales --name "Sam (AE)" 2>/dev/null)
admin=$("$BATON" token create --db "$DB" --role admin --name ops 2>/dev/null)
[ ${#ingest} -eq 64 ] && ok || bad "an ingest token is 64 hex characters"

start_server() {
    rm -f "$TMP/ready"
    mkfifo "$TMP/ready"
    "$BATON" serve --contract "$C" --db "$DB" --listen 127.0.0.1:0 > "$TMP/ready" 2> "$TMP/server.err" &
    pid=$!
    pids="$pids $pid"
    read -r line < "$TMP/ready"          # blocks until the server listens
    url=${line#baton: listening on }
    case "$url" in http://127.0.0.1:*) ok ;; *) bad "server did not start: $line $(cat "$TMP/server.err")"; finish; exit 1 ;; esac
}

# request METHOD PATH WHO [BODY]: WHO is none, ingest, sales, admin,
# wrong-key or no-scheme; sets $status and $TMP/body
request() {
    method=$1 path=$2 who=$3 body=${4-}
    set -- -s -o "$TMP/body" -w '%{http_code}' -X "$method"
    case "$who" in
    ingest) set -- "$@" -u "$ingest:" ;;
    sales) set -- "$@" -H "Authorization: Bearer $sales" ;;
    admin) set -- "$@" -H "Authorization: Bearer $admin" ;;
    ingest-as-bearer) set -- "$@" -H "Authorization: Bearer $ingest" ;;
    wrong-key) set -- "$@" -u "wrong:" ;;
    no-scheme) set -- "$@" -H "Authorization: nothing" ;;
    esac
    if [ -n "$body" ]; then set -- "$@" -H 'Content-Type: application/json' --data-binary "$body"; fi
    status=$(curl "$@" "$url$path")
}
expect_status() { if [ "$status" = "$1" ]; then ok; else bad "$2: HTTP $status, want $1: $(cat "$TMP/body")"; fi; }
expect_body() { if grep -qF -- "$1" "$TMP/body"; then ok; else bad "$2: body lacks '$1': $(cat "$TMP/body")"; fi; }

# A store that cannot be opened is an I/O error (3), an invalid contract 1.
run serve --contract "$C" --db "$TMP/no/such/dir/baton.db" --listen 127.0.0.1:0
expect_code 3 "a store that cannot be opened"
expect_err "unable to open database file" "and SQLite's reason"
printf 'contract: [\n' > "$TMP/broken.yaml"
run serve --contract "$TMP/broken.yaml" --db "$TMP/other.db" --listen 127.0.0.1:0
expect_code 1 "an invalid contract"

start_server
W=ingest
S=sales

request GET /healthz none
expect_status 200 "healthz"
expect_body '"contract":"acme-handoff","version":7' "healthz names the contract"

request POST /v1/group $W '{"userId":"ana","groupId":"northwind.example","traits":{"domain":"northwind.example","industry":"software","employees":450,"status":"prospect"},"timestamp":"2026-10-05T08:59:00Z","messageId":"g1"}'
expect_status 200 "group"
request POST /v1/identify $W '{"userId":"ana","traits":{"email":"ana@northwind.example","pain":"triage by hand","impact":"two lost deals a quarter"},"timestamp":"2026-10-05T09:00:00Z","messageId":"i1"}'
expect_status 200 "identify"
expect_body '"success":true' "identify accepted"
batch='{"batch":[{"type":"page","userId":"ana","category":"blog","timestamp":"2026-10-05T09:01:00Z","messageId":"b1"},{"type":"page","userId":"ana","timestamp":"soon","messageId":"b2"},{"type":"page","userId":"ana","category":"pricing","properties":{"seconds":185},"timestamp":"2026-10-05T09:03:00Z","messageId":"b3"}]}'
request POST /v1/batch $W "$batch"
expect_status 400 "a batch with one bad message"
expect_body '"accepted":2,"errors":[{"index":1,"field":"timestamp"' "the bad one is named by index and field"

request GET /api/handoffs $S
expect_status 200 "list handoffs"
expect_body '"gate":"fast_track"' "the fast-track handoff is visible"
expect_body '"lead":"ana"' "for ana"
id=$(sed 's/.*"id":\([0-9]*\).*/\1/' "$TMP/body")

# The same batch again: acknowledged, applied once.
request POST /v1/batch $W "$batch"
request GET "/api/handoffs?lead=ana" $S
if [ "$(grep -o '"record":"handoff"' "$TMP/body" | wc -l)" -eq 1 ]; then ok; else bad "a replayed batch made a second handoff"; fi

# Tokens and roles.
request GET /api/handoffs no-scheme
expect_status 401 "no token"
request GET /api/handoffs ingest-as-bearer
expect_status 403 "an ingest token on the sales API"
# A message that leaves its type to the endpoint and its time to the server
# is stored with both, so the event log replays as it was decided.
request POST /v1/track $W '{"userId":"ana","event":"Webinar Attended","messageId":"no-type"}'
expect_status 200 "a track call without type or timestamp"
sqlite3 "$DB" "SELECT body FROM events WHERE message_id = 'no-type'" > "$TMP/stored.jsonl"
if grep -q '^{"type":"track","timestamp":"20[0-9-]*T[0-9:.]*Z","userId":"ana"' "$TMP/stored.jsonl"; then ok
else bad "the stored body carries the type and time used: $(cat "$TMP/stored.jsonl")"; fi
run replay --contract "$C" "$TMP/stored.jsonl"
expect_err "1 applied, 0 rejected" "the stored body replays"
request POST /v1/track wrong-key '{"userId":"x","event":"y"}'
expect_status 401 "a wrong write key"

# Limits and malformed bodies.
big=$(head -c 40000 /dev/zero | tr '\0' 'x')
request POST /v1/track $W "{\"userId\":\"ana\",\"event\":\"Big\",\"properties\":{\"blob\":\"$big\"}}"
expect_status 413 "a message over 32 KB"
request POST /v1/track $W '{"userId":"ana","event":"x",}'
expect_status 400 "malformed JSON"
expect_body 'invalid JSON at byte 28' "the position of the problem"

# The sales flow.
request POST "/api/handoffs/$id/reject" $S '{"reason":"too_busy"}'
expect_status 422 "an unknown reason code"
expect_body '"reasons":["not_icp","wrong_timing"' "the valid codes are listed"
request POST "/api/handoffs/$id/accept" $S ""
expect_status 200 "accept"
expect_body '"status":"accepted"' "accepted"
request POST "/api/handoffs/$id/accept" $S ""
expect_status 409 "accepting twice"
request POST "/api/handoffs/$id/meeting" $S ""
expect_status 200 "meeting booked"
request POST "/api/handoffs/$id/opportunity" $S '{"amount":48000}'
expect_status 200 "opportunity"
request POST "/api/handoffs/$id/won" $S '{"amount":48000}'
expect_status 200 "won"
request GET /api/leads/ana $S
expect_status 200 "the lead"
expect_body '"cause":"gate fast_track"' "the timeline has the handoff"
expect_body '"cause":"accepted"' "and the acceptance"

request GET /metrics none
expect_status 200 "metrics"
expect_body 'baton_handoffs_total{gate="fast_track"} 1' "handoffs by gate"
expect_body 'baton_events_duplicate_total 2' "duplicates counted (the replayed batch's two good messages)"
expect_body '# TYPE baton_wal_checkpoints_total counter' "checkpoints off the commit path are counted"
expect_body 'baton_wal_checkpoints_total{mode="passive"} ' "PASSIVE checkpoints, by mode"
expect_body '# TYPE baton_wal_frames gauge' "the log's length"

# Accounts from CSV, then a lead there; handoffs out as CSV.
request POST /api/accounts sales "domain,industry,employees"
expect_status 403 "only an admin imports accounts"
request POST /api/accounts admin "$(printf 'domain,name,industry,employees,status\ncontoso.example,Contoso,fintech,900,prospect\n,No Domain,retail,5,prospect\n')"
expect_status 400 "one bad row"
expect_body '"accounts":1,"errors":[{"line":3,"message":"the row has no domain"}]' "the good row is kept, the bad one named"
request POST /v1/identify $W '{"userId":"dee","traits":{"email":"dee@contoso.example","pain":"p","impact":"i"},"timestamp":"2026-10-06T09:00:00Z"}'
request POST /v1/track $W '{"userId":"dee","event":"Demo Requested","timestamp":"2026-10-06T10:00:00Z"}'
request GET "/api/handoffs.csv?lead=dee" $S
expect_status 200 "CSV export"
expect_body 'id,lead,account,gate,at,fast,stage,team,status,did,asks' "the CSV header"
expect_body ',dee,contoso.example,fit_intent,' "the imported account's fit hands dee off"

# Replacing the contract: refused with errors or failing golden leads; the running one stays.
request PUT /api/contract sales "contract: x"
expect_status 403 "only an admin replaces the contract"
request PUT /api/contract admin "contract: broken"
expect_status 422 "a broken contract"
expect_body "the contract has no 'signals'" "its errors are reported"
sed 's/{ lead: u-ana, gate: fast_track, at: "2026-10-05T14:03:00Z", fast: true, status: handed_off }/{ lead: u-ana, gate: fit_intent }/' "$C" > "$TMP/failing.yaml"
request PUT /api/contract admin "$(cat "$TMP/failing.yaml")"
expect_status 422 "a contract whose golden leads fail"
expect_body "golden tests fail" "the reason is given"
request GET /healthz none
expect_body '"version":7' "the running contract stays"
sed 's/^version: 7 /version: 8 /' "$C" > "$TMP/v8.yaml"
request PUT /api/contract admin "$(cat "$TMP/v8.yaml")"
expect_status 200 "a good contract"
request GET /healthz none
expect_body '"version":8' "version 8 now runs"
# Messages are decoded on the connection threads, for the contract in force:
# after a swap to one that reads a field the old one never decoded
# (properties.ask), a message that only that field makes an intent is
# decoded for the new contract, and hands the lead off.
sed -e 's/^version: 8 /version: 9 /' \
    -e 's/or event.name == "Consultation Requested"$/or event.name == "Consultation Requested" or properties.ask == "call me"/' \
    "$TMP/v8.yaml" > "$TMP/v9.yaml"
grep -q 'properties.ask == "call me"' "$TMP/v9.yaml" && ok || bad "the v9 contract did not get its new condition"
request POST /v1/identify $W '{"userId":"eve","traits":{"email":"eve@contoso.example","pain":"p","impact":"i"},"timestamp":"2026-10-07T09:00:00Z","messageId":"eve-1"}'
request POST /v1/track $W '{"userId":"eve","event":"Contact Form","properties":{"ask":"call me"},"timestamp":"2026-10-07T09:30:00Z","messageId":"eve-2"}'
request GET "/api/handoffs?lead=eve" $S
expect_body '"handoffs":[]' "under version 8, properties.ask is no intent"
request PUT /api/contract admin "$(cat "$TMP/v9.yaml")"
expect_status 200 "version 9"
request POST /v1/track $W '{"userId":"eve","event":"Contact Form","properties":{"ask":"call me"},"timestamp":"2026-10-07T10:00:00Z","messageId":"eve-3"}'
expect_status 200 "a message for version 9"
request GET "/api/handoffs?lead=eve" $S
expect_body '"gate":"fit_intent"' "decoded for version 9, the message hands eve off"

# A batch larger than the first allocation of messages (128), and one over
# the limit of 2,500 messages.
big='{"batch":['
for i in $(seq 1 300); do big="$big{\"type\":\"page\",\"userId\":\"bulk-$((i % 7))\",\"timestamp\":\"2026-10-07T11:00:00Z\",\"messageId\":\"bulk-$i\"},"; done
big="${big%,}]}"
request POST /v1/batch $W "$big"
expect_status 200 "a batch of 300 messages"
expect_body '"accepted":300' "all 300 accepted"
too_many='{"batch":['
for i in $(seq 1 2501); do too_many="$too_many{},"; done
too_many="${too_many%,}]}"
request POST /v1/batch $W "$too_many"
expect_status 400 "a batch of 2,501 messages"
expect_body 'too many messages in one batch' "the limit is named"

# kill -9, restart: everything acknowledged is there, nothing twice.
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
start_server
request GET /api/handoffs $S
expect_body '"status":"accepted"' "the handoff survived a kill -9"
request POST /v1/batch $W "$batch"
request GET "/api/handoffs?lead=ana" $S
if [ "$(grep -o '"record":"handoff"' "$TMP/body" | wc -l)" -eq 1 ]; then ok; else bad "after a restart, a replayed batch made a second handoff"; fi

kill -TERM "$pid"
wait "$pid" && ok || bad "the server did not stop cleanly on SIGTERM"
# the checkpointer's last TRUNCATE left the log empty
if [ ! -s "$DB-wal" ]; then ok; else bad "the WAL holds $(wc -c < "$DB-wal") bytes after a clean stop"; fi

# Event retention drops the raw log, never the state built from it.
leads_before=$(sqlite3 "$DB" 'select count(*) from leads')
start_server_with() {
    rm -f "$TMP/ready"
    mkfifo "$TMP/ready"
    "$BATON" serve --contract "$C" --db "$DB" --listen 127.0.0.1:0 "$@" > "$TMP/ready" 2> "$TMP/server.err" &
    pid=$!
    pids="$pids $pid"
    read -r line < "$TMP/ready"
    url=${line#baton: listening on }
}
start_server_with --event-retention 1ms
request GET /healthz none
# all but the last, which stays so that no event number is given out twice
[ "$(sqlite3 "$DB" 'select count(*) from events')" -eq 1 ] && ok || bad "old events were not dropped"
[ "$(sqlite3 "$DB" 'select count(*) from leads')" -eq "$leads_before" ] && ok || bad "lead state was touched"
request GET /api/handoffs sales
expect_body '"status":"accepted"' "handoffs survive the pruning"

# Reps: uploaded as CSV (admin only), they route every later handoff; the
# table and each rep's place in the rotation survive a restart.
reps=$(cat "$SRC/tests/data/reps/acme.csv")
request POST /api/reps sales "$reps"
expect_status 403 "a sales token cannot upload reps"
request POST /api/reps admin "$reps"
expect_status 200 "reps upload"
expect_body '"success":true,"reps":' "the reps are counted"
request POST /api/reps admin 'id,team
x,sdr'
expect_status 400 "a reps CSV without capacity"
expect_body '"line":1' "the header is named"
request GET /api/reps sales
expect_body '"id":"sdr-cy"' "the reps are listed"
# two fitting leads of a US account ask for a demo: the na pool takes turns
for who in rex sol; do
    request POST /v1/batch ingest "{\"batch\":[
      {\"type\":\"group\",\"userId\":\"$who\",\"groupId\":\"globex.example\",\"traits\":{\"domain\":\"globex.example\",\"industry\":\"software\",\"employees\":450,\"country\":\"US\",\"status\":\"prospect\"},\"timestamp\":\"2026-10-12T13:00:00Z\",\"messageId\":\"g-$who\"},
      {\"type\":\"identify\",\"userId\":\"$who\",\"traits\":{\"email\":\"$who@globex.example\",\"pain\":\"manual triage\",\"impact\":\"lost deals\"},\"timestamp\":\"2026-10-12T13:01:00Z\",\"messageId\":\"i-$who\"},
      {\"type\":\"track\",\"userId\":\"$who\",\"event\":\"Demo Requested\",\"timestamp\":\"2026-10-12T19:00:00Z\",\"messageId\":\"d-$who\"}]}"
    expect_status 200 "batch for $who"
    if [ "$who" = sol ]; then kill -TERM "$pid"; wait "$pid" || true; start_server_with; fi
done
request GET "/api/handoffs?lead=rex" sales
rex_rep=$(sed 's/.*"route":{[^}]*"rep":"\([^"]*\)".*/\1/' "$TMP/body")
request GET "/api/handoffs?lead=sol" sales
sol_rep=$(sed 's/.*"route":{[^}]*"rep":"\([^"]*\)".*/\1/' "$TMP/body")
case "$rex_rep/$sol_rep" in
    sdr-cy/sdr-dee | sdr-dee/sdr-cy) ok ;;
    *) bad "the na pool shares two leads across a restart: rex=$rex_rep sol=$sol_rep" ;;
esac
[ "$(sqlite3 "$DB" 'select count(*) from rep_uploads')" -eq 1 ] && ok || bad "the refused upload was kept"
kill -TERM "$pid"
wait "$pid" || true
finish
