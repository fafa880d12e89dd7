#!/bin/sh
# t0094-monitor-churn.sh — mlctl monitor on real data (issue 12's "Must hold"), mlc_churn.csv:
# no false alarm on 9 of 10 random reference/current halves; a real shift (current = the rows
# with total_day_minutes above its median, reference = those below) drifts total_day_minutes
# and total_day_charge and exits 1, with the prediction drift reported; 30% flipped labels
# fire the --max-drop alert and the unflipped labels do not; the serve prediction log, the
# profiles of a predict run (--since) and the file itself give the same verdicts for the same
# rows; monitor history has one entry per recorded run; bad input exits 64/65/66 naming
# file:line; --report writes a page without script. Every split is seeded.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
churn="$DATA/mlc_churn.csv"

# split.py MODE ...: the splits, from the raw lines (no field of mlc_churn holds a comma).
#   random SEED REF CUR      the rows shuffled by SEED, halves
#   median REF CUR           total_day_minutes below its median / above it
#   flip SEED FRAC IN OUT    FRAC of the rows' churn labels (the last column) flipped
cat >split.py <<'EOF'
import random, sys
mode = sys.argv[1]
def read(path):
    with open(path) as f:
        lines = f.read().splitlines()
    return lines[0], lines[1:]
def write(path, header, rows):
    with open(path, "w") as f:
        f.write("\n".join([header] + rows) + "\n")
