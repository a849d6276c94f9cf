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
