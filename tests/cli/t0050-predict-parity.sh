#!/bin/sh
# t0050-predict-parity.sh — mlctl predict gives what libsvm gives on the same model file and
# the same rows: labels equal to svm-predict's on every row of letter.csv (20,000) and
# shuttle.csv (58,000); for each kernel, nu-SVC, one-class, probability models and both
# regressions, decision values and probabilities within 1e-9 (relative) of libsvm's own
# svm_predict_values/svm_predict_probability (tests/cli/svm_values.c), on the fast scorer and
# on --no-fast; probabilities also equal to what svm-predict -b 1 prints, to its precision.
#
# The data are libsvm copies of the CSVs (made with awk, scaled by svm-scale) and the models
# are trained with --scale none, so the model file in the store is a plain libsvm model that
# svm-predict reads with the same data file.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
cc -O1 -o "$TMP/svm_values" "$here/svm_values.c" -lsvm || { fail "building svm_values.c"; exit 1; }

# CSV -> libsvm: letter (lettr A..Z -> 1..26) and shuttle (class names -> 1..7), zeros left out.
awk -F, 'NR > 1 { gsub(/"/, "", $1); printf "%d", index("ABCDEFGHIJKLMNOPQRSTUVWXYZ", $1);
	for (i = 2; i <= NF; i++) if ($i != 0) printf " %d:%s", i - 1, $i; print "" }' \
	"$DATA/letter.csv" >letter.libsvm
awk -F, 'NR > 1 { gsub(/"/, "", $10); if (!($10 in m)) m[$10] = ++n; printf "%d", m[$10];
	for (i = 1; i <= 9; i++) if ($i != 0) printf " %d:%s", i, $i; print "" }' \
	"$DATA/shuttle.csv" >shuttle.libsvm
awk -F, 'NR > 1 { printf "%s", $9; for (i = 1; i <= 8; i++) if ($i != 0) printf " %d:%s", i, $i; print "" }' \
	"$DATA/concrete.csv" >concrete.libsvm
for d in letter shuttle concrete; do
	svm-scale -l -1 -u 1 $d.libsvm >$d.scaled 2>/dev/null || fail "svm-scale $d"
done
check "letter.libsvm has 20000 rows" test "$(wc -l <letter.scaled)" -eq 20000
check "shuttle.libsvm has 58000 rows" test "$(wc -l <shuttle.scaled)" -eq 58000
head -2000 letter.scaled >l2k.scaled
head -1000 letter.scaled >l1k.scaled
sed -n '2001,6000p' letter.scaled >l4k.scaled   # rows the letter models did not see
awk 'NR % 10 == 1' shuttle.scaled >s6k.scaled

# train NAME DATA OPTIONS...: train NAME:1 with --scale none; $model is its libsvm file.
train() {
	mname=$1 mdata=$2
	shift 2
	run train "$mdata" --name "$mname" --scale none -q "$@"
	[ "$rc" -eq 0 ] || { fail "training $mname: $(head -c 300 "$TMP/err")"; return 1; }
	run --json models show "$mname:1"
	digest=$(json 'd["model_digest"]')
	model="$MLCTL_REGISTRY/objects/$(echo "$digest" | cut -c1-2)/$(echo "$digest" | cut -c3-)"
	check "$mname: the stored model is a libsvm model file" grep -q '^svm_type' "$model"
}

# labels_equal NAME PREDICTIONS.csv SVM-PREDICT-OUTPUT: same label on every row.
labels_equal() {
	tail -n +2 "$2" | cut -d, -f1 >"$TMP/mine"
	if [ "$(wc -l <"$3")" -gt 0 ] && cmp -s "$TMP/mine" "$3"; then
		pass "$1 ($(wc -l <"$3") rows)"
	else
		fail "$1: $(cmp "$TMP/mine" "$3" 2>&1 | head -1)"
	fi
}

# close NAME MINE.csv REFERENCE [MODE]: the same label and every other number of every row
# within 1e-9 relative; MODE 6: to the 6 significant digits svm-predict -b 1 prints instead;
# MODE r (regression): the prediction too is a number within 1e-9.
close() {
	/usr/bin/python3 - "$2" "$3" "${4:-}" <<'EOF' >"$TMP/close"
import csv, sys
mine = list(csv.reader(open(sys.argv[1])))[1:]
ref = [l.split() for l in open(sys.argv[2])]
six, reg = sys.argv[3] == "6", sys.argv[3] == "r"
if six:
    ref = ref[1:]   # svm-predict -b 1 starts with a "labels ..." line
if len(mine) != len(ref) or not mine:
    print("rows: %d vs %d" % (len(mine), len(ref))); sys.exit(1)
worst = 0.0
for i, (a, b) in enumerate(zip(mine, ref)):
    if len(a) != len(b):
        print("row %d: %d vs %d columns" % (i + 1, len(a), len(b))); sys.exit(1)
    if reg:
        a, b = ["0"] + a, ["0"] + b
    if float(a[0]) != float(b[0]):
        print("row %d: label %s vs %s" % (i + 1, a[0], b[0])); sys.exit(1)
    for x, y in zip(a[1:], b[1:]):
        x, y = float(x), float(y)
        if six:
            # what svm-predict prints, allowing for a value 1e-12 from a rounding boundary
            ok = any(float("%g" % (x * f)) == y for f in (1, 1 + 1e-12, 1 - 1e-12))
            err = 0.0 if ok else 1.0
        else:
            err = abs(x - y) / max(1.0, abs(x), abs(y))
            ok = err <= 1e-9
        if not ok:
            print("row %d: %r vs %r" % (i + 1, x, y)); sys.exit(1)
        worst = max(worst, err)
print("%d rows, max rel diff %.1e" % (len(mine), worst))
EOF
	if [ $? -eq 0 ]; then pass "$1: $(cat "$TMP/close")"; else fail "$1: $(cat "$TMP/close")"; fi
}

