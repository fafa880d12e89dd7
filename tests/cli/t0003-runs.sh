#!/bin/sh
# t0003-runs.sh — mlctl runs list|show|compare over runs written straight into a registry
# made by `mlctl init`: filters, newest first, id prefixes (unique, lowercase, ambiguous),
# the --json keys, a run whose process is gone shown as stale, compare side by side.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
sql() { sqlite3 "$MLCTL_REGISTRY/registry.db" "$@"; }
host=$(uname -n)
now=$(($(date +%s) * 1000))

A=01J9ZQ3V0A0000000000000001   # train, succeeded, params, metrics over steps, tags, lineage
B=01J9ZQ3V0B0000000000000002   # train, succeeded, one child
C=01J9ZQ3V0B0000000000000003   # tune, child of B (shares the prefix 01J9ZQ3V0B with B)
D=01J9ZQ3V0C0000000000000004   # train, 'running' but its process is gone: stale
E=01J9ZQ3V0D0000000000000005   # validate, failed
F=01J9ZQ3V0E0000000000000006   # train, running, owned by this shell (alive)
DIGEST=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
sql <<SQL || fail "inserting runs"
INSERT INTO runs (id, kind, name, parent, status, started, ended, user, host, pid, argv, version)
VALUES ('$A', 'train', 'iris', NULL, 'succeeded', $now - 60000, $now - 58000, 'ada', '$host', 1, 'mlctl train iris.csv', '0.1.0'),
       ('$B', 'train', 'iris', NULL, 'succeeded', $now - 50000, $now - 40000, 'ada', '$host', 1, 'mlctl train iris.csv --tune', '0.1.0'),
       ('$C', 'tune', 'point', '$B', 'succeeded', $now - 49000, $now - 48000, 'ada', '$host', 1, NULL, '0.1.0'),
       ('$D', 'train', 'crashed', NULL, 'running', $now - 30000, NULL, 'ada', '$host', 4194303, NULL, '0.1.0'),
       ('$E', 'validate', 'gate', NULL, 'failed', $now - 20000, $now - 19000, 'bob', '$host', 1, NULL, '0.1.0'),
       ('$F', 'train', 'live', NULL, 'running', $now - 10000, NULL, 'ada', '$host', $$, NULL, '0.1.0');
UPDATE runs SET error = 'gate accuracy>=0.99 failed: 0.95', verdict = 'fail' WHERE id = '$E';
INSERT INTO params VALUES ('$A', 'C', '1'), ('$A', 'gamma', '0.5'), ('$A', 'kernel', 'rbf'),
                          ('$B', 'C', '8'), ('$B', 'gamma', '0.125');
INSERT INTO metrics VALUES ('$A', 'accuracy', 0, 0.5, $now), ('$A', 'accuracy', 1, 0.75, $now),
                           ('$A', 'accuracy', 2, 0.875, $now), ('$A', 'f1', 0, 0.8, $now),
                           ('$B', 'accuracy', 0, 0.96, $now);
INSERT INTO tags VALUES ('$A', 'owner', 'ada'), ('$A', 'ticket', 'ML-42');
INSERT INTO objects VALUES ('$DIGEST', 5, 'text/csv', $now);
INSERT INTO run_objects VALUES ('$A', 'input', 'data', '$DIGEST');
SQL

# ---- list ----
run runs list
expect_rc "runs list exits 0" 0
expect_out "runs list has a header" "^ID +KIND +NAME +STATUS +STARTED +DURATION +MODEL"
check "runs list: top-level runs only, newest first" \
	test "$(awk 'NR > 1 { print $1 }' "$TMP/out" | tr '\n' ' ')" = "$F $E $D $B $A "
expect_out "runs list: the dead run is stale" "^$D +train +crashed +stale"
expect_out "runs list: the live run is running" "^$F +train +live +running"
expect_out "runs list: failed run" "^$E +validate +gate +failed"
run runs
expect_rc "runs alone lists" 0
check "runs alone is runs list" test "$(awk 'NR > 1' "$TMP/out" | wc -l)" -eq 5
run runs list --all
check "runs list --all includes child runs" test "$(awk 'NR > 1' "$TMP/out" | wc -l)" -eq 6
run runs list --parent "$(echo $B | tr 'A-Z' 'a-z')"
expect_rc "runs list --parent (lowercase id) exits 0" 0
check "runs list --parent lists the children" test "$(awk 'NR > 1 { print $1 }' "$TMP/out")" = "$C"
run runs list --kind validate
check "runs list --kind filters" test "$(awk 'NR > 1 { print $1 }' "$TMP/out")" = "$E"
run runs list --name iris -n 1
check "runs list --name --limit" test "$(awk 'NR > 1 { print $1 }' "$TMP/out")" = "$B"
run runs list --parent ZZZZZZ
expect_rc "runs list --parent of an unknown run exits 66" 66

