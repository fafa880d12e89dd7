#!/bin/sh
# t0041-validate-sklearn.sh — the metrics of `mlctl validate --json` agree with
# scikit-learn's sklearn.metrics to 1e-9 when both see the same predictions: the labels and
# values `mlctl predict` writes (checked to print round-trip digits), its probabilities
# (--proba) and decision values (--decision). letter.csv: 26 classes, a probability model
# (log_loss, one-vs-rest roc_auc); mlc_churn.csv: binary, roc_auc from decision values and
# from probabilities; concrete.csv: epsilon-SVR.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
if ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
	pass "scikit-learn not installed: comparison skipped"
	exit 0
fi

# compare.py TASK TRUE.csv LABEL PRED.csv VALIDATE.json [PROBA.csv]: recompute with sklearn
# from the true column and predict's output, print one line per metric that differs and a
# summary; exit 1 on any difference.
cat >compare.py <<'EOF'
import csv, json, math, sys
from sklearn import metrics as M
task, truef, col, predf, jf = sys.argv[1:6]
probaf = sys.argv[6] if len(sys.argv) > 6 else None
got = json.load(open(jf))["metrics"]
y = [r[col] for r in csv.DictReader(open(truef))]
rows = list(csv.DictReader(open(predf)))
p = [r["prediction"] for r in rows]
assert len(y) == len(p), (len(y), len(p))
want = {}
if task == "classification":
    want["accuracy"] = M.accuracy_score(y, p)
    want["balanced_accuracy"] = M.balanced_accuracy_score(y, p)
    for avg in ("macro", "weighted"):
        want["precision_" + avg] = M.precision_score(y, p, average=avg, zero_division=0)
        want["recall_" + avg] = M.recall_score(y, p, average=avg, zero_division=0)
        want["f1_" + avg] = M.f1_score(y, p, average=avg, zero_division=0)
    labels = sorted(set(y) | set(p))
    pr, rc, f1, sup = M.precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
    for i, c in enumerate(labels):
        want["precision[%s]" % c] = pr[i]
        want["recall[%s]" % c] = rc[i]
        want["f1[%s]" % c] = f1[i]
        want["support[%s]" % c] = float(sup[i])
    if "decision" in rows[0]:
        # libsvm's binary decision value is positive for the class of its first training
        # row: the class that rows with a positive value were predicted as.
        d = [float(r["decision"]) for r in rows]
        first = next(r["prediction"] for r, v in zip(rows, d) if v > 0)
        want["roc_auc"] = M.roc_auc_score([c == first for c in y], d)
    if probaf:
        prow = list(csv.DictReader(open(probaf)))
        classes = sorted(k[2:] for k in prow[0] if k.startswith("p_"))
        P = [[float(r["p_" + c]) for c in classes] for r in prow]
        want["log_loss"] = M.log_loss(y, P, labels=classes)
        if len(classes) == 2:
            want["roc_auc"] = M.roc_auc_score(y, [q[1] for q in P])
        else:
            want["roc_auc"] = M.roc_auc_score(y, P, multi_class="ovr", labels=classes)
else:
    yt = [float(v) for v in y]
    yp = [float(v) for v in p]
    want["mse"] = M.mean_squared_error(yt, yp)
    want["rmse"] = math.sqrt(want["mse"])
    want["mae"] = M.mean_absolute_error(yt, yp)
    want["r2"] = M.r2_score(yt, yp)
    want["max_error"] = M.max_error(yt, yp)
bad = 0
for k, v in sorted(want.items()):
    g = got.get(k)
    if g is None or not abs(g - v) <= 1e-9:
        print("%s: mlctl %r, sklearn %r" % (k, g, v))
        bad += 1
left = sorted(set(got) - set(want))
print("%d metrics compared, %d differ, not compared: %s" % (len(want), bad, ", ".join(left) or "none"))
sys.exit(1 if bad else 0)
EOF

