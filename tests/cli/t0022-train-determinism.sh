#!/bin/sh
# t0022-train-determinism.sh — same inputs and seed, same model: the same tuned command
# twice, and --threads 1 against --threads 2 (and all cores), give byte-identical model,
# preprocessing and profile objects and identical CV scores at every grid point; a
# different seed draws different folds.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null

# tuned NAME THREADS [SEED]: train heart_scale over the default 110-point grid; prints the
# model, preprocess and profile digests and the run id.
tuned() {
	"$MLCTL" --json train "$DATA/heart_scale" --name "$1" --tune default --cv 5 --threads "$2" \
		--seed "${3:-1}" >"$TMP/out" 2>"$TMP/err" || { echo "failed: $(cat "$TMP/err")"; return; }
	json "d['model_digest'], d['preprocess_digest'], d['profile_digest'], d['params']['C'], d['params']['gamma']"
}
# history RUN: every cv_/grid_ step of a run, one "key step value" a line.
history() {
	"$MLCTL" --json runs show "$1" >"$TMP/out"
	/usr/bin/python3 -c "
import json
d = json.load(open('$TMP/out'))
for k, v in sorted(d['metric_history'].items()):
    if k.startswith(('cv_', 'grid_')):
        for p in v:
            print(k, p['step'], repr(p['value']))
"
}

a=$(tuned h1 2); ra=$(json "d['run']")
b=$(tuned h1 2); rb=$(json "d['run']")
c=$(tuned h1 1); rc1=$(json "d['run']")
z=$(tuned h1 0); rz=$(json "d['run']")
check "tuned train succeeded ($a)" test "${a#failed}" = "$a"
check "the same command twice: identical model, preprocess and profile" test "$a" = "$b"
check "--threads 1 and --threads 2: identical objects and chosen C, gamma" test "$a" = "$c"
check "all cores (--threads 0) too" test "$a" = "$z"
history "$ra" >"$TMP/ha"
history "$rb" >"$TMP/hb"
history "$rc1" >"$TMP/hc"
check "111 steps of cv_accuracy (110 points and the best)" test "$(grep -c '^cv_accuracy ' "$TMP/ha")" -eq 111
check "the same command twice: identical CV score at every grid point" cmp -s "$TMP/ha" "$TMP/hb"
check "--threads 1 and 2: identical CV score at every grid point" cmp -s "$TMP/ha" "$TMP/hc"
check "the scores differ between grid points (the comparison means something)" \
	test "$(grep '^cv_accuracy ' "$TMP/ha" | awk '{ print $3 }' | sort -u | wc -l)" -gt 5

# A different seed draws other folds: other CV scores.
d=$(tuned h1 2 7); rd=$(json "d['run']")
history "$rd" >"$TMP/hd"
check "--seed 7 gives other CV scores than --seed 1" test "$(cmp -s "$TMP/ha" "$TMP/hd"; echo $?)" -ne 0

# A holdout split and probability fitting are seeded too: iris twice, threads 1 and 2.
p1=$("$MLCTL" --json train "$DATA/iris.csv" --name ip --label species --holdout 0.3 --probability \
	--tune 'C=1|4|16,gamma=0.25|1' --cv 3 --threads 1 | /usr/bin/python3 -c \
	'import json,sys; d=json.load(sys.stdin); print(d["model_digest"], d["profile_digest"], d["metrics"]["cv_accuracy"], d["metrics"]["holdout_log_loss"])')
p2=$("$MLCTL" --json train "$DATA/iris.csv" --name ip --label species --holdout 0.3 --probability \
	--tune 'C=1|4|16,gamma=0.25|1' --cv 3 --threads 2 | /usr/bin/python3 -c \
	'import json,sys; d=json.load(sys.stdin); print(d["model_digest"], d["profile_digest"], d["metrics"]["cv_accuracy"], d["metrics"]["holdout_log_loss"])')
check "iris with --holdout and --probability: identical at --threads 1 and 2 ($p1)" test -n "$p1" -a "$p1" = "$p2"
