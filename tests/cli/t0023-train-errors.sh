#!/bin/sh
# t0023-train-errors.sh — bad training data is refused with a message that names the file
# (and the line, column and value where there is one) and exit 65, a missing file 66; each
# failed train is a failed run with its message and registers no version.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null

printf 'a,b,label\n1,2,x\n3,4\n5,6,y\n' >"$TMP/ragged.csv"
printf '1 1:0.5 2:0.25\n-1 1:0.2 2:abc\n' >"$TMP/bad.svm"
: >"$TMP/empty.csv"
head -c 4096 "$MLCTL" >"$TMP/binary.csv"
printf 'a,b,c\n1,2,3\n4,5,6\n' >"$TMP/nolabel.csv"
printf 'a,b,label\n1,2,x\n3,4,x\n5,6,x\n' >"$TMP/oneclass.csv"
gzip -c "$DATA/iris.csv" >"$TMP/whole.gz"
# Half the stream, and the whole stream but its last byte (the trailer's length is cut).
head -c $(($(wc -c <"$TMP/whole.gz") / 2)) "$TMP/whole.gz" >"$TMP/truncated.csv.gz"
head -c $(($(wc -c <"$TMP/whole.gz") - 1)) "$TMP/whole.gz" >"$TMP/trailer.csv.gz"
printf 'a,b,label\n' >"$TMP/header.csv"
printf 'a,b,label\n1,2,x\n3,4O,y\n5,6,y\n7,8,x\n9,10,y\n11,12,x\n13,14,y\n15,16,x\n17,18,y\n19,20,x\n21,22,y\n23,24,x\n25,26,y\n27,28,x\n29,30,y\n31,32,x\n33,34,y\n35,36,x\n37,38,y\n39,40,x\n41,42,y\n' >"$TMP/typo.csv"

# bad NAME FILE CODE PATTERN [OPTIONS...]
nfail=0
bad() {
	name=$1 file=$2 code=$3 pattern=$4
	shift 4
	run train "$file" --name bad "$@"
	expect_rc "$name exits $code" "$code"
	expect_err "$name: message names the file and the fault" "$pattern"
	check "$name: one line of message, no crash" test "$(wc -l <"$TMP/err")" -le 2
	nfail=$((nfail + 1))
}
bad "ragged rows" "$TMP/ragged.csv" 65 'ragged\.csv:3: .*2 fields.* 3'
bad "non-number in a libsvm file" "$TMP/bad.svm" 65 'bad\.svm:2: .*"abc" is not a number'
bad "empty file" "$TMP/empty.csv" 65 'empty\.csv: .*empty'
bad "binary file" "$TMP/binary.csv" 65 'binary\.csv.*binary'
bad "missing label column" "$TMP/nolabel.csv" 65 'nolabel\.csv: no label column.*--label'
bad "missing --label column" "$TMP/nolabel.csv" 65 'nolabel\.csv: no label column "target"' --label target
bad "one class" "$TMP/oneclass.csv" 65 'oneclass\.csv: .*only one class \("x"\)'
bad "truncated gzip" "$TMP/truncated.csv.gz" 65 'truncated\.csv\.gz: truncated or corrupt gzip' --label species
bad "gzip without its trailer" "$TMP/trailer.csv.gz" 65 'trailer\.csv\.gz: truncated or corrupt gzip' --label species
bad "header only" "$TMP/header.csv" 65 'header\.csv: no data rows'
bad "typo in a numeric CSV column" "$TMP/typo.csv" 65 'typo\.csv:3: column "b": "4O" is not a number'
bad "nonexistent file" "$TMP/nosuch.csv" 66 'nosuch\.csv'
bad "libsvm forced on a CSV" "$DATA/iris.csv" 65 'iris\.csv:' --format libsvm

run --json runs list --name bad --all
expect_rc "runs list --json" 0
check "every failed train is a failed run ($nfail)" test "$(json "sum(r['status'] == 'failed' for r in d['runs'])")" = "$nfail"
check "each failed run keeps its message" test "$(json "all(r['error'] for r in d['runs'])")" = True
check "no failed run points at a model" test "$(json "all(r['model'] is None for r in d['runs'])")" = True
run models show bad
expect_rc "no version of bad was registered" 66
run --json models list
check "the model list is empty" test "$(json "len(d['models'] if isinstance(d, dict) else d)")" = 0

# A good train after the failures registers version 1, not a later one.
run train "$DATA/heart_scale" --name bad -C 2
expect_rc "a good train after them" 0
expect_out "it registers version 1" "version 1 "
