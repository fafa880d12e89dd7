#!/bin/sh
# bench/tune.sh — `mlctl train --tune` against scikit-learn's GridSearchCV and libsvm's
# svm-grid, measured in one run, on three data sets:
#
#   mlc_churn  (5,000 rows, label churn, text columns one-hot encoded)
#   letter     (a seeded 5,000-row sample, label lettr, 26 classes)
#   concrete   (1,030 rows, regression, label compressive_strength)
#
# Each set is split once, 80/20 with a seed (stratified for classification), into train.csv
# and test.csv (bench/tune_sklearn.py prepare); every tool tunes on train.csv and scores the
# chosen model on test.csv. The grid is the 30-point C=2^-5..2^15:x16,gamma=2^3..2^-15:/16
# with 5-fold CV:
#
#   mlctl grid     mlctl train train.csv --tune GRID --cv 5 --test test.csv --threads 2
#   mlctl halving  the same with --search halving
#   mlctl halving-refine  --search halving --refine (24 more points around the best, all rows)
#   sklearn        GridSearchCV(Pipeline(one-hot + min-max to [-1,1] + SVC/SVR), n_jobs=2)
#   svm-grid       libsvm-tools' grid script (one local worker, its default) on the same
#                  preprocessing written in libsvm format, then svm-train + svm-predict
#                  (classification only: grid.py cannot score regression)
#
# Printed per tool: wall time, peak RSS (GNU time %M), best CV score (accuracy, or MSE for
# concrete), holdout score (accuracy, or r2), and the time ratio against GridSearchCV. Aim:
# mlctl grid >= 5x faster than GridSearchCV, halving >= 15x, holdout within 1 point
# (accuracy or r2 in percent). One run of each (the fits take minutes); the load average is
# printed, since the machine may be shared.
#
#   sh bench/tune.sh                      (from the repository root, after make)
#   MLCTL=path/to/mlctl SETS="churn concrete" sh bench/tune.sh
set -eu
MLCTL=${MLCTL:-$(pwd)/build/mlctl}
DATA=${DATA:-$(pwd)/examples/data}
BENCH=$(cd "$(dirname "$0")" && pwd)
SETS=${SETS:-churn letter concrete}
GRID='C=2^-5..2^15:x16,gamma=2^3..2^-15:/16'
for tool in /usr/bin/time svm-grid svm-train svm-predict /usr/bin/python3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
[ -x "$MLCTL" ] || { echo "bench: no $MLCTL; run make first" >&2; exit 1; }
work=$(mktemp -d /tmp/mlctl-bench-tune-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
export MLCTL_REGISTRY="$work/.mlctl"
"$MLCTL" init "$work" >/dev/null

# timed OUT CMD...: run CMD with its stdout in OUT, "wall_s peak_kb" in OUT.time.
timed() {
	_o=$1
	shift
	/usr/bin/time -f '%e %M' -o "$_o.time" "$@" >"$_o"
}

summary="$work/summary"
: >"$summary"
for set in $SETS; do
	case $set in
	churn) file=mlc_churn.csv label=churn task=classification sample= ;;
	letter) file=letter.csv label=lettr task=classification sample=5000 ;;
	concrete) file=concrete.csv label=compressive_strength task=regression sample= ;;
	*) echo "bench: unknown set $set" >&2; exit 1 ;;
	esac
	d="$work/$set"
	mkdir -p "$d"
	/usr/bin/python3 "$BENCH/tune_sklearn.py" prepare "$DATA/$file" "$label" "$task" "$d" $sample
	echo "== $set: $(($(wc -l <"$d/train.csv") - 1)) training rows, $(($(wc -l <"$d/test.csv") - 1)) test rows ($task)"

	for search in grid halving halving-refine; do
		refine=
		[ "$search" = halving-refine ] && refine=--refine
		# shellcheck disable=SC2086
		timed "$d/mlctl-$search.json" "$MLCTL" --json train "$d/train.csv" --name "$set-$search" --label "$label" \
			--tune "$GRID" --cv 5 --search "${search%-refine}" $refine --test "$d/test.csv" --threads 2
		/usr/bin/python3 -c "
import json
d = json.load(open('$d/mlctl-$search.json'))
m = d['metrics']
cv = m.get('cv_accuracy', m.get('cv_mse'))
hold = m['holdout_accuracy'] if 'holdout_accuracy' in m else m['holdout_r2']
print('%.6f %s %s %.6f' % (cv, d['params']['C'], d['params']['gamma'], hold))
" >"$d/mlctl-$search.score"
	done

	timed "$d/sklearn.score" /usr/bin/python3 "$BENCH/tune_sklearn.py" search "$d" "$label" "$task"

	# svm-grid (grid.py) scores classification only: for svm-train -s 3 it reads the MSE line
	# as an accuracy with its last character cut and maximises it. No svm-grid for regression.
	if [ "$task" = classification ]; then
		timed "$d/svm-grid.out" svm-grid -svmtrain /usr/bin/svm-train -log2c -5,15,4 -log2g 3,-15,-4 -v 5 \
			-gnuplot null -out null "$d/train.svm"
		best=$(tail -n 1 "$d/svm-grid.out")
		c=$(echo "$best" | cut -d' ' -f1) g=$(echo "$best" | cut -d' ' -f2) cv=$(echo "$best" | cut -d' ' -f3)
		svm-train -q -c "$c" -g "$g" "$d/train.svm" "$d/svm.model"
		svm-predict "$d/test.svm" "$d/svm.model" "$d/svm.pred" >"$d/svm-predict.out"
		/usr/bin/python3 -c "
y = [float(l.split()[0]) for l in open('$d/test.svm')]
p = [float(l) for l in open('$d/svm.pred')]
print('%.6f $c $g %.6f' % (float('$cv') / 100, sum(a == b for a, b in zip(y, p)) / len(y)))
" >"$d/svm-grid.score"
	fi

	for pair in mlctl-grid:mlctl-grid.json mlctl-halving:mlctl-halving.json \
		mlctl-halving-refine:mlctl-halving-refine.json sklearn:sklearn.score \
		svm-grid:svm-grid.out; do
		[ -f "$d/${pair%%:*}.score" ] || continue
		echo "$set ${pair%%:*} $(cat "$d/${pair%%:*}.score") $(cat "$d/${pair#*:}.time")"
	done | tee -a "$summary"
done

echo
/usr/bin/python3 - "$summary" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for set_, tool, cv, c, g, hold, wall, rss in rows:
    by.setdefault(set_, {})[tool] = (float(cv), c, g, float(hold), float(wall), int(rss))
print('%-9s %-20s %9s %9s %12s %8s %8s %8s %9s' % ('set', 'tool', 'wall s', 'peak MB', 'best CV', 'C', 'gamma', 'holdout', 'vs sklearn'))
for set_, t in by.items():
    sk = t['sklearn']
    for tool, (cv, c, g, hold, wall, rss) in t.items():
        print('%-9s %-20s %9.1f %9.0f %12.6g %8s %8s %8.4f %8.2fx' % (set_, tool, wall, rss / 1024, cv, c, g, hold, sk[4] / wall))
    for tool, aim in (('mlctl-grid', 5), ('mlctl-halving', 15), ('mlctl-halving-refine', 15)):
        cv, c, g, hold, wall, rss = t[tool]
        print('  %s: %s %.2fx GridSearchCV (aim >= %dx), holdout %+.2f points vs GridSearchCV (aim within 1)'
              % (set_, tool, sk[4] / wall, aim, 100 * (hold - sk[3])))
PY
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
