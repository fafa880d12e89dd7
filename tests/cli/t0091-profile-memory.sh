#!/bin/sh
# t0091-profile-memory.sh — the profile mlctl predict records of what it scored streams: its
# reservoir samples and distinct-value tables are bounded, so the peak memory (max RSS) for
# 1,000,000 rows (mlc_churn.csv repeated) is within 4 MB of that for 10,000 rows. The
# recorded profile counts every row and keeps a sample of 5,000 values per numeric input;
# the reference train stored carries samples, distinct values and its validation metrics.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
# ASan keeps freed memory in quarantine (256 MB by default): make it small so that what is
# measured is what mlctl holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
head -1001 "$DATA/mlc_churn.csv" >c1k.csv
run train c1k.csv --name churn --label churn --holdout 0.2 -q
expect_rc "train churn (1000 rows, 20% held out)" 0
awk 'NR == 1 { print; next } { a[NR] = $0 } END { for (k = 0; k < 201; k++) for (i = 2; i <= NR; i++) print a[i] }' \
	"$DATA/mlc_churn.csv" | head -1000001 >c1m.csv
head -10001 c1m.csv >c10k.csv
check "1,000,000 rows made" test "$(wc -l <c1m.csv)" -eq 1000001

# maxrss_kb CMD...: run CMD, print its peak RSS in KB.
maxrss_kb() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M' -o "$TMP/rss" "$@" || echo "exit $?" >>"$TMP/rss.err"
	else # /usr/bin/time comes from the Debian package "time"
		/usr/bin/python3 -c 'import resource, subprocess, sys
st = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(st)' "$@" 2>"$TMP/rss" || echo "exit $?" >>"$TMP/rss.err"
	fi
	tail -1 "$TMP/rss"
}

small=$(maxrss_kb "$MLCTL" predict churn --input c10k.csv --output p10k.csv -q)
big=$(maxrss_kb "$MLCTL" predict churn --input c1m.csv --output p1m.csv -q)
if [ -n "$small" ] && [ -n "$big" ] && [ "$big" -le $((small + 4096)) ]; then
	pass "peak memory does not grow with the rows: $small KB for 10k rows, $big KB for 1M rows"
else
	fail "peak memory grows with the rows: $small KB for 10k rows, $big KB for 1M rows"
fi
check "no run failed" test ! -e "$TMP/rss.err"

# profile_of KIND: the path of the profile object the newest run of KIND recorded.
profile_of() {
	"$MLCTL" --json runs >runs.json
	id=$(/usr/bin/python3 -c 'import json, sys
print(next(r["id"] for r in json.load(open("runs.json"))["runs"] if r["kind"] == sys.argv[1]))' "$1")
	"$MLCTL" --json runs show "$id" >run.json
	/usr/bin/python3 -c 'import json, sys
d = next(o["digest"] for o in json.load(open("run.json"))["lineage"] if o["name"] == "profile")
print(sys.argv[1] + "/objects/" + d[:2] + "/" + d[2:])' "$MLCTL_REGISTRY"
}

# check_profile NAME FILE PYTHON: PYTHON (on p, the loaded YAML) prints nothing when all holds.
check_profile() {
	why=$(/usr/bin/python3 -c 'import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
num = [i for i in p["inputs"] if i["type"] == "numeric"]
'"$3" "$2" 2>&1)
	if [ -z "$why" ]; then pass "$1"; else fail "$1: $why"; fi
}

check_profile "the 1M-row profile: every row counted, 5,000 values sampled per numeric input" "$(profile_of predict)" '
if p["profile_version"] != 2 or p["rows"] != 1000000: print("rows", p["rows"])
for i in num:
    if i["count"] + i["missing"] != 1000000 or len(i["sample"]) != 5000: print(i["name"], i["count"], len(i["sample"]))
    if not i["distinct_capped"] and sum(i["distinct_counts"]) != i["count"]: print(i["name"], "distinct counts")
if not any(i["distinct_capped"] for i in num) or all(i["distinct_capped"] for i in num): print("capped", [i["distinct_capped"] for i in num])'

check_profile "the reference: samples, distinct values, holdout metrics without prefix" "$(profile_of train)" '
if p["rows"] != 800 or p.get("metrics_on") != "holdout": print(p["rows"], p.get("metrics_on"))
names = [m["name"] for m in p.get("metrics", [])]
if "accuracy" not in names or "f1_macro" not in names or any(n.startswith("holdout_") for n in names): print(names)
for i in num:
    if len(i["sample"]) != i["count"]: print(i["name"], len(i["sample"]))'
