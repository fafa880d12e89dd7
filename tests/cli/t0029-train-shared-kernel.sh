#!/bin/sh
# t0029-train-shared-kernel.sh — tuning from one shared kernel matrix per gamma gives the
# same answers as fitting every point from the rows (--kernel-memory 0): on heart_scale,
# mlc_churn, wine and iris (three classes: the class-ordered layout) and concrete every
# grid point's CV score is equal or differs by at most one row's worth (1/n of accuracy; for MSE a relative 1e-6, where no row can flip), the
# differing points are counted, and the chosen point and the stored model (its digest) are
# the same. A budget too small for the matrix falls back to the rows without failing and
# gives the same scores exactly; --threads 1 and 2 give identical CV scores from the shared
# matrix; --search halving and --refine record every fitted point with its round and rows;
# --min-rows sets halving's first round, and is refused out of range or without halving.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null

# tuned NAME KMEM ARGS...: train, print "model_digest C gamma run".
tuned() {
	_n=$1 _k=$2
	shift 2
	"$MLCTL" --json train --name "$_n" --kernel-memory "$_k" --cv 5 "$@" >"$TMP/out" 2>"$TMP/err" ||
		{ echo "failed: $(cat "$TMP/err")"; return; }
	json "d['model_digest'], d['params']['C'], d['params']['gamma'], d['run']"
}
# history RUN: "key step value" for the cv_ and tune_ steps of a run, and its tune_kernel.
history() {
	"$MLCTL" --json runs show "$1" >"$TMP/show"
	/usr/bin/python3 -c "
import json
d = json.load(open('$TMP/show'))
print('tune_kernel', d['params'].get('tune_kernel'))
for k, v in sorted(d['metric_history'].items()):
    # tune_seconds is a time, not a result: checked apart
    if k.startswith(('cv_', 'grid_', 'tune_')) and k != 'tune_seconds':
        for p in v:
            print(k, p['step'], repr(p['value']))
"
}
# compare A B N KEY: count the points whose KEY differs between histories A and B; fail
# (print "bad") if one differs by more than 1/N (accuracy) or relative 1e-6 (mse).
compare() {
	/usr/bin/python3 -c "
import sys
def load(f):
    return {(l.split()[0], int(l.split()[1])): float(l.split()[2]) for l in open(f) if l.startswith('$4 ')}
a, b, n = load('$1'), load('$2'), $3
assert a.keys() == b.keys() and len(a) > 3, 'no common points'
diff = bad = 0
worst = 0.0
for k in a:
    if a[k] != b[k]:
        diff += 1
        d = abs(a[k] - b[k])
        worst = max(worst, d / abs(a[k]))
        if ('$4' == 'cv_mse' and d > 1e-6 * abs(a[k])) or ('$4' != 'cv_mse' and d > 1.0 / n + 1e-12):
            bad += 1
print('bad' if bad else diff)
print('# largest relative difference %.3g' % worst, file=sys.stderr)
"
}

