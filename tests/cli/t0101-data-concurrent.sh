#!/bin/sh
# t0101-data-concurrent.sh — several processes store the same churn data at once
# (train --store-data) while gc runs in a loop, round after round, the data object an old
# orphan at the start of each (no run refers to it, its file two hours old): no interleaving
# loses a data object a run ends up referring to, every checkout is byte for byte, and no
# process sees "database is locked".
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-8}
WRITERS=3
CHURN="$CLI_DIR/../../examples/data/mlc_churn.csv"
"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
sql() { sqlite3 -cmd ".timeout 60000" "$MLCTL_REGISTRY/registry.db" "$@"; }
obj() { echo "$MLCTL_REGISTRY/objects/$(echo "$1" | cut -c1-2)/$(echo "$1" | cut -c3-)"; }
train() { "$MLCTL" train "$CHURN" --name churn --label churn -C 1 --gamma 0.1 --store-data -q; }
D=$(sha256sum "$CHURN" | cut -c1-64)
train 2>"$TMP/train.err" || { fail "first training: $(cat "$TMP/train.err")"; exit 1; }

# The data becomes an old orphan: no run's lineage names it.
orphan() {
	sql "DELETE FROM run_objects WHERE name IN ('data', 'test_data')"
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

lost=0
bad=0
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
	if [ "$(sql "SELECT count(*) FROM run_objects WHERE name = 'data' AND digest = '$D'")" -gt 0 ]; then
		if [ ! -f "$(obj "$D")" ]; then
			lost=$((lost + 1))
			echo "round $round: the data object is gone" >>"$TMP/lost"
		elif ! "$MLCTL" data checkout "$D" "$TMP/back.csv" --force -q 2>>"$TMP/lost" || ! cmp -s "$TMP/back.csv" "$CHURN"; then
			bad=$((bad + 1))
		fi
	fi
	round=$((round + 1))
done
touch "$TMP/stop"
wait $gcloop

check "every training succeeded" test ! -s "$TMP/train.err"
check "every gc succeeded" test ! -s "$TMP/gc.err"
check "no referenced data object lost in $ROUNDS rounds of $WRITERS stores against gc" test "$lost" -eq 0
check "every checkout is byte for byte" test "$bad" -eq 0
check "no 'database is locked' anywhere" sh -c "! grep -qi 'database is locked' '$TMP/train.err' '$TMP/gc.err'"
check "no temp file left in the store" test -z "$(find "$MLCTL_REGISTRY/objects" -name '.*.tmp.*')"
[ -s "$TMP/lost" ] && head -3 "$TMP/lost" >&2
[ -s "$TMP/train.err" ] && head -3 "$TMP/train.err" >&2
[ -s "$TMP/gc.err" ] && head -3 "$TMP/gc.err" >&2
run data list --json
check "one data set, stored" test "$(json '[(x["digest"], x["stored"]) for x in d["data"]]')" = "[('$D', True)]"
