# baton diff: the same history under the report contract (A) and a proposal
# (B) that requires 200 people and adds a gate on a look at pricing. The
# changed leads are known in advance (see tests/report/test_report.c).
set -e
. "$(dirname "$0")/lib.inc"
D="$SRC/tests/data/report"

run diff --contract "$D/contract.yaml" --against "$D/contract-b.yaml" "$D/suggest.jsonl"
expect_code 0 "diff, text"
expect_out "handoffs: 12 under A, 7 under B; 1 gained, 6 lost, 1 earlier, 0 later" "totals"
expect_out "demo, lost under B: 6 leads: 5 rejected (not_icp 5), 0 booked a meeting" "what the lost leads did"
expect_out "pricing_look, gained under B: 1 lead: 0 rejected, 1 booked a meeting" "what the gained lead did"
expect_out "    afterwards: meeting booked 2026-11-06" "t01's meeting"

run diff --contract "$D/contract.yaml" --against "$D/contract-b.yaml" --format json "$D/suggest.jsonl"
expect_code 0 "diff, json"
expect_out '"changed":true' "json says something changed"
expect_out '{"gate":"pricing_look","a":0,"b":2,"gained":1,"lost":0,"earlier":1,"earlier_median_hours":48,' "pricing gate"
expect_out '{"lead":"t01","a":null,"b":{"gate":"pricing_look","at":"2026-11-03T10:00:00Z"},"afterwards":"meeting booked 2026-11-06"}' "the gained lead"

run diff --contract "$D/contract.yaml" --against "$D/contract.yaml" --format json "$D/suggest.jsonl"
expect_code 0 "the same contract"
expect_out '"changed":false' "nothing changes"

run diff --contract "$D/contract.yaml" "$D/suggest.jsonl"
expect_code 2 "no --against"
run diff --contract "$D/contract.yaml" --against "$D/contract-b.yaml" -
expect_code 2 "stdin cannot be read twice"
run diff --contract "$D/contract.yaml" --against "$SRC/tests/data/contracts/fail/name_unknown.yaml" "$D/suggest.jsonl"
expect_code 1 "invalid proposal"
run diff --contract "$D/contract.yaml" --against "$D/contract-b.yaml" "$TMP/missing.jsonl"
expect_code 3 "unreadable events"

finish
