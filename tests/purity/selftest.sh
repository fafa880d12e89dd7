#!/bin/sh
# tests/purity/selftest.sh — check.sh must fail on a copy of lib/ with a printing call, a
# signal handler and a setlocale() injected (one at a time), and pass on the plain copy.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
cp -r "$root/lib" "$tmp/lib"
if ! sh "$here/check.sh" "$tmp/lib" >/dev/null; then
	echo "purity self-test: FAILED: the untouched copy of lib/ does not pass"
	fail=1
fi
for inject in 'static void injected(void) { fprintf(stderr, "x\n"); }' \
	'static void injected(int s) { signal(s, SIG_DFL); }' \
	'static void injected(void) { setlocale(LC_ALL, "C"); }' \
	'static void injected(void) { exit(1); }'; do
	cp "$root/lib/rng.c" "$tmp/lib/rng.c"
	printf '%s\n/* a comment naming printf, stdout and signal() is fine */\n' "$inject" >>"$tmp/lib/rng.c"
	if sh "$here/check.sh" "$tmp/lib" >"$tmp/out" 2>&1 || ! grep -q 'rng.c' "$tmp/out"; then
		echo "purity self-test: FAILED: not caught: $inject"
		fail=1
	fi
done
cp "$root/lib/rng.c" "$tmp/lib/rng.c"
printf '/* printf("x"); signal(SIGINT, h); exit(1); */\nstatic const char *s = "stdout";\n' >>"$tmp/lib/rng.c"
if ! sh "$here/check.sh" "$tmp/lib" >/dev/null; then
	echo "purity self-test: FAILED: words in comments and strings were taken for code"
	fail=1
fi
[ $fail -eq 0 ] && echo "purity self-test: injected calls caught, comments and strings ignored"
exit $fail
