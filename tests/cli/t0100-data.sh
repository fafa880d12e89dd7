#!/bin/sh
# t0100-data.sh — versioned data on the churn data: train --store-data keeps the training
# (and --test) file itself in the store, compressed; data list|show say what is stored and
# which runs and versions read it; after the file changed and gc ran (an alias moved, a
# version deployed) data checkout writes each version's training data back byte for byte
# (cmp), by model reference or digest; refusals with their exit codes; a schema-1 registry.
. "$(dirname "$0")/lib.sh"

CHURN="$CLI_DIR/../../examples/data/mlc_churn.csv"
"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
sql() { sqlite3 -cmd ".timeout 60000" "$MLCTL_REGISTRY/registry.db" "$@"; }
obj() { echo "$MLCTL_REGISTRY/objects/$(echo "$1" | cut -c1-2)/$(echo "$1" | cut -c3-)"; }
sha() { sha256sum "$1" | cut -c1-64; }
train() { "$MLCTL" train data/churn.csv --name churn --label churn -C 1 --gamma 0.1 -q "$@"; }

mkdir data
cp "$CHURN" data/churn.csv
cp data/churn.csv v1.csv
D1=$(sha v1.csv)
run --json train data/churn.csv --name churn --label churn -C 1 --gamma 0.1 --holdout 0.2 --store-data
expect_rc "train --store-data exits 0" 0
check "train --json: data_stored" test "$(json 'd["data_stored"]')" = True
check "train --json: the data digest is sha256sum's" test "$(json 'd["data"]["digest"]')" = "$D1"
check "the data is an object named by its sha256" test -f "$(obj "$D1")"
check "the object is compressed: under two fifths of the file" \
	test "$(stat -c %s "$(obj "$D1")")" -lt "$(($(stat -c %s v1.csv) * 2 / 5))"
check "the object starts with the compressed-object marker" test "$(head -c 7 "$(obj "$D1")")" = MLCTLZ1

# A day of new rows arrives; version 2 also stores its --test file.
sed -n '2,301p' "$CHURN" >>data/churn.csv
cp data/churn.csv v2.csv
D2=$(sha v2.csv)
head -n 801 "$CHURN" >test.csv
DT=$(sha test.csv)
train --test test.csv --store-data || fail "train version 2"
# Version 3: without --store-data only the digest is recorded.
sed -n '302,501p' "$CHURN" >>data/churn.csv
D3=$(sha data/churn.csv)
train || fail "train version 3"
check "version 3's data is not stored" test ! -e "$(obj "$D3")"

run data list
expect_rc "data list exits 0" 0
expect_out "data list: header" "^DIGEST +PATH +FORMAT +ROWS +SIZE +STORED +RUNS"
expect_out "data list: version 1's data, stored, 5000 rows" "^$(echo "$D1" | cut -c1-12) .*data/churn.csv +csv +5000 +489.6 KiB +yes +1$"
expect_out "data list: version 3's data, not stored" "^$(echo "$D3" | cut -c1-12) .* 5500 +- +no +1$"
run --json data list
check "data list --json: four data sets" test "$(json 'len(d["data"])')" = 4
check "data list --json: keys" test "$(json 'sorted(d["data"][0].keys())')" = \
	"['columns', 'compressed', 'digest', 'first_seen', 'format', 'path', 'rows', 'runs', 'size', 'stored', 'stored_size']"
check "data list --json: the test file is listed, stored, its size" \
	test "$(json '[(x["stored"], x["size"]) for x in d["data"] if x["digest"] == "'"$DT"'"]')" = "[(True, $(stat -c %s test.csv))]"
check "data list --json: version 3's data has no size" \
	test "$(json '[(x["stored"], x["size"], x["stored_size"]) for x in d["data"] if x["digest"] == "'"$D3"'"]')" = "[(False, None, None)]"

run data show "$(echo "$D2" | cut -c1-8)"
expect_rc "data show PREFIX exits 0" 0
expect_out "data show: the full digest" "^digest: +$D2$"
expect_out "data show: stored, compressed" "^stored: +yes, .* \(zlib\)$"
expect_out "data show: the run that trained churn:2 on it" "^[0-9A-Z]{26} +train +data +succeeded .* churn:2$"
run --json data show "$DT"
check "data show --json: the test file's run, role test_data, model churn:2" \
	test "$(json '[(u["kind"], u["role"], u["model"], u["model_version"]) for u in d["uses"]]')" = "[('train', 'test_data', 'churn', 2)]"
