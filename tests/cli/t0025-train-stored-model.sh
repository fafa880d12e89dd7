#!/bin/sh
# t0025-train-stored-model.sh — the model train stores is the model it evaluated: scoring
# the same rows again with the stored model (validate, predict) gives exactly the metrics
# the run recorded. Features near 1e9 with --scale none are the hard case: libsvm's own
# svm_save_model writes support vectors with 8 digits, so every one of them read back as
# 1e+09 and the stored model predicted one class for every row.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null

# same_metrics NAME TESTFILE LABELCOL KEYS...: validate NAME:1 on TESTFILE and compare its
# metrics with the train run's holdout_* ones; also the accuracy of predict's labels.
same_metrics() {
	model=$1 file=$2 col=$3
	shift 3
	run --json models show "$model:1"
	trun=$(json "d['run']")
	run --json runs show "$trun"
	cp "$TMP/out" "$TMP/recorded.json"
	run --json validate "$model:1" --data "$file"
	expect_rc "validate $model on $file" 0
	cp "$TMP/out" "$TMP/validated.json"
	for k in "$@"; do
		got=$(/usr/bin/python3 -c "import json; print(repr(json.load(open('$TMP/validated.json'))['metrics']['$k']))")
		want=$(/usr/bin/python3 -c "import json; print(repr(json.load(open('$TMP/recorded.json'))['metrics']['holdout_$k']))")
		check "$model: validate's $k $got is the recorded holdout_$k $want" test "$got" = "$want"
	done
	run predict "$model:1" --input "$file" --output "$TMP/$model.pred"
	expect_rc "predict $model" 0
	acc=$(/usr/bin/python3 - "$TMP/$model.pred" "$file" "$col" <<'PY'
import csv, sys
pred = [r[0] for r in list(csv.reader(open(sys.argv[1], newline="")))[1:]]
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
print(repr(sum(p == r[sys.argv[3]] for p, r in zip(pred, rows)) / len(rows)))
PY
)
	want=$(/usr/bin/python3 -c "import json; print(repr(json.load(open('$TMP/recorded.json'))['metrics']['holdout_accuracy']))")
	check "$model: predict's labels have the recorded accuracy $want (got $acc)" test "$acc" = "$want"
}

# --- x = 1e9 + U(0, 40), unscaled, seeded ---
/usr/bin/python3 - <<'EOF'
import random
r = random.Random(7)
for name, n in (("big_train.csv", 300), ("big_test.csv", 200)):
    with open(name, "w") as f:
        f.write("a,b,label\n")
        for i in range(n):
            a, b = 1e9 + r.uniform(0, 40), 1e9 + r.uniform(0, 40)
            y = "hi" if (a - 1e9) + 0.5 * (b - 1e9) + r.gauss(0, 3) > 30 else "lo"
            f.write("%.17g,%.17g,%s\n" % (a, b, y))
EOF
run train big_train.csv --name big --scale none --gamma 0.01 --test big_test.csv
expect_rc "train on values near 1e9 with --scale none" 0
same_metrics big big_test.csv label accuracy f1_macro balanced_accuracy roc_auc
check "the recorded holdout accuracy is that of a real model (> 0.7)" \
	/usr/bin/python3 -c "import json,sys; sys.exit(json.load(open('$TMP/recorded.json'))['metrics']['holdout_accuracy'] <= 0.7)"
d=$("$MLCTL" --json models show big:1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["model_digest"])')
obj="$MLCTL_REGISTRY/objects/$(echo "$d" | cut -c1-2)/$(echo "$d" | cut -c3-)"
check "no support vector value in the stored model reads 1e+09" test "$(grep -c ':1e+09 ' "$obj")" -eq 0
if command -v svm-predict >/dev/null; then
	tail -n +2 big_test.csv | awk -F, '{ printf "%d 1:%s 2:%s\n", $3 == "hi" ? 0 : 1, $1, $2 }' >big_test.svm
	check "svm-predict reads the stored model" sh -c "svm-predict big_test.svm \"$obj\" big.svmpred >/dev/null"
	check "svm-predict labels all 200 rows" test "$(wc -l <big.svmpred)" -eq 200
fi

# --- churn: categories, min-max scaling, probabilities ---
head -n 3001 "$DATA/mlc_churn.csv" >churn_train.csv
{ head -n 1 "$DATA/mlc_churn.csv"; tail -n +3002 "$DATA/mlc_churn.csv"; } >churn_test.csv
run train churn_train.csv --name churn --label churn --probability -C 8 --gamma 0.03125 --test churn_test.csv
expect_rc "train churn with --probability and --test" 0
same_metrics churn churn_test.csv churn accuracy f1_macro balanced_accuracy roc_auc log_loss
