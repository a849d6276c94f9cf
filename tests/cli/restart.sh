# State saved now and then: a kill -9 between two saves loses nothing, since
# a start replays the events stored after the last save, merges and all, and
# under the contract that applied them. No sleeps: the server's "listening"
# line and its exit are the only waits.
set -e
. "$(dirname "$0")/lib.inc"
C="$SRC/contracts/example.yaml"
DB="$TMP/baton.db"
ingest=$("$BATON" token create --db "$DB" --role ingest 2>/dev/null)
sales=$("$BATON" token create --db "$DB" --role sales 2>/dev/null)
admin=$("$BATON" token create --db "$DB" --role admin 2>/dev/null)

start_server() {
    rm -f "$TMP/ready"
    mkfifo "$TMP/ready"
    : > "$TMP/err"
    : > "$TMP/out"
    "$BATON" serve --contract "$C" --db "$DB" --listen 127.0.0.1:0 --save-every 1h "$@" > "$TMP/ready" 2> "$TMP/err" &
    pid=$!
    pids="$pids $pid"
    read -r line < "$TMP/ready"
    url=${line#baton: listening on }
    case "$url" in http://127.0.0.1:*) ok ;; *) bad "server did not start: $line"; finish; exit 1 ;; esac
}

crash() {
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
}

# send PATH BODY: posts with the write key; sets $status and $TMP/body
send() {
    status=$(curl -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' -u "$ingest:" \
        --data-binary "$2" "$url$1")
}

handoffs_of() {
    curl -s -H "Authorization: Bearer $sales" "$url/api/handoffs?lead=$1" > "$TMP/body"
    grep -o '"record":"handoff"' "$TMP/body" | wc -l
}

start_server
# Five research actions with a webinar, two of them before the person gave
# a name, then a sixth that makes the `engaged` gate hold: four of them
# before the kill, which comes long before the next save.
send /v1/batch '{"batch":[
 {"type":"page","anonymousId":"v-1","category":"blog","name":"A","timestamp":"2026-10-05T09:00:00Z","messageId":"p1"},
 {"type":"page","anonymousId":"v-1","category":"blog","name":"B","timestamp":"2026-10-05T09:05:00Z","messageId":"p2"},
 {"type":"identify","userId":"kim","anonymousId":"v-1","traits":{"email":"kim@northwind.example","pain":"triage by hand","impact":"two lost deals"},"timestamp":"2026-10-05T09:10:00Z","messageId":"i1"},
 {"type":"group","userId":"kim","groupId":"northwind.example","traits":{"domain":"northwind.example","industry":"software","employees":450},"timestamp":"2026-10-05T09:11:00Z","messageId":"g1"}]}'
[ "$status" = 200 ] && ok || bad "first batch: $status $(cat "$TMP/body")"
send /v1/track '{"userId":"kim","event":"Webinar Attended","properties":{"title":"Triage"},"timestamp":"2026-10-05T10:00:00Z","messageId":"w1"}'
[ "$status" = 200 ] && ok || bad "webinar: $status"
[ "$(handoffs_of kim)" -eq 0 ] && ok || bad "four research actions handed kim off already"
crash
# the test is only worth something when the kill came before a save of kim
[ "$(sqlite3 "$DB" "select count(*) from leads where key = 'kim'")" -eq 0 ] && ok || bad "kim's state was saved before the kill; nothing was left to replay"

start_server
expect_err "baton serve: replayed 5 events stored after the last save of state" "the start replays what was not saved"
curl -s "$url/metrics" > "$TMP/body"
grep -q '^baton_events_replayed_total 5$' "$TMP/body" && ok || bad "the metrics do not count the 5 replayed events"
grep -q '^baton_state_saves_total 1$' "$TMP/body" && ok || bad "the start did not save what it replayed"
send /v1/page '{"userId":"kim","category":"docs","name":"Setup","timestamp":"2026-10-05T10:30:00Z","messageId":"d1"}'
send /v1/track '{"userId":"kim","event":"Asset Downloaded","properties":{"asset":"buyer-guide"},"timestamp":"2026-10-05T11:00:00Z","messageId":"a1"}'
[ "$status" = 200 ] && ok || bad "download: $status"
[ "$(handoffs_of kim)" -eq 1 ] && ok || bad "the actions before the kill did not count: $(cat "$TMP/body")"
grep -q '"gate":"engaged"' "$TMP/body" && ok || bad "kim was not handed off by the engaged gate: $(cat "$TMP/body")"
grep -q '5 research actions' "$TMP/body" && ok || bad "the anonymous pages were not merged into kim: $(cat "$TMP/body")"

