#!/bin/sh
# t0073-deploy-trust.sh — what deploy, predict --target, deploy status and package verify
# trust: validations inside an unsigned package never count for --require-validated (the
# same ones in a package whose signature verifies do); predict --target reads every file
# from the one release current named when it started, even if current is switched while
# it reads; deploy status reports a link switched behind the registry's back but writes
# nothing; package verify hashes, checks the signature of and parses the same bytes, so a
# file that changes between reads cannot pass.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
"$MLCTL" train "$DATA/iris.csv" --name iris --label species -C 1 --gamma 0.5 -q || fail "train iris"
"$MLCTL" train "$DATA/heart_scale" --name heart --scale none -q || fail "train heart"
"$MLCTL" package iris:1 -o iris.mlpkg -q || fail "package iris:1"
"$MLCTL" package heart:1 -o heart.mlpkg -q || fail "package heart:1"
"$MLCTL" keygen -q || fail "keygen"
minisign -G -W -p ms.pub -s ms.key >/dev/null 2>&1 || fail "minisign -G"
retar() { (cd "$1" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -czf "$2" MANIFEST.yaml model reference); }
cur() { readlink "$1/current"; }

# ---- --require-validated: an unsigned package cannot vouch for itself ----
# iris:1 was never validated anywhere; its manifest says "validations: []". A forger
# writes a passing validation into it and re-tars it: every digest still matches.
rm -rf f && mkdir f && tar xzf iris.mlpkg -C f
check "test set-up: the package lists no validation" grep -qx 'validations: \[\]' f/MANIFEST.yaml
$PY - f/MANIFEST.yaml <<'EOF'
import sys
p = sys.argv[1]; text = open(p).read()
forged = ('validations:\n- run: 01JFORGEDFORGEDFORGEDFORGED\n  verdict: pass\n'
          '  metrics:\n    accuracy: 1\n')
open(p, 'w').write(text.replace('validations: []\n', forged))
EOF
retar f "$TMP/forged.mlpkg"
run package verify forged.mlpkg
expect_rc "test set-up: the forged package is well formed (verify exits 0)" 0
run package inspect forged.mlpkg
expect_out "test set-up: it claims a passing validation" "verdict: pass"
FRESH=$TMP/fresh
mkdir "$FRESH" && "$MLCTL" init "$FRESH" -q
run --registry "$FRESH/.mlctl" deploy forged.mlpkg --target edge --require-validated
expect_rc "an unsigned package with a forged passing validation is refused (exit 1)" 1
expect_err "it says the package's validations are not trusted because it is unsigned" \
	"iris:1: the package's validations are not trusted: it is unsigned or its signature was not verified \(deploy it with --pubkey KEY\)"
check "nothing was released to edge: the target was not even created" test ! -e "$FRESH/.mlctl/targets/edge"
run --registry "$FRESH/.mlctl" --json models list
check "and the registry did not learn its version" test "$(json 'd["models"]')" = "[]"
run deploy forged.mlpkg --target home --require-validated
expect_rc "the forged package is refused in the registry that made iris:1 too" 1
minisign -S -s ms.key -m forged.mlpkg -t "forged" >/dev/null 2>&1
run --registry "$FRESH/.mlctl" deploy forged.mlpkg --target edge --require-validated
expect_rc "a signature next to it that nobody checked changes nothing (exit 1)" 1

# The same validations, signed by the holder of the key and deployed with --pubkey: the
# signer vouches for them.
run --registry "$FRESH/.mlctl" deploy forged.mlpkg --target edge --require-validated --pubkey ms.pub
expect_rc "the same validations in a package signed with the key, deployed with --pubkey: accepted" 0
check "edge serves iris:1" sh -c "readlink '$FRESH/.mlctl/targets/edge/current' | grep -q '^releases/iris-1-'"

