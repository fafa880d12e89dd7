#!/bin/sh
# bench/pipeline.sh — what a cron job pays to ask "did anything change?" every few minutes.
#
# The pipeline: a train stage on the churn history (examples/churn/train.csv) and a predict
# stage that scores a 1 GB file of customers with it every night (mlc_churn's test rows
# repeated to SIZE_MB, default 1024). The 1 GB file is an input of the predict stage rather
# than of train: an SVM is not trained on 7 million rows, but both are inputs the same way —
# digested, with the digest cached in the registry by (device, inode, size, mtime in ns).
#
#   1. the first run (trains, scores 1 GB), timed once;
#   2. RUNS (100) cron-style runs of `mlctl -q pipeline run FILE --if-changed` on the
#      unchanged pipeline, timed by hyperfine: median, min, max (aim: median under 10 ms),
#      against `sha256sum` of the 1 GB file — what each run would cost if it re-read it;
#   3. one row appended to the training file: the next run's status check (--dry-run) is
#      traced (strace, openat): it must open the training file and NOT the 1 GB file;
#   4. one row appended to the 1 GB file: the check re-reads that file only (the training
#      file is not opened), timed.
#
#   sh bench/pipeline.sh                   (from the repository root, after make)
#   SIZE_MB=256 RUNS=50 KEEP=1 sh bench/pipeline.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
MLCTL=${MLCTL:-$root/build/mlctl}
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-100}
AIM_MS=10
for tool in hyperfine strace sha256sum /usr/bin/python3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
[ -x "$MLCTL" ] || { echo "bench: no $MLCTL; run make first" >&2; exit 1; }
work=$(mktemp -d /tmp/mlctl-bench-pipeline-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cd "$work"
export MLCTL_REGISTRY="$work/.mlctl"
"$MLCTL" init -q

cp "$root/examples/churn/train.csv" history.csv
# The nightly file: test rows repeated in 8 MB blocks up to SIZE_MB.
tail -n +2 "$root/examples/churn/test.csv" >rows.csv
: >block.csv
while [ "$(wc -c <block.csv)" -lt 8388608 ]; do cat rows.csv >>block.csv; done
head -n 1 "$root/examples/churn/test.csv" >nightly.csv
blocks=$((SIZE_MB * 1048576 / $(wc -c <block.csv)))
i=0
while [ $i -lt $blocks ]; do cat block.csv; i=$((i + 1)); done >>nightly.csv
rm -f rows.csv block.csv
echo "bench: nightly.csv $(du -m nightly.csv | cut -f1) MB, $(($(wc -l <nightly.csv) - 1)) rows"

cat >bench.yaml <<'YAML'
name: bench
data:
  history: history.csv
  nightly: nightly.csv
stages:
  train:
    data: ${data.history}
    name: bench
    label: churn
    cost: 8
    gamma: 0.0078125
  predict:
    model: ${train.model}
    input: ${data.nightly}
    output: scores.csv
    id-column: [state]
YAML

t0=$(date +%s.%N)
"$MLCTL" pipeline run bench.yaml
t1=$(date +%s.%N)
echo "bench: first run (train, score $SIZE_MB MB): $(echo "$t1 - $t0" | bc) s"

out=$("$MLCTL" pipeline run bench.yaml --if-changed)
[ "$out" = "up to date" ] || { echo "bench: expected up to date, got: $out" >&2; exit 1; }
hyperfine -N --warmup 3 --runs "$RUNS" --export-json ifchanged.json \
	-n "mlctl pipeline run --if-changed" "$MLCTL -q pipeline run bench.yaml --if-changed" >/dev/null
hyperfine -N --runs 3 --export-json sha.json -n "sha256sum nightly.csv" "sha256sum nightly.csv" >/dev/null

# strace's openat lines of a check: which inputs it opened.
opened() { strace -f -qq -e trace=openat -o trace.txt "$MLCTL" -q pipeline run bench.yaml --dry-run >/dev/null; \
	grep -c "\"$work/$1\"" trace.txt || true; }
tail -n 1 history.csv >>history.csv
h=$(opened history.csv)
n=$(opened nightly.csv)
echo "bench: after one row appended to history.csv, the check opened history.csv $h time(s), nightly.csv $n time(s)"
# The cache is warm again for history.csv (the registry trusts a cached digest once the file
# is more than 2 s older than its hashing, as git does its index: wait that out); now the
# 1 GB file changes.
sleep 3
"$MLCTL" -q pipeline run bench.yaml --dry-run >/dev/null
tail -n 1 nightly.csv >>nightly.csv
t0=$(date +%s.%N)
strace -f -qq -e trace=openat -o trace.txt "$MLCTL" -q pipeline run bench.yaml --dry-run >/dev/null
t1=$(date +%s.%N)
h2=$(grep -c "\"$work/history.csv\"" trace.txt || true)
n2=$(grep -c "\"$work/nightly.csv\"" trace.txt || true)
echo "bench: after one row appended to nightly.csv, the check opened nightly.csv $n2 time(s), history.csv $h2 time(s), in $(echo "$t1 - $t0" | bc) s (under strace)"

/usr/bin/python3 - ifchanged.json sha.json "$AIM_MS" "$h" "$n" "$n2" "$h2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
s = json.load(open(sys.argv[2]))["results"][0]
aim = float(sys.argv[3])
h, n, n2, h2 = (int(x) for x in sys.argv[4:8])
med = r["median"] * 1000
print()
print("%-36s %10s %10s %10s" % ("", "median ms", "min ms", "max ms"))
print("%-36s %10.2f %10.2f %10.2f  aim < %g ms: %s" % ("pipeline run --if-changed (unchanged)", med,
      r["min"] * 1000, r["max"] * 1000, aim, "ok" if med < aim else "OVER"))
print("%-36s %10.2f %10.2f %10.2f" % ("sha256sum of the 1 GB input", s["median"] * 1000, s["min"] * 1000, s["max"] * 1000))
print("ratio: re-reading the input would cost %.0fx the cached check" % (s["median"] / r["median"]))
print("one-row append to the training file re-reads only it: %s" % ("yes" if h >= 1 and n == 0 else "NO"))
print("one-row append to the 1 GB file re-reads only it: %s" % ("yes" if n2 >= 1 and h2 == 0 else "NO"))
PY
