# baton route: where a lead would go inside the receiving team, and why.
set -e
. "$(dirname "$0")/lib.inc"
C="$SRC/contracts/example.yaml"
R="$SRC/contracts/reps.example.csv"
AT=2026-10-07T12:00:00Z   # a Wednesday: noon in New York is 16:00 UTC, so 12:00 UTC is 08:00 there

# A German enterprise whose owner is out of office: the owner's team, the enterprise territory.
cat >"$TMP/de.json" <<'JSON'
{"lead": "u-1", "account.domain": "northwind.example", "account.country": "DE", "account.employees": 1200, "account.owner": "sdr-dee"}
JSON
run route --contract "$C" --reps "$R" --stage development --at "$AT" "$TMP/de.json"
expect_code 0 "owner away"
expect_out "lead:      u-1 at northwind.example" "lead line"
expect_out "rep:       sdr-ana (next in the pool's weighted round-robin)" "rep chosen: the larger capacity first"
expect_out "team:      sdr, territory emea-ent" "pool"
expect_out "rule:      emea_enterprise" "rule"
expect_out "owner:     sdr-dee passed over: out of office" "owner reason"

run route --contract "$C" --reps "$R" --stage development --at "$AT" --format json "$TMP/de.json"
expect_code 0 "json"
expect_out '{"lead":"u-1","decision":{"at":"2026-10-07T12:00:00Z","rep":"sdr-ana","team":"sdr","territory":"emea-ent","via":"rotation","rule":"emea_enterprise","owner":"sdr-dee","owner_skipped":"out_of_office","owner_ignored":false,"after_hours":false,"skipped":[{"rep":"sdr-dee","reason":"out_of_office"}],"more_skipped":0}}' "json decision"

# The account owner available and on the receiving team takes it; firmographics from the accounts CSV.
printf 'domain,industry,employees,country,owner\ncontoso.example,fintech,80,US,sdr-eli\n' >"$TMP/accounts.csv"
echo '{"lead": "u-2", "account.domain": "contoso.example"}' >"$TMP/us.json"
run route --contract "$C" --reps "$R" --accounts "$TMP/accounts.csv" --stage development --at "$AT" "$TMP/us.json"
expect_code 0 "owner from accounts"
expect_out "rep:       sdr-eli (the account's owner)" "owner chosen"
# Handed to sales, the SDR owner is on another team: the AE pool (80 people: not strategic).
run route --contract "$C" --reps "$R" --accounts "$TMP/accounts.csv" --stage sales --at "$AT" "$TMP/us.json"
expect_out "owner:     sdr-eli passed over: on another team than the handoff's" "owner on another team"
expect_out "rule:      sales_team" "sales rule"

# Nobody in the pool: the lead stays with the team, unassigned (R1).
printf 'id,team,territory,capacity,active\nsdr-x,sdr,na,2,false\n' >"$TMP/reps.csv"
echo '{"account.country": "CA"}' | "$BATON" route --contract "$C" --reps "$TMP/reps.csv" --at "$AT" - >"$TMP/out" 2>"$TMP/err" && code=0 || code=$?
expect_code 0 "unassigned is a decision"
expect_out "rep:       none: the lead stays with the team, unassigned" "unassigned"
expect_out "skipped:   sdr-x (inactive)" "inactive reason"

# Errors: the reps CSV by line, the lead, the command line.
run route --contract "$C" --reps "$SRC/tests/data/reps/errors.csv" --at "$AT" "$TMP/de.json"
expect_code 1 "bad reps"
expect_err "errors.csv:3: column 'capacity': 'ten' is not a whole number from 1 to 1000" "line 3"
expect_err "errors.csv:4: column 'timezone':" "line 4"
expect_err "errors.csv: 3 lines refused" "count"
echo '["DE"]' >"$TMP/bad.json"
run route --contract "$C" --reps "$R" "$TMP/bad.json"
expect_code 1 "lead not an object"
echo '{"account.country": 49}' >"$TMP/bad.json"
run route --contract "$C" --reps "$R" "$TMP/bad.json"
expect_code 1 "a number where text belongs"
expect_err "'account.country' must be text" "type message"
run route --contract "$C" --reps "$TMP/none.csv" "$TMP/de.json"
expect_code 3 "reps unreadable"
run route --contract "$C" "$TMP/de.json"
expect_code 2 "no reps"
expect_err "--reps CSV is required" "usage message"
run route --contract "$C" --reps "$R" --stage nurtur "$TMP/de.json"
expect_code 2 "unknown stage"
run route --contract "$C" --reps "$R" --at yesterday "$TMP/de.json"
expect_code 2 "bad time"
# replay --reps: every handoff that reaches a team names its rep and why.
# A fast-track goes to sales: an owned account's lead to its owner (an AE),
# another to the AE team's rotation.
cat > "$TMP/owned.jsonl" <<'JSONL'
{"type":"group","userId":"u1","groupId":"northwind.example","traits":{"domain":"northwind.example","industry":"software","employees":450,"country":"US","owner":"ae-gil"},"timestamp":"2026-10-06T14:00:00Z","messageId":"g1"}
{"type":"identify","userId":"u1","traits":{"email":"u1@northwind.example","pain":"manual triage","impact":"lost deals"},"timestamp":"2026-10-06T14:01:00Z","messageId":"i1"}
{"type":"page","userId":"u1","category":"pricing","properties":{"seconds":185},"timestamp":"2026-10-06T14:03:00Z","messageId":"p1"}
{"type":"group","userId":"u2","groupId":"initech.example","traits":{"domain":"initech.example","industry":"software","employees":450,"country":"US"},"timestamp":"2026-10-06T15:00:00Z","messageId":"g2"}
{"type":"identify","userId":"u2","traits":{"email":"u2@initech.example","pain":"manual triage","impact":"lost deals"},"timestamp":"2026-10-06T15:01:00Z","messageId":"i2"}
{"type":"page","userId":"u2","category":"pricing","properties":{"seconds":185},"timestamp":"2026-10-06T15:03:00Z","messageId":"p2"}
JSONL
run replay --contract "$C" --reps "$R" "$TMP/owned.jsonl"
expect_code 0 "replay with reps"
expect_out '"lead":"u1"' "u1 handed off"
expect_out '"route":{"at":"2026-10-06T14:03:00Z","rep":"ae-gil","team":"ae","territory":null,"via":"account_owner"' "the owner takes the owned account's lead"
if grep '"lead":"u2"' "$TMP/out" | grep -q '"rep":"ae-' ; then ok; else bad "u2 goes to a rep of the pool"; fi
run replay --contract "$C" --reps "$TMP/none.csv" "$TMP/owned.jsonl"
expect_code 3 "replay: reps unreadable"

run route --help
expect_code 0 "help"
expect_out "usage: baton route --contract FILE --reps CSV" "usage text"
finish
