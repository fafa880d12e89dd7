#!/bin/sh
# bench/registry.sh — how fast the registry answers when it is big: a registry holding
# 100,000 runs (a tenth of them top-level trainings, the rest their tuning points) with 10
# metrics each, 3 params each, a model with 20 versions, validations and aliases; then
# hyperfine's median of `mlctl runs list --limit 20`, `mlctl models show NAME` and
# `mlctl --version`, against the aim of 10 ms each.
#
#   sh bench/registry.sh            (from the repository root; `make bench` does this)
#   MLCTL=path/to/mlctl RUNS=100000 KEEP=1 sh bench/registry.sh
set -eu
MLCTL=${MLCTL:-$(pwd)/build/mlctl}
RUNS=${RUNS:-100000}
AIM_MS=10
for tool in sqlite3 hyperfine /usr/bin/python3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
[ -x "$MLCTL" ] || { echo "bench: no $MLCTL; run make first" >&2; exit 1; }
work=$(mktemp -d /tmp/mlctl-bench-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
reg="$work/.mlctl"
"$MLCTL" init "$work" >/dev/null

echo "bench: building a registry with $RUNS runs x 10 metrics in $reg"
start=$(date +%s)
now=$(($(date +%s) * 1000))
# One transaction; ids are 26 characters of Crockford base32 that sort like time, as
# mlctl's ULIDs do. Run x: every tenth is a top-level train run, the nine after it its
# tuning points. The newest 20 are validations of the model's versions.
sqlite3 "$reg/registry.db" >/dev/null <<SQL
BEGIN IMMEDIATE;
CREATE TEMP TABLE seq (x INTEGER PRIMARY KEY);
WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < $RUNS - 1)
INSERT INTO seq SELECT x FROM c;
INSERT INTO runs (id, kind, name, parent, status, started, ended, user, host, pid, argv, version)
SELECT printf('01J%023d', x),
       CASE WHEN x >= $RUNS - 20 THEN 'validate' WHEN x % 10 = 0 THEN 'train' ELSE 'tune' END,
       'churn',
       CASE WHEN x % 10 = 0 OR x >= $RUNS - 20 THEN NULL ELSE printf('01J%023d', x - x % 10) END,
       'succeeded', $now - ($RUNS - x) * 1000, $now - ($RUNS - x) * 1000 + 900,
       'bench', 'benchhost', 1, 'mlctl train churn.csv --name churn', '0.1.0'
FROM seq;
UPDATE runs SET model_name = 'churn', model_version = 1 + (CAST(substr(id, 4) AS INTEGER) % 20), verdict = 'pass'
  WHERE kind = 'validate';
INSERT INTO params SELECT printf('01J%023d', x), k, v FROM seq,
  (SELECT 'C' AS k, '1' AS v UNION ALL SELECT 'gamma', '0.5' UNION ALL SELECT 'kernel', 'rbf');
INSERT INTO metrics SELECT printf('01J%023d', x), 'metric' || m, 0, (x % 997) / 997.0 + m, $now FROM seq,
  (WITH RECURSIVE k(m) AS (SELECT 0 UNION ALL SELECT m + 1 FROM k WHERE m < 9) SELECT m FROM k);
INSERT INTO models VALUES ('churn', $now);
INSERT INTO model_versions SELECT 'churn', v, printf('01J%023d', (v - 1) * 10), printf('%064d', v * 3),
  printf('%064d', v * 3 + 1), printf('%064d', v * 3 + 2), 'c_svc', 'rbf', $now - (21 - v) * 60000, 'bench'
  FROM (WITH RECURSIVE k(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM k WHERE v < 20) SELECT v FROM k);
INSERT INTO aliases VALUES ('churn', 'production', 18, $now), ('churn', 'staging', 20, $now);
INSERT INTO alias_history (name, alias, from_version, to_version, user, host, reason, time)
  VALUES ('churn', 'production', NULL, 17, 'bench', 'benchhost', 'first', $now - 1000),
         ('churn', 'production', 17, 18, 'bench', 'benchhost', 'better', $now),
         ('churn', 'staging', NULL, 20, 'bench', 'benchhost', 'try', $now);
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);

SQL
echo "bench: built in $(($(date +%s) - start)) s: $(du -h "$reg/registry.db" | cut -f1) registry.db," \
	"$(sqlite3 "$reg/registry.db" 'SELECT count(*) FROM runs') runs," \
	"$(sqlite3 "$reg/registry.db" 'SELECT count(*) FROM metrics') metrics"

# Sanity: the commands work on it and say what they should.
export MLCTL_REGISTRY="$reg"
n=$("$MLCTL" runs list --limit 20 | tail -n +2 | wc -l)
[ "$n" -eq 20 ] || { echo "bench: runs list printed $n runs, not 20" >&2; exit 1; }
"$MLCTL" models show churn | grep -q '^18 .*@production' || { echo "bench: models show churn is wrong" >&2; exit 1; }

json="$work/hyperfine.json"
hyperfine -N --warmup 3 --min-runs 30 --export-json "$json" \
	-n "mlctl runs list --limit 20" "$MLCTL runs list --limit 20" \
	-n "mlctl models show churn" "$MLCTL models show churn" \
	-n "mlctl --version" "$MLCTL --version" >"$work/hyperfine.out" 2>&1 || { cat "$work/hyperfine.out"; exit 1; }
[ -z "${OUT:-}" ] || cp "$json" "$OUT"

/usr/bin/python3 - "$json" "$AIM_MS" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
aim = float(sys.argv[2])
print()
print("%-24s %10s %10s %10s  %s" % ("command", "median ms", "min ms", "max ms", "aim %g ms" % aim))
for r in res:
    med = r["median"] * 1000
    print("%-24s %10.2f %10.2f %10.2f  %s" % (r["command"], med, r["min"] * 1000, r["max"] * 1000,
          "ok" if med <= aim else "OVER"))
PY
