#!/bin/sh
# bench/serve.sh — `mlctl serve` against Flask + scikit-learn under gunicorn, in one run on
# 127.0.0.1, on the same model: heart_scale (270 rows, 13 features, 2 classes), an RBF C-SVC
# with C=2 gamma=0.5 and no scaling, trained by `mlctl train --scale none` on one side and by
# sklearn's SVC (libsvm inside, same defaults) in bench/serve_flask.py on the other.
#
# Both serve TF-Serving's POST /v1/models/heart:predict with {"instances": [{"1": v, ...}]}
# (rows as objects keyed by column name, the spec's V1 form; SHAPE=arrays sends rows as
# arrays in schema order, which both take too; SHAPE=v2 sends mlctl the Open Inference
# Protocol's batch form instead, POST /v2/models/heart/infer with one FP64 tensor "input"
# of shape [N, 13], and Flask the arrays). wrk (THREADS threads, CONNS connections,
# DURATION s, --latency) measures
#   (a) single-row requests (the same body for both servers),
#   (b) 100-row requests (the first 100 rows of heart_scale),
# for each requests/s, rows/s, p50, p99 and the ratios mlctl / Flask; then `mlctl predict -j2`
# on the same 100 rows repeated to 200,000 rows, and the 100-row serving rows/s as a share of
# predict's. Before measuring, both servers and `mlctl predict` must agree on the 100 rows.
# Then where a request's time goes: the handler's phases from /metrics when the server counts
# them (mlctl_phase_microseconds_total), and HTTP alone measured (GET /v2/health/live).
#
# Aims (issue 11): single-row requests at least 20x Flask's requests/s with p99 under 1 ms;
# 100-row requests at least half the rows/s of `mlctl predict -j2`.
#
#   make && sh bench/serve.sh            (about 1 minute with DURATION=10)
#   DURATION=5 CONNS=16 THREADS=2 SERVER_THREADS=2 SHAPE=arrays BENCH_DIR=/tmp/b sh bench/serve.sh
#
# THREADS and CONNS are wrk's; SERVER_THREADS is both `mlctl serve --threads` and gunicorn's
# worker count. The machine may be shared and wrk runs on the same cores as the servers:
# the load average is printed with the table.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
MLCTL=${MLCTL:-$root/build/mlctl}
DATA=${DATA:-$root/examples/data}
PY=/usr/bin/python3
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
SERVER_THREADS=${SERVER_THREADS:-2}
SHAPE=${SHAPE:-objects}
C=2
GAMMA=0.5
PREDICT_ROWS=200000
for tool in wrk curl /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
$PY -c 'import flask, gunicorn, sklearn' 2>/dev/null ||
	{ echo "bench: $PY needs flask, gunicorn and sklearn (make deps)" >&2; exit 1; }
[ -x "$MLCTL" ] || { echo "bench: no $MLCTL; run make first" >&2; exit 1; }
case $SHAPE in objects | arrays | v2) ;; *) echo "bench: SHAPE is objects, arrays or v2" >&2; exit 1 ;; esac
if [ -n "${BENCH_DIR:-}" ]; then # keep the work there for a look afterwards
	W=$BENCH_DIR
	mkdir -p "$W"
	W=$(cd "$W" && pwd)
	rm -rf "$W/.mlctl"
else
	W=$(mktemp -d /tmp/mlctl-bench-serve-XXXXXX)