run data show 0123456789abcdef0123
expect_rc "data show of an unknown digest exits 66" 66
run data show not-hex
expect_rc "data show of a non-digest exits 64" 64

# Deploy version 1, point staging at 2 and move it to 3; gc with no grace.
"$MLCTL" deploy churn:1 --target prod -q || fail "deploy churn:1"
"$MLCTL" models alias churn@staging 2 -q || fail "alias staging 2"
"$MLCTL" models alias churn@staging 3 -q || fail "alias staging 3"
run gc --grace 0
expect_rc "gc --grace 0 exits 0" 0
check "gc keeps the deployed version's data" test -f "$(obj "$D1")"
check "gc keeps the data of the version staging left (its run still records it)" test -f "$(obj "$D2")"
check "gc keeps the stored test file" test -f "$(obj "$DT")"

# The file changes again; each version's data comes back as it was.
rm data/churn.csv
run data checkout churn@prod restored-prod.csv
expect_rc "data checkout churn@prod exits 0" 0
expect_out "data checkout says what it wrote" "^wrote restored-prod.csv \(489.6 KiB, data $(echo "$D1" | cut -c1-12), verified\)$"
check "churn@prod's training data, byte for byte" cmp -s restored-prod.csv "$CHURN"
run data checkout churn:2 restored-2.csv
check "churn:2's training data, byte for byte" cmp -s restored-2.csv v2.csv
run --json data checkout "$DT" restored-test.csv
expect_rc "data checkout DIGEST --json exits 0" 0
check "data checkout --json" test "$(json '(d["digest"], d["size"])')" = "('$DT', $(stat -c %s test.csv))"
check "the --test file, byte for byte" cmp -s restored-test.csv test.csv
run data checkout "$(echo "$D1" | cut -c1-10)" restored-prefix.csv
check "by digest prefix" cmp -s restored-prefix.csv v1.csv

run data checkout churn:2 restored-prod.csv
expect_rc "data checkout onto an existing file exits 73" 73
expect_err "data checkout names --force" "restored-prod.csv exists: give --force"
check "the existing file is untouched" cmp -s restored-prod.csv v1.csv
run data checkout churn:2 restored-prod.csv --force
expect_rc "data checkout --force exits 0" 0
check "--force replaced it" cmp -s restored-prod.csv v2.csv
# A named pipe is written to, not refused as an existing file.
mkfifo pipe
cat pipe >from-pipe.csv &
reader=$!
run data checkout churn:1 pipe
wait $reader
expect_rc "data checkout into a named pipe exits 0" 0
check "through the pipe, byte for byte" cmp -s from-pipe.csv v1.csv
run data checkout churn:3 v3.csv
expect_rc "data checkout of data not stored exits 66" 66
expect_err "data checkout: only its digest was recorded" "not in the store .*--store-data"
check "nothing written" test ! -e v3.csv
run data checkout nosuch v.csv
expect_rc "data checkout of an unknown model exits 66" 66
run data checkout 0123456789 v.csv
expect_rc "data checkout of an unknown digest exits 66" 66
run data checkout churn:1
expect_rc "data checkout without a path exits 64" 64

# A damaged object: refused (74), the target path is not created.
chmod 644 "$(obj "$D2")"
printf 'XXXX' | dd of="$(obj "$D2")" bs=1 seek=50000 conv=notrunc 2>/dev/null
run data checkout churn:2 damaged.csv
expect_rc "data checkout of a damaged object exits 74" 74
check "nothing written from a damaged object" test ! -e damaged.csv

# A registry of schema 1 (before the file digest cache): a read-only command that could
# write it migrates it first (the first command after an upgrade is often a read); so
# does a write.
sql "DROP TABLE file_digests; PRAGMA user_version = 1"
run data list
expect_rc "data list on a writable schema-1 registry migrates it and exits 0" 0
check "the registry is at schema 2 after a read" test "$(sql 'PRAGMA user_version')" = 2
sql "DROP TABLE file_digests; PRAGMA user_version = 1"
cp v1.csv data/churn.csv
train || fail "train on a schema-1 registry"
check "the registry is at schema 2" test "$(sql 'PRAGMA user_version')" = 2
check "the cache table exists" test "$(sql "SELECT count(*) FROM sqlite_master WHERE name = 'file_digests'")" = 1
run data list
expect_rc "data list after the migration exits 0" 0
