#!/bin/sh
# t0008-gc-concurrent.sh — gc running in a loop while several processes train the same
# deterministic model, whose objects are old orphans (a killed run, a refused deploy) the
# trainings store again: no interleaving loses an object that ends up referenced, and no
# process sees "database is locked".
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-20}
WRITERS=3
"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
sql() { sqlite3 -cmd ".timeout 60000" "$MLCTL_REGISTRY/registry.db" "$@"; }
train() { "$MLCTL" train "$DATA/iris.csv" --name iris --label species -C 1 --gamma 0.5 --seed 7 -q; }
train 2>"$TMP/train.err" || { fail "first training: $(cat "$TMP/train.err")"; exit 1; }

# Every digest the registry refers to, as a model version's or a run's output.
refs() {
	sql "SELECT model_digest FROM model_versions UNION SELECT preprocess_digest FROM model_versions
	     UNION SELECT profile_digest FROM model_versions UNION SELECT digest FROM run_objects WHERE role = 'output'"
}
obj() { echo "$MLCTL_REGISTRY/objects/$(echo "$1" | cut -c1-2)/$(echo "$1" | cut -c3-)"; }
# Make the trained model an old orphan: no version or lineage refers to it, files 2 h old.
orphan() {
	sql "DELETE FROM model_versions; DELETE FROM run_objects WHERE role = 'output'; DELETE FROM aliases;"
	find "$MLCTL_REGISTRY/objects" -type f ! -name .lock -exec touch -c -d '2 hours ago' {} +
}

: >"$TMP/gc.err"
: >"$TMP/train.err"
(
	while [ ! -e "$TMP/stop" ]; do
		"$MLCTL" gc --grace 0 -q 2>>"$TMP/gc.err" || echo "gc exited $?" >>"$TMP/gc.err"
	done
) &
gcloop=$!

dangling=0
round=1
while [ $round -le $ROUNDS ]; do
	orphan
	i=1
	pids=
	while [ $i -le $WRITERS ]; do
		( train 2>>"$TMP/train.err" || echo "train exited $?" >>"$TMP/train.err" ) &
		pids="$pids $!"
		i=$((i + 1))
	done
	wait $pids
	for d in $(refs); do
		[ -f "$(obj "$d")" ] || { dangling=$((dangling + 1)); echo "round $round: $d dangles" >>"$TMP/dangling"; }
	done
	round=$((round + 1))
done
touch "$TMP/stop"
wait $gcloop

check "every training succeeded" test ! -s "$TMP/train.err"
check "every gc succeeded" test ! -s "$TMP/gc.err"
check "no reference dangles after $ROUNDS rounds of $WRITERS trainings against gc" test "$dangling" -eq 0
check "no 'database is locked' anywhere" sh -c "! grep -qi 'database is locked' '$TMP/train.err' '$TMP/gc.err'"
[ -s "$TMP/dangling" ] && head -3 "$TMP/dangling" >&2
[ -s "$TMP/train.err" ] && head -3 "$TMP/train.err" >&2
[ -s "$TMP/gc.err" ] && head -3 "$TMP/gc.err" >&2
run gc --dry-run
expect_rc "gc --dry-run afterwards exits 0" 0
check "gc --dry-run: nothing recorded is missing" sh -c "! grep -q 'already missing' '$TMP/out'"
run predict iris --input "$DATA/iris.csv" --output "$TMP/p.csv" -q
expect_rc "the latest version scores from its stored objects" 0
