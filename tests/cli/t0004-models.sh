#!/bin/sh
# t0004-models.sh — mlctl models list|show|alias over versions written straight into a
# registry made by `mlctl init`: references (NAME, NAME:N, NAME@ALIAS, run/ID), aliases set,
# moved and deleted with their history (who, why, from, to), the --json keys, errors.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
sql() { sqlite3 "$MLCTL_REGISTRY/registry.db" "$@"; }
host=$(uname -n)
now=$(($(date +%s) * 1000))
R1=01J9ZQ3V0A0000000000000001
R2=01J9ZQ3V0B0000000000000002
R3=01J9ZQ3V0C0000000000000003
R4=01J9ZQ3V0D0000000000000004   # iris:1
V2=01J9ZQ3V0E0000000000000005   # a validation of churn:2
d() { printf '%064d' "$1"; }
sql <<SQL || fail "inserting models"
INSERT INTO runs (id, kind, name, status, started, ended, user, host, pid, version, model_name, model_version, verdict)
VALUES ('$R1', 'train', 'churn', 'succeeded', $now - 5000, $now - 4000, 'ada', '$host', 1, '0.1.0', 'churn', 1, NULL),
       ('$R2', 'train', 'churn', 'succeeded', $now - 4000, $now - 3000, 'ada', '$host', 1, '0.1.0', 'churn', 2, NULL),
       ('$R3', 'train', 'churn', 'succeeded', $now - 3000, $now - 2000, 'ada', '$host', 1, '0.1.0', 'churn', 3, NULL),
       ('$R4', 'train', 'iris', 'succeeded', $now - 2000, $now - 1000, 'ada', '$host', 1, '0.1.0', 'iris', 1, NULL),
       ('$V2', 'validate', NULL, 'succeeded', $now - 900, $now - 800, 'ada', '$host', 1, '0.1.0', 'churn', 2, 'pass');
INSERT INTO models VALUES ('churn', $now - 5000), ('iris', $now - 2000);
INSERT INTO model_versions VALUES
  ('churn', 1, '$R1', '$(d 11)', '$(d 12)', '$(d 13)', 'c_svc', 'rbf', $now - 4000, 'ada'),
  ('churn', 2, '$R2', '$(d 21)', '$(d 22)', '$(d 23)', 'c_svc', 'linear', $now - 3000, 'ada'),
  ('churn', 3, '$R3', '$(d 31)', '$(d 32)', '', 'nu_svc', 'rbf', $now - 2000, 'bob'),
  ('iris', 1, '$R4', '$(d 41)', '$(d 42)', '$(d 43)', 'c_svc', 'rbf', $now - 1000, 'ada');
SQL

run models list
expect_rc "models list exits 0" 0
expect_out "models list: header" "^NAME +LATEST +VERSIONS +UPDATED +ALIASES"
expect_out "models list: churn" "^churn +3 +3 "
expect_out "models list: iris" "^iris +1 +1 "
run models
expect_rc "models alone lists" 0
expect_out "models alone is models list" "^churn +3 +3 "

# ---- aliases ----
run models alias churn@champion 2 -m "best AUC on March data"
expect_rc "alias set exits 0" 0
expect_out "alias set says where it points" "churn@champion -> version 2"
run models alias churn@champion 3
expect_rc "alias move exits 0" 0
run models alias churn@staging "run/$(echo $R1 | tr 'A-Z' 'a-z')"
expect_rc "alias to run/ID exits 0" 0
expect_out "alias to run/ID resolves the version" "churn@staging -> version 1"
run models alias churn@champion iris:1
expect_rc "alias to another model's version exits 64" 64
expect_err "alias to another model's version says so" "not of churn"
run models alias churn@champion 9
expect_rc "alias to a missing version exits 66" 66
run models alias churn 2
expect_rc "alias without @ALIAS exits 64" 64
run models alias "churn@bad alias" 2
expect_rc "invalid alias name exits 64" 64
run models alias churn@x
expect_rc "alias without a version exits 64" 64

run models list
expect_out "models list shows aliases" "champion=3, staging=1$"
run --json models list
check "models list --json: keys" test "$(json 'sorted(d["models"][0].keys())')" = \
	"['aliases', 'latest_version', 'name', 'updated', 'versions']"
check "models list --json: churn" test "$(json '[d["models"][0][k] for k in ("name", "latest_version", "versions", "aliases")]')" = \
	"['churn', 3, 3, 'champion=3, staging=1']"
check "models list --json: iris without aliases" test "$(json 'd["models"][1]["aliases"]')" = None

