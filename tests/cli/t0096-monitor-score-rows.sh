#!/bin/sh
# t0096-monitor-score-rows.sh — `mlctl monitor --data` scores a seeded sample of the rows for
# the prediction drift (--score-rows, default 20000; 0 scores every row), and says so. On a
# real shift of mlc_churn (the model trained on the rows with total_day_minutes below its
# median, current data = the rows above it, without the label, 21 times over, the first 50,000 rows)
# and on unshifted data (the rows below, likewise), the sample gives the same verdicts
# as scoring every row: the alert, the dataset drift, the drifted features with the same
# statistics (every row is profiled either way), and the prediction drift; the output says
# "predictions from 20000 of 50000 rows (seeded sample)" in the table, --json, the report
# and the recorded run. The sample is the same on 1 and 2 threads. Data with the label
# column is scored in full (the performance needs every labelled row).
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
churn="$DATA/mlc_churn.csv"

/usr/bin/python3 - "$churn" <<'EOF' || fail "making the data"
import sys
with open(sys.argv[1]) as f:
    lines = f.read().splitlines()
h, rows = lines[0], lines[1:]
col = h.split(",").index('"total_day_minutes"')
v = sorted(float(r.split(",")[col]) for r in rows)
med = (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
lo = [r for r in rows if float(r.split(",")[col]) < med]
hi = [r for r in rows if float(r.split(",")[col]) > med]
cut = lambda r: ",".join(r.split(",")[:19])
def write(path, header, rs):
    with open(path, "w") as f:
        f.write("\n".join([header] + rs) + "\n")
write("lo.csv", h, lo)
write("hi_labelled.csv", h, (hi * 21)[:50000])
write("hi.csv", cut(h), [cut(r) for r in (hi * 21)[:50000]])
write("same.csv", cut(h), [cut(r) for r in (lo * 21)[:50000]])
EOF
run train lo.csv --label churn --name lo -C 4 --gamma 0.05 --holdout 0.2 -q
expect_rc "train on the rows below the median" 0

# verdicts.py A B: the same verdicts in two monitor --json documents (and the same
# statistic for every feature: the profile is of every row either way).
cat >verdicts.py <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
for k in ("alert", "dataset_drift", "drifted_features", "current_rows"):
    if a[k] != b[k]:
        bad.append("%s %s/%s" % (k, a[k], b[k]))
for fa, fb in zip(a["features"], b["features"]):
    if (fa["name"], fa["test"], fa["drifted"], fa["statistic"]) != (fb["name"], fb["test"], fb["drifted"], fb["statistic"]):
        bad.append("%s: %s/%s" % (fa["name"], fa["statistic"], fb["statistic"]))
pa, pb = a["prediction"], b["prediction"]
if (pa["test"], pa["drifted"]) != (pb["test"], pb["drifted"]):
    bad.append("prediction %s %s/%s %s" % (pa["test"], pa["drifted"], pb["test"], pb["drifted"]))
print("; ".join(bad) or "same (prediction %s %.6g sampled, %.6g every row)" % (pa["test"], pa["statistic"], pb["statistic"]))
sys.exit(1 if bad else 0)
EOF

for set in hi same; do
	run --json monitor lo:1 --data $set.csv --no-record
	cp out $set.sample.json
	rc_sample=$rc
	run --json monitor lo:1 --data $set.csv --no-record --score-rows 0
	cp out $set.all.json
	check "$set: the same exit status sampled and scoring every row ($rc_sample, $rc)" test "$rc_sample" -eq "$rc"
	if v=$(/usr/bin/python3 verdicts.py $set.sample.json $set.all.json 2>&1); then
		pass "$set: the verdicts of a 20000-row sample are those of every row: $v"
	else
		fail "$set: sampled and every row differ: $v"
	fi
	cp $set.sample.json out
	check "$set: --json prediction_rows 20000, sampled" test "$(json '[d["prediction_rows"], d["prediction_sampled"]]')" = "[20000, True]"
	cp $set.all.json out
	check "$set: --score-rows 0: prediction_rows 50000, not sampled" test "$(json '[d["prediction_rows"], d["prediction_sampled"]]')" = "[50000, False]"
done
cp hi.sample.json out
check "shift: exit 1 with the prediction drift" test "$(json '[d["alert"], d["prediction"]["drifted"]]')" = "[True, True]"
cp same.sample.json out
check "unshifted: no alert" test "$(json 'd["alert"]')" = False

# the table, the report and the run say it
run monitor lo:1 --data hi.csv --report r.html
expect_rc "shift, table: exit 1" 1
expect_out "table: the sample is said" '^predictions from 20000 of 50000 rows \(seeded sample'
check "report: the sample is said" grep -q 'predictions from 20000 of 50000 rows (seeded sample)' r.html
run --json runs list --kind monitor
id=$(json 'd["runs"][0]["id"]')
run --json runs show "$id"
check "the run records prediction_rows 20000" test "$(json 'd["metrics"].get("prediction_rows")' 2>&1)" = 20000.0
run monitor lo:1 --data hi.csv --no-record --score-rows 0
check "table, --score-rows 0: no sample line" test "$(grep -c '^predictions from' out)" -eq 0

# the same sample on 1 and 2 threads, and another size is another sample
run --json monitor lo:1 --data hi.csv --no-record --threads 1
cp out t1.json
run --json monitor lo:1 --data hi.csv --no-record --threads 2
check "--threads 1 and 2: the same document" cmp -s out t1.json
run --json monitor lo:1 --data hi.csv --no-record --score-rows 500
check "--score-rows 500: 500 rows" test "$(json 'd["prediction_rows"]')" -eq 500
run --json monitor lo:1 --data hi.csv --no-record --score-rows 100000
check "--score-rows above the rows: every row, not a sample" test "$(json '[d["prediction_rows"], d["prediction_sampled"]]')" = "[50000, False]"

# with labels: every row scored
run --json monitor lo:1 --data hi_labelled.csv --no-record
check "labelled data: every row scored, the performance there" \
	test "$(json '[d["prediction_rows"], d["prediction_sampled"], d["performance"] is not None]')" = "[50000, False, True]"
run monitor lo:1 --data hi.csv --score-rows -1
expect_rc "--score-rows -1: usage error" 64
