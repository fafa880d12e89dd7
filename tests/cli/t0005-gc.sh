#!/bin/sh
# t0005-gc.sh — mlctl gc over objects placed by hand under .mlctl/objects/: --dry-run
# removes nothing, the grace period spares young orphans, --grace 0 removes exactly the
# unreferenced ones, referenced ones stay (run lineage, model versions, deployments), and a
# file deleted by hand is tolerated.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
sql() { sqlite3 "$MLCTL_REGISTRY/registry.db" "$@"; }
now=$(($(date +%s) * 1000))

# put TEXT: store TEXT as an object the way mlctl does (named by its SHA-256, read-only,
# recorded in the objects table); prints the digest.
put() {
	_d=$(printf '%s' "$1" | sha256sum | cut -c1-64)
	_dir="$MLCTL_REGISTRY/objects/$(echo "$_d" | cut -c1-2)"
	mkdir -p "$_dir"
	printf '%s' "$1" >"$_dir/$(echo "$_d" | cut -c3-)"
	chmod 444 "$_dir/$(echo "$_d" | cut -c3-)"
	sql "INSERT INTO objects VALUES ('$_d', ${#1}, 'text/plain', $now)"
	echo "$_d"
}
path() { echo "$MLCTL_REGISTRY/objects/$(echo "$1" | cut -c1-2)/$(echo "$1" | cut -c3-)"; }
age() { touch -d '2 hours ago' "$(path "$1")"; }

DATA_D=$(put "training data")
MODEL_D=$(put "libsvm model")
PRE_D=$(put "preprocess")
PKG_D=$(put "package bytes")
OLD_D=$(put "an old orphan")
NEW_D=$(put "a young orphan")
for x in $DATA_D $MODEL_D $PRE_D $PKG_D $OLD_D; do age "$x"; done
R=01J9ZQ3V0A0000000000000001
sql <<SQL || fail "inserting references"
INSERT INTO runs (id, kind, status, started, ended) VALUES ('$R', 'train', 'succeeded', $now, $now);
INSERT INTO run_objects VALUES ('$R', 'input', 'data', '$DATA_D');
INSERT INTO models VALUES ('churn', $now);
INSERT INTO model_versions VALUES ('churn', 1, '$R', '$MODEL_D', '$PRE_D', '', 'c_svc', 'rbf', $now, 'ada');
INSERT INTO deployments (target, name, version, package_digest, release, action, time)
  VALUES ('prod', 'churn', 1, '$PKG_D', 'churn-1', 'deploy', $now);
SQL

run gc --dry-run
expect_rc "gc --dry-run exits 0" 0
expect_out "gc --dry-run names the old orphan" "^would remove $OLD_D$"
expect_out "gc --dry-run summary" "^6 objects: 4 referenced, 1 kept within the grace period, 1 to remove"
check "gc --dry-run removes nothing" test -f "$(path "$OLD_D")"

run --json gc --grace 0 -n
check "gc --json: keys" test "$(json 'sorted(d.keys())')" = \
	"['bytes_removed', 'dry_run', 'kept_young', 'missing', 'objects', 'referenced', 'removed', 'removed_digests']"
check "gc --json --grace 0 -n: both orphans" test "$(json 'sorted(d["removed_digests"]) == sorted(["'"$OLD_D"'", "'"$NEW_D"'"])')" = True
check "gc --json: dry_run" test "$(json 'd["dry_run"]')" = True
check "gc -n removes nothing" test -f "$(path "$NEW_D")"

run gc
expect_rc "gc exits 0" 0
expect_out "gc removes the old orphan" "^removed $OLD_D$"
check "the old orphan's file is gone" test ! -e "$(path "$OLD_D")"
check "the old orphan's row is gone" test "$(sql "SELECT count(*) FROM objects WHERE digest = '$OLD_D'")" = 0
check "the young orphan stays within the grace period" test -f "$(path "$NEW_D")"
for x in $DATA_D $MODEL_D $PRE_D $PKG_D; do
	check "referenced object $x stays" test -f "$(path "$x")"
done

run --json gc --grace 0
expect_rc "gc --grace 0 exits 0" 0
check "gc --grace 0 removes the young orphan" test "$(json 'd["removed_digests"]')" = "['$NEW_D']"
check "gc --grace 0: bytes" test "$(json 'd["bytes_removed"]')" = 14
check "the young orphan's file is gone" test ! -e "$(path "$NEW_D")"
check "four objects remain" test "$(find "$MLCTL_REGISTRY/objects" -type f ! -name .lock | wc -l)" -eq 4

# Someone deletes a referenced object by hand: gc copes and says so.
rm -f "$(path "$PRE_D")"
run gc --grace 0
expect_rc "gc with a file deleted by hand exits 0" 0
expect_out "gc reports the missing file" "1 recorded but already missing"
check "the other objects stay" test "$(find "$MLCTL_REGISTRY/objects" -type f ! -name .lock | wc -l)" -eq 3

run gc --grace soon
expect_rc "gc --grace with a bad value exits 64" 64
run gc extra
expect_rc "gc with an argument exits 64" 64
