#!/bin/sh
# Run every end-to-end test script tests/cli/t*.sh against $MLCTL and print one closing
# line "N passed, N failed". Each script sources lib.sh and reports its own checks.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MLCTL:?set MLCTL to the mlctl binary}"
export MLCTL
export SHARED_DATA="${SHARED_DATA:-$here/../../examples/data}"
pass=0
fail=0
results=$(mktemp)
for t in "$here"/t[0-9]*.sh; do
	[ -e "$t" ] || continue
	if [ -n "${T:-}" ]; then case "$t" in *"$T"*) ;; *) continue ;; esac; fi
	RESULTS="$results" sh "$t"
	status=$?
	if [ $status -ne 0 ] && ! grep -q "^FAIL $(basename "$t")" "$results"; then
		echo "FAIL $(basename "$t"): exited $status" | tee -a "$results"
	fi
done
pass=$(grep -c '^PASS' "$results")
fail=$(grep -c '^FAIL' "$results")
rm -f "$results"
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