# The start saved what it replayed: another kill replays only the two
# events after it, the second of which handed kim off. The replay makes that
# decision again in memory but records nothing and counts nothing, and kim is
# not handed off twice.
crash
start_server
expect_err "replayed 2 events stored after the last save of state" "the start saved what it replayed"
[ "$(handoffs_of kim)" -eq 1 ] && ok || bad "the replay recorded kim's handoff again"
curl -s "$url/metrics" > "$TMP/body"
grep -q '^baton_handoffs_total{gate="engaged"} 0$' "$TMP/body" && ok || bad "the replayed handoff is counted again in /metrics"
send /v1/track '{"userId":"kim","event":"Demo Requested","timestamp":"2026-10-05T12:00:00Z","messageId":"dr1"}'
[ "$(handoffs_of kim)" -eq 1 ] && ok || bad "kim was handed off twice across restarts"

# A message whose time is null takes the time of receipt, as one without a
# time does; the replay gives it the same.
send /v1/page '{"userId":"nul","category":"blog","name":"N","timestamp":null,"messageId":"n1"}'
[ "$status" = 200 ] && ok || bad "a null timestamp was refused: $status $(cat "$TMP/body")"
crash
start_server
expect_err "replayed 2 events stored after the last save of state" "the null-time message is replayed with the rest"
if grep -q "could not be replayed" "$TMP/err"; then bad "a stored event could not be replayed"; else ok; fi

# An anonymous visitor saved as a lead of its own, then merged into lou:
# the merge leaves no row of its own behind, or the next start would load a
# second lead for it, and moving state to another contract would trip on it.
send /v1/page '{"anonymousId":"v-2","category":"blog","name":"C","timestamp":"2026-10-06T08:00:00Z","messageId":"p5"}'
kill -TERM "$pid"
wait "$pid" || true
[ "$(sqlite3 "$DB" "select count(*) from leads where key = 'v-2'")" -eq 1 ] && ok || bad "the visitor was not saved at the stop"
start_server
send /v1/identify '{"userId":"lou","anonymousId":"v-2","traits":{"email":"lou@northwind.example","pain":"p","impact":"i"},"timestamp":"2026-10-06T09:00:00Z","messageId":"i2"}'
kill -TERM "$pid"
wait "$pid" || true
[ "$(sqlite3 "$DB" "select count(*) from leads where key = 'v-2'")" -eq 0 ] && ok || bad "the merged visitor kept a row of its own"
start_server

# A contract swapped in through the API applies the events after it; after a
# kill they are replayed under it, and then the file's contract runs again.
sed 's/^version: 7 /version: 8 /' "$C" > "$TMP/v8.yaml"
status=$(curl -s -o "$TMP/body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $admin" --data-binary @"$TMP/v8.yaml" "$url/api/contract")
[ "$status" = 200 ] && ok || bad "PUT /api/contract: $status $(cat "$TMP/body")"
send /v1/page '{"userId":"lou","category":"pricing","properties":{"seconds":200},"timestamp":"2026-10-06T09:03:00Z","messageId":"p3"}'
[ "$(handoffs_of lou)" -eq 1 ] && ok || bad "lou was not handed off under version 8"
grep -q '"version":8' "$TMP/body" && ok || bad "lou's handoff does not name version 8: $(cat "$TMP/body")"
crash
start_server
expect_err "replayed 1 event stored after the last save of state" "the event after the swap is replayed"
expect_err "under the contract that applied them" "and under version 8"
curl -s "$url/healthz" > "$TMP/body"
grep -q '"version":7' "$TMP/body" && ok || bad "the file's contract does not run after the start: $(cat "$TMP/body")"
send /v1/page '{"userId":"lou","category":"pricing","properties":{"seconds":300},"timestamp":"2026-10-06T10:00:00Z","messageId":"p4"}'
[ "$(handoffs_of lou)" -eq 1 ] && ok || bad "lou was handed off again after the replay"

# --save-every 0 saves with every commit, so a kill leaves nothing to replay.
kill -TERM "$pid"
wait "$pid" || true
start_server --save-every 0
send /v1/identify '{"userId":"zed","traits":{"email":"zed@northwind.example"},"timestamp":"2026-10-07T09:00:00Z","messageId":"i3"}'
[ "$(sqlite3 "$DB" "select count(*) from leads where key = 'zed'")" -eq 1 ] && ok || bad "zed's state was not saved with its commit"
crash
start_server
if grep -q "replayed" "$TMP/err"; then bad "a start after saves with every commit replayed: $(cat "$TMP/err")"; else ok; fi
kill -TERM "$pid"
wait "$pid" && ok || bad "the server did not stop cleanly"
finish
