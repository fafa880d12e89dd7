#!/bin/sh
# t0006-man.sh — every command has a manual page whose SYNOPSIS says what its --help
# says (style: usage text that matches the man page), and the pages lint clean.
. "$(dirname "$0")/lib.sh"

man_dir=$(cd "$(dirname "$0")/../../man" && pwd)
if ! command -v mandoc >/dev/null; then
	pass "mandoc not installed: manual pages not checked"
	exit 0
fi
bs=$(printf '\b')

# synopsis PAGE: the SYNOPSIS of PAGE, one line per synopsis entry, spaces collapsed.
synopsis() {
	mandoc -T ascii -O width=1000 "$1" | sed "s/.$bs//g" |
		sed -n '/^SYNOPSIS/,/^[A-Z]/p' | sed '1d;$d' | sed 's/^ *//; s/  */ /g'
}

"$MLCTL" --help >"$TMP/help"
commands=$(sed -n '/^commands:/,/^$/p' "$TMP/help" | awk 'NF > 1 { print $1 }')
"$MLCTL" --list-forms >"$TMP/forms"
check "mlctl --list-forms lists the subcommand forms" grep -qx "runs list" "$TMP/forms"
check "mlctl(1) exists" test -f "$man_dir/mlctl.1"
synopsis "$man_dir/mlctl.1" >"$TMP/syn"
check "mlctl(1) SYNOPSIS matches mlctl --help" \
	grep -qxF "$(sed -n 's/^usage: //p' "$TMP/help" | head -1)" "$TMP/syn"
for c in $commands; do

	page="$man_dir/mlctl-$c.1"
	if [ ! -f "$page" ]; then
		fail "command $c has no manual page man/mlctl-$c.1"
		continue
	fi
	synopsis "$page" >"$TMP/syn"
	# A command with subcommands (runs list|show|compare) has one usage per subcommand.
	usage_of() { "$MLCTL" "$@" --help 2>&1 | sed -n 's/^usage: //p'; }
	# The forms come from the dispatch tables (mlctl --list-forms): "." is the command's
	# own form beside its subcommands ("deploy MODEL ..."); a command without subcommands
	# has only that one.
	forms=$(awk -v c="$c" '$1 == c { print (NF > 1 ? $2 : ".") }' "$TMP/forms" | tr '\n' ' ')
	[ "$forms" = ". " ] && forms=""
	if [ -z "$forms" ]; then
		u=$(usage_of "$c")
		check "mlctl-$c(1) SYNOPSIS is '$u'" grep -qxF "$u" "$TMP/syn"
	else
		for f in $forms; do
			# "." is the command's own form, without a subcommand.
			if [ "$f" = . ]; then u=$(usage_of "$c"); else u=$(usage_of "$c" "$f"); fi
			check "mlctl-$c(1) SYNOPSIS has '$u'" grep -qxF "$u" "$TMP/syn"
		done
	fi
	check "mlctl-$c(1) is named in mlctl(1)" grep -q "mlctl-$c" "$man_dir/mlctl.1"
done
check "mandoc -T lint -W warning is clean" mandoc -T lint -W warning "$man_dir"/*.[0-9]

# mlctl(1) documents every exit status the program uses, as DESIGN.md lists them.
mandoc -T ascii "$man_dir/mlctl.1" | sed "s/.$bs//g" | sed -n '/^EXIT STATUS/,/^[A-Z]/p' >"$TMP/exit"
for code in 0 1 64 65 66 69 70 73 74 75 78; do
	check "mlctl(1) documents exit status $code" grep -Eq "^ +$code " "$TMP/exit"
done
