#!/bin/sh
# t0053-predict-memory.sh — mlctl predict streams: the peak memory (max RSS) for 200,000 rows
# (shuttle.csv repeated) is within 4 MB of that for 10,000 rows, with --decision, and for
# JSON lines from stdin to stdout; the output keeps the input order whatever the threads and
# batch size (2 threads x batches of 97 rows = 1 thread x 512). bench/predict.sh does 1M rows.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
# ASan keeps freed memory in quarantine (256 MB by default): make it small so that what is
# measured is what mlctl holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
head -3001 "$DATA/shuttle.csv" >s3k.csv
run train s3k.csv --name shuttle --label Class -q
expect_rc "train shuttle (3000 rows)" 0
awk 'NR == 1 { print; next } { a[NR] = $0 } END { for (k = 0; k < 4; k++) for (i = 2; i <= NR; i++) print a[i] }' \
	"$DATA/shuttle.csv" | head -200001 >s200k.csv
head -10001 s200k.csv >s10k.csv
check "200,000 rows made" test "$(wc -l <s200k.csv)" -eq 200001

# maxrss_kb IN OUT CMD...: run CMD <IN >OUT, print its peak RSS in KB.
maxrss_kb() {
	in=$1 out=$2
	shift 2
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M' -o "$TMP/rss" "$@" <"$in" >"$out" || echo "exit $?" >>"$TMP/rss.err"
	else # /usr/bin/time comes from the Debian package "time"
		/usr/bin/python3 -c 'import resource, subprocess, sys
st = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(st)' "$@" <"$in" >"$out" 2>"$TMP/rss" || echo "exit $?" >>"$TMP/rss.err"
	fi
	tail -1 "$TMP/rss"
}

# flat NAME SMALL BIG: BIG KB is at most 4 MB above SMALL KB.
flat() {
	if [ -n "$2" ] && [ -n "$3" ] && [ "$3" -le $(($2 + 4096)) ]; then
		pass "$1: $2 KB for 10k rows, $3 KB for 200k rows"
	else
		fail "$1: $2 KB for 10k rows, $3 KB for 200k rows"
	fi
}

small=$(maxrss_kb /dev/null /dev/null "$MLCTL" predict shuttle --input s10k.csv --output p10k.csv -q --decision)
big=$(maxrss_kb /dev/null /dev/null "$MLCTL" predict shuttle --input s200k.csv --output p200k.csv -q --decision)
flat "peak memory does not grow with the rows (csv, --decision)" "$small" "$big"
check "no run failed" test ! -e "$TMP/rss.err"
check "200k rows written" test "$(wc -l <p200k.csv)" -eq 200001
check "the first 10k rows are those of the 10k run" test \
	"$(head -10001 p200k.csv | md5sum)" = "$(md5sum <p10k.csv)"

small=$(maxrss_kb s10k.csv j10k.jsonl "$MLCTL" predict shuttle --input - --format jsonl -q)
big=$(maxrss_kb s200k.csv j200k.jsonl "$MLCTL" predict shuttle --input - --format jsonl -q)
flat "peak memory does not grow with the rows (jsonl, stdin to stdout)" "$small" "$big"
check "jsonl: 200k lines on stdout" test "$(wc -l <j200k.jsonl)" -eq 200000

run predict shuttle --input s200k.csv --output t1.csv --threads 1 --decision
run predict shuttle --input s200k.csv --output t2.csv --threads 2 --batch 97 --decision
check "input order kept: 2 threads x 97-row batches = 1 thread" cmp -s t1.csv t2.csv
check "... = the default" cmp -s t1.csv p200k.csv
