#!/bin/sh
# check.sh [LIBDIR] — the floors of lib/ (lib/README.md), checked: `make layers` runs it.
#
# Every LIBDIR/*.c and LIBDIR/*.h says its floor as "(floor N)" in its opening comment.
# A header belongs to a module: X.h to X.c, registry_int.h to registry, package_int.h to
# package, svkern_body.h to svkern; a header with no module of its own (banned.h) stands
# on the floor it says. A header must say its module's floor. Then, for every
# `#include "X.h"` of a private header (one in LIBDIR; "mlctl/..." are the public API and
# open to all), floor(X's module) must be <= floor(the including file); otherwise
#
#	FILE:LINE: includes X.h (floor M) from floor N
#
# No circle of modules either, on one floor or across floors: when module A includes a
# header of module B, nothing B includes (directly or through others) may lead back to A;
# otherwise
#
#	layers: circle: A -> B -> ... -> A (FILE:LINE: includes X.h, ...)
#
# And LIBDIR/README.md's floor table has one row per module, "| `module` | N | ... |",
# with the floor the module's .c says. Exit status 1 when anything is wrong.
set -u
dir=${1:-lib}
[ -d "$dir" ] || { echo "layers: $dir is not a directory" >&2; exit 2; }
set -- "$dir"/*.c "$dir"/*.h
[ -e "$1" ] || { echo "layers: no .c or .h files in $dir" >&2; exit 2; }
readme="$dir/README.md"
[ -f "$readme" ] || readme=/dev/null

awk -v dir="$dir" -v readme="$readme" '
function base(path) { sub(/.*\//, "", path); return path }
# The module a file belongs to (a key into floor_c[]), or "" for a header of its own.
function module_of(name,    m) {
	m = name
	sub(/\.[ch]$/, "", m)
	if (m == "registry_int") m = "registry"
	else if (m == "package_int") m = "package"
	else if (m == "svkern_body") m = "svkern"
	return (m in floor_c) ? m : ""
}
# The floor an include of name climbs to: its module'"'"'s, else its own.
function floor_of(name,    m) {
	m = module_of(name)
	return m != "" ? floor_c[m] : floor[name]
}
FNR == 1 {
	name = base(FILENAME)
	is_readme = (FILENAME == readme)
	in_head = !is_readme
	if (!is_readme)
		files[++nfiles] = name
}
is_readme {
	# | `module` | N | purpose |
	if ($0 ~ /^\|[ \t]*`[A-Za-z0-9_]+`[ \t]*\|[ \t]*[0-9]+[ \t]*\|/) {
		row = $0
		sub(/^\|[ \t]*`/, "", row)
		m = row
		sub(/`.*/, "", m)
		sub(/^[A-Za-z0-9_]+`[ \t]*\|[ \t]*/, "", row)
		sub(/[^0-9].*/, "", row)
		if (m in table)
			err(readme ":" FNR ": module " m " has two rows")
		table[m] = row + 0
		table_line[m] = FNR
	}
	next
}
in_head {
	if (!(name in floor) && match($0, /\(floor [0-9]+\)/))
		floor[name] = substr($0, RSTART + 7, RLENGTH - 8) + 0
	if ($0 ~ /\*\//)
		in_head = 0
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
	inc = $0
	sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", inc)
	sub(/".*/, "", inc)
	ninc++
	inc_file[ninc] = name
	inc_path[ninc] = FILENAME
	inc_line[ninc] = FNR
	inc_name[ninc] = inc
}
function err(msg) { print msg; bad++ }
# Depth-first search for a circle through module m; path holds the modules on the way.
function visit(m, path,    k, n, t) {
	state[m] = 1
	n = split(adj[m], t, " ")
	for (k = 1; k <= n; k++) {
		if (t[k] == "")
			continue
		if ((t[k] in state) && state[t[k]] == 1 && !circle_found) {
			circle_found = 1
			err("layers: circle: " substr(path, index(path, " " t[k] " ") + 1) " " t[k] \
			    " (" edge_at[m SUBSEP t[k]] ")")
		} else if (!(t[k] in state)) {
			visit(t[k], path " " t[k] " ->")
		}
	}
	state[m] = 2
}
END {
	for (i = 1; i <= nfiles; i++) {
		f = files[i]
		if (f ~ /\.c$/ && (f in floor)) {
			m = f
			sub(/\.c$/, "", m)
			floor_c[m] = floor[f]
		}
	}
	for (i = 1; i <= nfiles; i++) {
		f = files[i]
		if (!(f in floor)) {
			err(dir "/" f ":1: no \"(floor N)\" in its opening comment")
			continue
		}
		if (f ~ /\.h$/ && (m = module_of(f)) != "" && floor[f] != floor_c[m])
			err(dir "/" f ":1: says floor " floor[f] ", but its module " m ".c is on floor " floor_c[m])
	}
	for (i = 1; i <= ninc; i++) {
		x = inc_name[i]
		if (x ~ /\// || !(x in floor))
			continue        # a public, system or missing header: not a floor of lib/
		f = inc_file[i]
		if (!(f in floor))
			continue        # reported above
		checked++
		if (floor_of(x) > floor[f])
			err(inc_path[i] ":" inc_line[i] ": includes " x " (floor " floor_of(x) ") from floor " floor[f])
	}
	# the module graph of private includes, and a search for a circle in it
	for (i = 1; i <= ninc; i++) {
		x = inc_name[i]
		if (x ~ /\// || !(x in floor))
			continue
		a = module_of(inc_file[i])
		b = module_of(x)
		if (a == "" || b == "" || a == b || ((a, b) in edge_at))
			continue
		edge_at[a, b] = inc_path[i] ":" inc_line[i] ": includes " x
		adj[a] = adj[a] " " b
	}
	for (m in floor_c)
		if (!(m in state) && !circle_found)
			visit(m, " " m " ->")
	if (readme != "/dev/null") {
		for (m in floor_c) {
			if (!(m in table))
				err(readme ": no row for module " m " (floor " floor_c[m] ")")
			else if (table[m] != floor_c[m])
				err(readme ":" table_line[m] ": " m " is on floor " table[m] " here, but " m ".c says floor " floor_c[m])
		}
		for (m in table)
			if (!(m in floor_c))
				err(readme ":" table_line[m] ": module " m " has no " m ".c")
	}
	if (bad) {
		print "layers: " bad " problem(s)"
		exit 1
	}
	printf "layers: %d files, %d includes of private headers, none climbs a floor, no circle\n", nfiles, checked
}
' "$@" "$readme"
