#!/bin/sh
# t0071-deploy.sh — mlctl deploy, deploy rollback|status|history on iris models: release
# directories named by the package digest, the atomic current link, the alias NAME@TARGET
# and its history, rollback (and refusing one with nothing to roll back to or only a
# damaged release), --require-validated, a signed package deployed into a registry that
# never saw the model, the target lock (--wait 0 exits 75, a waiting deploy goes on when
# the lock is released), --keep, --path, and a link switched behind the registry's back
# (status reports it, the next rollback records it).
. "$(dirname "$0")/lib.sh"

export USER=deployer
"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
for p in "-C 1 --gamma 0.5" "-C 10 --gamma 0.25" "-C 100 --gamma 0.1"; do
	# shellcheck disable=SC2086
	"$MLCTL" train "$DATA/iris.csv" --name iris --label species $p -q || fail "train iris $p"
done
sha() { sha256sum "$1" | cut -c1-64; }
T=$TMP/.mlctl/targets/prod
cur() { readlink "${1:-$T}/current"; }

# ---- deploy, status, history ----
"$MLCTL" package iris:1 -o iris1.mlpkg -q
"$MLCTL" package iris:2 -o iris2.mlpkg -q
R1=iris-1-$(sha iris1.mlpkg | cut -c1-12)
R2=iris-2-$(sha iris2.mlpkg | cut -c1-12)
run deploy iris:1 --target prod
expect_rc "deploy iris:1 exits 0" 0
expect_out "deploy says where current points" "^Deployed iris:1 to prod: $T/current -> releases/$R1$"
check "current is a relative link to releases/NAME-VERSION-DIGEST12" test "$(cur)" = "releases/$R1"
check "the release holds the package's files" test "$(cd "$T/current" && find . -type f | sort | tr '\n' ' ')" = \
	"./.package-sha256 ./MANIFEST.yaml ./model/libsvm.model ./model/preprocess.yaml ./reference/profile.yaml "
check "the release's files are the package's" sh -c "mkdir x1 && tar xzf iris1.mlpkg -C x1 && diff -r -x .package-sha256 x1 '$T/current'"
check "the release records its package digest" test "$(cat "$T/current/.package-sha256")" = "$(sha iris1.mlpkg)"
run models show iris
expect_out "deploy sets the alias iris@prod" "^1 .*@prod"
run --json deploy iris:2 --target prod
expect_rc "deploy iris:2 exits 0" 0
check "deploy --json" test "$(json 'd["target"], d["model"], d["release"], d["previous"], d["unchanged"], d["package_sha256"]')" = \
	"prod iris:2 $R2 $R1 False $(sha iris2.mlpkg)"
check "current switched to iris:2" test "$(cur)" = "releases/$R2"
run deploy status
expect_rc "status exits 0" 0
expect_out "status: header" "^TARGET +MODEL +RELEASE +SINCE +BY$"
expect_out "status: prod serves iris:2" "^prod +iris:2 +$R2 .* deployer$"
run --json deploy status prod
check "status --json: release = the link" test "$(json 'd["targets"][0]["release"]')" = "$(basename "$(cur)")"
check "status --json: keys" test "$(json 'sorted(d["targets"][0].keys())')" = \
	"['action', 'current', 'id', 'in_sync', 'name', 'package_sha256', 'release', 'run', 'target', 'time', 'user', 'version']"
check "status --json: one entry with model, who and time" test "$(json 'len(d["targets"]), d["targets"][0]["name"], d["targets"][0]["version"], d["targets"][0]["user"], d["targets"][0]["time"][:2]')" = \
	"1 iris 2 deployer 20"

# ---- rollback ----
run deploy rollback prod
expect_rc "rollback exits 0" 0
expect_out "rollback says where current points" "^Rolled back iris:1 to prod: .*releases/$R1$"
check "rollback after two deploys returns to the first" test "$(cur)" = "releases/$R1"
run --json deploy status prod
check "status after rollback: iris:1, action rollback" test "$(json 'd["targets"][0]["version"], d["targets"][0]["action"]')" = "1 rollback"
run models show iris
expect_out "rollback moves the alias back" "^1 .*@prod"
expect_out "alias history: deploy 1" "prod +- +1 +deployer +deploy"
expect_out "alias history: deploy 2" "prod +1 +2 +deployer +deploy"
expect_out "alias history: rollback" "prod +2 +1 +deployer +rollback"
run deploy history prod
expect_rc "history exits 0" 0
expect_out "history: header" "^TIME +ACTION +MODEL +RELEASE +WHO +RUN$"
check "history: every switch, newest first" test "$(awk 'NR > 1 { print $3, $4, $5 }' "$TMP/out" | tr '\n' ' ')" = \
	"rollback iris:1 $R1 deploy iris:2 $R2 deploy iris:1 $R1 "
