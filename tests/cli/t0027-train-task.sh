#!/bin/sh
# t0027-train-task.sh — without --type, train infers the task from the label: text labels,
# or integers with at most 20 distinct values (or at most one per 20 rows), train a
# classifier (c-svc); any other numeric label trains a regression (epsilon-svr). The
# choice is printed and in --json; --type always wins; a classifier refuses labels that
# are not integers, naming the file, line, column and value.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null

# task: the --json task object as "kind svm_type inferred reason".
task() {
	json "d['task']['kind'], d['task']['svm_type'], d['task']['inferred'], d['task']['reason']"
}

# --- diabetes: 442 rows, 214 distinct integer targets: a regression ---
if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
	/usr/bin/python3 - <<'EOF'
import csv
from sklearn.datasets import load_diabetes
d = load_diabetes(scaled=False)
w = csv.writer(open("diabetes.csv", "w", newline=""))
w.writerow(list(d.feature_names) + ["progression"])
for x, y in zip(d.data, d.target):
    w.writerow([repr(float(v)) for v in x] + [int(y)])
EOF
	run train diabetes.csv --name dia --label progression --holdout 0.2 -C 100
	expect_rc "train diabetes without --type" 0
	expect_out "the summary says regression and why" \
		'^  task +regression \(epsilon-svr, label has 214 distinct values\)$'
	run --json train diabetes.csv --name dia --label progression --holdout 0.2 -C 100
	check "--json: regression, epsilon-svr, inferred" \
		test "$(task)" = "regression epsilon-svr True label has 214 distinct values"
	check "the model registered is an epsilon-SVR" test "$(json "d['params']['type']")" = epsilon-svr
	r2=$(json "d['metrics']['holdout_r2']")
	check "diabetes holdout R2 $r2 is in a sane range (0.4 .. 0.8)" \
		/usr/bin/python3 -c "import sys; sys.exit(not 0.4 <= $r2 <= 0.8)"
	check "no accuracy is reported for a regression" test "$(json "'holdout_accuracy' in d['metrics']")" = False
	run --json train diabetes.csv --name dia --label progression --holdout 0.2 --type c-svc
	expect_rc "train diabetes --type c-svc" 0
	check "--type c-svc wins: a classifier of 214 classes" \
		test "$(task)" = "classification c-svc False 214 classes, given by --type"
else
	pass "scikit-learn not installed: diabetes not checked"
fi

# --- text and few integer classes: classification ---
run --json train "$DATA/iris.csv" --name iris --label species
check "iris (3 text classes): classification" test "$(task)" = "classification c-svc True 3 classes"
run train "$DATA/mlc_churn.csv" --name churn --label churn -C 8
expect_out "churn (yes/no): classification on the summary line" '^  task +classification \(c-svc, 2 classes\)$'
# shuttle-like: its 7 classes as the integers 1..7, 3000 rows
head -n 3001 "$DATA/shuttle.csv" | awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next }
	{ if (!($10 in m)) m[$10] = ++n; $10 = m[$10]; print }' >shuttle_int.csv
run --json train shuttle_int.csv --name shuttle --label Class
expect_rc "train shuttle with integer classes" 0
check "shuttle (integer classes): classification" \
	test "$(json "d['task']['kind'], d['task']['svm_type'], d['task']['inferred']")" = "classification c-svc True"
# 30 distinct integers: classes in 1000 rows (at most 1 per 20 rows), a regression in 500
awk 'BEGIN { print "x,y"; for (i = 0; i < 1000; i++) printf "%d,%d\n", i, i % 30 }' >k30n1000.csv
awk 'BEGIN { print "x,y"; for (i = 0; i < 500; i++) printf "%d,%d\n", i, i % 30 }' >k30n500.csv
run --json train k30n1000.csv --name k1 --label y
check "30 integer values in 1000 rows: classification" test "$(task)" = "classification c-svc True 30 classes"
run --json train k30n500.csv --name k2 --label y
check "30 integer values in 500 rows: regression" \
	test "$(task)" = "regression epsilon-svr True label has 30 distinct values"
run --json train "$DATA/concrete.csv" --name conc --label compressive_strength
check "concrete (float target): regression" \
	test "$(task)" = "regression epsilon-svr True label has values that are not integers"

# --- a classifier refuses labels that are not integers ---
printf 'x,y\n1,1\n2,1.7\n3,1\n4,2\n' >floaty.csv
run train floaty.csv --name f --label y --type c-svc
expect_rc "--type c-svc on labels 1.7 exits 65" 65
expect_err "the message names the file, line, column and value" \
	'floaty.csv:3: label column "y": "1\.7" is not a class'
check "nothing registered" sh -c '! "$MLCTL" models show f >/dev/null 2>&1'
run --json train floaty.csv --name f --label y
check "without --type the same labels train a regression" \
	test "$(json "d['task']['kind']")" = regression
