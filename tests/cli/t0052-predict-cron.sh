#!/bin/sh
# t0052-predict-cron.sh — mlctl predict as a cron job: an overlapping run with the same
# --lock exits 75 while the first still runs (and --wait waits for it instead); a job killed
# half-way (SIGTERM as timeout(1) sends, SIGHUP, SIGKILL) leaves no output file, or the
# previous one intact, and after SIGTERM/SIGHUP no temp file either (SIGINT is handled the same, but a
# background job of a script ignores it); the killed runs show as
# stale in `mlctl runs`. The slow job reads from a FIFO that a background writer fills in two parts.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
run train "$DATA/iris.csv" --name iris --label species -q
expect_rc "train iris" 0
# 60,000 rows of iris: enough for the output to be flushed before the end
awk 'NR == 1 { print; next } { a[NR] = $0 } END { for (k = 0; k < 400; k++) for (i = 2; i <= NR; i++) print a[i] }' \
	"$DATA/iris.csv" >big.csv
head -30001 big.csv >first.csv
tail -n +30002 big.csv >second.csv

# slow_input FIFO: feed first.csv, hold the FIFO open until $TMP/go exists (at most 20 s),
# then feed second.csv.
slow_input() {
	rm -f "$1" go
	mkfifo "$1"
	(
		exec >"$1"
		cat first.csv
		i=0
		while [ ! -e go ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
		cat second.csv
	) &
	feeder=$!
}

# wait_for COND...: poll up to 20 s.
wait_for() {
	i=0
	while ! "$@" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	"$@"
}
tmp_written() { [ -n "$(find . -maxdepth 1 -name ".$1.tmp.*" -size +0)" ]; }
no_tmp() { [ -z "$(find . -maxdepth 1 -name '.*.tmp.*')" ]; }

"$MLCTL" predict iris --input big.csv --output ref.csv -q || fail "reference scoring"

# ---- --lock: the second run exits 75 while the first holds the lock ----
slow_input in.fifo
"$MLCTL" predict iris --input in.fifo --output a.csv --lock job.lock -q 2>a.err &
first=$!
check "first run is scoring (half its output written)" wait_for tmp_written a.csv
run predict iris --input "$DATA/iris.csv" --output b.csv --lock job.lock
expect_rc "overlapping run with the same --lock exits 75" 75
expect_err "... saying the lock is held" "job.lock is held by another mlctl predict"
check "... without writing anything" test ! -e b.csv
check "... while the first is still running" kill -0 $first
run predict iris --input "$DATA/iris.csv" --output b.csv --lock job.lock --wait 0.3
expect_rc "--wait 0.3 while the lock stays held: exit 75" 75
run predict iris --input "$DATA/iris.csv" --output c.csv --lock other.lock
expect_rc "another lock file does not block" 0
# --wait long enough: it starts once the first run ends
"$MLCTL" predict iris --input "$DATA/iris.csv" --output b.csv --lock job.lock --wait 60 -q &
second=$!
sleep 0.3
check "the waiting run waits" test ! -e b.csv
touch go
wait $first
check "first run: exit 0" test $? -eq 0
wait $second
check "waiting run: exit 0 after the first" test $? -eq 0
wait $feeder
check "first run: complete output" cmp -s a.csv ref.csv
check "waiting run: output written" test "$(wc -l <b.csv)" -eq 151

# ---- killed half-way ----
# kill_test SIGNAL: a run into k.csv killed with SIGNAL once half its output is written.
kill_test() {
	slow_input in.fifo
	"$MLCTL" predict iris --input in.fifo --output k.csv -q 2>/dev/null &
	job=$!
	if wait_for tmp_written k.csv; then
		kill -s "$1" $job
		wait $job
		st=$?
		check "SIG$1 half-way: the job died of it (status $st)" test $st -gt 128
	else
		fail "SIG$1: the job never started writing"
		kill $job 2>/dev/null
	fi
	touch go
	wait $feeder
}
kill_test TERM
check "SIGTERM: no output file" test ! -e k.csv
check "SIGTERM: no temp file left" no_tmp
kill_test HUP
check "SIGHUP: no output file" test ! -e k.csv
check "SIGHUP: no temp file left" no_tmp
cp ref.csv k.csv
kill_test KILL
check "SIGKILL: the previous output is intact" cmp -s k.csv ref.csv
check "SIGKILL: the dead job's temp file is there" test -n "$(find . -maxdepth 1 -name '.k.csv.tmp.*')"
run predict iris --input "$DATA/iris.csv" --output k.csv -q
expect_rc "the next run after SIGKILL succeeds" 0
check "the next run removed the dead job's temp file" no_tmp
cp ref.csv k.csv
cp ref.csv k.csv
kill_test TERM
check "SIGTERM: the previous output is intact" cmp -s k.csv ref.csv
check "SIGTERM: no temp file left (previous output kept)" no_tmp

# timeout(1), as in a crontab line
slow_input in.fifo
timeout -s TERM 2 "$MLCTL" predict iris --input in.fifo --output t.csv --lock job.lock -q 2>/dev/null
st=$?
touch go
wait $feeder
check "timeout 2 on a stalled input: exit 124" test $st -eq 124
check "timeout: no output, no temp file" test ! -e t.csv -a -z "$(find . -maxdepth 1 -name '.t.csv.tmp.*')"
run predict iris --input "$DATA/iris.csv" --output t.csv --lock job.lock
expect_rc "the lock is free again after the killed run" 0

# the runs stopped by SIGTERM or SIGHUP recorded their end (failed: cancelled); the one
# killed by SIGKILL shows as stale (its process is gone); the runs refused by the lock are
# not recorded at all
run --json runs list --kind predict --limit 0
check "runs: the 4 runs stopped by a signal failed as cancelled" \
	test "$(json 'sum(r["status"] == "failed" and "cancelled" in (r.get("error") or "") for r in d["runs"])')" -eq 4
check "runs: the SIGKILLed run is stale" test "$(json 'sum(r["status"] == "stale" for r in d["runs"])')" -eq 1
check "runs: 6 succeeded, nothing recorded for the runs refused by the lock" \
	test "$(json '(len(d["runs"]), sum(r["status"] == "succeeded" for r in d["runs"]))')" = "(11, 6)"