# Forged after signing: the signature no longer matches.
cp -p iris.mlpkg signed.mlpkg
minisign -S -s ms.key -m signed.mlpkg -t "iris:1" >/dev/null 2>&1
retar f "$TMP/signed.mlpkg"
run --registry "$FRESH/.mlctl" deploy signed.mlpkg --target edge2 --require-validated --pubkey ms.pub
expect_rc "validations forged after signing: the signature fails (exit 1)" 1
expect_err "it says the signature does not match" "signed.mlpkg.minisig: signature verification failed"

# ---- a version that does not fit the registry's int ----
# The manifest's version is 64-bit; 4294967293 once registered as iris:-3. Every digest
# still matches: the package is refused for the version alone, and creates nothing.
rm -rf v && mkdir v && tar xzf iris.mlpkg -C v
sed -i 's/^version: 1$/version: 4294967293/' v/MANIFEST.yaml
check "test set-up: the manifest says version 4294967293" grep -qx 'version: 4294967293' v/MANIFEST.yaml
retar v "$TMP/bigver.mlpkg"
run --registry "$FRESH/.mlctl" deploy bigver.mlpkg --target big
expect_rc "a package of version 4294967293 is refused (exit 65)" 65
expect_err "it names the package, the field and the value" \
	"bigver.mlpkg: MANIFEST.yaml: version 4294967293 is larger than the largest model version \(2147483647\)"
check "it created no target" test ! -e "$FRESH/.mlctl/targets/big"
check "and registered no version but iris:1" \
	test "$(sqlite3 "$FRESH/.mlctl/registry.db" "select group_concat(name || ':' || version) from model_versions")" = "iris:1"
run package verify bigver.mlpkg
expect_rc "package verify refuses it too (exit 65)" 65

# A validation recorded in the registry still counts, signed or not.
"$MLCTL" validate iris:1 --data "$DATA/iris.csv" --gate 'accuracy>=0.9' -q || fail "validate iris:1"
run deploy iris.mlpkg --target home --require-validated
expect_rc "an unsigned package of a version validated in this registry deploys" 0
run deploy iris:1 --target home2 --require-validated
expect_rc "and so does the registry version itself" 0

# ---- predict --target reads one release, whatever current does meanwhile ----
# Release A (iris:1) gets a FIFO for its preprocess.yaml. Opening it for reading blocks
# until the writer below opens it; the writer then switches current to release B (heart:1)
# and only then hands over A's preprocess.yaml. Reading the rest through "current" would
# now read B's profile, which A's manifest does not list: the bundle must come from A.
"$MLCTL" deploy iris.mlpkg --target race -q || fail "deploy iris to race"
"$MLCTL" deploy heart.mlpkg --target race -q || fail "deploy heart to race"
R=$TMP/.mlctl/targets/race
B=$(cur "$R")
"$MLCTL" deploy rollback race -q || fail "rollback race"
A=$(cur "$R")
check "test set-up: two different releases" test "$A" != "$B" -a -n "$A"
cp "$R/$A/model/preprocess.yaml" pre.yaml
rm "$R/$A/model/preprocess.yaml" && mkfifo "$R/$A/model/preprocess.yaml"
(exec 3>"$R/$A/model/preprocess.yaml"; ln -s "$B" "$R/current.new" && mv -T "$R/current.new" "$R/current"; cat pre.yaml >&3) &
writer=$!
timeout 30 "$MLCTL" predict --target race --input "$DATA/iris.csv" --output race.csv >"$TMP/out" 2>"$TMP/err"
rc=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
expect_rc "current switched between two reads of predict --target: it still succeeds" 0
check "current did switch to the other release meanwhile" test "$(cur "$R")" = "$B"
"$MLCTL" predict iris:1 --input "$DATA/iris.csv" --output direct.csv -q
check "it scored with release A, the one current named when it started" cmp -s race.csv direct.csv
rm "$R/$A/model/preprocess.yaml" && cp pre.yaml "$R/$A/model/preprocess.yaml"

