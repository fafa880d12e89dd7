#!/bin/sh
# tests/purity/check.sh [DIR] — lib/ is a library that a long-lived, many-threaded server
# embeds: outside comments and string literals, no lib/ source names stdout or stderr,
# prints (printf, fprintf, puts, perror), installs a signal handler (signal(), sigaction),
# changes the locale (setlocale) or ends the process (exit, _exit, abort). Comments are
# removed by the preprocessor (gcc -fpreprocessed), #include lines and strings are dropped,
# and `format(printf, …)` attributes are not calls.
set -u
dir=${1:-lib}
words='stdout|stderr|printf|fprintf|vprintf|vfprintf|puts|fputs|perror|signal|sigaction|setlocale|exit|_exit|abort'
fail=0
for f in "$dir"/*.c "$dir"/*.h "$dir"/include/*.h "$dir"/include/mlctl/*.h; do
	[ -e "$f" ] || continue
	hits=$(gcc -fpreprocessed -dD -E -P -x c "$f" 2>/dev/null |
		sed -e '/^#include/d' -e 's/format(printf,/format(FMT,/g' -e 's/"\([^"\\]\|\\.\)*"/""/g' |
		grep -nwE "$words")
	if [ -n "$hits" ]; then
		echo "$hits" | sed "s|^|$f: (comments removed) line |"
		fail=1
	fi
done
if [ $fail -ne 0 ]; then
	echo "purity: FAILED: lib/ prints, handles signals, sets the locale or exits (see above)"
	exit 1
fi
echo "purity: lib/ names no stdout/stderr, printf, signal handler, setlocale or exit"
