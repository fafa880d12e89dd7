#!/bin/sh
# deps.sh — install the Debian packages the build and the tests need (`make deps`), quietly:
# one line per step on the terminal, apt-get's and dpkg's own output in a log file whose
# path is printed; on failure the log's last lines and its path, and exit 1.
#
#   sh scripts/deps.sh LOGFILE PACKAGE...
#
# With every package installed already it prints "deps: all present" and touches nothing.
set -u
log=$1
shift

missing=
n=0
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
		n=$((n + 1))
	fi
done
if [ -z "$missing" ]; then
	echo "deps: all present"
	exit 0
fi

# The log: where asked, else a temp file (a fresh clone may not be able to write there).
if ! { mkdir -p "$(dirname "$log")" && : >"$log"; } 2>/dev/null; then
	log=$(mktemp /tmp/mlctl-deps.XXXXXX.log) || { echo "deps: cannot create a log file" >&2; exit 1; }
fi
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi

# fail WHAT: say what failed, show the end of the log, exit 1.
fail() {
	echo "deps: $1 failed; the last lines of $log:" >&2
	tail -n 25 "$log" | sed 's/^/  | /' >&2
	echo "deps: the whole output is in $log" >&2
	exit 1
}

echo "deps: the package manager's output goes to $log"
echo "deps: updating package lists"
$SUDO apt-get update >>"$log" 2>&1 </dev/null || fail "apt-get update"
echo "deps: installing $n package$([ "$n" = 1 ] || echo s):$missing"
# shellcheck disable=SC2086 # the list is meant to split
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	-o Dpkg::Use-Pty=0 -o APT::Color=0 $missing >>"$log" 2>&1 </dev/null || fail "apt-get install"
echo "deps: installed $n package$([ "$n" = 1 ] || echo s)"
