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

run train --help
expect_code 0 "help"
expect_out "usage: baton train" "help text"
finish
