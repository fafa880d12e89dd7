#!/bin/sh
# t0081-serve-reload.sh — mlctl serve --target follows deploys and rollbacks without a
# failed request: 4 keep-alive connections loop V2 requests while churn:2 is deployed,
# rolled back and deployed again; every answer is a 200 and each connection sees versions
# 1, 2, 1, 2 in that order. SIGHUP checks the target at once (and does not kill the
# server). A release that fails to load (a corrupted model file, a missing file) is refused
# on stderr and in /metrics while the old model keeps serving. SIGTERM lets an in-flight
# request finish (200), then exit 0. --canary TARGET:30 (about 30% by request id, the same
# id always to the same version), --shadow TARGET (answers from the primary, the shadow in
# the prediction log), --log-predictions with --sample and --log-max-bytes.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
churn="$DATA/mlc_churn.csv"
head -n 1001 "$churn" >train.csv
{ head -n 1 "$churn"; sed -n '1002,1201p' "$churn"; } | cut -d, -f1-19 >rows.csv
"$MLCTL" train train.csv --name churn --label churn -C 32 --gamma 0.03125 -q || fail "train churn:1"
"$MLCTL" train train.csv --name churn --label churn -C 2 --gamma 0.1 -q || fail "train churn:2"
"$MLCTL" deploy churn:1 --target prod -q || fail "deploy churn:1"
T=$TMP/.mlctl/targets/prod

# version PORT: the model_version a V2 request on prod gets now.
version() {
	PYTHONPATH="$CLI_DIR" /usr/bin/python3 - "$1" <<'EOF'
import sys
from servelib import *
header, rows, numeric = read_csv("rows.csv")
st, h, b = request(sys.argv[1], "POST", "/v2/models/prod/infer", v2_body(header, rows[:2], numeric))
print(exact(b)["model_version"] if st == 200 else "status %d" % st)
EOF
}
# metric NAME: the value of an unlabelled sample NAME on /metrics now.
metric() {
	curl -s "http://127.0.0.1:$SERVE_PORT/metrics" | awk -v n="$1" '$1 == n { print $2 + 0 }'
}

# ---- deploy, rollback, deploy under a 4-connection keep-alive load ----
serve_start --target prod --poll 0.2 || exit 1
PYTHONPATH="$CLI_DIR" /usr/bin/python3 - "$SERVE_PORT" >loop.out 2>loop.err <<'EOF' &
import json, os, sys, threading
from servelib import *
port = int(sys.argv[1])
header, rows, numeric = read_csv("rows.csv")
body = v2_body(header, rows[:5], numeric)
results = [[] for _ in range(4)]
started = [False] * 4

