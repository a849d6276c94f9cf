# baton replay and baton test, driven as a user would.
set -e
. "$(dirname "$0")/lib.inc"
C="$SRC/contracts/example.yaml"

cat > "$TMP/accounts.csv" <<'CSV'
domain,name,industry,employees,status
northwind.example,Northwind,software,450,prospect
CSV
cat > "$TMP/events.jsonl" <<'JSONL'
{"type":"identify","userId":"ana","messageId":"m1","timestamp":"2026-10-05T09:00:00Z","traits":{"email":"ana@northwind.example","pain":"p","impact":"i"}}
this is not json
{"type":"page","userId":"ana","messageId":"m2","timestamp":"2026-10-05T09:03:00Z","category":"pricing","properties":{"seconds":185}}
{"type":"page","userId":"ana","messageId":"m2","timestamp":"2026-10-05T09:03:00Z","category":"pricing","properties":{"seconds":185}}
{"type":"trak","userId":"ana","timestamp":"2026-10-05T09:04:00Z"}

{"type":"track","userId":"ana","messageId":"m3","timestamp":"2026-10-05T09:05:00Z","event":"Demo Requested"}
JSONL

# Malformed lines are reported with their line and reason; the rest is applied.
run replay --contract "$C" --accounts "$TMP/accounts.csv" "$TMP/events.jsonl"
expect_code 0 "replay with bad lines"
expect_err "events.jsonl:2:1: an event must be a JSON object, starting with '{'; skipped" "bad JSON line reported"
expect_err "events.jsonl:5:10: unknown type \"trak\"" "bad type reported with column"
expect_err "events: 6 read, 3 applied, 2 rejected, 1 duplicate, 0 late" "summary counts"
expect_out '"gate":"fast_track"' "the handoff survives the bad lines"
if [ "$(grep -c '"record":"handoff"' "$TMP/out")" -eq 1 ]; then ok; else bad "one handoff only"; fi

# The same input gives byte-identical output.
cp "$TMP/out" "$TMP/first"
run replay --contract "$C" --accounts "$TMP/accounts.csv" "$TMP/events.jsonl"
if cmp -s "$TMP/out" "$TMP/first"; then ok; else bad "replay is not deterministic"; fi

# Standard input and the other output forms.
set +e
"$BATON" replay --contract "$C" --accounts "$TMP/accounts.csv" --format csv - < "$TMP/events.jsonl" > "$TMP/csv" 2>/dev/null
set -e
if head -1 "$TMP/csv" | grep -q '^id,lead,account,gate,at,fast,stage,status,team,did,asks$' &&
   grep -q '^1,ana,northwind.example,fast_track,2026-10-05T09:03:00Z,true,sales,handed_off,ae,' "$TMP/csv"; then ok; else bad "csv output"; fi

run replay --contract "$C" --accounts "$TMP/accounts.csv" --timeline "$TMP/events.jsonl"
expect_out '"record":"transition","lead":"ana","at":"2026-10-05T09:03:00Z","from":{"stage":"nurture","status":"open"},"to":{"stage":"sales","status":"handed_off"},"owner":"ae","cause":"gate fast_track","handoff":1' "timeline"

# CSV events.
cat > "$TMP/events.csv" <<'CSV'
type,timestamp,userId,event,category,properties.seconds,traits.email,traits.pain,traits.impact
identify,2026-10-05T09:00:00Z,bo,,,,bo@northwind.example,slow triage,lost deals
page,2026-10-05T09:03:00Z,bo,,pricing,185,,,
track,yesterday,bo,Demo Requested,,,,,
CSV
run replay --contract "$C" --accounts "$TMP/accounts.csv" "$TMP/events.csv"
expect_code 0 "csv events"
expect_out '"lead":"bo","account":"northwind.example","gate":"fast_track"' "csv handoff"
expect_err 'events.csv:4: "timestamp" is not an ISO-8601 time: "yesterday"; skipped' "csv bad row"

# Out of order within the lateness: applied in time order.
cat > "$TMP/late.jsonl" <<'JSONL'
{"type":"identify","userId":"cy","timestamp":"2026-10-05T09:00:00Z","traits":{"email":"cy@northwind.example","pain":"p","impact":"i"}}
{"type":"page","userId":"cy","timestamp":"2026-10-05T09:20:00Z","category":"blog"}
{"type":"page","userId":"cy","timestamp":"2026-10-05T09:10:00Z","category":"pricing","properties":{"seconds":300}}
JSONL
run replay --contract "$C" --accounts "$TMP/accounts.csv" "$TMP/late.jsonl"
expect_err "1 late" "out of order without lateness"
run replay --contract "$C" --accounts "$TMP/accounts.csv" --lateness 15m "$TMP/late.jsonl"
expect_err "0 late" "put in order with lateness"

run replay --contract "$C" "$TMP/missing.jsonl"
expect_code 3 "missing input"
run replay "$TMP/events.jsonl"
expect_code 2 "no contract"
run replay --contract "$C" --format yaml "$TMP/events.jsonl"
expect_code 2 "bad format"
run replay --help
expect_out "usage: baton replay" "replay --help"

# baton test: the example's golden leads pass; a broken one fails readably.
run test "$SRC/contracts/example.yaml"
expect_code 0 "golden leads"
expect_out " passed, 0 failed" "golden summary"
sed 's/{ lead: u-ana, gate: fast_track, at: "2026-10-05T14:03:00Z", fast: true, status: handed_off }/{ lead: u-ana, gate: fit_intent, at: "2026-10-05T14:03:00Z" }/' \
    "$SRC/contracts/example.yaml" > "$TMP/broken.yaml"
run test --quiet "$TMP/broken.yaml"
expect_code 1 "a broken golden lead fails"
case_line=$(grep -n 'name: "R2: three minutes on pricing' "$TMP/broken.yaml" | cut -d: -f1)
expect_out "FAIL $TMP/broken.yaml:$case_line: R2: three minutes on pricing fast-tracks a fitting lead" "the failing case is named, with its line"
expect_out "    expected: gate fit_intent, lead u-ana, at 2026-10-05T14:03:00Z" "what was expected"
expect_out "    got:      lead u-ana, gate fast_track, at 2026-10-05T14:03:00Z, fast true, status handed_off, stage sales" "what happened"
run test --help
expect_out "usage: baton test" "test --help"

finish