if mode == "random":
    seed, ref, cur, src = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    h, rows = read(src)
    random.Random(seed).shuffle(rows)
    write(ref, h, rows[:len(rows) // 2])
    write(cur, h, rows[len(rows) // 2:])
elif mode == "median":
    ref, cur, src = sys.argv[2], sys.argv[3], sys.argv[4]
    h, rows = read(src)
    col = h.split(",").index('"total_day_minutes"')
    v = sorted(float(r.split(",")[col]) for r in rows)
    med = (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
    write(ref, h, [r for r in rows if float(r.split(",")[col]) < med])
    write(cur, h, [r for r in rows if float(r.split(",")[col]) > med])
elif mode == "flip":
    seed, frac, src, out = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
    h, rows = read(src)
    pick = set(random.Random(seed).sample(range(len(rows)), round(frac * len(rows))))
    other = {'"yes"': '"no"', '"no"': '"yes"'}
    res = []
    for i, r in enumerate(rows):
        f = r.split(",")
        if i in pick:
            f[-1] = other[f[-1]]
        res.append(",".join(f))
    write(out, h, res)
EOF
split() { /usr/bin/python3 split.py "$@" || fail "split.py $*"; }
# verdict_json NAME: the last run gave a verdict (exit 0 or 1) and a JSON document on stdout
# (a sanitizer's abort exits 1 too, without the document).
verdict_json() {
	if [ "$rc" -le 1 ] && /usr/bin/python3 -c "import json; json.load(open('$TMP/out'))" 2>/dev/null; then
		pass "$1: exit $rc with a JSON verdict"
	else
		fail "$1: exit $rc, stdout $(head -c 100 "$TMP/out" | tr '\n' ' '), stderr $(head -c 300 "$TMP/err" | tr '\n' ' ')"
	fi
}
# jv EXPR: lib.sh's json, quiet when stdout is no JSON (the check that uses it fails).
jv() { json "$1" 2>/dev/null; }
nolabel() { cut -d, -f1-19 "$1" >"$2"; }
# train NAME DATA: a quick model (no tuning), its validation on a 20% holdout.
train() {
	run train "$2" --label churn --name "$1" -C 4 --gamma 0.05 --holdout 0.2 -q
	[ "$rc" -eq 0 ] || fail "train $1 on $2: $(head -c 300 "$TMP/err")"
}

# ---- 1. no false alarm: 10 seeds of random halves ----
ok=0 alarms=
for seed in 1 2 3 4 5 6 7 8 9 10; do
	split random "$seed" ref$seed.csv cur$seed.csv "$churn"
	train half ref$seed.csv
	run --json monitor "half:$seed" --data cur$seed.csv --no-record
	if [ "$rc" -eq 0 ]; then
		ok=$((ok + 1))
	else
		alarms="$alarms seed $seed: exit $rc ($(jv 'd["why"]' || head -c 200 "$TMP/err" | tr '\n' ' '));"
	fi
done
echo "t0094: random halves without an alert: $ok of 10${alarms:+;$alarms}"
check "random halves: exit 0 for at least 9 of 10 seeds (got $ok${alarms:+;$alarms})" test "$ok" -ge 9

# ---- 2. a real shift: total_day_minutes below / above its median ----
split median lo.csv hi.csv "$churn"
check "median split: two parts of about 2500 rows" test "$(($(wc -l <lo.csv) + $(wc -l <hi.csv)))" -ge 4990
train lo lo.csv
run --json monitor lo:1 --data hi.csv
expect_rc "shifted current data: exit 1" 1
cp out shift.json
drifted() { jv "[f['drifted'] for f in d['features'] if f['name'] == '$1'] == [True]"; }
check "shift: total_day_minutes drifted" test "$(drifted total_day_minutes)" = True
check "shift: total_day_charge drifted" test "$(drifted total_day_charge)" = True
check "shift: alert true" test "$(jv 'd["alert"]')" = True
check "shift: the prediction drift is reported" test "$(jv 'isinstance(d["prediction"], dict) and "drifted" in d["prediction"]')" = True
echo "t0094: shift: prediction drift $(jv 'd["prediction"]["drifted"], d["prediction"]["test"], d["prediction"]["statistic"]');" \
	"dataset_drift $(jv 'd["dataset_drift"], d["drifted_features"], len(d["features"])')"
run monitor lo:1 --data hi.csv --no-record
expect_rc "shift, table form: exit 1" 1
expect_out "shift, table: a line for total_day_minutes saying DRIFT" '^total_day_minutes .*DRIFT'
expect_out "shift, table: the prediction drift line" '^prediction drift: (yes|no)'
expect_out "shift, table: verdict ALERT" '^verdict: ALERT'

# ---- 3. labels: 30% flipped fire the performance alert, the true labels do not ----
split random 11 ref.csv cur.csv "$churn"
train churn ref.csv
split flip 7 0.3 cur.csv flipped.csv
check "flip: 30% of the labels differ" test "$(paste -d'|' cur.csv flipped.csv | awk -F'|' '$1 != $2' | wc -l)" -eq 750
run --json monitor churn:1 --data flipped.csv --max-drop 0.05
expect_rc "30% flipped labels, --max-drop 0.05: exit 1" 1
check "flipped: performance is reported" test "$(jv 'isinstance(d["performance"], dict)')" = True
check "flipped: performance.alert true" test "$(jv 'd["performance"] and d["performance"]["alert"]')" = True
echo "t0094: flipped: $(jv 'd["performance"]')"
run --json monitor churn:1 --data cur.csv --max-drop 0.05
check "true labels: performance is reported" test "$(jv 'isinstance(d["performance"], dict)')" = True
check "true labels: performance.alert false" test "$(jv 'd["performance"] and d["performance"]["alert"]')" = False
echo "t0094: true labels: exit $rc, $(jv 'd["performance"]')"

# ---- 4. the same verdicts from the serve log, predict's profile and the file ----
# The shifted rows (some features drift, some do not), without the label.
nolabel hi.csv hi_nl.csv
serve_start lo:1 --log-predictions "$TMP/pred.jsonl" && {
	pycheck - "$SERVE_PORT" hi_nl.csv <<'EOF'
import sys
from servelib import *
port, path = sys.argv[1:3]
header, rows, numeric = read_csv(path)
n = 0
for i in range(0, len(rows), 50):
    st, h, b = request(port, "POST", "/v2/models/lo/infer", v2_body(header, rows[i:i + 50], numeric))
    if st != 200:
        check("POST rows %d..%d: 200" % (i + 1, i + 50), False, "%s %s" % (st, b[:300]))
        break
    n += len(rows[i:i + 50])
check("serve: every shifted row scored (%d) in batches of 50" % len(rows), n == len(rows) and n > 2000, n)
EOF
	serve_stop
	check "serve: exit 0 on SIGTERM" test "$serve_rc" -eq 0
}
run --json monitor lo:1 --log pred.jsonl
verdict_json "monitor --log"
cp out from_log.json
# The same log as if it had been rotated twice (pred.jsonl.2 the oldest): read whole.
mkdir rot
n=$(wc -l <pred.jsonl)
head -n $((n / 3)) pred.jsonl >rot/pred.jsonl.2
sed -n "$((n / 3 + 1)),$((2 * n / 3))p" pred.jsonl >rot/pred.jsonl.1
tail -n +$((2 * n / 3 + 1)) pred.jsonl >rot/pred.jsonl
run --json monitor lo:1 --log rot/pred.jsonl
check "monitor --log reads the rotated files too: the same rows" \
	test "$(jv 'd["current_rows"]')" = "$(sed -n 's/.*"current_rows": *\([0-9]*\).*/\1/p' from_log.json | head -1)"
check "monitor --log reads the rotated files too: the same verdicts" \
	test "$(jv '[f["drifted"] for f in d["features"]]')" = "$(/usr/bin/python3 -c 'import json; print([f["drifted"] for f in json.load(open("from_log.json"))["features"]])')"
run predict lo:1 --input hi_nl.csv --output hi_pred.csv
expect_rc "predict lo:1 on the shifted rows" 0
pred_run=$(sed -n 's/^ *run \([0-9A-Z]*\)$/\1/p' out err | head -1)
check "predict printed its run id" test -n "$pred_run"
run --json monitor lo:1 --since "$pred_run"
verdict_json "monitor --since the predict run"
cp out from_since.json
run --json monitor lo:1 --data hi_nl.csv
verdict_json "monitor --data without labels"
cp out from_data.json
pycheck - from_data.json from_log.json from_since.json shift.json <<'EOF'
import json, sys
from servelib import check
docs = {}
for p in sys.argv[1:]:
    try:
        docs[p] = json.load(open(p))
    except ValueError as e:
        docs[p] = None
        check("%s is JSON" % p, False, e)
data = docs["from_data.json"]
def verdicts(d):
    return {f["name"]: f["drifted"] for f in d["features"]}
for src in ("from_log.json", "from_since.json"):
    d = docs[src]
    if data is None or d is None:
        continue
    check("%s: as many current rows as the file (%d)" % (src, data["current_rows"]),
          d["current_rows"] == data["current_rows"], d["current_rows"])
    a, b = verdicts(data), verdicts(d)
    diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
    check("%s: the same drifted flag for every feature as --data" % src, not diff and len(a) > 0, diff)
    check("%s: the same dataset_drift as --data (%s)" % (src, data["dataset_drift"]),
          d["dataset_drift"] == data["dataset_drift"], d["dataset_drift"])
    pa, pb = data.get("prediction"), d.get("prediction")
    check("%s: the same prediction drift as --data" % src,
          (pa and pa["drifted"]) == (pb and pb["drifted"]), (pa and pa["drifted"], pb and pb["drifted"]))
    # not a check: how far the statistics are from the file's (the same rows, under 5000)
    sa = {f["name"]: f["statistic"] for f in data["features"]}
    worst = max((abs(sa[f["name"]] - f["statistic"]), f["name"]) for f in d["features"] if f["name"] in sa)
    print("INFO %s: largest statistic difference from --data: %g (%s)" % (src, worst[0], worst[1]))
if data is not None and docs["shift.json"] is not None:
    s = docs["shift.json"]
    check("--data without the label: the verdicts of the labelled file", verdicts(s) == verdicts(data),
          {k: v for k, v in verdicts(data).items() if verdicts(s).get(k) != v})
    check("--data without the label: no performance", data["performance"] is None, data["performance"])
EOF
grep '^INFO' "$TMP/py.out" | sed 's/^INFO/t0094:/'

# ---- 5. monitor history ----
split random 21 href.csv hcur.csv "$churn"
train hist href.csv
for k in 1 2 3; do
	run monitor hist:1 --data hcur.csv -q
	check "hist: monitor run $k recorded (exit 0/1)" test "$rc" -le 1
done
run monitor hist:1 --data hcur.csv --no-record -q
run monitor history hist
expect_rc "monitor history hist" 0
expect_out "history: 3 runs" 'Monitor runs of hist: 3'
nf=0 missing=
for f in $(head -1 hcur.csv | cut -d, -f1-19 | tr -d '"' | tr , ' '); do
	grep -Eq "^$f " out || missing="$missing $f"
	nf=$((nf + 1))
done
check "history lists each of the $nf features (missing:${missing:- none})" test -z "$missing"
run --json monitor history hist
expect_rc "monitor history --json" 0
check "history --json: one entry per recorded run (3; --no-record adds none)" test "$(jv 'len(d["runs"])')" = 3
check "history --json: each run has the 19 features' statistics" test "$(jv 'all(len(r["statistics"]) == 19 for r in d["runs"])')" = True

# ---- 6. bad input ----
run monitor churn:1 --data nosuch.csv
expect_rc "missing --data file: exit 66" 66
expect_err "missing --data file: named" 'nosuch\.csv'
awk 'NR == 11 { $0 = "\"KS\",128" } { print }' cur.csv >bad.csv
run monitor churn:1 --data bad.csv
expect_rc "malformed CSV line: exit 65" 65
expect_err "malformed CSV line: file:line named" 'bad\.csv:11:'
if [ -s pred.jsonl ]; then
	awk 'NR == 3 { print "this is not JSON" } { print }' pred.jsonl >badlog.jsonl
	run monitor lo:1 --log badlog.jsonl
	expect_rc "a log line that is not JSON: exit 65" 65
	expect_err "a log line that is not JSON: file:line named" 'badlog\.jsonl:3:'
else
	fail "no serve log to break (section 4)"
fi
run monitor churn:1
expect_rc "no current source: exit 64" 64
expect_err "no current source: says to give --data, --log or --since" '--data.*--log.*--since'
run monitor churn:1 --data cur.csv --log pred.jsonl
expect_rc "two current sources: exit 64" 64
run monitor churn:1 --data cur.csv --test foo=bar
expect_rc "--test foo=bar: exit 64" 64
expect_err "--test foo=bar: names it" 'foo'
run monitor churn:1 --data cur.csv --test total_day_minutes=bar
expect_rc "--test total_day_minutes=bar (a feature, no such test): exit 64" 64
expect_err "--test total_day_minutes=bar: names it" 'total_day_minutes=bar'

# ---- 7. --report ----
run monitor lo:1 --data hi.csv --report shift.html --no-record
expect_rc "--report: the verdict still exits 1" 1
check "--report: the file is written" test -s shift.html
check "--report: starts with <!DOCTYPE html>" test "$(head -c 15 shift.html)" = "<!DOCTYPE html>"
check "--report: no <script" test "$(grep -ci '<script' shift.html)" -eq 0
check "--report: names total_day_minutes" grep -q total_day_minutes shift.html
