#!/bin/sh
# t0072-deploy-crash.sh — kill -9 deploys and rollbacks at random moments, 60 times. After
# every kill the target's current link names a complete release (predict --target scores
# with it, which checks every file's digest against the manifest), deploy status reports
# exactly what current points at (and says when the record lags behind: it never writes),
# and the alias iris@prod is the version of the latest deployment record. Deploys rotate over
# three packages with --keep 1, so that kills land in extraction, the switch, the record
# and the pruning of old releases. The random delays come from a seed printed on failure.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
for p in "-C 1 --gamma 0.5" "-C 10 --gamma 0.25" "-C 100 --gamma 0.1"; do
	# shellcheck disable=SC2086
	"$MLCTL" train "$DATA/iris.csv" --name iris --label species $p -q || fail "train iris $p"
done
for v in 1 2 3; do "$MLCTL" package iris:$v -o p$v.mlpkg -q || fail "package iris:$v"; done
head -31 "$DATA/iris.csv" >rows.csv
T=$TMP/.mlctl/targets/prod
"$MLCTL" deploy p1.mlpkg --target prod -q || fail "first deploy"
"$MLCTL" deploy p2.mlpkg --target prod -q || fail "second deploy"

SEED=${CRASH_SEED:-$(date +%s)}
TRIES=${CRASH_TRIES:-60}
# delays: TRIES pseudo-random sleeps of 0 to 80 ms, from SEED.
awk -v seed="$SEED" -v n="$TRIES" 'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%.3f\n", rand() * 0.08 }' >delays

bad=0 killed=0 i=0
while read -r delay; do
	i=$((i + 1))
	# Every fifth try kills a rollback; the others a deploy of the next package.
	if [ $((i % 5)) -eq 0 ]; then
		"$MLCTL" deploy rollback prod --wait 30 -q 2>/dev/null &
	else
		"$MLCTL" deploy "p$((i % 3 + 1)).mlpkg" --target prod --keep 1 --wait 30 -q 2>/dev/null &
	fi
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	[ $? -eq 137 ] && killed=$((killed + 1))

	link=$(readlink "$T/current")
	rel=${link#releases/}
	why=""
	if [ "$link" = "$rel" ] || [ ! -d "$T/releases/$rel" ]; then
		why="current -> '$link' is not a release"
	elif ! "$MLCTL" predict --target prod --input rows.csv --output - >pred 2>"$TMP/err" || [ "$(wc -l <pred)" -ne 31 ]; then
		why="predict --target failed on $rel: $(head -c 300 "$TMP/err")"
	elif ! "$MLCTL" --json deploy status >"$TMP/out" 2>"$TMP/err"; then
		why="deploy status failed: $(head -c 300 "$TMP/err")"
	elif [ "$(json 'd["targets"][0]["current"]')" != "$rel" ]; then
		why="deploy status says current is $(json 'd["targets"][0]["current"]'), it is $rel"
	elif [ "$(json 'd["targets"][0]["in_sync"]')" = True ] && [ "$(json 'd["targets"][0]["release"]')" != "$rel" ]; then
		why="deploy status says in sync with $(json 'd["targets"][0]["release"]'), current is $rel"
	else
		# The deployment record and the alias are written in one transaction: whatever
		# the kill interrupted, iris@prod is the version of the latest record.
		recorded=$(json 'd["targets"][0]["version"]')
		"$MLCTL" --json models show iris >"$TMP/out" 2>"$TMP/err"
		alias=$(json '[v["version"] for v in d["versions"] if "prod" in v.get("aliases", [])]')
		[ "$alias" = "[$recorded]" ] || why="the latest record is iris:$recorded, but iris@prod is $alias"
	fi
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		fail "kill $i after ${delay}s (CRASH_SEED=$SEED): $why"
		[ $bad -ge 3 ] && break
	fi
done <delays

check "$i kills ($killed mid-run): current always named a complete release the registry agreed with" test "$bad" -eq 0
check "the loop ran all $TRIES tries" test "$i" -eq "$TRIES"
check "some of the kills landed while mlctl was running" test "$killed" -gt 0

# After the storm, clean deploys leave no debris and a consistent target.
run deploy p1.mlpkg --target prod --keep 1
expect_rc "a deploy after the kills succeeds" 0
run deploy p3.mlpkg --target prod --keep 1
expect_rc "and another" 0
check "no temporary releases, links or packages are left" \
	test -z "$(find "$T" -name '.tmp-*' -o -name '.current.tmp-*' -o -name '.incoming-*')"
check "--keep 1: only current and previous remain" test "$(ls "$T/releases" | wc -l)" -le 2
for r in "$T"/releases/*; do
	check "release $(basename "$r") is complete" sh -c "cd '$r' && test -f MANIFEST.yaml -a -f model/libsvm.model -a -f model/preprocess.yaml -a -f reference/profile.yaml -a -f .package-sha256"
done
run --json deploy status prod
check "status after the storm = current, and in sync (the deploys recorded what they found)" \
	test "$(json 'd["targets"][0]["release"], d["targets"][0]["in_sync"]')" = "$(basename "$(readlink "$T/current")") True"
run deploy rollback prod
expect_rc "rollback after the storm" 0
check "it went back to iris:1" sh -c "readlink '$T/current' | grep -q '^releases/iris-1-'"
run predict --target prod --input rows.csv --output -
expect_rc "predict after the rollback" 0
