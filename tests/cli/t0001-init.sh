#!/bin/sh
# t0001-init.sh — mlctl init: creates the registry layout in WAL mode, is harmless when run
# again, takes DIR or --registry, and says what it did in --json.
. "$(dirname "$0")/lib.sh"

run init
expect_rc "init exits 0" 0
expect_out "init says where (\$MLCTL_REGISTRY)" "Initialized empty mlctl registry in $TMP/.mlctl"
check "registry.db created" test -f .mlctl/registry.db
check "objects/ created" test -d .mlctl/objects
check "targets/ created" test -d .mlctl/targets
check "WAL mode" test "$(sqlite3 .mlctl/registry.db 'PRAGMA journal_mode')" = wal
check "schema version 2" test "$(sqlite3 .mlctl/registry.db 'PRAGMA user_version')" = 2

# Something recorded, then init again: harmless, nothing lost.
sqlite3 .mlctl/registry.db "INSERT INTO models (name, created) VALUES ('keepme', 1)"
run init
expect_rc "init again exits 0" 0
expect_out "init again says it exists" "exists already"
check "init again keeps the data" test "$(sqlite3 .mlctl/registry.db 'SELECT name FROM models')" = keepme

run --json init
expect_rc "init --json on an existing registry exits 0" 0
check "init --json: created false" test "$(json 'd["created"]')" = False
check "init --json: schema" test "$(json 'd["schema"]')" = 2

run init --json proj
expect_rc "init DIR --json exits 0" 0
check "init DIR makes DIR/.mlctl" test -f proj/.mlctl/registry.db
check "init --json: created true" test "$(json 'd["created"]')" = True
check "init --json: registry path" test "$(json 'd["registry"]')" = proj/.mlctl

run --registry "$TMP/elsewhere/reg" init
expect_rc "init with --registry exits 0" 0
check "--registry DIR is the registry itself" test -f "$TMP/elsewhere/reg/registry.db"

run -q init "$TMP/quiet"
expect_rc "init -q exits 0" 0
check "init -q prints nothing" test ! -s "$TMP/out"

run init a b
expect_rc "init with two directories is a usage error" 64
run --registry "$TMP/x" init "$TMP/y"
expect_rc "init with DIR and --registry is a usage error" 64

: >afile
run init afile/sub
check "init under a file fails" test "$rc" -ne 0
expect_err "init under a file says why" "cannot create directory"

# A fresh registry lists nothing, successfully.
run runs list
expect_rc "runs list on an empty registry exits 0" 0
run --json runs list
check "runs list --json on an empty registry" test "$(json 'len(d["runs"])')" = 0
run --json models list
check "models list --json lists what the registry holds" test "$(json '[m["name"] for m in d["models"]]')" = "['keepme']"
run --registry "$TMP/quiet/.mlctl" --json models list
check "models list --json on an empty registry" test "$(json 'len(d["models"])')" = 0
