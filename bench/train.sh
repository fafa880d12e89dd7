#!/bin/sh
# bench/train.sh — `mlctl train` against libsvm's own tools, measured in one run:
#
#  (a) a fixed-parameter fit on letter.csv (20,000 rows, 16 features, 26 classes):
#      `mlctl train letter.csv --label lettr` against `svm-scale` + `svm-train` on the same
#      rows converted to libsvm format (the conversion is not timed). Aim: at most 1.05x
#      svm-train's time.
#  (b) the default 110-point grid with 5-fold CV on heart_scale: `mlctl train --tune default
#      --cv 5` against libsvm-tools' grid script (svm-grid, one local worker as grid.py
#      has by default). Aim: at least 1.8x faster on 2 cores, best CV accuracy within 2 points.
#
# Wall-clock medians from hyperfine, RUNS runs of each command back to back; CPU time (user +
# system, children included) is printed too, since other work on a shared machine inflates
# wall time.
#
#   sh bench/train.sh                      (from the repository root, after make)
#   MLCTL=path/to/mlctl RUNS=5 THREADS=2 sh bench/train.sh
set -eu
MLCTL=${MLCTL:-$(pwd)/build/mlctl}
DATA=${DATA:-$(pwd)/examples/data}
RUNS=${RUNS:-3}
THREADS=${THREADS:-$(nproc)}
for tool in hyperfine svm-train svm-scale svm-grid /usr/bin/python3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
[ -x "$MLCTL" ] || { echo "bench: no $MLCTL; run make first" >&2; exit 1; }
work=$(mktemp -d /tmp/mlctl-bench-train-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
export MLCTL_REGISTRY="$work/.mlctl"
"$MLCTL" init "$work" >/dev/null
cd "$work"

# letter.csv to libsvm format: label lettr (column 1, a letter) as its position in A..Z.
awk -F, 'NR > 1 {
	sub(/\r$/, ""); gsub(/"/, "")
	printf "%d", index("ABCDEFGHIJKLMNOPQRSTUVWXYZ", $1)
	for (i = 2; i <= NF; i++) printf " %d:%s", i - 1, $i
	print ""
}' "$DATA/letter.csv" >letter.svm

# stats FILE: the median wall time and the mean CPU time of each command in a hyperfine
# export, then the ratios of the first command to the second.
stats() {
	/usr/bin/python3 -c "
import json, sys
r = json.load(open('$1'))['results']
for x in r:
    print('%-10s median %8.3f s   cpu %8.3f s' % (x['command'], x['median'], x['user'] + x['system']))
a, b = r
print('RATIO_WALL %.3f' % (a['median'] / b['median']))
print('RATIO_CPU %.3f' % ((a['user'] + a['system']) / (b['user'] + b['system'])))
"
}

echo "bench (a): fixed parameters on letter.csv (20000 x 16, 26 classes), C=1 gamma=1/16, $RUNS runs each"
hyperfine --style none --runs "$RUNS" --export-json a.json \
	-n mlctl "'$MLCTL' -q train '$DATA/letter.csv' --name letter --label lettr" \
	-n libsvm "svm-scale letter.svm >letter.scaled && svm-train -q letter.scaled letter.model" >/dev/null
stats a.json | tee a.txt
ratio_a=$(sed -n 's/^RATIO_WALL //p' a.txt)
cpu_a=$(sed -n 's/^RATIO_CPU //p' a.txt)
# The two fits are the same problem: same support vector count.
nsv_mlctl=$("$MLCTL" --json models show letter:1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["model_digest"])')
nsv_mlctl=$(sed -n 's/^total_sv //p' "$MLCTL_REGISTRY/objects/$(echo "$nsv_mlctl" | cut -c1-2)/$(echo "$nsv_mlctl" | cut -c3-)")
nsv_libsvm=$(sed -n 's/^total_sv //p' letter.model)
echo "  support vectors: mlctl $nsv_mlctl, svm-train $nsv_libsvm"
echo "  (a) mlctl train / (svm-scale + svm-train): ${ratio_a}x wall, ${cpu_a}x cpu (aim <= 1.05x)"
echo

echo "bench (b): default grid (110 points) x 5-fold CV on heart_scale, mlctl --threads $THREADS, $RUNS runs each"
hyperfine --style none --runs "$RUNS" --export-json b.json \
	-n mlctl "'$MLCTL' -q train '$DATA/heart_scale' --name heart --scale none --tune default --cv 5 --threads $THREADS" \
	-n svm-grid "svm-grid -svmtrain /usr/bin/svm-train -log2c -5,15,2 -log2g 3,-15,-2 -v 5 -gnuplot null -out /dev/null '$DATA/heart_scale'" \
	>/dev/null
stats b.json | tee b.txt
ratio_b=$(sed -n 's/^RATIO_WALL //p' b.txt)
"$MLCTL" --json train "$DATA/heart_scale" --name heart --scale none --tune default --cv 5 --threads "$THREADS" >b-mlctl.json
mine=$(/usr/bin/python3 -c "import json; d = json.load(open('b-mlctl.json')); print('%.4f %s %s' % (100 * d['metrics']['cv_accuracy'], d['params']['C'], d['params']['gamma']))")
theirs=$(svm-grid -svmtrain /usr/bin/svm-train -log2c -5,15,2 -log2g 3,-15,-2 -v 5 -gnuplot null -out /dev/null "$DATA/heart_scale" | tail -n 1)
echo "  best CV accuracy: mlctl $(echo "$mine" | cut -d' ' -f1)% (C=$(echo "$mine" | cut -d' ' -f2) gamma=$(echo "$mine" | cut -d' ' -f3)),"\
" svm-grid $(echo "$theirs" | cut -d' ' -f3)% (C=$(echo "$theirs" | cut -d' ' -f1) gamma=$(echo "$theirs" | cut -d' ' -f2))"
speedup=$(/usr/bin/python3 -c "print('%.2f' % (1 / $ratio_b))")
diff=$(/usr/bin/python3 -c "print('%.2f' % abs($(echo "$mine" | cut -d' ' -f1) - $(echo "$theirs" | cut -d' ' -f3)))")
echo "  (b) svm-grid / mlctl: ${speedup}x faster (aim >= 1.8x on 2 cores); best CV accuracy differs by $diff points (aim <= 2)"
echo "  load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
