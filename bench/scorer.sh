#!/bin/sh
# bench/scorer.sh — svm_predict against scorer_predict, single-threaded, on a model trained
# by svm-train with defaults on the whole of letter.csv scaled to [-1,1] by svm-scale.
# Run from the repository root after `make && make -f bench/scorer.mk`.
set -eu
BUILD=${BUILD:-build}
dir=$(mktemp -d /tmp/mlctl-bench-scorer.XXXXXX)
trap 'rm -rf "$dir"' EXIT
awk -F, 'NR > 1 { gsub(/"/, "", $1); printf "%d", index("ABCDEFGHIJKLMNOPQRSTUVWXYZ", $1);
	for (i = 2; i <= NF; i++) if ($i != 0) printf " %d:%s", i - 1, $i; printf "\n" }' \
	examples/data/letter.csv > "$dir/letter.txt"
svm-scale -l -1 -u 1 "$dir/letter.txt" > "$dir/letter.scale" 2>/dev/null
svm-train -q "$dir/letter.scale" "$dir/letter.model"
echo "== decision values (svm_predict)"
"$BUILD/bench/scorer_bench" "$dir/letter.model" "$dir/letter.scale"
svm-train -q -b 1 "$dir/letter.scale" "$dir/letter-b.model"
echo "== probabilities (svm_predict_probability)"
"$BUILD/bench/scorer_bench" -b "$dir/letter-b.model" "$dir/letter.scale"
