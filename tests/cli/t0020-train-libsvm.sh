#!/bin/sh
# t0020-train-libsvm.sh — `mlctl train` fits the same models as libsvm's own tools:
# with --scale none on heart_scale the stored model file is svm-train's model (every SVM
# type, kernel and option): the same header, coefficients and indices, and support-vector
# values equal to the 8 digits svm-train writes (mlctl writes all 17), so svm-predict
# gives identical labels and libsvm identical decision values;
# with --scale minmax on a CSV, predictions agree with svm-scale + svm-train (classes and
# regression); --scale standard agrees with scikit-learn's StandardScaler + SVC.
. "$(dirname "$0")/lib.sh"

if ! command -v svm-train >/dev/null || ! command -v svm-scale >/dev/null; then
	pass "libsvm-tools not installed: comparison skipped"
	exit 0
fi
"$MLCTL" init >/dev/null
here=$(cd "$(dirname "$0")" && pwd)
cc -O1 -o "$TMP/svm_values" "$here/svm_values.c" -lsvm || { fail "building svm_values.c"; exit 1; }

# same_model MINE REF: the same model, read back (see model_cmp.py), and libsvm's labels
# and decision values from both files are identical on every row of heart_scale.
same_model() {
	/usr/bin/python3 "$here/model_cmp.py" "$1" "$2" || return 1
	"$TMP/svm_values" "$1" "$DATA/heart_scale" >"$TMP/v1" || return 1
	"$TMP/svm_values" "$2" "$DATA/heart_scale" >"$TMP/v2" || return 1
	svm-predict "$DATA/heart_scale" "$1" "$TMP/l1" >/dev/null || return 1
	svm-predict "$DATA/heart_scale" "$2" "$TMP/l2" >/dev/null || return 1
	cmp -s "$TMP/v1" "$TMP/v2" && cmp -s "$TMP/l1" "$TMP/l2"
}