# ---- every row of letter.csv and shuttle.csv: labels as svm-predict's ----
train letter l2k.scaled
svm-predict letter.scaled "$model" svm.out >/dev/null
run predict letter --input letter.scaled --output p.csv
expect_rc "letter: predict exits 0" 0
labels_equal "letter: labels = svm-predict on every row" p.csv svm.out
run --json predict letter --input letter.scaled --output p.csv
check "letter: scored with the dense batch scorer" test "$(json 'd["scorer"]')" = dense-batch
run predict letter --input letter.scaled --output p.csv --no-fast
labels_equal "letter --no-fast: labels = svm-predict on every row" p.csv svm.out

train shuttle s6k.scaled -C 16
svm-predict shuttle.scaled "$model" svm.out >/dev/null
run predict shuttle --input shuttle.scaled --output p.csv --threads 2
expect_rc "shuttle: predict exits 0" 0
labels_equal "shuttle: labels = svm-predict on every row" p.csv svm.out
"$TMP/svm_values" "$model" s6k.scaled >ref.txt
run predict shuttle --input s6k.scaled --output p.csv --decision
close "shuttle: 21 decision values per row = libsvm's" p.csv ref.txt

# ---- kernels, nu-SVC, probability models: decision values on rows not trained on ----
# kernel NAME DATA TRAIN-OPTIONS...: labels = svm-predict, --decision = svm_values, fast
# and --no-fast.
kernel() {
	mname=$1 mdata=$2
	shift 2
	train "$mname" "$mdata" "$@" || return
	svm-predict l4k.scaled "$model" svm.out >/dev/null
	"$TMP/svm_values" "$model" l4k.scaled >ref.txt
	run predict "$mname" --input l4k.scaled --output p.csv --decision
	labels_equal "$mname: labels = svm-predict" p.csv svm.out
	close "$mname: decision values = libsvm's" p.csv ref.txt
	run predict "$mname" --input l4k.scaled --output p.csv --decision --no-fast
	close "$mname --no-fast: decision values = libsvm's" p.csv ref.txt
}
kernel linear l1k.scaled --kernel linear
kernel poly l1k.scaled --kernel poly --degree 3 --gamma 0.5 --coef0 1
kernel sigmoid l1k.scaled --kernel sigmoid --gamma 0.01 --coef0 -0.5
kernel nusvc l1k.scaled --type nu-svc --nu 0.1

train proba l1k.scaled --probability -C 4
svm-predict -b 1 l4k.scaled "$model" svm.out >/dev/null
"$TMP/svm_values" -b "$model" l4k.scaled | cut -d' ' -f1,327- >ref.txt
run predict proba --input l4k.scaled --output p.csv --proba
expect_rc "proba: predict --proba exits 0" 0
check "proba: 26 p_ columns" test "$(head -1 p.csv | tr , '\n' | grep -c '^p_')" -eq 26
close "proba: probabilities = libsvm's" p.csv ref.txt
close "proba: probabilities = what svm-predict -b 1 prints" p.csv svm.out 6
run predict proba --input l4k.scaled --output p.csv --proba --no-fast
close "proba --no-fast: probabilities = libsvm's" p.csv ref.txt

# ---- one-class and regression ----
train oneclass l1k.scaled --type one-class --nu 0.2
svm-predict l4k.scaled "$model" svm.out >/dev/null
"$TMP/svm_values" "$model" l4k.scaled >ref.txt
run predict oneclass --input l4k.scaled --output p.csv --decision
labels_equal "one-class: labels = svm-predict" p.csv svm.out
close "one-class: decision values = libsvm's" p.csv ref.txt

for type in epsilon-svr nu-svr; do
	train "$type" concrete.scaled --type "$type" -C 8
	svm-predict concrete.scaled "$model" svm.out >/dev/null
	"$TMP/svm_values" "$model" concrete.scaled | cut -d' ' -f1 >ref.txt
	run predict "$type" --input concrete.scaled --output p.csv
	close "$type: predictions = libsvm's" p.csv ref.txt r
	close "$type: predictions = svm-predict's" p.csv svm.out r
	run predict "$type" --input concrete.scaled --output p.csv --no-fast
	close "$type --no-fast: predictions = libsvm's" p.csv ref.txt r
done
