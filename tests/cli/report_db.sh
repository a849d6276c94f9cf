# baton report --db: the review from what `baton serve` stored. A hand-built
# October goes in over HTTP (events with their own times, then sales actions
# through the API, which the server stamps with the wall clock), the server
# stops, and the review from the store is checked against figures worked out
# by hand and against a replay of the stored event log. No sleeps: the test
# waits for the server's "listening" line and for its exit.
set -e
. "$(dirname "$0")/lib.inc"
command -v sqlite3 >/dev/null || { echo "sqlite3 is required (scripts/install-deps installs it)"; exit 1; }
C="$SRC/tests/data/report/contract.yaml"  # UTC, 09-17 on workdays, 12 Oct a holiday
DB="$TMP/baton.db"
ingest=$("$BATON" token create --db "$DB" --role ingest 2>/dev/null)
sales=$("$BATON" token create --db "$DB" --role sales 2>/dev/null)

rm -f "$TMP/ready"; mkfifo "$TMP/ready"
"$BATON" serve --contract "$C" --db "$DB" --listen 127.0.0.1:0 > "$TMP/ready" 2> "$TMP/server.err" &
server=$!
pids="$pids $server"
read -r line < "$TMP/ready"
url=${line#baton: listening on }
case "$url" in http://127.0.0.1:*) ok ;; *) bad "server did not start: $line $(cat "$TMP/server.err")"; finish; exit 1 ;; esac

# post PATH WHO BODY: sets $status and $TMP/body
post() {
    path=$1 who=$2 body=$3
    set -- -s -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$body"
    case "$who" in
    ingest) set -- "$@" -u "$ingest:" ;;
    sales) set -- "$@" -H "Authorization: Bearer $sales" ;;
    esac
    status=$(curl "$@" "$url$path")
}
expect_status() { if [ "$status" = "$1" ]; then ok; else bad "$2: HTTP $status, want $1: $(cat "$TMP/body")"; fi; }

# October, each message on one line (the log is replayed line by line below):
#   1 ana  demo    Thu 1 Oct 10:00 (linkedin)  touch 11:00 (1h), meeting Fri 2 Oct: met;
#                                             accepted, opportunity and won 50,000 through the API
#   2 ben  demo    Thu 1 Oct 11:00             rejected not_icp through the API: back to nurture, a return
#   3 cy   demo    Mon 5 Oct 10:00             rejected wrong_person: rerouted, no return
#   4 dee  webinar Tue 6 Oct 10:00, asked a question, no pain: needs context, released Thu 8 Oct
#                                             10:00 (48h); touch and meeting through the API, long after
#                                             the deadlines: both late
#   5 eli  webinar Wed 14 Oct 10:00            nothing: missed, never touched
#   6 fay  demo    Tue 20 Oct 10:00, no pain   still waiting for context
post /v1/batch ingest '{"batch":[
{"type":"identify","userId":"ana","messageId":"a1","timestamp":"2026-10-01T09:00:00Z","traits":{"email":"ana@alpha.example","pain":"p","impact":"i"}}
,{"type":"track","userId":"ana","messageId":"a2","timestamp":"2026-10-01T10:00:00Z","event":"Demo Requested","context":{"campaign":{"source":"linkedin"}}}
,{"type":"identify","userId":"ben","messageId":"b1","timestamp":"2026-10-01T10:30:00Z","traits":{"email":"ben@beta.example","pain":"p","impact":"i"}}
,{"type":"track","userId":"ben","messageId":"b2","timestamp":"2026-10-01T11:00:00Z","event":"Demo Requested"}
,{"type":"track","userId":"ana","messageId":"a3","timestamp":"2026-10-01T11:00:00Z","event":"First Touch"}
,{"type":"track","userId":"ana","messageId":"a4","timestamp":"2026-10-02T10:00:00Z","event":"Meeting Booked"}
,{"type":"identify","userId":"cy","messageId":"c1","timestamp":"2026-10-05T09:00:00Z","traits":{"email":"cy@gamma.example","pain":"p","impact":"i"}}
,{"type":"track","userId":"cy","messageId":"c2","timestamp":"2026-10-05T10:00:00Z","event":"Demo Requested"}
,{"type":"identify","userId":"dee","messageId":"d1","timestamp":"2026-10-06T09:00:00Z","traits":{"email":"dee@delta.example"}}
,{"type":"track","userId":"dee","messageId":"d2","timestamp":"2026-10-06T10:00:00Z","event":"Webinar Attended","properties":{"title":"Routing","question":"Can it route by territory?"}}
,{"type":"identify","userId":"dee","messageId":"d3","timestamp":"2026-10-08T10:00:00Z","traits":{"pain":"leads wait for days","impact":"a lost quarter"}}
,{"type":"identify","userId":"eli","messageId":"e1","timestamp":"2026-10-14T09:00:00Z","traits":{"email":"eli@epsilon.example","pain":"p","impact":"i"}}
,{"type":"track","userId":"eli","messageId":"e2","timestamp":"2026-10-14T10:00:00Z","event":"Webinar Attended","properties":{"title":"Routing"}}
,{"type":"identify","userId":"fay","messageId":"f1","timestamp":"2026-10-20T09:00:00Z","traits":{"email":"fay@zeta.example"}}
,{"type":"track","userId":"fay","messageId":"f2","timestamp":"2026-10-20T10:00:00Z","event":"Demo Requested"}
]}'
expect_status 200 "the October events"
post /api/handoffs/1/accept sales '{}';                  expect_status 200 "accept ana"
post /api/handoffs/1/opportunity sales '{"amount":50000}'; expect_status 200 "ana's opportunity"
post /api/handoffs/1/won sales '{"amount":50000}';       expect_status 200 "ana's deal"
post /api/handoffs/2/reject sales '{"reason":"not_icp"}'; expect_status 200 "reject ben"
post /api/handoffs/3/reject sales '{"reason":"wrong_person"}'; expect_status 200 "reject cy"
post /api/handoffs/5/reject sales '{"reason":"bogus"}';  expect_status 422 "an unknown reason is refused"
post /api/handoffs/4/touch sales '{}';                   expect_status 200 "touch dee"
post /api/handoffs/4/meeting sales '{}';                 expect_status 200 "dee's meeting"
kill -TERM "$server"; wait "$server" || true

