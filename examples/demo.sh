#!/bin/sh
# The main job on the bundled example data (examples/data/mlc_churn.csv, a telecom churn
# table with text categories and a yes/no label): train with tuning, validate with gates,
# sign and package, deploy, and score a file with what the target serves.
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
run models show churn
run runs list