run --json deploy history prod
check "history --json: actions and who" test "$(json '[(h["action"], h["version"], h["user"]) for h in d["history"]]')" = \
	"[('rollback', 1, 'deployer'), ('deploy', 2, 'deployer'), ('deploy', 1, 'deployer')]"
run predict --target prod --input "$DATA/iris.csv" --output served.csv
expect_rc "predict --target after rollback" 0
"$MLCTL" predict iris:1 --input "$DATA/iris.csv" --output direct.csv -q
check "the target serves iris:1's predictions" cmp -s served.csv direct.csv

run deploy iris:1 --target solo
run deploy rollback solo
expect_rc "rollback with no previous release exits 1" 1
expect_err "it says there is none" "target solo has no previous release to roll back to"
check "and current did not move" test "$(cur "$TMP/.mlctl/targets/solo")" = "releases/$R1"
run --json deploy iris:1 --target solo
check "deploying the current release again: unchanged" test "$(json 'd["unchanged"]')" = True
run deploy rollback solo
expect_rc "still nothing to roll back to after redeploying the same release" 1
run deploy rollback nosuch
expect_rc "rollback of an unknown target exits 66" 66

# A damaged release is never switched to: rollback refuses rather than serve half a model.
"$MLCTL" deploy iris:2 --target dmg -q && "$MLCTL" deploy iris:1 --target dmg -q
rm "$TMP/.mlctl/targets/dmg/releases/$R2/model/libsvm.model"
run deploy rollback dmg
expect_rc "rollback to a damaged release is refused (exit 1)" 1
check "current stays on the complete release" test "$(cur "$TMP/.mlctl/targets/dmg")" = "releases/$R1"
run deploy iris:2 --target dmg
expect_rc "deploying it again repairs the damaged release" 0
check "the repaired release is complete" test -f "$TMP/.mlctl/targets/dmg/releases/$R2/model/libsvm.model"

# ---- --require-validated ----
"$MLCTL" validate iris:1 --data "$DATA/iris.csv" --gate 'accuracy>=0.9' -q || fail "validate iris:1"
"$MLCTL" validate iris:3 --data "$DATA/iris.csv" --gate 'accuracy>=0.999' -q && fail "iris:3's gate should fail"
run deploy iris:2 --target gated --require-validated
expect_rc "--require-validated, never validated: exit 1" 1
expect_err "it says why" "iris:2 has no passing validation"
run deploy iris:3 --target gated --require-validated
expect_rc "--require-validated, failed validation: exit 1" 1
check "a refused deploy creates no target: no gated directory" test ! -e "$TMP/.mlctl/targets/gated"
run deploy iris:1 --target gated --require-validated
expect_rc "--require-validated, passed validation: exit 0" 0

# ---- a signed package into a registry that never saw the model ----
"$MLCTL" keygen -q
"$MLCTL" package iris:1 -o churn.mlpkg --sign mlctl.key -q
"$MLCTL" package iris:2 -o unvalidated.mlpkg -q
FRESH=$TMP/fresh
mkdir "$FRESH" && "$MLCTL" init "$FRESH" -q
run --registry "$FRESH/.mlctl" deploy unvalidated.mlpkg --target edge --require-validated
expect_rc "fresh registry: an unvalidated package is refused" 1
run --registry "$FRESH/.mlctl" --json models list
check "and the registry did not learn its version" test "$(json 'd["models"]')" = "[]"
run --registry "$FRESH/.mlctl" deploy churn.mlpkg --target edge --pubkey mlctl.pub --require-validated
expect_rc "fresh registry: the signed, validated package deploys" 0
run --registry "$FRESH/.mlctl" --json models show iris:1
expect_rc "the registry learned iris:1 (models show)" 0
run --registry "$FRESH/.mlctl" models list
expect_out "models list: iris 1 with the alias edge" "^iris +1 +1 .*edge=1$"
run --registry "$FRESH/.mlctl" predict --target edge --input "$DATA/iris.csv" --output edge.csv
expect_rc "predict --target on the fresh registry" 0
check "it predicts what iris:1 predicts at home" cmp -s edge.csv direct.csv
mkdir "$TMP/other" && "$MLCTL" init "$TMP/other" -q
"$MLCTL" --registry "$TMP/other/.mlctl" train "$DATA/iris.csv" --name iris --label species -C 3 -q
run --registry "$TMP/other/.mlctl" deploy churn.mlpkg --target edge
expect_rc "a package whose iris:1 differs from the registry's iris:1 is refused" 1
expect_err "it says so" "this registry's iris:1 is a different model"