def loop(k):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not os.path.exists("stop"):
        try:
            conn.request("POST", "/v2/models/prod/infer", body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            b = r.read()
            v = json.loads(b).get("model_version") if r.status == 200 else None
            results[k].append((r.status, v))
            if r.will_close:
                results[k].append(("closed by the server", None))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        except Exception as e:
            results[k].append(("error %s" % e.__class__.__name__, None))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if not started[k]:
            started[k] = True
            if all(started):
                open("started", "w").close()
    conn.close()

ts = [threading.Thread(target=loop, args=(k,)) for k in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
json.dump(results, sys.stdout)
EOF
client=$!
i=0; while [ ! -e started ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the 4 client connections are running" test -e started
"$MLCTL" deploy churn:2 --target prod -q || fail "deploy churn:2"
check "stderr: reloaded target prod: churn:1 -> churn:2" wait_for "$TMP/serve.err" "reloaded target prod( \([a-z]+\))?: churn:1 -> churn:2"
sleep 1
"$MLCTL" deploy rollback prod -q || fail "rollback"
check "stderr: reloaded target prod: churn:2 -> churn:1" wait_for "$TMP/serve.err" "reloaded target prod( \([a-z]+\))?: churn:2 -> churn:1"
sleep 1
"$MLCTL" deploy churn:2 --target prod -q || fail "deploy churn:2 again"
i=0; while [ "$(grep -Ec 'reloaded target prod( \([a-z]+\))?: churn:1 -> churn:2' "$TMP/serve.err")" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "stderr: the second deploy of churn:2 reloaded too" test "$(grep -Ec 'reloaded target prod( \([a-z]+\))?: churn:1 -> churn:2' "$TMP/serve.err")" -eq 2
sleep 1
touch stop
wait "$client"
pycheck - <<'EOF'
import json
from servelib import check
res = json.load(open("loop.out"))
for k, r in enumerate(res):
    bad = [x for x in r if x[0] != 200]
    check("connection %d: every one of %d responses is a 200, no connection error" % (k + 1, len(r)), not bad and r, bad[:5])
    seq = []
    for st, v in r:
        if st == 200 and (not seq or seq[-1] != v):
            seq.append(v)
    check("connection %d: versions 1 -> 2 -> 1 -> 2" % (k + 1), seq == ["1", "2", "1", "2"], seq)
EOF
check "the server lived through it" kill -0 "$SERVE_PID"
check "/metrics: mlctl_reloads_total 3" test "$(metric mlctl_reloads_total)" = 3

# ---- SIGHUP ----
kill -HUP "$SERVE_PID"
sleep 0.5
check "SIGHUP with nothing to reload: the server goes on" kill -0 "$SERVE_PID"
check "and still serves churn:2" test "$(version "$SERVE_PORT")" = 2
serve_stop
check "SIGTERM after the reloads: exit 0" test "$serve_rc" -eq 0
# With a poll of an hour, SIGHUP makes the check (inotify may have done it already).
serve_start --target prod --poll 3600 || exit 1
"$MLCTL" deploy rollback prod -q
kill -HUP "$SERVE_PID"
check "SIGHUP: reloaded churn:2 -> churn:1" wait_for "$TMP/serve.err" "reloaded target prod( \([a-z]+\))?: churn:2 -> churn:1"
check "SIGHUP: churn:1 answers" test "$(version "$SERVE_PORT")" = 1

# ---- a release that fails to load is refused; the old model keeps serving ----
R2=$(ls "$T/releases" | grep '^churn-2-')
cp -a "$T/releases/$R2" "$T/releases/broken"
echo "this is not a libsvm model" >"$T/releases/broken/model/libsvm.model"
cp -a "$T/releases/$R2" "$T/releases/partial"
rm "$T/releases/partial/model/libsvm.model"
nrefused=0
for bad in broken partial; do
	ln -s "releases/$bad" "$T/current.new" && mv -T "$T/current.new" "$T/current"
	kill -HUP "$SERVE_PID"
	nrefused=$((nrefused + 1))
	i=0; while [ "$(grep -Ec 'reload of target prod( \([a-z]+\))? refused: .*; still serving churn:1' "$TMP/serve.err")" -lt $nrefused ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	check "$bad release: stderr says refused, still serving churn:1" \
		test "$(grep -Ec 'reload of target prod( \([a-z]+\))? refused: .*; still serving churn:1' "$TMP/serve.err")" -ge $nrefused
	check "$bad release: the server lives" kill -0 "$SERVE_PID"
	check "$bad release: churn:1 still answers" test "$(version "$SERVE_PORT")" = 1
done
f=$(metric mlctl_reloads_failed_total)
check "/metrics: mlctl_reloads_failed_total >= 1 ($f)" test "${f:-0}" -ge 1 2>/dev/null
ln -s "releases/$R2" "$T/current.new" && mv -T "$T/current.new" "$T/current"
kill -HUP "$SERVE_PID"
check "a good release after the refused ones loads: churn:1 -> churn:2" \
	wait_for "$TMP/serve.err" "reloaded target prod( \([a-z]+\))?: churn:1 -> churn:2"
"$MLCTL" deploy churn:1 --target prod -q   # back to a recorded state

# ---- SIGTERM while a big request is in flight: it gets its 200, then exit 0 ----
serve_stop
serve_start --target prod --max-body 16777216 --drain 20 || exit 1
PYTHONPATH="$CLI_DIR" /usr/bin/python3 - "$SERVE_PORT" >inflight.out 2>inflight.err <<'EOF' &
import os, sys, time
from servelib import *
header, rows, numeric = read_csv("rows.csv")
body = v2_body(header, rows * 50, numeric).encode()     # 10,000 rows
s = raw_connect(int(sys.argv[1]))
s.sendall(b"POST /v2/models/prod/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body))
half = len(body) // 2
s.sendall(body[:half])
open("sent-half", "w").close()
while not os.path.exists("go"):
    time.sleep(0.05)
s.sendall(body[half:])
st, h, b = read_response(s, timeout=60)
n = len(flat(output(exact(b), "predictions")["data"])) if st == 200 else -1
print(st, n)
EOF
client=$!
i=0; while [ ! -e sent-half ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -TERM "$SERVE_PID"
sleep 0.5
check "SIGTERM with a request in flight: the server waits for it" kill -0 "$SERVE_PID"
touch go
wait "$client"
check "the in-flight request got its 200 with 10000 predictions" test "$(cat inflight.out)" = "200 10000"
[ -s inflight.err ] && fail "in-flight client: $(tail -c 300 inflight.err)"
serve_stop
check "then the server exited 0" test "$serve_rc" -eq 0

# ---- canary ----
"$MLCTL" deploy churn:2 --target prod2 -q || fail "deploy churn:2 to prod2"
serve_start --target prod --canary prod2:30 || exit 1
pycheck - "$SERVE_PORT" <<'EOF'
import sys
from servelib import *
port = sys.argv[1]
header, rows, numeric = read_csv("rows.csv")
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
seen = {}
bad = []
for rep in range(2):
    for i in range(1000 if rep == 0 else 300):
        rid = "req-%d" % i
        st, h, b = request(port, "POST", "/v2/models/prod/infer", v2_body(header, rows[i % 200:i % 200 + 1], numeric, id=rid), conn=conn)
        if st != 200:
            bad.append((rid, st, b[:200]))
            continue
        r = exact(b)
        v = r["model_version"]
        if r.get("id") != rid:
            bad.append((rid, "id", r.get("id")))
        if rep == 0:
            seen[rid] = v
        elif seen.get(rid) != v:
            bad.append((rid, "moved", seen.get(rid), v))
check("canary: every request answered 200 with its id, the same id by the same version", not bad, bad[:5])
n2 = sum(1 for v in seen.values() if v == "2")
check("canary: versions are 1 and 2 only", set(seen.values()) <= {"1", "2"}, set(seen.values()))
check("canary prod2:30: %d of 1000 answered by the canary (20%%..40%%)" % n2, 200 <= n2 <= 400, n2)
st, h, b = request(port, "GET", "/metrics", conn=conn)
text = b.decode()
check("canary: /metrics has model_info for the canary", 'role="canary"' in text and 'target="prod2"' in text,
      [l for l in text.splitlines() if l.startswith("mlctl_model_info")])
EOF
serve_stop
check "canary: exit 0" test "$serve_rc" -eq 0

# ---- shadow ----
serve_start --target prod --shadow prod2 --log-predictions shadow.log || exit 1
pycheck - "$SERVE_PORT" <<'EOF'
import sys
from servelib import *
port = sys.argv[1]
header, rows, numeric = read_csv("rows.csv")
vs = set()
for i in range(50):
    st, h, b = request(port, "POST", "/v2/models/prod/infer", v2_body(header, rows[i:i + 4], numeric, id="s%d" % i))
    vs.add(exact(b)["model_version"] if st == 200 else "status %d" % st)
check("shadow: all 50 answers from the primary (version 1)", vs == {"1"}, vs)
EOF
serve_stop
check "shadow: exit 0" test "$serve_rc" -eq 0
pycheck - <<'EOF'
import json
from servelib import check
lines = [json.loads(l) for l in open("shadow.log")]
check("shadow: 50 log lines", len(lines) == 50, len(lines))
sh = [l.get("shadow") for l in lines]
check("shadow: every line has a shadow entry from churn:2 with predictions",
      all(s and s.get("model") == "churn" and s.get("version") == 2 and len(s.get("outputs", {}).get("predictions", [])) == 4 for s in sh),
      sh[:2])
check("shadow: the primary's own entry is churn:1", all(l.get("model") == "churn" and l.get("version") == 1 for l in lines),
      [(l.get("model"), l.get("version")) for l in lines[:3]])
EOF

# ---- prediction log: --sample 1, --sample 0.5, rotation ----
serve_start --target prod --log-predictions pred.log --sample 1 || exit 1
pycheck - "$SERVE_PORT" <<'EOF'
import json, sys
from servelib import *
port = sys.argv[1]
header, rows, numeric = read_csv("rows.csv")
answers = []
for i in range(20):
    st, h, b = request(port, "POST", "/v2/models/prod/infer", v2_body(header, rows[i:i + 3], numeric, id="L%d" % i))
    answers.append(json.loads(b) if st == 200 else None)
st, h, b = request(port, "POST", "/v2/models/prod/infer", v2_body(header, rows[:1], numeric))
st1, h, b1 = request(port, "POST", "/v1/models/prod:predict", v1_instances(header, rows[:2], numeric))
check("log: 22 requests answered", all(answers) and st == 200 and st1 == 200, (st, st1))
json.dump([a and a["outputs"][0]["data"] for a in answers], open("answers.json", "w"))
EOF
serve_stop
pycheck - <<'EOF'
import json
from servelib import check, read_csv
header, rows, numeric = read_csv("rows.csv")
answers = json.load(open("answers.json"))
lines = [json.loads(l) for l in open("pred.log")]
check("log --sample 1: one line per request (22)", len(lines) == 22, len(lines))
keys = {"time", "id", "route", "model", "version", "inputs", "outputs"}
check("log: each line has time, id, route, model, version, inputs, outputs (and no shadow)",
      all(keys <= set(l) and "shadow" not in l for l in lines), [sorted(l) for l in lines[:1]])
byid = {l.get("id"): l for l in lines}
check("log: ids L0..L19 and null", set(byid) == {"L%d" % i for i in range(20)} | {None}, sorted(map(str, byid)))
ok = all(byid.get("L%d" % i, {}).get("outputs", {}).get("predictions") == answers[i] for i in range(20))
check("log: the logged predictions are the answers", ok, [byid.get("L0", {}).get("outputs"), answers[0]])
l0 = byid.get("L0", {})
check("log: inputs columnar, one list per column, the request's values",
      list(l0.get("inputs", {})) == header and l0["inputs"]["state"] == [r[0] for r in rows[:3]]
      and l0["inputs"]["account_length"] == [float(r[1]) for r in rows[:3]], l0.get("inputs", {}).get("state"))
check("log: model churn, version 1, route v2 / v1, time in UTC",
      all(l.get("model") == "churn" and l.get("version") == 1 and l.get("time", "").endswith("Z") for l in lines)
      and sorted(set(l.get("route") for l in lines)) == ["v1", "v2"], lines[0])
EOF

serve_start --target prod --log-predictions half.log --sample 0.5 || exit 1
pycheck - "$SERVE_PORT" <<'EOF'
import sys
from servelib import *
port = sys.argv[1]
header, rows, numeric = read_csv("rows.csv")
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
sts = set()
for i in range(400):
    st, h, b = request(port, "POST", "/v2/models/prod/infer", v2_body(header, rows[i % 200:i % 200 + 1], numeric, id="h%d" % i), conn=conn)
    sts.add(st)
check("--sample 0.5: 400 requests answered", sts == {200}, sts)
EOF
serve_stop
n=$(wc -l <half.log 2>/dev/null || echo 0)
check "--sample 0.5: about half of 400 requests logged ($n, 120..280)" test "$n" -ge 120 -a "$n" -le 280

serve_start --target prod --log-predictions rot.log --log-max-bytes 2000 || exit 1
pycheck - "$SERVE_PORT" <<'EOF'
import sys
from servelib import *
port = sys.argv[1]
header, rows, numeric = read_csv("rows.csv")
sts = set()
for i in range(40):
    st, h, b = request(port, "POST", "/v2/models/prod/infer", v2_body(header, rows[i:i + 1], numeric, id="r%d" % i))
    sts.add(st)
check("--log-max-bytes: 40 requests answered", sts == {200}, sts)
EOF
serve_stop
check "--log-max-bytes 2000: rotated files rot.log.1 and rot.log.2 exist" test -s rot.log.1 -a -s rot.log.2
check "--log-keep 3 (default): no rot.log.4" test ! -e rot.log.4
big=$(for f in rot.log rot.log.*; do [ "$(wc -c <"$f")" -gt 2000 ] && echo "$f"; done)
check "no log file over 2000 bytes" test -z "$big"
