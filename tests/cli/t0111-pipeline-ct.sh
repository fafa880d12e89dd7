#!/bin/sh
# t0111-pipeline-ct.sh — continuous training with pipelines/churn.yaml, end to end, on a copy
# of examples/churn: the first run trains, validates, packages (making its key pair),
# deploys, scores and monitors; a second run skips every stage and records nothing;
# `touch` without a content change reruns nothing; a day of new rows retrains, revalidates,
# repackages, redeploys, rescores and remonitors, and the running server serves the new
# version; a day of flipped labels makes a model that fails against production: exit 1, the
# old version stays deployed, and later runs say up to date instead of failing again.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$CLI_DIR/../.." && pwd)
PIPE=$ROOT/pipelines/churn.yaml
cp -r "$ROOT/examples/churn" data
export CHURN_DATA=$TMP/data CHURN_OUT=$TMP/o
nruns() { "$MLCTL" --json runs list --all | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))'; }
# deployed: what production serves, as NAME:VERSION, and whether the link agrees
deployed() { "$MLCTL" --json deploy status production | /usr/bin/python3 -c '
import json, sys
t = json.load(sys.stdin)["targets"][0]
print("%s:%d%s" % (t["name"], t["version"], "" if t["in_sync"] else " (out of sync)"))'; }

# 1. From an empty (not even created) registry.
run pipeline run "$PIPE"
expect_rc "first run" 0
for s in train validate package deploy predict monitor; do
	expect_out "first run: $s ran" "^$s +done in"
done
expect_err "first run: registry created" "created an empty registry in $MLCTL_REGISTRY"
expect_err "first run: key pair made on first use" "created the signing key pair .*/o/keys/churn.key"
check "first run: outputs" test -s o/churn.mlpkg -a -s o/churn.mlpkg.minisig -a -s o/predictions.csv \
	-a -s o/drift.html -a -s o/validate.xml -a -s o/keys/churn.pub
check "first run: production serves churn:1" test "$(deployed)" = churn:1
run --json runs list --kind pipeline
pid=$(json 'd["runs"][0]["id"]')
run --json runs list --parent "$pid"
check "first run: the six stage runs are children of the pipeline run" test "$(json 'len(d["runs"])')" -eq 6
run --json runs show "$(json '[r["id"] for r in d["runs"] if r["kind"] == "train"][0]')"
check "first run: the train run carries its stage key" test -n "$(json 'd["tags"].get("mlctl.stage.key", "")')"

# 2. Nothing changed: every stage skipped, nothing recorded.
before=$(nruns)
run pipeline run "$PIPE"
expect_rc "second run" 0
check "second run: six stages up to date" test "$(grep -c 'up to date' "$TMP/out")" -eq 6
check "second run: no run recorded" test "$(nruns)" -eq "$before"
run pipeline run "$PIPE" --if-changed
expect_rc "if-changed, unchanged" 0
check "if-changed, unchanged: prints up to date" test "$(cat "$TMP/out")" = "up to date"
run -q pipeline status "$PIPE"
expect_rc "status -q: up to date" 0

# 3. touch without a content change: nothing reruns.
sleep 0.01
touch data/train.csv data/test.csv
run pipeline run "$PIPE" --if-changed
expect_rc "touch: if-changed" 0
check "touch: up to date" test "$(cat "$TMP/out")" = "up to date"

# 4. New data: the model is retrained and redeployed; the server follows.
serve_start --target production
sh "$ROOT/examples/new-day.sh" data/train.csv >/dev/null
run -q pipeline status "$PIPE"
expect_rc "new day: status -q says stale" 1
run pipeline status "$PIPE"
expect_out "new day: status says why" "^train +stale: changed input .*data/train.csv"
expect_out "new day: downstream is stale because of train" "^validate +stale: upstream train changed"
before=$(nruns)
run pipeline run "$PIPE" --dry-run
expect_rc "new day: dry run" 0
expect_out "new day: dry run says what would run" "^train +changed input"
check "new day: dry run recorded nothing" test "$(nruns)" -eq "$before"
run pipeline run "$PIPE" --if-changed
expect_rc "new day: run" 0
for s in train validate package deploy predict monitor; do
	expect_out "new day: $s ran" "^$s +done in"
done
expect_out "new day: churn:2 trained" "^train +done in .* churn:2"
check "new day: production serves churn:2" test "$(deployed)" = churn:2
cp data/train.csv day1.csv
expect_out "new day: the new training data is stored (store: true)" "^train +stored .*data/train.csv"
i=0
while [ $i -lt 100 ]; do
	v=$(curl -s "http://127.0.0.1:$SERVE_PORT/v2/models/churn" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["versions"][0])' 2>/dev/null)
	[ "$v" = 2 ] && break
	sleep 0.1
	i=$((i + 1))
done
check "new day: the running server serves version 2" test "$v" = 2

# 5. --force STAGE reruns it and what follows; --force alone, everything.
run pipeline run "$PIPE" monitor --force
expect_rc "force monitor" 0
expect_out "force monitor: monitor ran" "^monitor +done in"
check "force monitor: only monitor ran" test "$(grep -c 'done in' "$TMP/out")" -eq 1
run pipeline run "$PIPE" predict
expect_rc "only predict (and what it needs)" 0
check "only predict: monitor not listed" sh -c "! grep -q '^monitor' '$TMP/out'"

# 6. A day of flipped labels: the new model loses against production and is not deployed.
sh "$ROOT/examples/new-day.sh" data/train.csv --flip >/dev/null
run pipeline run "$PIPE" --if-changed
expect_rc "bad day: exit 1" 1
expect_out "bad day: validate stopped it" "^validate +STOPPED the pipeline"
expect_out "bad day: deploy did not run" "^deploy +not run"
check "bad day: production still serves churn:2" test "$(deployed)" = churn:2
run data checkout churn@production prod-data.csv
expect_rc "bad day: the production model's training data checks out" 0
check "bad day: ... byte for byte the day-1 file, not today's" cmp -s prod-data.csv day1.csv
check "bad day: today's file differs" sh -c "! cmp -s prod-data.csv data/train.csv"
run pipeline run "$PIPE" --if-changed
expect_rc "bad day, again from cron: up to date, exit 0" 0
expect_out "bad day, again: says the gate stopped it" "^up to date \(validate stopped the pipeline"
run pipeline run "$PIPE"
expect_rc "bad day, again without --if-changed: still exit 1" 1
run pipeline status "$PIPE"
expect_out "bad day: status shows deploy blocked" "^deploy +blocked: validate stopped the pipeline"
run pipeline run "$PIPE" deploy --force
expect_rc "bad day: forcing deploy does not deploy the failed model" 1
expect_out "bad day: forced deploy is blocked" "^deploy +blocked: validate stopped"
check "bad day: still churn:2 after the forced try" test "$(deployed)" = churn:2

# 7. Overlapping cron runs: --lock exits 75 while another holds the pipeline's lock.
mkdir -p "$MLCTL_REGISTRY/locks"
flock "$MLCTL_REGISTRY/locks/pipeline-churn.lock" sleep 3 &
holder=$!
sleep 0.5
run pipeline run "$PIPE" --if-changed --lock
expect_rc "lock held: exit 75" 75
expect_err "lock held: says so" "pipeline churn is running in another process"
wait $holder
run pipeline run "$PIPE" --if-changed --lock
expect_rc "lock free again" 0
