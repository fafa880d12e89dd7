#!/bin/sh
# bench/monitor.sh — `mlctl monitor` against what a user would script without it (pandas +
# scipy, bench/monitor_pandas.py), in one run, on the same reference and the same current data:
#
#   reference: examples/data/mlc_churn.csv (5,000 rows), the training data of the model, which
#     this bench trains in its own registry (`--label churn -C 4 --gamma 0.05`);
#   current: 1,000,000 rows of mlc_churn's columns without the label, drawn from its rows with
#     replacement (seed 12), the numbers perturbed a little (x (1 + N(0, 0.005)), rounded as
#     the file rounds them), and three columns shifted on purpose so that the verdicts have
#     something to agree on: total_day_minutes and total_day_charge x 1.25, and 20% of the
#     international_plan "no" turned "yes".
#
# Timed (wall clock, best of ROUNDS=3 each, the commands interleaved: the machine is shared):
#   mlctl monitor churn --data big.csv --no-record --json        (predictions from a seeded
#                                                                 sample of 20,000 rows)
#   mlctl monitor churn --data big.csv --no-record --json --score-rows 0   (every row scored)
#   /usr/bin/python3 bench/monitor_pandas.py mlc_churn.csv big.csv --drop churn
# The reference has more than 1,000 rows, so both run Wasserstein / std (numeric) and
# Jensen-Shannon (categorical) by Evidently's rule, and a PSI over the reference's deciles or
# categories per column. Prints both wall times, rows/s, the ratio, and whether the verdicts
# agree (dataset drift and the set of drifted columns), with each column's statistic on both
# sides. mlctl also scores rows for the prediction drift, which the pandas script does not
# do: by default a seeded sample of 20,000 of them (--score-rows), and with --score-rows 0
# every one; both are timed, with their ratio, and whether the sample's verdicts (the
# prediction drift too) are those of every row. `mlctl predict` on the same file is timed
# too, to show what scoring every row costs, and `mlctl monitor` with a model of 40 training
# rows, whose scoring costs little, to show the rest.
#
# Aim (issue 12): mlctl at least 10x the rows/s of the pandas script, with the same verdicts.
#
#   make && sh bench/monitor.sh          (about 3 minutes on 2 cores; needs python3-pandas
#                                         and python3-scipy)
#   ROWS=200000 BENCH_DIR=/tmp/bm sh bench/monitor.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
MLCTL=${MLCTL:-$root/build/mlctl}
DATA=${DATA:-$root/examples/data}
PY=/usr/bin/python3
ROWS=${ROWS:-1000000}
if ! $PY -c 'import pandas, scipy' 2>/dev/null; then
	echo "bench/monitor.sh: needs pandas and scipy for $PY (apt-get install python3-pandas python3-scipy)" >&2
	exit 69
fi
if [ -n "${BENCH_DIR:-}" ]; then # keep the work (the data and the model) there for a rerun
	W=$BENCH_DIR
	mkdir -p "$W"
else
	W=$(mktemp -d /tmp/mlctl-bench-monitor-XXXXXX)
	trap 'rm -rf "$W"' EXIT
fi
export MLCTL_REGISTRY="$W/.mlctl"
cd "$W"
[ -d "$MLCTL_REGISTRY" ] || "$MLCTL" init -q
cp "$DATA/mlc_churn.csv" ref.csv

if [ ! -s big.csv ] || [ "$(($(wc -l <big.csv) - 1))" -ne "$ROWS" ]; then
	$PY - "$ROWS" <<'EOF'
import sys
import numpy as np
import pandas as pd

rows = int(sys.argv[1])
ref = pd.read_csv("ref.csv").drop(columns=["churn"])
rng = np.random.default_rng(12)
cur = ref.iloc[rng.integers(0, len(ref), rows)].reset_index(drop=True)
for c in cur.columns:
    if cur[c].dtype == object:
        continue
    text = pd.read_csv("ref.csv", usecols=[c], dtype=str)[c]
    decimals = int(text.str.partition(".")[2].str.len().max())
    x = cur[c].to_numpy(dtype=float) * (1 + rng.normal(0, 0.005, rows))
    if c in ("total_day_minutes", "total_day_charge"):
        x = x * 1.25
    cur[c] = np.round(x, decimals) if decimals else np.round(x).astype(np.int64)
