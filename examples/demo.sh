#!/bin/sh
# The main job on the bundled example data, as a pipeline: pipelines/churn.yaml trains the
# churn model with tuning (examples/churn: a telecom churn table with text categories and a
# yes/no label), validates it with gates and against the model in production, packages and
# signs it (making the key pair on first use), deploys it, scores the test customers with what
# is deployed and monitors them, with an HTML report. Then: the same run again (every stage
# up to date), a day of new customers arrives (examples/new-day.sh) and the pipeline retrains
# and redeploys by itself; the deployed model is served over HTTP for one request through the
# Open Inference Protocol, and the monitor's report path is printed.
#
#   sh examples/demo.sh            (or: make demo)
#
# Everything happens in build/demo/, with its own registry: run it as often as you like.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
MLCTL=${MLCTL:-$here/../build/mlctl}
work=${WORK:-$(cd "$here/.." && pwd)/build/demo}

rm -rf "$work"
mkdir -p "$work"
cd "$work"
export MLCTL_REGISTRY="$work/.mlctl"
# The pipeline's data on a copy, so that the new day does not touch examples/; its outputs
# (package, keys, target, predictions, report) in $work/out.
cp -r "$here/churn" data
export CHURN_DATA="$work/data" CHURN_OUT="$work/out"
say() { printf '\n$ %s\n' "$*"; }
run() { say "mlctl $*"; "$MLCTL" "$@"; }

run pipeline run "$here/../pipelines/churn.yaml"
run pipeline run "$here/../pipelines/churn.yaml" --if-changed
say "sh examples/new-day.sh data/train.csv"
sh "$here/new-day.sh" data/train.csv
run pipeline status "$here/../pipelines/churn.yaml"
run pipeline run "$here/../pipelines/churn.yaml" --if-changed
run deploy status
say "head -n 4 out/predictions.csv"
head -n 4 out/predictions.csv

# Serve what the target serves, on a free port, and send it one customer (the first test
# row, without its label) through the Open Inference Protocol.
say "mlctl serve --target production --port 0 --port-file serve.port &"
rm -f serve.port
"$MLCTL" serve --target production --port 0 --port-file serve.port 2>serve.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
i=0
while [ ! -s serve.port ] && [ $i -lt 100 ] && kill -0 $server 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
[ -s serve.port ] || { cat serve.log >&2; echo "demo: the server did not start" >&2; exit 1; }
port=$(cat serve.port)
cat serve.log
cat > request.json <<'JSON'
{"id": "demo-1", "inputs": [
 {"name": "state", "datatype": "BYTES", "shape": [1], "data": ["KS"]},
 {"name": "account_length", "datatype": "FP64", "shape": [1], "data": [128]},
 {"name": "area_code", "datatype": "BYTES", "shape": [1], "data": ["area_code_415"]},
 {"name": "international_plan", "datatype": "BYTES", "shape": [1], "data": ["no"]},
 {"name": "voice_mail_plan", "datatype": "BYTES", "shape": [1], "data": ["yes"]},
 {"name": "number_vmail_messages", "datatype": "FP64", "shape": [1], "data": [25]},
 {"name": "total_day_minutes", "datatype": "FP64", "shape": [1], "data": [265.1]},
 {"name": "total_day_calls", "datatype": "FP64", "shape": [1], "data": [110]},
 {"name": "total_day_charge", "datatype": "FP64", "shape": [1], "data": [45.07]},
 {"name": "total_eve_minutes", "datatype": "FP64", "shape": [1], "data": [197.4]},
 {"name": "total_eve_calls", "datatype": "FP64", "shape": [1], "data": [99]},
 {"name": "total_eve_charge", "datatype": "FP64", "shape": [1], "data": [16.78]},
 {"name": "total_night_minutes", "datatype": "FP64", "shape": [1], "data": [244.7]},
 {"name": "total_night_calls", "datatype": "FP64", "shape": [1], "data": [91]},
 {"name": "total_night_charge", "datatype": "FP64", "shape": [1], "data": [11.01]},
 {"name": "total_intl_minutes", "datatype": "FP64", "shape": [1], "data": [10]},
 {"name": "total_intl_calls", "datatype": "FP64", "shape": [1], "data": [3]},
 {"name": "total_intl_charge", "datatype": "FP64", "shape": [1], "data": [2.7]},
 {"name": "number_customer_service_calls", "datatype": "FP64", "shape": [1], "data": [1]}]}
JSON
say "curl -s -X POST http://127.0.0.1:$port/v2/models/churn/infer -d @request.json"
curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
	"http://127.0.0.1:$port/v2/models/churn/infer" -d @request.json
echo
say "kill -TERM \$server   (drains the requests in flight, exits 0)"
kill -TERM $server
wait $server
trap - EXIT
tail -n 1 serve.log

# The monitor stage compared the test customers (with their labels) with the profile the
# deployed model was trained with: drift per feature, prediction drift, the accuracy against
# validation. Its report:
run monitor history churn
echo
echo "The drift report: $work/out/drift.html"
echo "The signing keys: $work/out/keys/churn.key (secret) and churn.pub"
run runs list
