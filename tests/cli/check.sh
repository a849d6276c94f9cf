# baton check and the command table, driven as a user would.
set -e
. "$(dirname "$0")/lib.inc"

run check "$SRC/contracts/example.yaml"
expect_code 0 "example contract"
expect_out "example.yaml: ok: acme-handoff v7" "summary line"

run check --format json "$SRC/contracts/example.yaml"
expect_code 0 "json ok"
expect_out '"valid":true,"contract":"acme-handoff","version":7' "json summary"

# A broken contract: exit 1, every error on stderr with file:line:col and a caret.
run check "$SRC/tests/data/contracts/fail/name_unknown.yaml"
expect_code 1 "broken contract"
expect_no_out "broken contract"
expect_err "name_unknown.yaml:9:30: error: unknown field 'account.employes'" "position and message"
expect_err "hint: did you mean 'account.employees'?" "suggestion"
expect_err "name_unknown.yaml: 9 errors" "error count"

run check --format json "$SRC/tests/data/contracts/fail/window_retention.yaml"
expect_code 1 "json errors"
expect_out '"line":11,"column":43,"length":3,"class":"window","message":"window 60d is longer than the retention of 30d"' "json error"

# Several files: each reported, the worst exit code wins.
run check "$SRC/contracts/example.yaml" "$SRC/tests/data/contracts/fail/regex_bad.yaml"
expect_code 1 "mixed files"
expect_out "acme-handoff" "valid file still summarised"
expect_err "bad regular expression" "invalid file reported"

run check "$TMP/does-not-exist.yaml"
expect_code 3 "missing file"
expect_err "cannot read" "missing file message"

run check
expect_code 2 "no file"
expect_err "baton check: no contract file given" "usage message"

run check --format xml x.yaml
expect_code 2 "bad format"

run check --help
expect_code 0 "check --help"
expect_out "usage: baton check" "check usage"

run explain --help
expect_code 0 "explain --help"
expect_out "usage: baton explain" "explain usage"

run --help
expect_code 0 "baton --help"
expect_out "check" "command list"

run chekc x.yaml
expect_code 2 "unknown command"
expect_err "did you mean 'check'?" "command suggestion"

run explain "$SRC/tests/data/contracts/fail/regex_bad.yaml"
expect_code 1 "explain refuses a broken contract"

finish
