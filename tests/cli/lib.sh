# lib.sh — helpers for end-to-end tests (sourced by tests/cli/t*.sh).
#
# Each test script gets a fresh temporary directory $TMP (removed at exit) with a registry
# in $TMP/.mlctl, and runs the real binary $MLCTL. Checks print "PASS name" or
# "FAIL name: why" and append the line to $RESULTS.
set -u
TEST_NAME=$(basename "$0")
TMP=$(mktemp -d /tmp/mlctl-cli-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
DATA="${SHARED_DATA}"
export MLCTL_REGISTRY="$TMP/.mlctl"
export NO_COLOR=1
cd "$TMP" || exit 1

_report() {
	echo "$1" | tee -a "${RESULTS:-/dev/null}" >/dev/null
	case "$1" in FAIL*) echo "$1" >&2 ;; esac
}
pass() { _report "PASS $TEST_NAME: $1"; }
fail() { _report "FAIL $TEST_NAME: $1"; }

# run CMD...: run mlctl, capturing stdout in $TMP/out, stderr in $TMP/err, status in $rc.
run() {
	"$MLCTL" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# expect_rc NAME CODE: the last run exited CODE.
expect_rc() {
	if [ "$rc" -eq "$2" ]; then pass "$1"; else
		fail "$1: exit $rc, expected $2; stderr: $(head -c 400 "$TMP/err")"; fi
}

# expect_out NAME PATTERN / expect_err NAME PATTERN: grep -E in stdout / stderr.
expect_out() {
	if grep -Eq -- "$2" "$TMP/out"; then pass "$1"; else
		fail "$1: stdout lacks /$2/: $(head -c 400 "$TMP/out")"; fi
}
expect_err() {
	if grep -Eq -- "$2" "$TMP/err"; then pass "$1"; else
		fail "$1: stderr lacks /$2/: $(head -c 400 "$TMP/err")"; fi
}

# check NAME CONDITION...: run a shell test.
check() {
	name=$1; shift
	if "$@"; then pass "$name"; else fail "$name: '$*' is false"; fi
}

# json EXPR: evaluate a Python expression over the JSON on stdout (d), print the result.
json() {
	/usr/bin/python3 -c "import json,sys; d=json.load(open('$TMP/out')); print($1)"
}
