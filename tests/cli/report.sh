# baton report, driven as a user would, on the hand-worked fixture of
# tests/report/test_report.c (October 2026 against September).
set -e
. "$(dirname "$0")/lib.inc"
D="$SRC/tests/data/report"
C="$D/contract.yaml"

run report --contract "$C" "$D/figures.jsonl"
expect_code 0 "report, text"
expect_out "report-test v3: handoff review for 2026-10 (against 2026-09)" "heading names the month"
expect_out "33% (2 of 6)" "meeting rate with the pending lead left out"
if grep -q "Main cause: " "$TMP/out"; then bad "a 33% rate is not low against 30%"; else ok; fi

run report --contract "$C" --month 2026-10 --meeting-target 50 --format md "$D/figures.jsonl"
expect_code 0 "report, markdown"
expect_out "| handoffs | 8 | 2 | +6 |" "markdown summary row"
expect_out "**handoff lacks context**" "the main cause in bold"

run report --contract "$C" --month 2026-10 --format json "$D/figures.jsonl"
expect_code 0 "report, json"
expect_out '"period":{"label":"2026-10","from":"2026-10-01T00:00:00Z","to":"2026-11-01T00:00:00Z"}' "json period"
expect_out '"meetings_pending":1' "json pending"

run report --contract "$C" --month 2026-10 --format csv "$D/figures.jsonl"
expect_code 0 "report, csv"
expect_out "all,,2026-10,8,0,1,2,0.25,1,7,2,4,1,0.3333," "csv totals"
expect_out "source,linkedin,2026-10,2," "csv by source"

run report --contract "$C" --month 2026-10 --format html -o "$TMP/review.html" "$D/figures.jsonl"
expect_code 0 "report, html to a file"
expect_no_out "html goes to the file"
if grep -q "<svg" "$TMP/review.html" && ! grep -q "<script" "$TMP/review.html" &&
   ! grep -q "https\?://" "$TMP/review.html"; then ok; else bad "html is one page with inline SVG and no links out"; fi

# A period by days, and an "as of" that leaves the gus lead pending or not.
run report --contract "$C" --from 2026-10-01 --to 2026-10-31 --as-of 2026-11-11T17:01:00Z --format json "$D/figures.jsonl"
expect_out '"label":"2026-10-01..2026-10-31"' "from/to label"
expect_out '"meetings_pending":0' "past the tenth business day nothing is pending"

# The suggestion fixture names the attribute.
run report --contract "$C" --month 2026-11 "$D/suggest.jsonl"
expect_out "requiring account.employees >= 200 would have removed 6 handoffs, 5 of them rejected" "suggestion"

# Usage and input errors.
run report "$D/figures.jsonl"
expect_code 2 "no contract"
expect_err "--contract FILE is required" "says what is missing"
run report --contract "$C" --month 2026-13 "$D/figures.jsonl"
expect_code 2 "bad month"
run report --contract "$C" --month 2026-10 --from 2026-10-01 --to 2026-10-02 "$D/figures.jsonl"
expect_code 2 "month and from/to"
run report --contract "$C" --format pdf "$D/figures.jsonl"
expect_code 2 "unknown format"
run report --contract "$C" "$TMP/missing.jsonl"
expect_code 3 "unreadable events"
run report --contract "$SRC/tests/data/contracts/fail/name_unknown.yaml" "$D/figures.jsonl"
expect_code 1 "invalid contract"
# With reps, the owner is the rep each handoff was routed to: a simulated
# quarter under the example contract and its reps.
"$BATON" simulate --seed 7 --accounts 120 --days 60 -o "$TMP/q.jsonl"
run report --contract "$SRC/contracts/example.yaml" --month 2026-08 --format csv --reps "$SRC/contracts/reps.example.csv" "$TMP/q.jsonl"
expect_code 0 "report with reps"
if grep -q '^owner,sdr-' "$TMP/out"; then ok; else bad "owner slices name reps"; fi
run report --contract "$C" --db "$TMP/x.db" --reps "$SRC/contracts/reps.example.csv"
expect_code 2 "--reps with --db"
run report --help
expect_code 0 "help"
expect_out "usage: baton report --contract FILE" "help text"

finish