# ---- the target lock ----
L=$T/.lock
flock "$L" sh -c "touch held; sleep 2; touch released" &
holder=$!
while [ ! -e held ]; do sleep 0.05; done
run deploy iris:2 --target prod --wait 0
expect_rc "--wait 0 while another holds the target: exit 75" 75
expect_err "it says the target is busy" "target prod is being deployed by another process"
run deploy rollback prod --wait 0
expect_rc "rollback --wait 0 while locked: exit 75" 75
check "current did not move while locked" test "$(cur)" = "releases/$R1"
run deploy iris:2 --target prod --wait 60
expect_rc "a deploy that waits goes on when the lock is released" 0
check "it ran only after the holder released the lock" test -e released
check "and switched" test "$(cur)" = "releases/$R2"
wait "$holder"
run deploy iris:2 --target prod --wait -1
expect_rc "a negative --wait is a usage error" 64

# Two deploys at once: both succeed, one after the other, and the record agrees.
n0=$("$MLCTL" --json deploy history prod | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["history"]))')
"$MLCTL" deploy iris1.mlpkg --target prod --wait 60 -q & a=$!
"$MLCTL" deploy iris:3 --target prod --wait 60 -q & b=$!
wait $a; ra=$?
wait $b; rb=$?
check "two concurrent deploys both succeed" test "$ra $rb" = "0 0"
run --json deploy history prod
check "both are in the history" test "$(json 'len(d["history"])')" = $((n0 + 2))
run --json deploy status prod
check "the latest record is what current points at" test "$(json 'd["targets"][0]["release"]')" = "$(basename "$(cur)")"

# ---- --keep, --path ----
for v in 1 2 3 1 2; do "$MLCTL" deploy iris:$v --target kept --keep 1 -q || fail "deploy iris:$v --keep 1"; done
run --json deploy iris:3 --target kept --keep 1
check "--keep 1 prunes the oldest" test "$(json 'd["pruned"]')" = 1
check "--keep 1 keeps current and previous only" test "$(ls "$TMP/.mlctl/targets/kept/releases" | wc -l)" = 2
run deploy iris:2 --target custom --path "$TMP/srv/model"
expect_rc "deploy --path DIR" 0
check "the target lives in DIR" test "$(cur "$TMP/srv/model")" = "releases/$R2"
run deploy iris:3 --target custom
check "later deploys remember the path" test -d "$TMP/srv/model/releases/$(basename "$(cur "$TMP/srv/model")")" -a \
	"$(cur "$TMP/srv/model")" != "releases/$R2"

# ---- a link switched behind the registry's back (a kill between switch and record) ----
# (The concurrent deploys above left iris:1 or iris:3 current; the link goes to iris:2.)
ln -s "releases/$R2" "$T/current.new" && mv -T "$T/current.new" "$T/current"
run --json deploy status
check "status reports what current points at, and that the record differs" \
	test "$(json '[(t["current"], t["in_sync"]) for t in d["targets"] if t["target"] == "prod"][0]')" = "('$R2', False)"
run deploy history prod
check "status recorded nothing" sh -c "! grep -q reconcile '$TMP/out'"
run deploy rollback prod
expect_rc "the next rollback goes on" 0
run deploy history prod
expect_out "it recorded the switch it found first (reconcile)" "^[-0-9: ]+ +reconcile +iris:2 +$R2 "
expect_out "and then its own" "^[-0-9: ]+ +rollback +"

# ---- usage ----
run deploy iris:1
expect_rc "deploy without --target exits 64" 64
run deploy nosuch:1 --target prod
expect_rc "deploy of an unknown model exits 66" 66
run deploy iris:1 --target "bad name"
expect_rc "an invalid target name exits 64" 64
run deploy history
expect_rc "history without a target exits 64" 64
run deploy status nosuch
expect_rc "status of an unknown target exits 66" 66
run deploy history nosuch
expect_rc "history of an unknown target exits 66" 66
run deploy iris:1 --target prod --pubkey mlctl.pub
expect_rc "--pubkey with a registry model (nothing to verify) is a usage error" 64
expect_err "it says --pubkey is for package files" "--pubkey checks the signature of a package file"