# object NAME:VERSION: the path of the version's libsvm model file in the store.
object() {
	d=$("$MLCTL" --json models show "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["model_digest"])')
	echo "$MLCTL_REGISTRY/objects/$(echo "$d" | cut -c1-2)/$(echo "$d" | cut -c3-)"
}

# to_svm CSV LABELCOL: the CSV as libsvm lines on stdout, the label column (1-based) mapped
# to 1, 2, ... in order of first appearance; the mapping "name index" goes to $TMP/map.
to_svm() {
	awk -F, -v lc="$2" -v map="$TMP/map" 'NR > 1 {
		sub(/\r$/, ""); gsub(/"/, "")
		if (!($lc in m)) { m[$lc] = ++n; print $lc, n > map }
		printf "%d", m[$lc]; j = 0
		for (i = 1; i <= NF; i++) if (i != lc) printf " %d:%s", ++j, $i
		print ""
	}' "$1"
}

# --- heart_scale, no scaling: the model file itself is svm-train's ---
run train "$DATA/heart_scale" --name heart --scale none -C 2 --gamma 0.5
expect_rc "train heart_scale -C 2 --gamma 0.5" 0
svm-train -q -c 2 -g 0.5 "$DATA/heart_scale" "$TMP/ref.model"
svm-predict "$DATA/heart_scale" "$(object heart:1)" "$TMP/p1" >/dev/null
svm-predict "$DATA/heart_scale" "$TMP/ref.model" "$TMP/p2" >/dev/null
check "svm-predict gives identical predictions on all 270 rows" \
	test "$(paste -d' ' "$TMP/p1" "$TMP/p2" | awk '$1 == $2' | wc -l)" -eq 270
check "the stored model is svm-train's model (values to 8 digits, same decisions)" \
	same_model "$(object heart:1)" "$TMP/ref.model"
check "the stored model keeps 17 digits where svm-train writes 8" \
	grep -q ':0.16666700000000001 ' "$(object heart:1)"

# Every SVM type, kernel and option, against the svm-train flags that mean the same. The
# values are exact in binary: this svm-train stores -g, -n and -p as floats (gamma 0.1
# becomes 0.10000000149011612), mlctl keeps doubles.
i=0
while IFS=';' read -r mopts sopts; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	run train "$DATA/heart_scale" --name "h$i" --scale none $mopts
	expect_rc "train $mopts" 0
	# shellcheck disable=SC2086
	svm-train -q $sopts "$DATA/heart_scale" "$TMP/ref$i.model"
	check "model of '$mopts' is svm-train $sopts's" same_model "$(object "h$i:1")" "$TMP/ref$i.model"
done <<'EOF'
--type nu-svc --nu 0.25;-s 1 -n 0.25
--type one-class --nu 0.25;-s 2 -n 0.25
--type epsilon-svr --epsilon 0.25 -C 3;-s 3 -p 0.25 -c 3
--type nu-svr --nu 0.375 -C 0.5;-s 4 -n 0.375 -c 0.5
--kernel linear -C 0.5;-t 0 -c 0.5
--kernel poly --degree 2 --coef0 1 --gamma 0.125;-t 1 -d 2 -r 1 -g 0.125
--kernel sigmoid --gamma 0.0078125 --coef0 -0.5;-t 3 -g 0.0078125 -r -0.5
--class-weight 1=3 --class-weight -1=0.5;-w1 3 -w-1 0.5
--probability -C 4;-b 1 -c 4
--type epsilon-svr --probability;-s 3 -b 1
--cache 10 --tolerance 0.01 --no-shrinking;-m 10 -e 0.01 -h 0
-s nu-svc -t poly -d 4 -r 0.5 -g 0.25 -n 0.125;-s 1 -t 1 -d 4 -r 0.5 -g 0.25 -n 0.125
EOF

# --- min-max scaling on CSV files: svm-scale + svm-train on the same rows ---
# classes: CLASSIFY CSV LABELCOLNAME LABELCOLNUMBER
classes() {
	to_svm "$DATA/$1" "$3" >"$TMP/$1.svm"
	svm-scale "$TMP/$1.svm" >"$TMP/$1.scaled"
	svm-train -q "$TMP/$1.scaled" "$TMP/$1.model"
	svm-predict "$TMP/$1.scaled" "$TMP/$1.model" "$TMP/$1.ref" >/dev/null
	run train "$DATA/$1" --name "mm-$1" --label "$2"
	expect_rc "train $1 (minmax by default)" 0
	run predict "mm-$1:1" --input "$DATA/$1" --output "$TMP/$1.pred"
	expect_rc "predict $1" 0
	# Class names back to svm-scale's numbers, then count agreeing rows.
	tail -n +2 "$TMP/$1.pred" | tr -d '"\r' | awk -v map="$TMP/map" \
		'BEGIN { while ((getline l < map) > 0) { split(l, a, " "); m[a[1]] = a[2] } } { print m[$1] }' \
		>"$TMP/$1.mine"
	rows=$(wc -l <"$TMP/$1.ref")
	same=$(paste -d' ' "$TMP/$1.mine" "$TMP/$1.ref" | awk '$1 == $2' | wc -l)
	check "$1: $same of $rows predictions agree with svm-scale + svm-train (>= 99.5%)" \
		test $((same * 1000)) -ge $((rows * 995))
	check "$1: every row predicted" test "$(wc -l <"$TMP/$1.mine")" -eq "$rows"
}
classes iris.csv species 5
classes wine.csv cultivar 14

# Regression: concrete.csv, epsilon-SVR; svm-scale scales the features only.
to_svm "$DATA/concrete.csv" 9 | sed 's/^[0-9]*//' >"$TMP/c.feat"
tail -n +2 "$DATA/concrete.csv" | tr -d '\r' | awk -F, '{ print $9 }' >"$TMP/c.y"
paste -d '' "$TMP/c.y" "$TMP/c.feat" >"$TMP/c.svm"
svm-scale "$TMP/c.svm" >"$TMP/c.scaled"
svm-train -q -s 3 -c 4 -g 0.125 "$TMP/c.scaled" "$TMP/c.model"
svm-predict "$TMP/c.scaled" "$TMP/c.model" "$TMP/c.ref" >/dev/null
run train "$DATA/concrete.csv" --name conc --label compressive_strength --type epsilon-svr -C 4 --gamma 0.125
expect_rc "train concrete.csv as epsilon-SVR" 0
run predict conc:1 --input "$DATA/concrete.csv" --output "$TMP/c.pred"
tail -n +2 "$TMP/c.pred" >"$TMP/c.mine"
close=$(paste -d' ' "$TMP/c.mine" "$TMP/c.ref" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d < 1e-3) n++ } END { print n + 0 }')
check "concrete: $close of 1030 regression predictions within 1e-3 of svm-scale + svm-train (>= 99.5%)" \
	test "$close" -ge 1025

# --- standard scaling: scikit-learn's StandardScaler (population sd) + SVC ---
if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
	run train "$DATA/wine.csv" --name std --label cultivar --scale standard -C 2 --gamma 0.0625
	expect_rc "train wine.csv --scale standard" 0
	run predict std:1 --input "$DATA/wine.csv" --output "$TMP/std.pred"
	/usr/bin/python3 - "$DATA/wine.csv" "$TMP/std.pred" >"$TMP/std.cmp" <<'EOF'
import csv, sys
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
rows = list(csv.reader(open(sys.argv[1], newline="")))[1:]
X = [[float(v) for v in r[:-1]] for r in rows]
y = [r[-1] for r in rows]
Xs = StandardScaler().fit_transform(X)
ref = SVC(C=2, gamma=0.0625).fit(Xs, y).predict(Xs)
mine = [r[0] for r in list(csv.reader(open(sys.argv[2], newline="")))[1:]]
print(sum(a == b for a, b in zip(ref, mine)), len(ref), len(mine))
EOF
	read -r same n m <"$TMP/std.cmp"
	check "standard scaling: $same of $n predictions agree with scikit-learn (>= 99.5%)" \
		test "$m" -eq "$n" -a $((same * 1000)) -ge $((n * 995))
else
	pass "scikit-learn not installed: standard scaling not compared"
fi