# The review from the store, figure by figure (October, as of the last API action).
run report --contract "$C" --month 2026-10 --format json --db "$DB"
expect_code 0 "report --db"
figures=$(sed 's/.*"figures":{\([^}]*\)}.*/\1/' "$TMP/out" | head -c 2000)
expect_figures() {
    case ",$figures," in *",$1,"*) ok ;; *) bad "$2: the figures lack $1: $figures" ;; esac
}
expect_figures '"handoffs":6' "six handoffs"
expect_figures '"accepted":1' "ana accepted"
expect_figures '"rejected":2' "ben and cy rejected"
expect_figures '"discard_rate":0.3333' "2 of 6 discarded"
expect_figures '"returns":1' "ben returned; cy rerouted"
expect_figures '"reached_team":5' "fay still waits"
expect_figures '"meetings_in_sla":1' "ana's meeting in time"
expect_figures '"meetings_missed":4' "ben, cy, dee (late), eli"
expect_figures '"meetings_pending":0' "every deadline passed"
expect_figures '"meeting_rate":0.2' "1 of 5"
expect_figures '"opportunities":1' "ana's opportunity"
expect_figures '"won":1' "ana's deal"
expect_figures '"won_amount":50000' "its amount"
expect_figures '"touched":2' "ana and dee touched"
expect_figures '"first_touch_median_hours":1' "nearest rank: ana's hour"
expect_figures '"sla_met":1' "ana in time"
expect_figures '"sla_breached":4' "dee late; ben, cy, eli never"
expect_figures '"needs_context":2' "dee and fay waited"
expect_figures '"released":1' "dee released"
expect_figures '"still_waiting":1' "fay waits"
expect_figures '"wait_median_hours":48' "dee waited 48h"
expect_figures '"no_buyer_question":5' "all but dee"
expect_figures '"rejected_by_reason":{"not_icp":1,"wrong_person":1' "rejections by reason (none for wrong_timing)"
cp "$TMP/out" "$TMP/from-db.json"

# The same review from a replay of the stored event log.
sqlite3 "$DB" "SELECT body FROM events ORDER BY seq" > "$TMP/log.jsonl"
[ "$(wc -l < "$TMP/log.jsonl")" -eq 22 ] && ok || bad "15 events and 7 API actions are stored: $(wc -l < "$TMP/log.jsonl")"
run report --contract "$C" --month 2026-10 --format json "$TMP/log.jsonl"
expect_code 0 "report over the replayed log"
if cmp -s "$TMP/out" "$TMP/from-db.json"; then ok; else bad "the replay and the store disagree: $(diff "$TMP/out" "$TMP/from-db.json" | head -5)"; fi
run report --contract "$C" --month 2026-10 "$TMP/log.jsonl"
cp "$TMP/out" "$TMP/replay.txt"
run report --contract "$C" --month 2026-10 --db "$DB"
if cmp -s "$TMP/out" "$TMP/replay.txt"; then ok; else bad "text: the replay and the store disagree"; fi

# Usage and input errors.
run report --contract "$C" --db "$DB" "$TMP/log.jsonl"
expect_code 2 "--db and EVENTS"
expect_err "give --db FILE or EVENTS, not both" "says which"
run report --contract "$C" --db "$DB" --accounts "$TMP/accounts.csv"
expect_code 2 "--db and --accounts"
run report --contract "$C" --db "$TMP/missing.db"
expect_code 3 "a store that is not there"
expect_err "missing.db: cannot read" "names it"
[ ! -e "$TMP/missing.db" ] && ok || bad "a report never creates a store"
printf 'not a database' > "$TMP/junk.db"
run report --contract "$C" --db "$TMP/junk.db"
expect_code 3 "a file that is not a store"
run report --help
expect_out "--db FILE" "help names --db"

finish