# agree NAME ARGS...: run compare.py, pass when every metric agrees and none was left out.
agree() {
	name=$1; shift
	if /usr/bin/python3 compare.py "$@" >cmp.txt 2>&1 && grep -q ' 0 differ, not compared: none$' cmp.txt; then
		pass "$name: $(tail -n 1 cmp.txt)"
	else
		fail "$name: $(head -c 600 cmp.txt)"
	fi
}

# ---- letter.csv: 26 classes, probability model; 3000 rows to train, the next 2000 to validate ----
head -n 3001 "$DATA/letter.csv" >letter-train.csv
{ head -n 1 "$DATA/letter.csv"; sed -n '3002,5001p' "$DATA/letter.csv"; } >letter-val.csv
run train letter-train.csv --name letter --label lettr -C 8 --gamma 0.125 --probability
expect_rc "train letter (26 classes, --probability)" 0
run --json validate letter --data letter-val.csv
expect_rc "validate letter" 0
cp "$TMP/out" letter.json
check "letter: 26 classes in the confusion matrix" test "$(json 'len(d["confusion_matrix"]["classes"])')" = 26
check "letter: log_loss and roc_auc reported" test "$(json '"log_loss" in d["metrics"] and "roc_auc" in d["metrics"]')" = True
run predict letter --input letter-val.csv --output letter-pred.csv
expect_rc "predict letter" 0
run predict letter --input letter-val.csv --output letter-proba.csv --proba
expect_rc "predict letter --proba" 0
agree "letter: accuracy, balanced, macro/weighted/per-class P/R/F1, log_loss, ovr roc_auc" \
	classification letter-val.csv lettr letter-pred.csv letter.json letter-proba.csv

# ---- mlc_churn.csv: binary; roc_auc from decision values, then from probabilities ----
head -n 2001 "$DATA/mlc_churn.csv" >churn-train.csv
{ head -n 1 "$DATA/mlc_churn.csv"; tail -n 1000 "$DATA/mlc_churn.csv"; } >churn-val.csv
run train churn-train.csv --name churn --label churn -C 32 --gamma 0.03125
expect_rc "train churn" 0
run --json validate churn --data churn-val.csv
cp "$TMP/out" churn.json
run predict churn --input churn-val.csv --output churn-pred.csv --decision
expect_rc "predict churn --decision" 0
agree "churn: binary metrics, roc_auc from decision values" \
	classification churn-val.csv churn churn-pred.csv churn.json
run train churn-train.csv --name churnp --label churn -C 32 --gamma 0.03125 --probability
expect_rc "train churn --probability" 0
run --json validate churnp --data churn-val.csv
cp "$TMP/out" churnp.json
run predict churnp --input churn-val.csv --output churnp-pred.csv
run predict churnp --input churn-val.csv --output churnp-proba.csv --proba
agree "churn --probability: binary log_loss and roc_auc from probabilities" \
	classification churn-val.csv churn churnp-pred.csv churnp.json churnp-proba.csv

# ---- concrete.csv: epsilon-SVR; 700 rows to train, the last 330 to validate ----
head -n 701 "$DATA/concrete.csv" >concrete-train.csv
{ head -n 1 "$DATA/concrete.csv"; tail -n 330 "$DATA/concrete.csv"; } >concrete-val.csv
run train concrete-train.csv --name concrete --label compressive_strength --type epsilon-svr -C 64 --gamma 0.5
expect_rc "train concrete (epsilon-SVR)" 0
run --json validate concrete --data concrete-val.csv --gate 'r2>=0.3' --gate 'mae<20'
expect_rc "validate concrete with regression gates" 0
cp "$TMP/out" concrete.json
run predict concrete --input concrete-val.csv --output concrete-pred.csv
expect_rc "predict concrete" 0
# predict writes each value as the shortest string that reads back as the same double:
# Python's repr of the parsed value gives the same text, so nothing was rounded.
check "predict writes regression values unrounded (round-trip digits)" test "$(/usr/bin/python3 -c "
import csv
v = [r['prediction'] for r in csv.DictReader(open('concrete-pred.csv'))]
print(len(v), all(repr(float(s)) == s for s in v))")" = "330 True"
agree "concrete: mse, rmse, mae, r2, max_error" regression concrete-val.csv compressive_strength concrete-pred.csv concrete.json