run --json runs list --limit 0
expect_rc "runs list --json exits 0" 0
check "runs list --json: 5 runs" test "$(json 'len(d["runs"])')" = 5
check "runs list --json: the keys" test "$(json 'sorted(d["runs"][0].keys())')" = \
	"['duration_ms', 'ended', 'error', 'host', 'id', 'kind', 'mlctl_version', 'model', 'name', 'parent', 'pid', 'started', 'status', 'user', 'verdict']"
check "runs list --json: statuses" test "$(json '[r["status"] for r in d["runs"]]')" = \
	"['running', 'failed', 'stale', 'succeeded', 'succeeded']"
check "runs list --json: duration_ms" test "$(json 'd["runs"][3]["duration_ms"]')" = 10000
check "runs list --json: running has no end" test "$(json 'd["runs"][0]["ended"]')" = None
check "runs list --json: times are ISO 8601 UTC" test "$(json 'd["runs"][4]["started"][-1] + d["runs"][4]["started"][10]')" = ZT
check "runs list --json: error and verdict" test "$(json 'd["runs"][1]["error"] + "|" + d["runs"][1]["verdict"]')" = \
	"gate accuracy>=0.99 failed: 0.95|fail"

# ---- show ----
run runs show "$A"
expect_rc "runs show exits 0" 0
expect_out "runs show: id" "^run +$A"
expect_out "runs show: params" "^  C +1$"
expect_out "runs show: latest metric step" "accuracy +0.875 \(step 2; 3 steps\)"
expect_out "runs show: tags" "ticket +ML-42"
expect_out "runs show: lineage" "input +data +2cf24dba5fb0a30e"
expect_out "runs show: command" "^command +mlctl train iris.csv"
run runs show 01j9zq3v0a
expect_rc "runs show with a lowercase unique prefix exits 0" 0
expect_out "runs show: the prefix resolves" "^run +$A"
run runs show 01J9ZQ3V0B
expect_rc "ambiguous prefix exits 64" 64
expect_err "ambiguous prefix lists the candidates" "$B.*$C"
run runs show ZZZZZZZZ
expect_rc "unknown run exits 66" 66
expect_err "unknown run is named" "no run ZZZZZZZZ"
run runs show
expect_rc "runs show without an id exits 64" 64
run runs show "$D"
expect_out "runs show: stale is explained" "stale \(its process is gone"
run runs show "$B"
expect_out "runs show: children" "children +1"

run --json runs show "$A"
check "runs show --json: params" test "$(json 'd["params"]')" = "{'C': '1', 'gamma': '0.5', 'kernel': 'rbf'}"
check "runs show --json: latest metrics" test "$(json 'd["metrics"]')" = "{'accuracy': 0.875, 'f1': 0.8}"
check "runs show --json: metric history" test "$(json '[s["value"] for s in d["metric_history"]["accuracy"]]')" = "[0.5, 0.75, 0.875]"
check "runs show --json: tags" test "$(json 'd["tags"]["owner"]')" = ada
check "runs show --json: lineage" test "$(json 'd["lineage"]')" = \
	"[{'role': 'input', 'name': 'data', 'digest': '$DIGEST', 'size': 5, 'media_type': 'text/csv'}]"
check "runs show --json: argv" test "$(json 'd["argv"]')" = "mlctl train iris.csv"
check "runs show --json: children" test "$(json 'd["children"]')" = 0
run runs show --json "$C"
check "runs show --json: parent" test "$(json 'd["parent"]')" = "$B"

# ---- compare ----
run runs compare "$A" "$B"
expect_rc "runs compare exits 0" 0
expect_out "runs compare: param row" "^param C +1 +8 *$"
expect_out "runs compare: missing param shows -" "^param kernel +rbf +- *$"
expect_out "runs compare: metric row" "^metric accuracy +0.875 +0.96 *$"
run --json runs compare 01j9zq3v0a "$B"
check "runs compare --json: both runs, in order" test "$(json '[r["id"] for r in d["runs"]]')" = "['$A', '$B']"
run runs compare "$A"
expect_rc "runs compare with one run exits 64" 64
run runs compare "$A" ZZZZZZZZ
expect_rc "runs compare with an unknown run exits 66" 66

run -q runs list
check "-q prints nothing" test ! -s "$TMP/out"