flip = (cur["international_plan"] == "no").to_numpy() & (rng.random(rows) < 0.2)
cur.loc[flip, "international_plan"] = "yes"
cur.to_csv("big.csv", index=False)
EOF
fi
rows=$(($(wc -l <big.csv) - 1))

"$MLCTL" models show churn:1 >/dev/null 2>&1 ||
	"$MLCTL" train ref.csv --name churn --label churn -C 4 --gamma 0.05 -q
# the pipeline alone: the same 1M rows monitored with a model of 40 training rows (a few
# support vectors, so scoring costs little; its reference of 40 rows runs KS and chi-square)
awk 'NR == 1 || NR % 125 == 0' ref.csv >tiny.csv
"$MLCTL" models show churn-tiny:1 >/dev/null 2>&1 ||
	"$MLCTL" train tiny.csv --name churn-tiny --label churn -C 4 --gamma 0.05 -q

# Each command runs ROUNDS times (default 3), the commands interleaved round by round so
# that a shared machine's slow spell falls on all of them alike; the best wall time counts.
# once NAME K CMD...: run CMD (stdout in NAME.out.K), "wall rss" in NAME.time.K. A monitor
# alert (exit 1) is a result, not a failure.
ROUNDS=${ROUNDS:-3}
once() {
	n=$1 k=$2
	shift 2
	st=0
	/usr/bin/time -f '%e %M' -o "$n.time.$k" "$@" >"$n.out.$k" || st=$?
	if [ "$st" -gt 1 ]; then
		echo "bench/monitor.sh: $* exited $st" >&2
		exit "$st"
	fi
}
# best NAME: the round with the least wall time into NAME.wall, NAME.rss and NAME.out
# (time's file starts with "Command exited with non-zero status 1" after an alert).
best() {
	n=$1
	k=$(for r in $(seq "$ROUNDS"); do echo "$(tail -n 1 "$n.time.$r" | cut -d' ' -f1) $r"; done | sort -n | head -n 1 | cut -d' ' -f2)
	tail -n 1 "$n.time.$k" | cut -d' ' -f1 >"$n.wall"
	tail -n 1 "$n.time.$k" | cut -d' ' -f2 >"$n.rss"
	cp "$n.out.$k" "$n.out"
}
rate() { awk -v r="$1" -v t="$(cat "$2")" 'BEGIN { printf "%.0f", (t > 0 ? r / t : 0) }'; }

echo "mlctl monitor benchmark — $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "reference: mlc_churn.csv, $(($(wc -l <ref.csv) - 1)) rows; current: big.csv, $rows rows," \
	"$(($(wc -c <big.csv) / 1048576)) MB, $(head -1 big.csv | tr , '\n' | wc -l) columns"

for r in $(seq "$ROUNDS"); do
	once mon "$r" "$MLCTL" --json monitor churn --data big.csv --no-record
	once all "$r" "$MLCTL" --json monitor churn --data big.csv --no-record --score-rows 0
	once pd "$r" $PY "$root/bench/monitor_pandas.py" ref.csv big.csv --drop churn
	once pred "$r" "$MLCTL" predict churn --input big.csv --output pred.csv -q
	once tiny "$r" "$MLCTL" --json monitor churn-tiny --data big.csv --no-record
done
for n in mon all pd pred tiny; do best "$n"; done

echo
printf '  %-40s %8s %10s %9s %8s\n' "" "wall s" "rows/s" "max RSS" "vs pandas"
printf '  %-40s %8s %10s %7s MB %8s\n' "pandas + scipy (monitor_pandas.py)" "$(cat pd.wall)" "$(rate "$rows" pd.wall)" \
	"$(($(cat pd.rss) / 1024))" "1.0x"
ratio() { awk -v a="$(cat "$1")" -v b="$(cat pd.wall)" 'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }'; }
printf '  %-40s %8s %10s %7s MB %7sx\n' "mlctl monitor --no-record --json" "$(cat mon.wall)" "$(rate "$rows" mon.wall)" \
	"$(($(cat mon.rss) / 1024))" "$(ratio mon.wall)"