fi
mlctl_pid=
flask_pid=
cleanup() {
	# gunicorn's master stops its workers on TERM; mlctl serve drains and exits 0
	for p in $mlctl_pid $flask_pid; do
		kill "$p" 2>/dev/null || true
	done
	for p in $mlctl_pid $flask_pid; do
		wait "$p" 2>/dev/null || true
	done
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export MLCTL_REGISTRY="$W/.mlctl"
cd "$W"
"$MLCTL" init -q

# ---- the rows: 1 and 100 as JSON bodies, 100 as libsvm, 100 x 2000 for predict ----
head -100 "$DATA/heart_scale" >rows100.libsvm
awk -v n=$((PREDICT_ROWS / 100)) '{ a[NR] = $0 } END { for (k = 0; k < n; k++) for (i = 1; i <= NR; i++) print a[i] }' \
	rows100.libsvm >rows200k.libsvm
# every one of the 13 columns in each row: a feature a libsvm row leaves out is 0, while a
# column a request leaves out is refused; SHAPE=arrays sends each row as its 13 values in
# schema order instead of an object (both servers take either)
$PY - rows100.libsvm "$SHAPE" <<'EOF'
import json, sys
rows = []
for line in open(sys.argv[1]):
    row = {str(i): 0 for i in range(1, 14)}
    for pair in line.split()[1:]:
        k, v = pair.split(":")
        row[k] = float(v)
    rows.append(row)
arrays = [[r[str(i)] for i in range(1, 14)] for r in rows]
if sys.argv[2] != "objects":
    rows = arrays
# Flask takes the V1 body; mlctl too, but with SHAPE=v2 it gets the Open Inference
# Protocol's batch form: one FP64 tensor "input" of shape [N, 13], flat.
json.dump({"instances": rows[:1]}, open("fbody1.json", "w"), separators=(",", ":"))
json.dump({"instances": rows}, open("fbody100.json", "w"), separators=(",", ":"))
def v2(rs):
    return {"inputs": [{"name": "input", "datatype": "FP64", "shape": [len(rs), 13],
                        "data": [x for r in rs for x in r]}]}
if sys.argv[2] == "v2":
    json.dump(v2(arrays[:1]), open("body1.json", "w"), separators=(",", ":"))
    json.dump(v2(arrays), open("body100.json", "w"), separators=(",", ":"))
else:
    json.dump({"instances": rows[:1]}, open("body1.json", "w"), separators=(",", ":"))
    json.dump({"instances": rows}, open("body100.json", "w"), separators=(",", ":"))
EOF
cat >post.lua <<'EOF'
-- wrk: POST the JSON body in the file $WRK_BODY on every request
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF

# ---- the two servers ----
"$MLCTL" train "$DATA/heart_scale" --name heart --scale none -C $C --gamma $GAMMA -q
"$MLCTL" serve heart:1 --port 0 --port-file mlctl.port --threads "$SERVER_THREADS" 2>mlctl-serve.log &
mlctl_pid=$!
flask_port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HEART_DATA="$DATA/heart_scale" SVC_C=$C SVC_GAMMA=$GAMMA $PY -m gunicorn -w "$SERVER_THREADS" \
	-b "127.0.0.1:$flask_port" --chdir "$root/bench" serve_flask:app 2>gunicorn.log &
flask_pid=$!

# wait_for NAME PID URL: until URL answers 200 (30 s at most), or the server died.
wait_for() {
	i=0
	while ! curl -sf -o /dev/null "$3" 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || { echo "bench: $1 exited:" >&2; cat "$W/$1.log" >&2; exit 1; }
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "bench: $1 does not answer on $3" >&2; exit 1; }
		sleep 0.1
	done
}
i=0
while [ ! -s mlctl.port ]; do
	kill -0 "$mlctl_pid" 2>/dev/null || { echo "bench: mlctl serve exited:" >&2; cat mlctl-serve.log >&2; exit 1; }
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "bench: mlctl serve wrote no port file" >&2; exit 1; }
	sleep 0.1
done
mlctl_base="http://127.0.0.1:$(cat mlctl.port)"
flask_base="http://127.0.0.1:$flask_port"
wait_for mlctl-serve "$mlctl_pid" "$mlctl_base/v2/health/ready"
wait_for gunicorn "$flask_pid" "$flask_base/health"
mlctl_url="$mlctl_base/v1/models/heart:predict"
[ "$SHAPE" = v2 ] && mlctl_url="$mlctl_base/v2/models/heart/infer"
flask_url="$flask_base/v1/models/heart:predict"

# ---- agreement on the 100 rows: mlctl serve, Flask, mlctl predict ----
curl -sf -H 'Content-Type: application/json' --data-binary @body100.json "$mlctl_url" >mlctl100.out
curl -sf -H 'Content-Type: application/json' --data-binary @fbody100.json "$flask_url" >flask100.out
"$MLCTL" predict heart --input rows100.libsvm --output predict100.jsonl --format jsonl -q
agree=$($PY - <<'EOF'
import json
m = json.load(open("mlctl100.out"))
m = m["predictions"] if "predictions" in m else next(o["data"] for o in m["outputs"] if o["name"] == "predictions")
f = json.load(open("flask100.out"))["predictions"]
p = [json.loads(l)["prediction"] for l in open("predict100.jsonl")]
same = sum(a == b for a, b in zip(m, f)) if len(m) == len(f) else 0
print("%d/%d %d/%d" % (same, len(p), sum(a == b for a, b in zip(m, p)) if len(m) == len(p) else 0, len(p)))
EOF
)
echo "mlctl serve benchmark — $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  model heart (heart_scale, rbf C=$C gamma=$GAMMA); wrk -t$THREADS -c$CONNS -d${DURATION}s;" \
	"mlctl serve --threads $SERVER_THREADS, gunicorn -w $SERVER_THREADS (sync workers: no keep-alive);" \
	"rows as $SHAPE"
