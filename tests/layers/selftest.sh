#!/bin/sh
# selftest.sh — proves that tests/layers/check.sh fails when it should (`make layers` runs
# it after the check itself). Each case copies lib/ into a temporary directory, breaks the
# copy one way, and expects check.sh to exit 1 with the message that names the break; the
# untouched copy must pass. Prints failures and "layers selftest: N passed, N failed"
# (VERBOSE=1: every case).
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../../lib}
tmp=$(mktemp -d /tmp/mlctl-layers-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); [ -z "${VERBOSE:-}" ] || echo "PASS layers selftest: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL layers selftest: $1" >&2; }

# fresh: a clean copy of lib/ in $tmp/lib.
fresh() {
	rm -rf "$tmp/lib"
	cp -R "$src" "$tmp/lib"
}

# expect_fail NAME MESSAGE: check.sh on the copy exits 1 and prints MESSAGE (a fixed string).
expect_fail() {
	sh "$here/check.sh" "$tmp/lib" >"$tmp/out" 2>&1
	rc=$?
	if [ $rc -ne 1 ]; then
		ko "$1: exit $rc, expected 1: $(head -c 300 "$tmp/out")"
	elif ! grep -qF -- "$2" "$tmp/out"; then
		ko "$1: no \"$2\" in: $(head -c 300 "$tmp/out")"
	else
		ok "$1"
	fi
}

# add_include FILE HEADER: add `#include "HEADER"` after FILE's first include of a private
# header; prints the line number it lands on.
add_include() {
	n=$(grep -n '^#include "' "$tmp/lib/$1" | head -n 1 | cut -d: -f1)
	[ -n "$n" ] || { echo 0; return; }
	sed -i "${n}a #include \"$2\"" "$tmp/lib/$1"
	echo $((n + 1))
}

fresh
if sh "$here/check.sh" "$tmp/lib" >"$tmp/out" 2>&1; then ok "the untouched copy passes"; else
	ko "the untouched copy fails: $(head -c 300 "$tmp/out")"; fi

# A floor-1 file including the private header of floor 4.
fresh
line=$(add_include hash.c package_int.h)
expect_fail "floor 1 including package_int.h" "$tmp/lib/hash.c:$line: includes package_int.h (floor 4) from floor 1"

# A floor-3 file including a floor-4 module's header: the circle bundle.c had.
fresh
line=$(add_include bundle.c package_int.h)
expect_fail "bundle.c including package_int.h" "$tmp/lib/bundle.c:$line: includes package_int.h (floor 4) from floor 3"

# Two modules of one floor including each other: the circle pkgread.c and bundle.c had
# once the package reading moved down (no include climbs, but they lean on each other).
fresh
line=$(add_include pkgread.c bundle.h)
expect_fail "pkgread.c and bundle.c including each other" "layers: circle: bundle -> pkgread -> bundle ($tmp/lib/pkgread.c:$line: includes bundle.h)"

# A longer circle across floors is a climb somewhere; one within floor 2 is caught too.
fresh
line=$(add_include schema.c profile.h)
line=$(add_include profile.c registry_int.h)
line=$(add_include registry.c schema.h)
expect_fail "schema -> profile -> registry -> schema" "layers: circle:"

# A header climbing: floor 2's manifest.h including floor 3's bundle.h.
fresh
line=$(add_include manifest.h bundle.h)
expect_fail "manifest.h including bundle.h" "$tmp/lib/manifest.h:$line: includes bundle.h (floor 3) from floor 2"

# A module header mapped by name: registry_int.h is registry's (floor 2), not its own.
fresh
sed -i 's/(floor 2)/(floor 1)/' "$tmp/lib/registry_int.h"
expect_fail "registry_int.h on a floor other than registry's" "$tmp/lib/registry_int.h:1: says floor 1, but its module registry.c is on floor 2"

# A file without a floor.
fresh
sed -i 's/ (floor 1)//' "$tmp/lib/rng.c"
expect_fail "rng.c without a floor" "$tmp/lib/rng.c:1: no \"(floor N)\" in its opening comment"

# The README table out of step with the files.
fresh
sed -i 's/^| `pkgread` | 3 |/| `pkgread` | 2 |/' "$tmp/lib/README.md"
expect_fail "README.md giving pkgread floor 2" "pkgread is on floor 2 here, but pkgread.c says floor 3"
fresh
sed -i '/^| `tune` |/d' "$tmp/lib/README.md"
expect_fail "README.md without tune" "$tmp/lib/README.md: no row for module tune (floor 3)"

echo "layers selftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