printf '  %-40s %8s %10s %7s MB %7sx\n' "  same, --score-rows 0 (every row scored)" "$(cat all.wall)" "$(rate "$rows" all.wall)" \
	"$(($(cat all.rss) / 1024))" "$(ratio all.wall)"
printf '  %-40s %8s %10s %7s MB %7sx\n' "  (scoring every row: mlctl predict)" "$(cat pred.wall)" "$(rate "$rows" pred.wall)" \
	"$(($(cat pred.rss) / 1024))" "$(ratio pred.wall)"
printf '  %-40s %8s %10s %7s MB %7sx\n' "  (monitor with a 40-row model: pipeline)" "$(cat tiny.wall)" "$(rate "$rows" tiny.wall)" \
	"$(($(cat tiny.rss) / 1024))" "$(ratio tiny.wall)"
$PY - <<'EOF'
import json
m = json.load(open("mon.out"))
p = json.load(open("pd.out"))
print("  pandas: read %.2f s, tests %.2f s" % (p["read_seconds"], p["test_seconds"]))
pf = {f["name"]: f for f in p["features"]}
print()
print("  %-30s %-13s %12s %12s %10s %10s  %s" % ("column", "test", "mlctl", "pandas", "psi mlctl", "psi pandas", "drift (mlctl/pandas)"))
agree = True
def num(v):
    return "-" if v is None else "%.6g" % v
for f in m["features"]:
    q = pf.get(f["name"])
    if q is None:
        print("  %-30s only in mlctl's result" % f["name"])
        agree = False
        continue
    same = f["drifted"] == q["drifted"] and f["test"] == q["test"]
    agree = agree and same
    print("  %-30s %-13s %12s %12s %10s %10s  %s/%s%s" % (f["name"], f["test"] + ("" if f["test"] == q["test"] else "/" + q["test"]),
          num(f["statistic"]), num(q["statistic"]), num(f["psi"]), num(q["psi"]),
          "yes" if f["drifted"] else "no", "yes" if q["drifted"] else "no", "" if same else "  DIFFERENT"))
missing = sorted(set(pf) - {f["name"] for f in m["features"]})
if missing:
    print("  only in pandas' result: " + ", ".join(missing))
    agree = False
md = sorted(f["name"] for f in m["features"] if f["drifted"])
pdr = sorted(f["name"] for f in p["features"] if f["drifted"])
print()
print("  dataset drift: mlctl %s, pandas %s" % (m["dataset_drift"], p["dataset_drift"]))
print("  drifted: mlctl %s" % (", ".join(md) or "none"))
print("           pandas %s" % (", ".join(pdr) or "none"))
if m.get("prediction"):
    print("  prediction drift (mlctl only): %s %s -> %s" % (m["prediction"]["test"], num(m["prediction"]["statistic"]),
          "drift" if m["prediction"]["drifted"] else "ok"))
print("  verdicts: %s" % ("the same" if agree and m["dataset_drift"] == p["dataset_drift"] else "DIFFERENT"))
a = json.load(open("all.out"))
print("  predictions from %d of %d rows (seeded sample: %s); --score-rows 0: from %d" % (m.get("prediction_rows", 0),
      m["current_rows"], m.get("prediction_sampled"), a.get("prediction_rows", 0)))
same = (m["alert"], m["dataset_drift"], sorted(f["name"] for f in m["features"] if f["drifted"])) == \
       (a["alert"], a["dataset_drift"], sorted(f["name"] for f in a["features"] if f["drifted"]))
if m.get("prediction") and a.get("prediction"):
    same = same and (m["prediction"]["test"], m["prediction"]["drifted"]) == (a["prediction"]["test"], a["prediction"]["drifted"])
    print("  prediction drift, sample: %s %s; every row: %s %s" % (m["prediction"]["test"], num(m["prediction"]["statistic"]),
          a["prediction"]["test"], num(a["prediction"]["statistic"])))
print("  sampled vs every row: %s" % ("the same verdicts" if same else "DIFFERENT verdicts"))
EOF
