#!/bin/sh
# The main job on the bundled example data (examples/data/mlc_churn.csv, a telecom churn
# table with text categories and a yes/no label): train with tuning, validate with gates,
# sign and package, deploy, score a file with what the target serves, and serve it over
# HTTP: one request through the Open Inference Protocol, then the server is stopped; and
# monitor the held-out data for drift, with an HTML report.
#
#   sh examples/demo.sh            (or: make demo)
#
# Everything happens in build/demo/, with its own registry: run it as often as you like.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
MLCTL=${MLCTL:-$here/../build/mlctl}
work=${WORK:-$here/../build/demo}
data=$here/data/mlc_churn.csv

rm -rf "$work"
mkdir -p "$work"
cd "$work"
export MLCTL_REGISTRY="$work/.mlctl"
say() { printf '\n$ %s\n' "$*"; }
run() { say "mlctl $*"; "$MLCTL" "$@"; }

# A fixed split: the first 4000 customers to learn from, the last 1000 to check on.
head -n 4001 "$data" > train.csv
{ head -n 1 "$data"; tail -n 1000 "$data"; } > test.csv

run init
run train train.csv --name churn --label churn --probability --seed 1 \
	--tune 'C=2^3..2^7:x4,gamma=2^-7..2^-5:x4' --cv 5
run validate churn --data test.csv --gate 'accuracy>=0.89' --gate 'recall[yes]>=0.4' \
	--against churn@production --junit validate.xml
run keygen
run package churn -o churn.mlpkg --sign mlctl.key
run package verify churn.mlpkg --pubkey mlctl.pub
run deploy churn.mlpkg --target production --require-validated --pubkey mlctl.pub
run predict --target production --input test.csv --output predictions.csv --proba --keep state,churn
say "head -n 4 predictions.csv"
head -n 4 predictions.csv
run deploy status

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

# Monitor: the held-out customers (with their labels) against the profile the model was
# trained with: drift per feature, prediction drift, the accuracy against validation; and
# a report to look at. Exit 1 would be an alert (as cron would see it).
say "mlctl monitor --target production --data test.csv --max-drop 0.05 --report drift.html"
status=0
"$MLCTL" monitor --target production --data test.csv --max-drop 0.05 --report drift.html || status=$?
[ $status -le 1 ] || exit $status
echo "(exit $status; the report is $work/drift.html)"

run models show churn
run runs list
