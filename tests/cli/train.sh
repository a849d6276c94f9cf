# baton train (R8): a model from a simulated history, its file, and refusals.
set -e
. "$(dirname "$0")/lib.inc"
C="$SRC/tests/score/score.yaml"

"$BATON" simulate --seed 5 --accounts 300 --days 300 --rate 300 -o "$TMP/events.jsonl"

run train --contract "$C" --history "$TMP/events.jsonl" -o "$TMP/m.model" --baseline --export-rows "$TMP/rows.svm"
expect_code 0 "train on a simulated history"
expect_out "holdout: AUC " "holdout AUC printed"
expect_out "lift in the top decile" "decile lift printed"
expect_out "calibration on the holdout" "calibration table printed"
expect_out "strongest positive factors" "positive factors printed"
expect_out "strongest negative factors" "negative factors printed"
expect_out "baseline (plain counts per signal" "baseline printed"
if head -1 "$TMP/m.model" | grep -q '^baton-model 1$' && grep -q "^contract	score-test	3$" "$TMP/m.model" &&
   tail -1 "$TMP/m.model" | grep -Eq '^sha256	[0-9a-f]{64}$'; then ok; else bad "model file header, contract, checksum"; fi
if grep -q '^1 qid:1\|^0 qid:1' "$TMP/rows.svm" && grep -q ' qid:3' "$TMP/rows.svm"; then ok; else bad "exported rows"; fi

# The same history gives the same model, byte for byte.
run train --contract "$C" --history "$TMP/events.jsonl" -o "$TMP/again.model"
if cmp -s "$TMP/m.model" "$TMP/again.model"; then ok; else bad "training is not deterministic"; fi

# Usage errors.
run train --contract "$C" -o "$TMP/x.model"
expect_code 2 "no history"
expect_err "--history EVENTS... is required" "missing history named"
run train --contract "$C" --history "$TMP/events.jsonl" -o "$TMP/x.model" --horizon soon
expect_code 2 "bad horizon"
run train --contract "$C" --history "$TMP/missing.jsonl" -o "$TMP/x.model"
expect_code 3 "unreadable history"
expect_err "missing.jsonl: cannot read" "unreadable history named"

# Nothing to learn: a history without wins.
head -200 "$TMP/events.jsonl" > "$TMP/short.jsonl"
run train --contract "$C" --history "$TMP/short.jsonl" -o "$TMP/x.model" --horizon 1d
expect_code 1 "no wins"
expect_err "nothing to learn from" "no wins explained"
if [ ! -e "$TMP/x.model" ]; then ok; else bad "no model file when nothing was learned"; fi

# The model in use: a contract that names it (relative to the contract) and
# a gate that reads `score`. Every handoff carries its score and the factors
# that moved it; the score gate hands off.
cp "$TMP/m.model" "$TMP/in-use.model"
sed -e 's/^gates:$/gates:\n  - { name: likely_win, when: fit.not_customer and score >= 0, to: development }/' "$C" > "$TMP/scored.yaml"
printf 'model: in-use.model\n' >> "$TMP/scored.yaml"
head -3000 "$TMP/events.jsonl" > "$TMP/some.jsonl"
run replay --contract "$TMP/scored.yaml" "$TMP/some.jsonl"
expect_code 0 "replay with the model"
expect_out '"gate":"likely_win"' "the score gate hands off"
if grep -q '"score":{"value":0\.[0-9]*,"factors":\[{"feature":' "$TMP/out"; then ok; else bad "handoffs carry the score and its factors"; fi
if [ "$(grep -c '"record":"handoff"' "$TMP/out")" -eq "$(grep -c '"score":{' "$TMP/out")" ]; then ok; else bad "every handoff is scored"; fi
# --model overrides the contract's; a model for another version is refused
# with a clear warning, and the fallback applies: score is null, the score
# gate never holds, everything else runs.
sed -e 's/^version: 3$/version: 4/' "$TMP/scored.yaml" > "$TMP/v4.yaml"
run replay --contract "$TMP/v4.yaml" --model "$TMP/m.model" "$TMP/some.jsonl"
expect_code 0 "replay with a mismatched model"
expect_err "trained for contract 'score-test' version 3, but the contract is 'score-test' version 4" "mismatch named"
expect_err "\`score\` is null" "fallback said"
if ! grep -q '"gate":"likely_win"' "$TMP/out" && grep -q '"record":"handoff"' "$TMP/out"; then ok; else bad "fallback: no score handoffs, the rest kept"; fi
sed -e '5s/./X/' "$TMP/m.model" > "$TMP/in-use.model"
run replay --contract "$TMP/scored.yaml" "$TMP/some.jsonl"
expect_code 0 "replay with a damaged model"
expect_err "in-use.model" "the damaged file is named"
if ! grep -q '"score":{' "$TMP/out"; then ok; else bad "a damaged model scores nothing"; fi

run train --help
expect_code 0 "help"
expect_out "usage: baton train" "help text"
finish
