#!/bin/sh
# t0054-predict-exact.sh — what mlctl predict writes for a row is a function of the model and
# that row only, byte for byte, whatever --threads and --batch are (letter, 26 classes, every
# decision value); the fast scorer agrees with svm-predict on unscaled data near 2e6 and 1e9;
# -o follows a symlink to its file, writes a FIFO or a device in place, refuses a directory;
# an input of 1.5 million columns is scored, not a crash.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
head -4001 "$DATA/letter.csv" >l4k.csv
run train l4k.csv --name letter --label lettr -q
expect_rc "train letter (4000 rows)" 0
head -6001 "$DATA/letter.csv" | tail -n +2 >body.csv
{ head -1 "$DATA/letter.csv"; cat body.csv; } >l6k.csv

# --- batch and thread independence ------------------------------------------------------
run predict letter --input l6k.csv --output ref.csv --decision --threads 1
expect_rc "predict letter, 1 thread, default batch" 0
ref=$(md5sum <ref.csv)
for spec in "1 1" "2 7" "3 97" "2 500" "3 4093" "2 1"; do
	set -- $spec
	run predict letter --input l6k.csv --output o.csv --decision --threads "$1" --batch "$2"
	if [ "$rc" -eq 0 ] && [ "$(md5sum <o.csv)" = "$ref" ]; then
		pass "--threads $1 --batch $2: the same bytes as 1 thread"
	else
		fail "--threads $1 --batch $2: exit $rc, $(cmp ref.csv o.csv 2>&1 | head -1)"
	fi
done
# A row scored alone, and at another place in a batch, is the same line.
{ head -1 l6k.csv; sed -n '4000p' body.csv; } >one.csv
run predict letter --input one.csv --output one.out --decision
check "row 4000 alone = row 4000 of the whole file" test "$(tail -1 one.out | md5sum)" = "$(sed -n '4001p' ref.csv | md5sum)"
{ head -1 l6k.csv; tail -n +3000 body.csv; head -2999 body.csv; } >rot.csv
run predict letter --input rot.csv --output rot.out --decision --batch 333 --threads 2
check "rotated input: the same lines, rotated" test \
	"$( { head -1 rot.out; tail -n +3003 rot.out; sed -n '2,3002p' rot.out; } | md5sum)" = "$ref"

# --- unscaled data far from zero --------------------------------------------------------
# A libsvm model of letter's 16 integer features (svm-train, no scaling), and the same model
# with every support vector and row moved by an offset (plus a third, so that sums of
# squares are not exact integers): the rbf kernel does not see the move, svm-predict sums
# (x - s)^2 and scores it as the original; mlctl's scorer must give svm-predict's labels.
awk -F, 'NR > 1 { gsub(/"/, "", $1); printf "%d", index("ABCDEFGHIJKLMNOPQRSTUVWXYZ", $1);
	for (i = 2; i <= NF; i++) printf " %d:%s", i - 1, $i; print "" }' l6k.csv >l6k.svm
head -2000 l6k.svm >l2k.svm
svm-train -q -c 4 -g 0.02 l2k.svm small.model
for off in 2000000 1000000000; do
	/usr/bin/python3 - "$off" small.model l6k.svm big.model big.svm <<'PY'
import sys
off, model, data, out_model, out_data = float(sys.argv[1]) + 1.0 / 3, *sys.argv[2:]
def dense(fields):
    v = [0.0] * 16
    for f in fields:
        i, x = f.split(":")
        v[int(i) - 1] = float(x)
    return " ".join("%d:%.17g" % (i + 1, x + off) for i, x in enumerate(v))
with open(out_model, "w") as o:
    sv = False
    for line in open(model):
        if sv:
            parts = line.split()
            coefs = [p for p in parts if ":" not in p]
            o.write(" ".join(coefs) + " " + dense([p for p in parts if ":" in p]) + "\n")
        else:
            o.write(line)
            sv = line.strip() == "SV"
with open(out_data, "w") as o:
    for line in open(data):
        parts = line.split()
        o.write(parts[0] + " " + dense(parts[1:]) + "\n")
PY
	run import-svm big.model --name big$off
	expect_rc "import the model moved by $off" 0
	run predict big$off --input big.svm --output big.out
	expect_rc "predict letter moved by $off" 0
	svm-predict big.svm big.model big.ref >/dev/null 2>&1
	svm-predict l6k.svm small.model small.ref >/dev/null 2>&1
	tail -n +2 big.out | cut -d, -f1 >big.cmp
	check "moved by $off: svm-predict gives the original model's labels" cmp -s small.ref big.ref
	check "moved by $off: mlctl's labels are svm-predict's on every row (6000)" cmp -s big.ref big.cmp
done
# Training itself on such data: libsvm's training kernel expands the distance and diverges;
# mlctl refuses to keep a model of NaNs (it used to store one that nothing could load).
awk -F, -v off=1000000000 'NR == 1 { print; next } { printf "%s", $1;
	for (i = 2; i <= NF; i++) printf ",%.6f", $i + off + 1/3; print "" }' l6k.csv | head -2001 >bigtrain.csv
run train bigtrain.csv --name diverged --label lettr --scale none -C 4 --gamma 0.02 -q
if [ "$rc" -eq 0 ]; then
	run predict diverged --input bigtrain.csv --output /dev/null
	expect_rc "a model trained on features near 1e9 scores" 0
else
	expect_rc "training on features near 1e9 that diverges is refused" 65
	expect_err "the refusal says to scale" "diverged.*--scale"
fi

# --- where -o writes ----------------------------------------------------------------------
mkdir -p real
: >real/scores.csv
ln -s real/scores.csv link.csv
run predict letter --input one.csv -o link.csv
expect_rc "-o a symlink" 0
check "the symlink is still a symlink" test -L link.csv
check "the file it names has the predictions" test "$(wc -l <real/scores.csv)" -eq 2
ln -s real/new.csv dangling.csv
run predict letter --input one.csv -o dangling.csv
check "-o a dangling symlink creates the file it names" test -L dangling.csv -a -s real/new.csv
mkfifo fifo
timeout 20 cat fifo >fifo.out &
reader=$!
run predict letter --input one.csv -o fifo
wait $reader
expect_rc "-o a FIFO" 0
check "the FIFO is still a FIFO" test -p fifo
check "the FIFO's reader got the predictions" test "$(wc -l <fifo.out)" -eq 2
if mknod null c 1 3 2>/dev/null; then
	run predict letter --input one.csv -o null
	expect_rc "-o a character device" 0
	check "the device is still a device" test -c null
else
	pass "-o a character device: skipped (mknod not permitted here)"
fi
mkdir outdir
run predict letter --input one.csv -o outdir
expect_rc "-o a directory is refused" 73
expect_err "the error says it is a directory" "outdir.*directory"
check "the directory is left alone" test -d outdir

# --- very wide input ----------------------------------------------------------------------
/usr/bin/python3 - <<'PY'
# The same row with its 16 columns first and 1.5M unused columns after them.
n = 1500000
hdr = open("l6k.csv").readline().rstrip("\n")
row = open("one.csv").read().splitlines()[1]
with open("wide.csv", "w") as f:
    f.write(hdr + "," + ",".join("x%d" % i for i in range(n)) + "\n")
    f.write(row + "," + ",".join(["0"] * n) + "\n")
PY
run predict letter --input wide.csv --output wide.out
expect_rc "an input of 1.5 million columns" 0
check "its prediction is that of the narrow row" test "$(tail -1 wide.out)" = "$(tail -1 real/scores.csv)"
