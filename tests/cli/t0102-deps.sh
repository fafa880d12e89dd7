#!/bin/sh
# t0102-deps.sh — `make deps` (scripts/deps.sh) is quiet: one line per step, apt-get's and
# dpkg's output in a log whose path it prints, and on failure the log's last lines, its
# path and exit 1. apt-get, dpkg-query and id are stand-ins on PATH: nothing is installed.
. "$(dirname "$0")/lib.sh"

deps="$CLI_DIR/../../scripts/deps.sh"
mkdir -p fake
# dpkg-query: the packages named in $TMP/installed are installed.
cat >fake/dpkg-query <<'SH'
#!/bin/sh
for a; do p=$a; done
grep -qx "$p" "$TMP/installed" && echo "install ok installed"
exit 0
SH
# apt-get: chatty, as apt and dpkg are; "install" fails when $TMP/break exists.
cat >fake/apt-get <<'SH'
#!/bin/sh
i=0; while [ $i -lt 50 ]; do echo "Get:$i http://deb.debian.org/debian bookworm InRelease"; i=$((i + 1)); done
echo "Setting up something (1.0) ..."
case " $* " in *" install "*)
	if [ -e "$TMP/break" ]; then echo "E: Unable to locate package $(echo "$*" | awk '{ print $NF }')" >&2; exit 100; fi ;;
esac
exit 0
SH
printf '#!/bin/sh\necho 0\n' >fake/id
chmod +x fake/*
export TMP
printf 'make\ngcc\n' >"$TMP/installed"
P="$TMP/fake:$PATH"

PATH=$P sh "$deps" "$TMP/b/deps.log" make gcc >out 2>err
rc=$?
check "all present: exit 0" test "$rc" = 0
check "all present: one line" test "$(cat out)" = "deps: all present"
check "all present: no log" test ! -e "$TMP/b/deps.log"

PATH=$P sh "$deps" "$TMP/b/deps.log" make cowsay sl >out 2>err
rc=$?
check "install: exit 0" test "$rc" = 0
check "install: four lines on stdout" test "$(wc -l <out)" = 4
check "install: names the log" grep -qx "deps: the package manager's output goes to $TMP/b/deps.log" out
check "install: a line for the update" grep -qx "deps: updating package lists" out
check "install: names the missing packages" grep -qx "deps: installing 2 packages: cowsay sl" out
check "install: nothing on stderr" test ! -s err
check "install: apt's output is in the log" test "$(grep -c '^Get:' "$TMP/b/deps.log")" = 100

touch "$TMP/break"
PATH=$P sh "$deps" "$TMP/b/deps.log" cowsay >out 2>err
rc=$?
check "failure: exit 1" test "$rc" = 1
check "failure: says what failed" grep -q "^deps: apt-get install failed; the last lines of $TMP/b/deps.log:" err
check "failure: shows apt's error" grep -q "E: Unable to locate package cowsay" err
check "failure: only the last lines" test "$(grep -c 'Get:' err)" -lt 30
check "failure: names the log again" grep -qx "deps: the whole output is in $TMP/b/deps.log" err

# A log that cannot be written goes to /tmp instead.
PATH=$P sh "$deps" /proc/no/deps.log cowsay >out 2>err
check "unwritable log: a temp log is named" grep -Eq "^deps: the package manager's output goes to /tmp/mlctl-deps\..*\.log$" out
rm -f "$(sed -n "s/^deps: the package manager's output goes to //p" out)"
