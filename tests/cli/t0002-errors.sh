#!/bin/sh
# t0002-errors.sh — usage errors suggest the nearest command or option and exit 64; a
# missing registry exits 66 naming `mlctl init`; a damaged one 74; a newer one 78; and
# --help works on every command, with or without a registry.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null
run rnus
expect_rc "unknown command exits 64" 64
expect_err "unknown command suggests the nearest" "did you mean 'runs'"
run xyzzy
expect_rc "far-off command exits 64" 64
expect_err "far-off command points at --help" "mlctl --help"
run runs list --limt 3
expect_rc "unknown option exits 64" 64
expect_err "unknown option suggests the nearest" "did you mean --limit"
expect_err "unknown option prints the usage" "usage: mlctl runs list"
run --bogus runs
expect_rc "unknown global option exits 64" 64
run models lsit
expect_rc "unknown subcommand exits 64" 64
expect_err "unknown subcommand suggests the nearest" "did you mean 'models list'"
run
expect_rc "no command exits 64" 64
expect_err "no command prints the usage" "usage: mlctl"
run runs list --limit
expect_rc "option without its value exits 64" 64
run runs list --limit many
expect_rc "non-numeric option value exits 64" 64
expect_err "bad value is named" "many"

# No registry anywhere: 66, and the message says how to make one.
rm -rf "$TMP/.mlctl"
mkdir "$TMP/empty"
cd "$TMP/empty" || exit 1
unset MLCTL_REGISTRY
run runs list
expect_rc "no registry exits 66" 66
expect_err "no registry names mlctl init" "mlctl init"
run --registry "$TMP/nowhere" models list
expect_rc "--registry to nothing exits 66" 66
expect_err "--registry to nothing names mlctl init" "mlctl init"

# --help on every command the binary lists, even without a registry.
"$MLCTL" --help >"$TMP/help" 2>&1
commands=$(sed -n '/^commands:/,/^$/p' "$TMP/help" | awk 'NF > 1 { print $1 }')
check "mlctl --help lists commands" test -n "$commands"
for c in $commands runs\ list runs\ show runs\ compare models\ list models\ show models\ alias; do
	# shellcheck disable=SC2086
	run $c --help
	expect_rc "$c --help exits 0" 0
	first=${c%% *}
	expect_out "$c --help prints its usage" "^usage: mlctl $first"
	# shellcheck disable=SC2086
	run $c -h
	expect_rc "$c -h exits 0" 0
done
run help runs
expect_rc "help COMMAND exits 0" 0
expect_out "help COMMAND prints the usage" "^usage: mlctl runs"
run help nosuch
expect_rc "help of an unknown command exits 64" 64

run --version
expect_rc "--version exits 0" 0
expect_out "--version prints the version" "^mlctl [0-9]+\.[0-9]+\.[0-9]+"
run --json version
check "version --json has version, libsvm, registry_schema" \
	test "$(json 'sorted(d.keys())')" = "['libsvm', 'registry_schema', 'version']"
if [ -w /dev/full ]; then
	"$MLCTL" --version >/dev/full 2>"$TMP/err"
	rc=$?
	expect_rc "a full stdout is an I/O error" 74
fi

# A file that is not SQLite: 74.
export MLCTL_REGISTRY="$TMP/garbage"
mkdir -p "$MLCTL_REGISTRY"
head -c 8192 /dev/urandom >"$MLCTL_REGISTRY/registry.db"
run runs list
expect_rc "garbage registry.db exits 74" 74
expect_err "garbage registry.db is named" "registry.db"

# A truncated registry: 74, not a crash.
export MLCTL_REGISTRY="$TMP/truncated"
"$MLCTL" --registry "$MLCTL_REGISTRY" init >/dev/null
i=0
while [ $i -lt 300 ]; do
	echo "INSERT INTO params VALUES ('r$i', 'k', printf('%.*c', 300, 'v'));"
	i=$((i + 1))
done | sqlite3 "$MLCTL_REGISTRY/registry.db"
size=$(wc -c <"$MLCTL_REGISTRY/registry.db")
truncate -s $((size / 2)) "$MLCTL_REGISTRY/registry.db"
run runs list
expect_rc "truncated registry.db exits 74" 74
expect_err "truncated registry.db is called damaged" "damaged"

# Written by a newer mlctl: 78.
export MLCTL_REGISTRY="$TMP/newer"
"$MLCTL" --registry "$MLCTL_REGISTRY" init >/dev/null
sqlite3 "$MLCTL_REGISTRY/registry.db" "PRAGMA user_version = 99"
run runs list
expect_rc "newer schema exits 78" 78
expect_err "newer schema says newer" "newer"
run models list
expect_rc "newer schema refused by every command" 78