echo "  agreement on the 100 rows: mlctl serve vs Flask ${agree% *}, mlctl serve vs mlctl predict ${agree#* }"
[ "${agree% *}" = "100/100" ] ||
	echo "  WARNING: the two servers disagree; the models differ (see $W/mlctl100.out, flask100.out)"

# metrics FILE: a snapshot of mlctl's /metrics.
metrics() { curl -sf "$mlctl_base/metrics" >"$1" || : >"$1"; }

# bench NAME URL BODY: wrk against URL, POSTing BODY (GET when BODY is empty); NAME.wrk
# holds wrk's output, NAME.res "requests/s p50-µs p99-µs non-2xx socket-errors".
bench() {
	if [ -n "$3" ]; then
		WRK_BODY="$W/$3" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s post.lua "$2" >"$1.wrk"
	else
		wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$2" >"$1.wrk"
	fi
	awk '
	function us(v) {
		if (v ~ /us$/) return v + 0
		if (v ~ /ms$/) return v * 1000
		if (v ~ /m$/) return v * 60e6
		if (v ~ /s$/) return v * 1e6
		return v + 0
	}
	/^ +50%/ { p50 = us($2) }
	/^ +99%/ { p99 = us($2) }
	/^Requests\/sec:/ { rps = $2 }
	/Non-2xx or 3xx responses:/ { bad = $NF }
	/Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
	END { printf "%.0f %.0f %.0f %d %d\n", rps, p50, p99, bad, sock }' "$1.wrk" >"$1.res"
}
field() { cut -d' ' -f"$2" "$1.res"; }

metrics m0.prom
bench mlctl1 "$mlctl_url" body1.json
metrics m1.prom
bench flask1 "$flask_url" fbody1.json
metrics m2.prom
bench mlctl100 "$mlctl_url" body100.json
metrics m3.prom
bench flask100 "$flask_url" fbody100.json
bench health "$mlctl_base/v2/health/live" ""

# mlctl predict -j2 on the same 100 rows x 2000: best wall time of 3
best=
for _ in 1 2 3; do
	/usr/bin/time -f '%e' -o predict.time "$MLCTL" predict heart --input rows200k.libsvm --output predict200k.csv -j2 -q
	t=$(cat predict.time)
	if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
done
predict_rps=$(awk -v r=$PREDICT_ROWS -v t="$best" 'BEGIN { printf "%.0f", (t > 0 ? r / t : 0) }')

# ---- the table ----
fmt_us() { awk -v u="$1" 'BEGIN { if (u >= 1000) printf "%.2f ms", u / 1000; else printf "%.0f us", u }'; }
line() { # NAME LABEL ROWS-PER-REQUEST
	printf '  %-28s %10s %11s %10s %10s %8s\n' "$2" "$(field "$1" 1)" \
		"$(awk -v r="$(field "$1" 1)" -v n="$3" 'BEGIN { printf "%.0f", r * n }')" \
		"$(fmt_us "$(field "$1" 2)")" "$(fmt_us "$(field "$1" 3)")" "$(($(field "$1" 4) + $(field "$1" 5)))"
}
x() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else printf "-" }'; }
ratios() { # MLCTL FLASK
	printf '  %-28s %10s %11s %10s %10s\n' "  mlctl / Flask" "$(x "$(field "$1" 1)" "$(field "$2" 1)")" \
		"$(x "$(field "$1" 1)" "$(field "$2" 1)")" \
		"$(x "$(field "$2" 2)" "$(field "$1" 2)")" "$(x "$(field "$2" 3)" "$(field "$1" 3)")"
}
echo
printf '  %-28s %10s %11s %10s %10s %8s\n' "" "requests/s" "rows/s" "p50" "p99" "errors"
echo "  (a) single-row requests"
line mlctl1 "mlctl serve" 1
line flask1 "Flask + gunicorn" 1
ratios mlctl1 flask1
echo "  (b) 100-row requests"
line mlctl100 "mlctl serve" 100
line flask100 "Flask + gunicorn" 100
ratios mlctl100 flask100
printf '  %-28s %10s %11s   (%s rows, best wall of 3: %s s)\n' "mlctl predict -j2" "" "$predict_rps" "$PREDICT_ROWS" "$best"
echo "  (latency ratios are Flask / mlctl: how many times lower mlctl's is; errors: non-2xx + socket errors)"
echo
r1=$(awk -v a="$(field mlctl1 1)" -v b="$(field flask1 1)" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
share=$(awk -v a="$(field mlctl100 1)" -v b="$predict_rps" 'BEGIN { printf "%.2f", (b > 0 ? a * 100 / b : 0) }')
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "NOT met"; fi; }
echo "  aim: single-row requests/s >= 20x Flask's: ${r1}x, $(verdict "$r1 >= 20")"
echo "  aim: single-row p99 < 1 ms: $(fmt_us "$(field mlctl1 3)"), $(verdict "$(field mlctl1 3) < 1000")"
echo "  aim: 100-row serving rows/s >= 0.5 x mlctl predict -j2's: ${share}, $(verdict "$share >= 0.5")"