# ---- show ----
run models show churn
expect_rc "models show NAME exits 0" 0
expect_out "models show: title" "^model churn$"
expect_out "models show: header" "^VERSION +RUN +TYPE +KERNEL +CREATED +ALIASES +VALIDATION"
expect_out "models show: version 3 with its alias" "^3 +$R3 +nu_svc +rbf .*@champion"
expect_out "models show: version 2 validated" "^2 +$R2 +c_svc +linear .*pass 01J9ZQ3V0E"
expect_out "models show: alias history" "^alias history:"
run models show churn:2
expect_rc "models show NAME:N exits 0" 0
expect_out "models show NAME:N: which" "^model +churn:2$"
expect_out "models show NAME:N: digest" "^model +$(d 21)$"
expect_out "models show NAME:N: validation" "$V2 +pass"
run models show churn@staging
expect_out "models show NAME@ALIAS resolves" "^model +churn:1$"
run models show "run/$R3"
expect_out "models show run/ID resolves" "^model +churn:3$"
run models show churn@champion
expect_out "models show lists the version's aliases" "^aliases +@champion$"

run --json models show churn
expect_rc "models show --json exits 0" 0
check "models show --json: top-level keys" test "$(json 'sorted(d.keys())')" = "['alias_history', 'name', 'versions']"
check "models show --json: versions newest first" test "$(json '[v["version"] for v in d["versions"]]')" = "[3, 2, 1]"
check "models show --json: version keys" test "$(json 'sorted(d["versions"][0].keys())')" = \
	"['aliases', 'created', 'kernel', 'model_digest', 'name', 'preprocess_digest', 'profile_digest', 'run', 'type', 'user', 'validations', 'version']"
check "models show --json: aliases" test "$(json 'd["versions"][0]["aliases"]')" = "['champion']"
check "models show --json: validations" test "$(json 'd["versions"][1]["validations"]')" = \
	"[{'run': '$V2', 'status': 'succeeded', 'verdict': 'pass', 'time': '$(json 'd["versions"][1]["validations"][0]["time"]')'}]"
check "models show --json: alias history keys" test "$(json 'sorted(d["alias_history"][0].keys())')" = \
	"['alias', 'from', 'reason', 'time', 'to', 'user']"
run --json models show churn:3
check "models show REF --json: one version" test "$(json '[d["name"], d["version"], d["run"], d["profile_digest"]]')" = \
	"['churn', 3, '$R3', '']"

run models show nope
expect_rc "unknown model exits 66" 66
expect_err "unknown model is named" "no model named nope"
run models show churn:9
expect_rc "unknown version exits 66" 66
expect_err "unknown version is named" "no version 9"
run models show churn@nope
expect_rc "unknown alias exits 66" 66
expect_err "unknown alias is named" "no alias @nope"
run models show run/ZZZZZZZZ
expect_rc "unknown run/ID exits 66" 66
run models show "run/$V2"
expect_rc "run/ID of a run with no model exits 66" 66
run models show churn:abc
expect_rc "bad version number exits 64" 64

# ---- history, delete ----
run models alias --history churn@champion
expect_rc "alias --history exits 0" 0
expect_out "alias --history: header" "^TIME +ALIAS +FROM +TO +WHO +WHY"
expect_out "alias --history: first set" " champion +- +2 +[^ ]+ +best AUC on March data$"
expect_out "alias --history: move" " champion +2 +3 +[^ ]+ +models alias$"
run --json models alias --history churn
check "alias --history --json: every alias of the model" test "$(json '[(m["alias"], m["from"], m["to"]) for m in d["alias_history"]]')" = \
	"[('champion', None, 2), ('champion', 2, 3), ('staging', None, 1)]"
check "alias --history --json: who" test "$(json 'd["alias_history"][0]["user"]')" = "$(json 'd["alias_history"][1]["user"]')"
run models alias --delete churn@staging
expect_rc "alias --delete exits 0" 0
expect_out "alias --delete says so" "churn@staging removed"
run models show churn@staging
expect_rc "a deleted alias is gone" 66
run models alias --delete churn@staging
expect_rc "deleting a missing alias exits 66" 66
run --json models alias --history churn@staging
check "alias --history records the delete" test "$(json '[(m["from"], m["to"], m["reason"]) for m in d["alias_history"]]')" = \
	"[(None, 1, 'models alias'), (1, None, 'deleted')]"
check "alias history is in the registry" test "$(sql 'SELECT count(*) FROM alias_history')" = 4
