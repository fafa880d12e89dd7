# lib.sh — helpers for end-to-end tests (sourced by tests/cli/t*.sh).
#
# Each test script gets a fresh temporary directory $TMP (removed at exit) with a registry
# in $TMP/.mlctl, and runs the real binary $MLCTL. Checks print "PASS name" or
# "FAIL name: why" and append the line to $RESULTS.
set -u
TEST_NAME=$(basename "$0")
TMP=$(mktemp -d /tmp/mlctl-cli-XXXXXX)
trap '_serve_cleanup; rm -rf "$TMP"' EXIT
CLI_DIR=$(cd "$(dirname "$0")" && pwd)
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

# ---- mlctl serve ----
# serve_start ARGS...: start `mlctl serve ARGS --port 0 --port-file F` in the background,
# stderr in $TMP/serve.err (stdout in $TMP/serve.out), and wait until it writes its port
# (up to 30 s). Sets SERVE_PID and SERVE_PORT; 0, or 1 (and a FAIL) when it exited or never
# wrote the port. Every server started is killed when the test exits.
SERVE_PID= SERVE_PORT=
serve_start() {
	rm -f "$TMP/serve.port"
	"$MLCTL" serve "$@" --port 0 --port-file "$TMP/serve.port" >"$TMP/serve.out" 2>"$TMP/serve.err" &
	SERVE_PID=$!
	echo "$SERVE_PID" >>"$TMP/.serve-pids"
	SERVE_PORT=
	i=0
	while [ $i -lt 300 ]; do
		if grep -Eq '^[0-9]+$' "$TMP/serve.port" 2>/dev/null; then
			SERVE_PORT=$(cat "$TMP/serve.port")
			return 0
		fi
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	fail "serve $*: no port file (stderr: $(head -c 400 "$TMP/serve.err"))"
	kill "$SERVE_PID" 2>/dev/null
	return 1
}

# serve_stop [SIGNAL]: send SIGNAL (TERM) to the server and wait for it; its exit status
# in $serve_rc. A server still running 20 s later is killed (serve_rc 137 or so).
serve_stop() {
	[ -n "$SERVE_PID" ] || { serve_rc=255; return; }
	kill -"${1:-TERM}" "$SERVE_PID" 2>/dev/null
	i=0
	while kill -0 "$SERVE_PID" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$SERVE_PID" 2>/dev/null && kill -KILL "$SERVE_PID"
	wait "$SERVE_PID"
	serve_rc=$?
	grep -vx "$SERVE_PID" "$TMP/.serve-pids" >"$TMP/.serve-pids.new"
	mv "$TMP/.serve-pids.new" "$TMP/.serve-pids"
	SERVE_PID=
}

# wait_for FILE PATTERN [TENTHS]: wait until grep -E PATTERN matches in FILE (default 10 s).
wait_for() {
	i=0
	while [ $i -lt "${3:-100}" ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# pycheck SCRIPT ARGS...: run a Python check script (/usr/bin/python3, with tests/cli on its
# path for servelib.py); each line it prints "PASS name" or "FAIL name: why" is reported.
# A script that exits non-zero (a traceback: it stopped before its last check) is a FAIL too.
pycheck() {
	PYTHONPATH="$CLI_DIR" /usr/bin/python3 "$@" >"$TMP/py.out" 2>"$TMP/py.err"
	pyrc=$?
	nfail=0
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) pass "${line#PASS }" ;;
		"FAIL "*) fail "${line#FAIL }"; nfail=$((nfail + 1)) ;;
		esac
	done <"$TMP/py.out"
	if [ $pyrc -ne 0 ]; then
		fail "python check script ($nfail FAIL lines) exited $pyrc: $(tail -c 600 "$TMP/py.err")"
	fi
}
_serve_cleanup() {
	[ -f "$TMP/.serve-pids" ] || return 0
	while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$TMP/.serve-pids"
}