# ---- where a request's time goes ----
# Server time per request at saturation is SERVER_THREADS / requests/s thread-seconds (an
# upper bound: wrk runs on the same cores). HTTP alone is GET /v2/health/live, which does
# nothing but answer; the handler's phases come from /metrics when the server counts them
# (mlctl_phase_microseconds_total{phase="parse|transform|score|write"}), deltas over each
# wrk run divided by the requests it served.
echo
echo "where a request's time goes (mlctl serve; thread-µs per request = $SERVER_THREADS threads / requests/s):"
for run in "1 mlctl1 m0.prom m1.prom" "100 mlctl100 m2.prom m3.prom"; do
	# shellcheck disable=SC2086 # a run is four words
	set -- $run
	$PY - "$1" "$(field "$2" 1)" "$(field health 1)" "$SERVER_THREADS" "$3" "$4" "$SHAPE" <<'EOF'
import re, sys
n, rps, hrps, threads = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
route = 'route="v2_infer"' if sys.argv[7] == "v2" else 'route="v1_predict"'
def read(path):
    d = {}
    for line in open(path):
        m = re.match(r'(\w+)(\{[^}]*\})?\s+(\S+)', line)
        if m and not line.startswith("#"):
            d[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return d
A, B = read(sys.argv[5]), read(sys.argv[6])
delta = lambda k: B.get(k, 0) - A.get(k, 0)
reqs = sum(delta(k) for k in B if k[0] == "mlctl_requests_total" and route in k[1])
scale = {"mlctl_phase_microseconds_total": 1, "mlctl_phase_seconds_total": 1e6}
phases = [(re.search(r'phase="([^"]*)"', k[1]).group(1), delta(k) * scale[k[0]]) for k in B
          if k[0] in scale and 'phase="' in k[1]]
hsum = delta(("mlctl_request_duration_microseconds_sum", "{%s}" % route))
if rps <= 0 or hrps <= 0:
    print("  %d-row requests: a run gave no requests; nothing to split" % n)
    sys.exit(0)
total, http = threads * 1e6 / rps, threads * 1e6 / hrps
print("  %d-row requests: %.1f thread-µs each" % (n, total))
if phases and reqs > 0:
    handler = sum(v for _, v in phases) / reqs
    print("    phases in the handler (/metrics): " +
          ", ".join("%s %.1f" % (p, v / reqs) for p, v in phases) +
          " = %.1f (%.0f%%)" % (handler, 100 * handler / total))
    if hsum > 0:
        print("    the handler's mean duration (histogram): %.1f" % (hsum / reqs))
    print("    the rest, %.1f (%.0f%%): HTTP (GET /v2/health/live alone: %.1f), request body"
          " copy, kernel, waiting for a core" % (total - handler, 100 * (total - handler) / total, http))
else:
    print("    (no per-phase timing in /metrics) HTTP alone (GET /v2/health/live): %.1f (%.0f%%);"
          " parse, transform, score and write together: %.1f" % (http, 100 * http / total, total - http))
EOF
done
awk -v t="$SERVER_THREADS" -v r="$predict_rps" -v a="$(field mlctl1 1)" -v b="$(field mlctl100 1)" 'BEGIN {
	if (r > 0 && a > 0 && b > 0)
		printf "  a row: %.2f thread-µs served (the 100-row cost less the 1-row cost, over 99) vs %.2f in `mlctl predict -j2`\n",
			(t * 1e6 / b - t * 1e6 / a) / 99, t * 1e6 / r }'
echo "  load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
