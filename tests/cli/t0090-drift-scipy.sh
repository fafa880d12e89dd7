#!/bin/sh
# t0090-drift-scipy.sh — lib/drift's statistics agree with scipy to 1e-9 on real data:
# ks_2samp (D and the exact and asymptotic p-values), wasserstein_distance, chisquare,
# jensenshannon(base=2), and Evidently's PSI and proportion z-test, on columns of
# mlc_churn (random halves, the split by total_day_minutes), letter (many ties; 5000/5000,
# 3000/12000 and 300/11000 take the asymptotic branch), concrete (also shifted to 1e9 and
# scaled to 1e-9). drift_values.c is built against lib/drift.c; drift_cmp.py runs scipy.
. "$(dirname "$0")/lib.sh"

if ! /usr/bin/python3 -c 'import scipy.stats, scipy.spatial' 2>/dev/null; then
	pass "python3-scipy not installed: comparison skipped"
	exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../.."
cc -O2 -std=c11 -D_DEFAULT_SOURCE -DMLCTL_VERSION=\"t0090\" -I"$src/lib" -I"$src/lib/include" -o "$TMP/drift_values" \
	"$here/drift_values.c" "$src/lib/drift.c" "$src/lib/error.c" "$src/lib/util.c" -lpthread -lm ||
	{ fail "building drift_values.c"; exit 1; }
if /usr/bin/python3 "$here/drift_cmp.py" "$TMP/drift_values" "$DATA" "$TMP" >"$TMP/cmp" 2>&1; then
	pass "$(tail -n 1 "$TMP/cmp")"
else
	fail "$(grep -E '^BAD|Error|error' "$TMP/cmp" | head -n 5) $(tail -n 1 "$TMP/cmp")"
fi
