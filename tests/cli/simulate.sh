# baton simulate, driven as a user would: help, argument errors, deterministic output.
set -e
. "$(dirname "$0")/lib.inc"

run simulate --help
expect_code 0 "simulate --help"
expect_out "usage: baton simulate --seed N --accounts A --days D" "usage line"
expect_out "--rate" "rate option documented"

run --help
expect_code 0 "baton --help"
expect_out "simulate" "listed among the commands"

run simulate --seed 4 --accounts 20 --days 7
expect_code 0 "a small world"
expect_out '{"type":"' "JSON lines"
expect_out '"messageId":"sim-4-1"' "first message id"
cp "$TMP/out" "$TMP/first"

# Same arguments, same bytes; another seed, another stream.
run simulate --seed 4 --accounts 20 --days 7
if cmp -s "$TMP/first" "$TMP/out"; then ok; else bad "same seed gave different output"; fi
run simulate --seed 5 --accounts 20 --days 7
if cmp -s "$TMP/first" "$TMP/out"; then bad "another seed gave the same output"; else ok; fi

# Every line one object; the count follows --rate.
if [ "$(grep -vc '^{"type":"' "$TMP/first" || true)" -eq 0 ]; then ok; else bad "a line is not an event"; fi
run simulate --seed 4 --accounts 20 --days 10 --rate 300
expect_code 0 "with a rate"
lines=$(wc -l <"$TMP/out")
if [ "$lines" -gt 2500 ] && [ "$lines" -lt 3500 ]; then ok; else bad "rate 300 x 10 days gave $lines events"; fi

# --start moves the period; -o writes the same bytes to a file.
run simulate --seed 4 --accounts 20 --days 7 --start 2027-01-04
expect_out '"timestamp":"2027-01-04T' "start date honoured"
run simulate --seed 4 --accounts 20 --days 7 -o "$TMP/file.jsonl"
expect_code 0 "output file"
expect_no_out "output file leaves stdout empty"
if cmp -s "$TMP/first" "$TMP/file.jsonl"; then ok; else bad "-o wrote other bytes than stdout"; fi
run simulate --seed=4 --accounts=20 --days=7 --output="$TMP/file2.jsonl"
if cmp -s "$TMP/first" "$TMP/file2.jsonl"; then ok; else bad "--opt=value forms differ"; fi

# The sales side closes the loop (issues #6, #7): a simulated quarter replayed
# through the example contract has handoffs that sales touched, accepted,
# rejected for more than one reason, and met within the SLA. The figures come
# from the review's JSON; the first "figures" object is the period's own.
"$BATON" simulate --seed 7 --accounts 300 --days 92 -o "$TMP/quarter.jsonl"
run report --contract "$SRC/contracts/example.yaml" --month 2026-08 --format json "$TMP/quarter.jsonl"
expect_code 0 "review of a simulated quarter"
grep -o '"figures":{[^}]*}' "$TMP/out" | head -1 >"$TMP/figures"
figure() { grep -o "\"$1\":[0-9]*" "$TMP/figures" | head -1 | cut -d: -f2; }
for f in accepted rejected touched sla_met meetings_in_sla returns; do
    v=$(figure "$f")
    if [ "${v:-0}" -gt 0 ]; then ok; else bad "a simulated quarter has no '$f' handoffs"; fi
done
reasons=$(sed 's/.*"rejected_by_reason":{//' "$TMP/figures" | grep -o '"[a-z_]*":[1-9][0-9]*' | wc -l)
if [ "$reasons" -ge 3 ]; then ok; else bad "rejections carry $reasons reason codes, want 3 or more"; fi
# Sales works the person who showed intent: its actions name that userId, and
# the lead's own timeline shows them (a rejection sends it back to nurture).
run replay --contract "$SRC/contracts/example.yaml" --timeline "$TMP/quarter.jsonl"
expect_code 0 "replay of a simulated quarter"
expect_out '"cause":"accepted"' "an acceptance moves a lead"
expect_out '"cause":"rejected: not_icp"' "a not_icp rejection moves a lead"
expect_out '"cause":"opportunity created"' "an opportunity moves a lead to sales"
# A contract that hands off fewer leads replays the same history: sales
# actions on leads it never handed off change nothing, so every acceptance
# and rejection it shows moves a lead that it handed off itself.
sed -e '/^  - name: human_reply$/,/^    to: development$/d' -e '/^tests:/,$d' \
    "$SRC/contracts/example.yaml" >"$TMP/fewer.yaml"
run replay --contract "$TMP/fewer.yaml" --timeline "$TMP/quarter.jsonl"
expect_code 0 "replay under a contract with one gate less"
if grep -q '"gate":"human_reply"' "$TMP/out"; then bad "the removed gate still hands off"; else ok; fi
grep '"record":"handoff"' "$TMP/out" | grep -o '"lead":"[^"]*"' | sort -u >"$TMP/handed"
grep '"cause":"\(accepted\|rejected: [a-z_]*\)"' "$TMP/out" | grep -o '"lead":"[^"]*"' | sort -u >"$TMP/worked"
if [ -s "$TMP/worked" ] && [ -z "$(comm -13 "$TMP/handed" "$TMP/worked")" ]; then ok; else
    bad "sales moved leads the contract never handed off: $(comm -13 "$TMP/handed" "$TMP/worked" | head -3)"; fi

# Usage errors: exit 2 with a message that says what is wrong.
run simulate
expect_code 2 "no arguments"
expect_err "baton simulate: missing --seed N" "missing seed"
run simulate --seed 1 --days 3
expect_code 2 "no accounts"
expect_err "missing --accounts" "missing accounts"
run simulate --seed 1 --accounts 0 --days 3
expect_code 2 "zero accounts"
expect_err "--accounts wants a whole number" "accounts range"
run simulate --seed 1 --accounts 10 --days many
expect_code 2 "days not a number"
run simulate --seed -3 --accounts 10 --days 3
expect_code 2 "negative seed"
run simulate --seed 1 --accounts 10 --days 3 --rate 0
expect_code 2 "zero rate"
expect_err "--rate" "rate message"
run simulate --seed 1 --accounts 10 --days 3 --rate fast
expect_code 2 "rate not a number"
run simulate --seed 1 --accounts 10 --days 3 --start 2026-02-30
expect_code 2 "bad start date"
expect_err "--start wants an ISO-8601 date" "start message"
run simulate --seed 1 --acounts 10 --days 3
expect_code 2 "misspelt option"
expect_err "did you mean '--accounts'?" "option suggestion"
run simulate --seed 1 --accounts 10 --days 3 extra
expect_code 2 "stray argument"
run simulate --seed 1 --seed 2 --accounts 10 --days 3
expect_code 2 "option twice"
run simulate --seed 1 --accounts 10 --days
expect_code 2 "option without value"
expect_err "--days needs a value" "value message"

# An output that cannot be written: exit 3.
run simulate --seed 1 --accounts 10 --days 3 -o "$TMP/no/such/dir/out.jsonl"
expect_code 3 "unwritable output"
expect_err "cannot write" "unwritable message"
if [ -w /dev/full ]; then
    run simulate --seed 1 --accounts 10 --days 3 -o /dev/full
    expect_code 3 "full disk"
fi

finish
