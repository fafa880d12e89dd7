#!/bin/sh
# t0007-readonly.sh — a registry on a read-only file system (a scoring host that mounts
# it read-only): runs list/show, models list/show and gc --dry-run read it, predict scores
# a package or a registry model and says on one stderr line that it records no run,
# commands that write fail with exit 74 saying why, and nothing is written. With a writer
# holding the database open elsewhere (its -shm there), the reader sees its commits.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
run train "$DATA/iris.csv" --name iris --label species -C 1 --gamma 0.5 -q
expect_rc "train iris:1" 0
run package iris:1 -o "$TMP/iris.mlpkg"
expect_rc "package iris:1" 0
RUN=$("$MLCTL" --json runs list --kind train | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["id"])')
check "the training run has an id" test -n "$RUN"
nruns() { sqlite3 "$TMP/.mlctl/registry.db" "SELECT count(*) FROM runs"; }
before=$(nruns)

# A real read-only mount of the registry (a bind mount remounted ro; chmod does not stop
# root). Without the privilege to mount, say so and stop.
RO="$TMP/ro"
mkdir "$RO"
if ! mount --bind "$TMP/.mlctl" "$RO" 2>/dev/null; then
	echo "t0007: cannot bind-mount (not root or no mount namespace): read-only checks skipped" >&2
	pass "skipped: no read-only mount possible here"
	exit 0
fi
trap 'umount "$RO" 2>/dev/null; rm -rf "$TMP"' EXIT
if ! mount -o remount,ro,bind "$RO" 2>/dev/null; then
	echo "t0007: cannot remount read-only: read-only checks skipped" >&2
	pass "skipped: no read-only mount possible here"
	exit 0
fi
check "the mount is really read-only" sh -c "! touch '$RO/x' 2>/dev/null"
check "no WAL index (-shm) on the mount: the last writer closed" test ! -e "$RO/registry.db-shm"
export MLCTL_REGISTRY="$RO"

run runs list
expect_rc "runs list on a read-only registry exits 0" 0
expect_out "runs list shows the training run" "$RUN"
run runs show "$RUN"
expect_rc "runs show exits 0" 0
run --json runs show "$RUN"
check "runs show --json: the run" test "$(json 'd["id"]')" = "$RUN"
run models list
expect_rc "models list exits 0" 0
expect_out "models list shows iris" "^iris"
run models show iris
expect_rc "models show exits 0" 0
run models alias --history iris
expect_rc "models alias --history only reads: exits 0" 0
run gc --dry-run
expect_rc "gc --dry-run exits 0" 0
expect_out "gc --dry-run counts the objects" "objects: [0-9]+ referenced"

run predict "$TMP/iris.mlpkg" --input "$DATA/iris.csv" --output "$TMP/pkg.csv"
expect_rc "predict FILE.mlpkg exits 0" 0
check "predict wrote its predictions" test -s "$TMP/pkg.csv"
check "predict says on one stderr line that it records no run" test "$(grep -c 'cannot be written: scoring without recording a run' "$TMP/err")" = 1
check "predict: nothing else on stderr" test "$(wc -l <"$TMP/err")" = 1
run predict iris:1 --input "$DATA/iris.csv" --output "$TMP/ref.csv"
expect_rc "predict with a registry model exits 0" 0
check "both give the same predictions" cmp -s "$TMP/pkg.csv" "$TMP/ref.csv"

run train "$DATA/iris.csv" --name iris --label species -q
expect_rc "train on a read-only registry exits 74" 74
expect_err "train says the registry cannot be written" "cannot be written"
run models alias iris@prod 1
expect_rc "models alias (a write) exits 74" 74
expect_err "models alias says why" "cannot be written"
run gc --grace 0
expect_rc "gc (not a dry run) exits 74" 74

check "nothing was recorded" test "$(nruns)" = "$before"
check "no WAL files were made" test ! -e "$TMP/.mlctl/registry.db-wal"

# A writer elsewhere holds the database open (its -wal and -shm exist): the read-only
# reader shares its WAL index and sees what it committed.
( (echo "UPDATE runs SET name = 'renamed' WHERE id = '$RUN';"; sleep 4) | sqlite3 "$TMP/.mlctl/registry.db" ) &
writer=$!
i=0
while [ ! -e "$RO/registry.db-shm" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
run --json runs show "$RUN"
expect_rc "runs show with a live writer exits 0" 0
check "the reader sees the writer's commit" test "$(json 'd["name"]')" = renamed
wait $writer