# ---- deploy status reads, it never writes ----
# A link switched behind the registry's back (as a deploy killed between the switch and
# its record leaves it): status reports both sides and records nothing.
S=$TMP/.mlctl/targets/home
"$MLCTL" deploy heart.mlpkg --target home -q || fail "deploy heart to home"
"$MLCTL" deploy iris.mlpkg --target home -q || fail "deploy iris to home"
H=$(cur "$S")
"$MLCTL" deploy rollback home -q || fail "rollback home"
G=$(cur "$S")
ln -s "$H" "$S/current.new" && mv -T "$S/current.new" "$S/current"
rows() { sqlite3 "$TMP/.mlctl/registry.db" "select count(*) from deployments; select count(*) from alias_history; select count(*) from runs"; }
rows >before
sum_before=$(sqlite3 "$TMP/.mlctl/registry.db" .dump | sha256sum)
run --json deploy status home
expect_rc "status of a target whose link moved behind the registry's back exits 0" 0
check "status --json: release is the registry's record, current is the link" \
	test "$(json 'd["targets"][0]["release"], d["targets"][0]["current"], d["targets"][0]["in_sync"]')" = "${G#releases/} ${H#releases/} False"
expect_err "status warns that they differ" "target home: current -> $H, but the registry's latest record is ${G#releases/}"
run deploy status
expect_rc "status of every target exits 0" 0
expect_err "status of every target warns too" "target home: current -> $H"
run deploy history home
rows >after
check "status wrote nothing: deployments, alias moves and runs counted before and after" cmp -s before after
check "status wrote nothing: the registry's dump is unchanged" test "$(sqlite3 "$TMP/.mlctl/registry.db" .dump | sha256sum)" = "$sum_before"
run --json deploy status home2
check "status --json of a target in sync: in_sync" test "$(json 'd["targets"][0]["current"] == d["targets"][0]["release"], d["targets"][0]["in_sync"]')" = "True True"
# The next deploy records the switch it finds, under the target lock.
run deploy iris.mlpkg --target home
expect_rc "the next deploy of the target goes on" 0
run deploy history home
expect_out "it recorded the switch it found first (reconcile)" "^[-0-9: ]+ +reconcile +iris:1 +${H#releases/} "
run --json deploy status home
check "and status is in sync again" test "$(json 'd["targets"][0]["in_sync"]')" = True

# ---- package verify reads the file once ----
# A FIFO as the package: each open gets the next file from the writer. The first read
# gets a forged package (validations edited), a second would get the genuine signed one,
# a third the forged one again. Checking the signature on one read and parsing another
# would pass the forged package as signed; read once, the signature fails.
cp -p iris.mlpkg good.mlpkg
minisign -S -s ms.key -m good.mlpkg -t "iris:1" >/dev/null 2>&1
mkfifo swap.mlpkg
cp good.mlpkg.minisig swap.mlpkg.minisig
# feed FILE...: in the background, hand each FILE to the next open of the FIFO.
feed() {
	$PY -c '
import sys
for f in sys.argv[2:]:
    with open(sys.argv[1], "wb") as o:
        o.write(open(f, "rb").read())' swap.mlpkg "$@" 2>/dev/null &
	writer=$!
}
feed forged.mlpkg good.mlpkg forged.mlpkg
timeout 20 "$MLCTL" package verify swap.mlpkg --pubkey ms.pub >"$TMP/out" 2>"$TMP/err"
rc=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
expect_rc "a package that changes between reads does not verify (exit 1)" 1
expect_err "the signature fails on the bytes that were read" "swap.mlpkg.minisig: signature verification failed"
feed good.mlpkg
timeout 20 "$MLCTL" package verify swap.mlpkg --pubkey ms.pub >"$TMP/out" 2>"$TMP/err"
rc=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
expect_rc "the genuine package through the same FIFO verifies: one read is enough" 0
expect_out "it says the signature is good" "signature good"
# The writer hands over one copy: a second open would wait for ever (timeout: 124).
feed good.mlpkg
timeout 20 "$MLCTL" --registry "$FRESH/.mlctl" predict swap.mlpkg --input "$DATA/iris.csv" --output swap.csv >"$TMP/out" 2>"$TMP/err"
rc=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
expect_rc "predict from a package file reads it once too" 0
check "and predicts what iris:1 predicts" cmp -s swap.csv direct.csv