# run_pair LABEL ROWS ARGS...: the rows path against the shared matrix on one data set.
run_pair() {
	_l=$1 _rows=$2 _key=$3
	shift 3
	a=$(tuned "$_l" 0 "$@"); ra=${a##* }
	b=$(tuned "$_l" 2000 "$@"); rb=${b##* }
	check "$_l: both trainings succeeded ($a / $b)" test "${a#failed}" = "$a" -a "${b#failed}" = "$b"
	history "$ra" >"$TMP/$_l.a"
	history "$rb" >"$TMP/$_l.b"
	check "$_l: --kernel-memory 0 fits every point from the rows" grep -qx 'tune_kernel cache' "$TMP/$_l.a"
	check "$_l: the default fits every point from the shared matrix" grep -qx 'tune_kernel precomputed' "$TMP/$_l.b"
	check "$_l: the same chosen point and stored model (digest, C, gamma)" \
		test "${a% *}" = "${b% *}"
	d=$(compare "$TMP/$_l.a" "$TMP/$_l.b" "$_rows" "$_key")
	check "$_l: every point's $_key within one row's worth ($d points differ)" test "$d" != bad -a -n "$d"
	echo "# $_l: $d of the grid points' $_key differ between the two paths" >&2
}

run_pair heart 270 cv_accuracy "$DATA/heart_scale" --tune 'C=2^-3..2^9:x4,gamma=2^1..2^-9:/4'
run_pair churn 2500 cv_accuracy "$DATA/mlc_churn.csv" --label churn --holdout 0.5 \
	--tune 'C=1|8,gamma=2^-3|2^-6'
# Three classes: the matrix laid out in class order, libsvm's pairwise problems read from it.
run_pair wine 142 cv_accuracy "$DATA/wine.csv" --label cultivar --holdout 0.2 \
	--tune 'C=2^-1..2^7:x4,gamma=2^-1..2^-7:/4'
run_pair iris 120 cv_accuracy "$DATA/iris.csv" --label species --holdout 0.2 \
	--tune 'C=2^-1..2^7:x4,gamma=2^1..2^-5:/4'
run_pair concrete 824 cv_mse "$DATA/concrete.csv" --label compressive_strength --holdout 0.2 \
	--tune 'C=1|8,gamma=2^-1|2^-4'

# A tiny budget: the matrix does not fit, the rows path runs (cache from the budget) and
# gives the heart scores of --kernel-memory 0 exactly.
t=$(tuned heart 1 "$DATA/heart_scale" --tune 'C=2^-3..2^9:x4,gamma=2^1..2^-9:/4'); rt=${t##* }
check "--kernel-memory 1 succeeds ($t)" test "${t#failed}" = "$t"
history "$rt" >"$TMP/heart.t"
check "--kernel-memory 1: no point from a shared matrix" grep -qx 'tune_kernel cache' "$TMP/heart.t"
grep '^cv_' "$TMP/heart.a" >"$TMP/ca"
grep '^cv_' "$TMP/heart.t" >"$TMP/ct"
check "--kernel-memory 1: the same CV score at every point as --kernel-memory 0" cmp -s "$TMP/ca" "$TMP/ct"

# Threads: the shared matrix at --threads 1 and 2, identical scores and model.
j1=$(tuned hj 2000 "$DATA/heart_scale" --tune 'C=2^-3..2^9:x4,gamma=2^1..2^-9:/4' --threads 1); r1=${j1##* }
j2=$(tuned hj 2000 "$DATA/heart_scale" --tune 'C=2^-3..2^9:x4,gamma=2^1..2^-9:/4' --threads 2); r2=${j2##* }
history "$r1" >"$TMP/j1"
history "$r2" >"$TMP/j2"
check "shared matrix: --threads 1 and 2 choose the same point and model" test -n "$j1" -a "${j1% *}" = "${j2% *}"
check "shared matrix: --threads 1 and 2 give identical CV scores" cmp -s "$TMP/j1" "$TMP/j2"

# Halving: 42 candidates (7 C x 6 gamma) on heart's 270 rows, as HalvingGridSearchCV
# (factor 3, min_resources 'exhaust'): 4 rounds needed, min rows max(2 x 5 folds x 2 classes,
# 270 // 27) = 20, 3 rounds possible: 42 points on 20 rows, 14 on 60, 5 on all 270.
h1=$(tuned hh 2000 "$DATA/heart_scale" --tune 'C=2^-3..2^9:x4,gamma=2^1..2^-9:/4' --search halving --threads 1)
rh1=${h1##* }
h2=$(tuned hh 2000 "$DATA/heart_scale" --tune 'C=2^-3..2^9:x4,gamma=2^1..2^-9:/4' --search halving --threads 2)
rh2=${h2##* }
check "halving succeeds ($h1)" test "${h1#failed}" = "$h1"
history "$rh1" >"$TMP/h1"
history "$rh2" >"$TMP/h2"
check "halving: --threads 1 and 2 identical" cmp -s "$TMP/h1" "$TMP/h2"
check "halving: the rounds' rows are 20, 60, 270 (42 + 14 + 5 points)" test \
	"$(grep '^tune_rows ' "$TMP/h1" | awk '{ print $3 }' | uniq -c | awk '{ printf "%s:%s ", $1, $2 }')" = \
	"42:20.0 14:60.0 5:270.0 "
check "halving: 3 rounds recorded" grep -qx 'tune_rounds 0 3.0' "$TMP/h1"
"$MLCTL" --json runs show "$rh1" >"$TMP/hshow"
check "every fitted point records its time (tune_seconds, one per cv_accuracy step, all > 0)" \
	/usr/bin/python3 -c "
import json, sys
h = json.load(open('$TMP/hshow'))['metric_history']
t, cv = h['tune_seconds'], h['cv_accuracy']
sys.exit(not (len(t) == len(cv) - 1 and all(p['value'] > 0 for p in t)))
"
check "halving: 61 points fitted, the best again at step 61" \
	test "$(grep -c '^cv_accuracy ' "$TMP/h1")" -eq 62
/usr/bin/python3 - "$TMP/h1" "$TMP/heart.b" >"$TMP/hcheck" <<'PY'
import sys
def load(f, key):
    return {int(l.split()[1]): float(l.split()[2]) for l in open(f) if l.startswith(key + ' ')}
cv, rows = load(sys.argv[1], 'cv_accuracy'), load(sys.argv[1], 'tune_rows')
last = [s for s in rows if rows[s] == 270.0]
best = max(cv[s] for s in last)
# The chosen point (the last cv step) is the best of the last round; the grid's best on all
# rows is at least as good (halving only ever looks at fewer points).
grid = load(sys.argv[2], 'cv_accuracy')
print('ok' if cv[max(cv)] == best and max(grid.values()) >= best else 'bad %r %r' % (cv[max(cv)], best))
PY
check "halving: the chosen point is the best of the last round ($(cat "$TMP/hcheck"))" grep -qx ok "$TMP/hcheck"

# Refine: the grid, then 5 x 5 values around the best (24 new points) on all rows.
f=$(tuned hf 2000 "$DATA/heart_scale" --tune 'C=2^-3..2^9:x4,gamma=2^1..2^-9:/4' --refine); rf=${f##* }
check "refine succeeds ($f)" test "${f#failed}" = "$f"
history "$rf" >"$TMP/f"
check "refine: 42 grid points and 24 refined ones (round 1000)" test \
	"$(grep '^tune_round ' "$TMP/f" | awk '{ print $3 }' | sort | uniq -c | awk '{ printf "%s:%s ", $1, $2 }')" = \
	"42:0.0 24:1000.0 "
check "refine: the chosen CV score is at least the grid's best" /usr/bin/python3 -c "
g = [float(l.split()[2]) for l in open('$TMP/heart.b') if l.startswith('cv_accuracy ')]
f = [float(l.split()[2]) for l in open('$TMP/f') if l.startswith('cv_accuracy ')]
assert f[-1] >= max(g[:-1]) and f[-1] == max(f[:-1])
"
run train "$DATA/heart_scale" --name x --tune default --search other
expect_rc "--search other is refused" 64
expect_err "--search other: the error names it" 'search "other"'

# --min-rows N (HalvingGridSearchCV's min_resources=N): 60 rows first, so 1 + floor(log3(270 /
# 60)) = 2 rounds of the 4 that 42 points need: 42 points on 60 rows, 14 on all 270.
m=$(tuned hm 2000 "$DATA/heart_scale" --tune 'C=2^-3..2^9:x4,gamma=2^1..2^-9:/4' --search halving --min-rows 60)
rm_=${m##* }
check "halving --min-rows 60 succeeds ($m)" test "${m#failed}" = "$m"
history "$rm_" >"$TMP/hm"
check "halving --min-rows 60: the rounds' rows are 60 and 270 (42 + 14 points)" test \
	"$(grep '^tune_rows ' "$TMP/hm" | awk '{ print $3 }' | uniq -c | awk '{ printf "%s:%s ", $1, $2 }')" = \
	"42:60.0 14:270.0 "
check "halving --min-rows 60: 2 rounds recorded" grep -qx 'tune_rounds 0 2.0' "$TMP/hm"
run train "$DATA/heart_scale" --name x --tune default --search halving --min-rows 19
expect_rc "--min-rows below 2 x folds x classes is refused" 64
expect_err "--min-rows 19: the error names the bound" 'needs at least 20 rows \(2 x 5 folds x 2 classes\)'
run train "$DATA/heart_scale" --name x --tune default --search halving --min-rows 271
expect_rc "--min-rows above the training rows is refused" 64
expect_err "--min-rows 271: the error names the rows" 'there are only 270 training rows'
run train "$DATA/heart_scale" --name x --tune default --min-rows 60
expect_rc "--min-rows without --search halving is refused" 64
expect_err "--min-rows without halving: the error says so" 'first round of --search halving'
run train "$DATA/heart_scale" --name x --search halving
expect_rc "--search without --tune is refused" 64
expect_err "--search without --tune: the error says so" '--search shapes the search of --tune GRID'
run train "$DATA/heart_scale" --name x --refine
expect_rc "--refine without --tune is refused" 64
