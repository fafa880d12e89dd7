#!/bin/sh
# t0112-pipeline-examples.sh — pipelines/concrete.yaml and pipelines/nightly-scoring.yaml run
# as shipped, each from an empty registry that does not exist yet: concrete trains an SVR,
# validates it (r2 gate), deploys and scores; nightly-scoring trains and deploys once, then
# scores and monitors each file of its incoming directory, and a file that arrives later gets
# its own predict and monitor runs while the others stay up to date. --dry-run and status
# say the same; --json gives every stage.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$CLI_DIR/../.." && pwd)

# concrete: regression, end to end.
export CONCRETE_OUT=$TMP/c MLCTL_REGISTRY=$TMP/reg-concrete
run pipeline run "$ROOT/pipelines/concrete.yaml"
expect_rc "concrete: first run" 0
for s in train validate deploy predict; do
	expect_out "concrete: $s ran" "^$s +done in"
done
expect_out "concrete: the r2 gate passed" "^validate +done in .*verdict pass"
check "concrete: predictions of the 206 test rows" test "$(($(wc -l <c/predictions.csv) - 1))" -eq 206
run --json pipeline run "$ROOT/pipelines/concrete.yaml"
expect_rc "concrete: second run" 0
check "concrete: second run skipped all four" test "$(json 'sum(s["state"] == "skipped" for s in d["stages"])')" -eq 4
run --json models show concrete:1
check "concrete: an epsilon-SVR" grep -q 'epsilon' "$TMP/out"

# nightly-scoring: per-file stages over a directory.
mkdir incoming
cp "$ROOT"/examples/nightly/incoming/*.csv incoming/
export NIGHTLY_INCOMING=$TMP/incoming NIGHTLY_OUT=$TMP/n MLCTL_REGISTRY=$TMP/reg-nightly
run pipeline run "$ROOT/pipelines/nightly-scoring.yaml"
expect_rc "nightly: first run" 0
for d in day-01 day-02 day-03; do
	expect_out "nightly: predict $d ran" "^predict\[$d.csv\] +done in"
	expect_out "nightly: monitor $d ran" "^monitor\[$d.csv\] +done in"
	check "nightly: $d scored (300 rows)" test "$(($(wc -l <n/scores/$d.csv) - 1))" -eq 300
	check "nightly: $d report" test -s n/reports/$d.html
done
run pipeline run "$ROOT/pipelines/nightly-scoring.yaml" --if-changed
expect_rc "nightly: nothing new" 0
check "nightly: nothing new says up to date" test "$(cat "$TMP/out")" = "up to date"
# A new file arrives: only its two stages run.
{ head -n 1 incoming/day-01.csv; tail -n 100 "$ROOT/examples/churn/test.csv"; } >incoming/day-04.csv
run pipeline run "$ROOT/pipelines/nightly-scoring.yaml" --dry-run
expect_out "nightly: dry run names the new file" "^predict\[day-04.csv\] +never run"
check "nightly: dry run: two stages would run" test "$(grep -vc 'up to date' "$TMP/out")" -eq 2
run pipeline run "$ROOT/pipelines/nightly-scoring.yaml" --if-changed
expect_rc "nightly: the new file" 0
check "nightly: the new file: two stages ran" test "$(grep -c 'done in' "$TMP/out")" -eq 2
expect_out "nightly: day-04 scored" "^predict\[day-04.csv\] +done in"
check "nightly: day-04 has 100 predictions" test "$(($(wc -l <n/scores/day-04.csv) - 1))" -eq 100
# A rewritten file: its stages rerun, with the reason.
sed -i 's/"no"$/"yes"/' incoming/day-02.csv
run pipeline status "$ROOT/pipelines/nightly-scoring.yaml"
expect_out "nightly: a changed file is stale" "^predict\[day-02.csv\] +stale: changed input .*incoming/day-02.csv"
expect_out "nightly: the others stay up to date" "^predict\[day-01.csv\] +up to date"
