#!/bin/sh
# t0080-serve.sh — mlctl serve on a deployed mlc_churn model answers what `mlctl predict`
# answers: 200 rows through V2 (one input per column, BYTES for the text columns) and V1
# (instances as objects, columnar inputs) give predict --format jsonl's labels; a
# probability model's probabilities are predict --proba's number texts byte for byte; a
# regression model's FP64 predictions are predict's, also through the "input" [N, d]
# tensor. The metadata routes (GET /v2, health, model metadata listing every column with
# its datatype and "input", ready, versions/{v}), unknown models (404), the echoed id, the
# "outputs" selection; /metrics by a strict text-format parser (promparse.py) and promtool,
# and its counters moved as the requests said.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
churn="$DATA/mlc_churn.csv"
head -n 1001 "$churn" >train.csv
# 200 rows the model did not see, without the label (the last column)
{ head -n 1 "$churn"; sed -n '1002,1201p' "$churn"; } | cut -d, -f1-19 >rows.csv
check "rows.csv: 200 rows of 19 columns" test "$(tail -n +2 rows.csv | wc -l) $(head -1 rows.csv | tr , '\n' | wc -l)" = "200 19"
"$MLCTL" train train.csv --name churn --label churn -C 32 --gamma 0.03125 -q || fail "train churn"
"$MLCTL" train train.csv --name churnp --label churn -C 32 --gamma 0.03125 --probability -q || fail "train churnp"
"$MLCTL" train "$DATA/concrete.csv" --name concrete --label compressive_strength -C 8 -q || fail "train concrete"
"$MLCTL" deploy churn:1 --target prod -q || fail "deploy churn:1"
"$MLCTL" deploy churnp:1 --target pprod -q || fail "deploy churnp:1"
"$MLCTL" deploy concrete:1 --target reg -q || fail "deploy concrete:1"
cut -d, -f1-8 "$DATA/concrete.csv" | head -n 301 >crows.csv

run predict --target prod --input rows.csv --format jsonl --output ref.jsonl
expect_rc "predict --target prod --format jsonl" 0
run predict --target pprod --input rows.csv --format jsonl --proba --output refp.jsonl
expect_rc "predict --target pprod --proba --format jsonl" 0
run predict --target reg --input crows.csv --format jsonl --output refr.jsonl
expect_rc "predict --target reg --format jsonl" 0

promparse_selftest() { /usr/bin/python3 "$CLI_DIR/promparse.py" --self-test >/dev/null; }
check "promparse.py rejects each kind of bad text" promparse_selftest

# ---- the classifier, both protocols ----
serve_start --target prod || exit 1
expect_startup() {
	if wait_for "$TMP/serve.err" "^mlctl serve: serving $1 \\(target $2\\) on http://127\\.0\\.0\\.1:$SERVE_PORT\$" 50; then
		pass "startup line names $1, target $2 and the port"
	else
		fail "startup line: $(head -c 300 "$TMP/serve.err")"
	fi
}
expect_startup churn:1 prod
check "the server is running" kill -0 "$SERVE_PID"
curl -s -o /dev/null "http://127.0.0.1:$SERVE_PORT/metrics"   # warm: the counters below are deltas
curl -s "http://127.0.0.1:$SERVE_PORT/metrics" >metrics0.txt
"$MLCTL" --version | awk '{ print $2 }' >version.txt
pycheck - "$SERVE_PORT" rows.csv ref.jsonl metrics0.txt "$(cat version.txt)" <<'EOF'
import json, sys
from servelib import *
import promparse
port, rows_csv, ref_jsonl, m0, version = sys.argv[1:6]
header, rows, numeric = read_csv(rows_csv)
ref = [r["prediction"] for r in read_jsonl(ref_jsonl)]
check("predict gave 200 predictions of both classes", len(ref) == 200 and len(set(ref)) == 2, set(ref))
check("the text columns are state, area_code, the two plans",
      [h for h, n in zip(header, numeric) if not n] == ["state", "area_code", "international_plan", "voice_mail_plan"],
      [h for h, n in zip(header, numeric) if not n])
sent = {"v2": 0, "v1": 0, "rows": 0, "404": 0}
classes = {}

def v2(path, body, name):
    st, h, b = request(port, "POST", path, body)
    if not check(name + ": 200", st == 200, "%s %s" % (st, b[:300])):
        return None
    sent["v2"] += 1
    check(name + ": Content-Type application/json", h.get("content-type", "").startswith("application/json"), h)
    return exact(b)

def count(preds):
    sent["rows"] += len(preds)
    for p in preds:
        classes[p] = classes.get(p, 0) + 1

for model in ("prod", "churn"):
    name = "V2 /v2/models/%s/infer, 200 rows" % model
    r = v2("/v2/models/%s/infer" % model, v2_body(header, rows, numeric, id="rows-200"), name)
    if r is not None:
        p = output(r, "predictions")
        check(name + ": model_name churn, model_version \"1\", id echoed",
              (r.get("model_name"), r.get("model_version"), r.get("id")) == ("churn", "1", "rows-200"), r.get("model_name"))
        check(name + ": predictions BYTES [200]", p is not None and p["datatype"] == "BYTES" and p["shape"] == ["200"],
              p and (p.get("datatype"), p.get("shape")))
        got = flat(p["data"]) if p else []
        check(name + ": the predictions are predict's, row for row", got == ref, first_diff(got, ref))
        check(name + ": no probabilities from a model without them", output(r, "probabilities") is None, r.get("outputs"))
        count(got)

r = v2("/v2/models/prod/versions/1/infer", v2_body(header, rows[:7], numeric), "V2 versions/1/infer")
if r is not None:
    got = flat(output(r, "predictions")["data"])
    check("V2 versions/1/infer: predictions are predict's", got == ref[:7], first_diff(got, ref[:7]))
    check("V2 without an id: no id in the answer", "id" not in r, r.get("id"))
    count(got)
# integers as INT64, a row at a time
r = v2("/v2/models/prod/infer", v2_body(header, rows[10:11], numeric, id="x",
       intcols=("account_length", "number_vmail_messages", "total_day_calls")), "V2 with INT64 columns")
if r is not None:
    got = flat(output(r, "predictions")["data"])
    check("V2 with INT64 columns: the prediction is predict's", got == ref[10:11], first_diff(got, ref[10:11]))
    count(got)
r = v2("/v2/models/prod/infer", v2_body(header, rows[:3], numeric, outputs=["predictions"]), "V2 outputs [predictions]")
if r is not None:
    check("V2 outputs [predictions]: exactly that output", [o["name"] for o in r["outputs"]] == ["predictions"], r["outputs"])
    count(flat(output(r, "predictions")["data"]))

for form, body in (("instances", v1_instances(header, rows, numeric)), ("columnar inputs", v1_columnar(header, rows, numeric))):
    for model in ("prod", "churn"):
        name = "V1 /v1/models/%s:predict, %s" % (model, form)
        st, h, b = request(port, "POST", "/v1/models/%s:predict" % model, body)
        if check(name + ": 200", st == 200, "%s %s" % (st, b[:300])):
            sent["v1"] += 1
            r = exact(b)
            check(name + ": the predictions are predict's", r.get("predictions") == ref, first_diff(r.get("predictions", []), ref))
            check(name + ": model_version \"1\"", r.get("model_version") == "1", r.get("model_version"))
            count(r.get("predictions", []))

# ---- metadata, health, ready, 404s ----
st, h, b = request(port, "GET", "/v2")
if check("GET /v2: 200", st == 200, st):
    d = json.loads(b)
    check("GET /v2: name mlctl, the version, extensions []",
          (d.get("name"), d.get("version"), d.get("extensions")) == ("mlctl", version, []), d)
for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/prod/ready", "/v2/models/churn/ready",
             "/v2/models/prod/versions/1/ready"):
    st, h, b = request(port, "GET", path)
    check("GET %s: 200, empty body" % path, st == 200 and b == b"", "%s %r" % (st, b[:200]))
for path in ("/v2/models/prod", "/v2/models/churn", "/v2/models/prod/versions/1"):
    st, h, b = request(port, "GET", path)
    if not check("GET %s: 200" % path, st == 200, "%s %s" % (st, b[:200])):
        continue
    d = json.loads(b)
    ins = {i["name"]: i for i in d.get("inputs", [])}
    check("GET %s: name churn, versions [\"1\"] or [1], platform libsvm" % path,
          d.get("name") in ("churn", "prod") and [str(v) for v in d.get("versions", [])] == ["1"] and d.get("platform") == "libsvm", d)
    check("GET %s: every column, in order, then input" % path, [i["name"] for i in d.get("inputs", [])] == header + ["input"],
          [i["name"] for i in d.get("inputs", [])])
    want = {hd: ("FP64" if n else "BYTES") for hd, n in zip(header, numeric)}
    want["input"] = "FP64"
    check("GET %s: datatypes FP64 for numbers, BYTES for texts" % path,
          {k: v["datatype"] for k, v in ins.items()} == want, {k: v["datatype"] for k, v in ins.items()})
    check("GET %s: shapes [-1] and input [-1, 19]" % path,
          all(ins[hd]["shape"] == [-1] for hd in header) and ins.get("input", {}).get("shape") == [-1, 19],
          {k: v["shape"] for k, v in ins.items()})
    check("GET %s: outputs predictions BYTES" % path,
          [(o["name"], o["datatype"]) for o in d.get("outputs", [])] == [("predictions", "BYTES")], d.get("outputs"))
for method, path, body in (("GET", "/v2/models/prod/versions/2", None), ("GET", "/v2/models/prod/versions/2/ready", None),
                           ("POST", "/v2/models/prod/versions/2/infer", v2_body(header, rows[:1], numeric)),
                           ("GET", "/v2/models/nosuch", None), ("GET", "/v2/models/nosuch/ready", None),
                           ("POST", "/v2/models/nosuch/infer", v2_body(header, rows[:1], numeric)),
                           ("POST", "/v1/models/nosuch:predict", v1_instances(header, rows[:1], numeric))):
    st, h, b = request(port, method, path, body)
    check("%s %s: 404 with a JSON error" % (method, path), st == 404 and is_error_body(h, b), "%s %r %s" % (st, b[:200], h.get("content-type")))
    sent["404"] += 1

# ---- /metrics ----
st, h, b = request(port, "GET", "/metrics")
check("GET /metrics: 200, text/plain; version=0.0.4",
      st == 200 and h.get("content-type", "").replace(" ", "") .startswith("text/plain;version=0.0.4"), "%s %s" % (st, h.get("content-type")))
open("metrics.txt", "wb").write(b)
try:
    fams, s1 = promparse.parse(b.decode("utf-8"))
    _, s0 = promparse.parse(open(m0).read())
    check("/metrics parses with the strict text-format rules", True)
except (promparse.PromError, UnicodeDecodeError) as e:
    check("/metrics parses with the strict text-format rules", False, e)
    sys.exit(0)
V = promparse.value
def delta(name, **l):
    return V(s1, name, **l) - V(s0, name, **l)
for fam, t in (("mlctl_requests_total", "counter"), ("mlctl_request_errors_total", "counter"),
               ("mlctl_request_duration_microseconds", "histogram"), ("mlctl_rows_scored_total", "counter"),
               ("mlctl_predictions_total", "counter"), ("mlctl_reloads_total", "counter"),
               ("mlctl_reloads_failed_total", "counter"), ("mlctl_model_info", "gauge"),
               ("mlctl_in_flight_requests", "gauge")):
    check("/metrics: %s is a %s with HELP" % (fam, t), fam in fams and fams[fam]["type"] == t and fams[fam]["help"],
          fams.get(fam))
check("/metrics: requests_total{route=v2_infer,code=200} counted every V2 infer",
      delta("mlctl_requests_total", route="v2_infer", code="200") == sent["v2"], "%s vs %d" % (delta("mlctl_requests_total", route="v2_infer", code="200"), sent["v2"]))
check("/metrics: requests_total{route=v1_predict,code=200} counted every V1 predict",
      delta("mlctl_requests_total", route="v1_predict", code="200") == sent["v1"], "%s vs %d" % (delta("mlctl_requests_total", route="v1_predict", code="200"), sent["v1"]))
check("/metrics: requests_total{route=v2_server} counted GET /v2", delta("mlctl_requests_total", route="v2_server", code="200") == 1,
      delta("mlctl_requests_total", route="v2_server", code="200"))
check("/metrics: request_errors_total{code=404} counted every 404", delta("mlctl_request_errors_total", code="404") == sent["404"],
      "%s vs %d" % (delta("mlctl_request_errors_total", code="404"), sent["404"]))
check("/metrics: no other errors", delta("mlctl_request_errors_total") == sent["404"], delta("mlctl_request_errors_total"))
check("/metrics: rows_scored_total{model=churn,version=1} counted every row",
      delta("mlctl_rows_scored_total", model="churn", version="1") == sent["rows"], "%s vs %d" % (delta("mlctl_rows_scored_total", model="churn", version="1"), sent["rows"]))
check("/metrics: predictions_total per class as answered",
      {c: delta("mlctl_predictions_total", model="churn", version="1", **{"class": c}) for c in classes} == classes,
      "%s vs %s" % ({c: delta("mlctl_predictions_total", **{"class": c}) for c in classes}, classes))
check("/metrics: predictions_total sums to the rows scored", delta("mlctl_predictions_total") == delta("mlctl_rows_scored_total"),
      "%s vs %s" % (delta("mlctl_predictions_total"), delta("mlctl_rows_scored_total")))
check("/metrics: latency histogram counted the V2 infers",
      delta("mlctl_request_duration_microseconds_count", route="v2_infer") >= sent["v2"], delta("mlctl_request_duration_microseconds_count", route="v2_infer"))
check("/metrics: model_info{model=churn,version=1,target=prod,role=primary} 1",
      s1.get(("mlctl_model_info", (("model", "churn"), ("role", "primary"), ("target", "prod"), ("version", "1")))) == 1,
      [k for k in s1 if k[0] == "mlctl_model_info"])
check("/metrics: one model served", V(s1, "mlctl_model_info") == 1, V(s1, "mlctl_model_info"))
check("/metrics: no reloads", V(s1, "mlctl_reloads_total") == 0 and V(s1, "mlctl_reloads_failed_total") == 0,
      (V(s1, "mlctl_reloads_total"), V(s1, "mlctl_reloads_failed_total")))
check("/metrics: nothing in flight but this scrape", V(s1, "mlctl_in_flight_requests") <= 1, V(s1, "mlctl_in_flight_requests"))
EOF

# promtool: any parse error fails, and so does every lint problem but one: the interface
# counts time in microseconds (mlctl_request_duration_microseconds), which promtool's
# "base unit" lint flags on every *_microseconds* family.
if command -v promtool >/dev/null; then
	promtool check metrics <metrics.txt >promtool.out 2>&1
	prc=$?
	grep -Ev '^mlctl_[a-z_]*microseconds[a-z_]* use base unit "seconds" instead of "microseconds"$' promtool.out >promtool.rest
	if [ $prc -eq 0 ] || { [ $prc -eq 3 ] && [ ! -s promtool.rest ]; }; then
		pass "promtool check metrics accepts /metrics"
	else
		fail "promtool check metrics (exit $prc): $(head -c 600 promtool.out)"
	fi
else
	echo "note: $TEST_NAME: no promtool (Debian package prometheus): promtool check skipped" >&2
fi
serve_stop
check "SIGTERM: exit 0" test "$serve_rc" -eq 0

# ---- a probability model: probabilities byte for byte ----
serve_start --target pprod || exit 1
pycheck - "$SERVE_PORT" rows.csv refp.jsonl <<'EOF'
import json, sys
from servelib import *
port, rows_csv, ref_jsonl = sys.argv[1:4]
header, rows, numeric = read_csv(rows_csv)
ref = read_jsonl(ref_jsonl)
check("predict --proba gave 200 rows with probabilities", len(ref) == 200 and all("proba" in r for r in ref), len(ref))
st, h, b = request(port, "POST", "/v2/models/pprod/infer", v2_body(header, rows, numeric, id="p"))
if check("V2 probability model: 200", st == 200, "%s %s" % (st, b[:300])):
    r = exact(b)
    p, q = output(r, "predictions"), output(r, "probabilities")
    check("V2: predictions are predict's", p and flat(p["data"]) == [x["prediction"] for x in ref],
          p and first_diff(flat(p["data"]), [x["prediction"] for x in ref]))
    if check("V2: probabilities FP64 [200, 2] with the classes in parameters",
             q is not None and q["datatype"] == "FP64" and q["shape"] == ["200", "2"] and "classes" in q.get("parameters", {}),
             q and {k: q[k] for k in q if k != "data"}):
        cls = json.loads(q["parameters"]["classes"])
        check("V2: the classes are predict's", sorted(cls) == sorted(ref[0]["proba"]), cls)
        got = flat(q["data"])
        want = [x["proba"][c] for x in ref for c in cls]
        check("V2: every probability's text is predict --proba's, byte for byte", got == want, first_diff(got, want))
for sel, names in ((["probabilities"], ["probabilities"]), (["predictions"], ["predictions"]),
                   (["predictions", "probabilities"], ["predictions", "probabilities"])):
    st, h, b = request(port, "POST", "/v2/models/pprod/infer", v2_body(header, rows[:2], numeric, outputs=sel))
    check("V2 outputs %s: exactly those" % sel, st == 200 and sorted(o["name"] for o in exact(b)["outputs"]) == names,
          "%s %s" % (st, b[:300]))
st, h, b = request(port, "POST", "/v1/models/pprod:predict", v1_instances(header, rows, numeric))
if check("V1 probability model: 200", st == 200, "%s %s" % (st, b[:300])):
    r = exact(b)
    check("V1: predictions are predict's", r.get("predictions") == [x["prediction"] for x in ref],
          first_diff(r.get("predictions", []), [x["prediction"] for x in ref]))
    cls = r.get("classes", [])
    got = flat(r.get("probabilities", []))
    want = [x["proba"].get(c) for x in ref for c in cls]
    check("V1: probabilities byte for byte, classes listed", cls and got == want, first_diff(got, want) or cls)
st, h, b = request(port, "GET", "/v2/models/pprod")
if check("GET /v2/models/pprod: 200", st == 200, st):
    d = json.loads(b)
    check("metadata: outputs predictions BYTES and probabilities FP64",
          [(o["name"], o["datatype"]) for o in d.get("outputs", [])] == [("predictions", "BYTES"), ("probabilities", "FP64")], d.get("outputs"))
EOF
serve_stop
check "SIGTERM: exit 0 (probability model)" test "$serve_rc" -eq 0

# ---- a regression model: FP64 predictions, and the "input" [N, d] tensor ----
serve_start --target reg || exit 1
pycheck - "$SERVE_PORT" crows.csv refr.jsonl <<'EOF'
import json, sys
from servelib import *
port, rows_csv, ref_jsonl = sys.argv[1:4]
header, rows, numeric = read_csv(rows_csv)
ref = [r["prediction"] for r in read_jsonl(ref_jsonl)]
check("predict gave 300 regression values", len(ref) == 300, len(ref))
for name, body in (("per-column inputs", v2_body(header, rows, numeric, id="c")),
                   ("input [N, d], flat data", v2_tensor_body(rows, id="c")),
                   ("input [N, d], nested data", v2_tensor_body(rows, nested=True, id="c"))):
    st, h, b = request(port, "POST", "/v2/models/reg/infer", body)
    if check("V2 regression, %s: 200" % name, st == 200, "%s %s" % (st, b[:300])):
        r = exact(b)
        p = output(r, "predictions")
        check("V2 regression, %s: predictions FP64 [300]" % name, p and p["datatype"] == "FP64" and p["shape"] == ["300"],
              p and {k: p[k] for k in p if k != "data"})
        got = flat(p["data"]) if p else []
        check("V2 regression, %s: every value's text is predict's" % name, got == ref, first_diff(got, ref))
        check("V2 regression, %s: id echoed, version \"1\", model concrete" % name,
              (r.get("id"), r.get("model_version"), r.get("model_name")) == ("c", "1", "concrete"), r.get("id"))
st, h, b = request(port, "POST", "/v1/models/reg:predict", v1_columnar(header, rows, numeric))
if check("V1 regression: 200", st == 200, "%s %s" % (st, b[:300])):
    got = exact(b).get("predictions", [])
    check("V1 regression: every value's text is predict's", got == ref, first_diff(got, ref))
st, h, b = request(port, "GET", "/v2/models/concrete")
if check("GET /v2/models/concrete: 200", st == 200, st):
    d = json.loads(b)
    check("regression metadata: 8 FP64 columns and input [-1, 8], predictions FP64",
          [(i["name"], i["datatype"]) for i in d["inputs"]] == [(c, "FP64") for c in header] + [("input", "FP64")]
          and [i["shape"] for i in d["inputs"]][-1] == [-1, 8]
          and [(o["name"], o["datatype"]) for o in d["outputs"]] == [("predictions", "FP64")], d)
EOF
serve_stop
check "SIGTERM: exit 0 (regression model)" test "$serve_rc" -eq 0

# ---- a fixed model by reference; usage and not-found exits ----
serve_start churn:1 || exit 1
check "a model reference: serving churn:1 (no target)" \
	wait_for "$TMP/serve.err" "^mlctl serve: serving churn:1 on http://127\\.0\\.0\\.1:$SERVE_PORT\$" 50
serve_stop
check "SIGTERM: exit 0 (a model reference)" test "$serve_rc" -eq 0
# (under timeout: a server that starts when it should not would never return)
trun() { timeout 20 "$MLCTL" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }

# ---- a signed .mlpkg file, verified with --pubkey; another key is refused ----
(cd "$TMP" && "$MLCTL" keygen -q && "$MLCTL" package churn:1 -o churn.mlpkg --sign mlctl.key -q &&
	mkdir other && cd other && "$MLCTL" keygen -q) >/dev/null 2>&1
serve_start "$TMP/churn.mlpkg" --pubkey "$TMP/mlctl.pub" || exit 1
check "a package file: serving churn:1" \
	wait_for "$TMP/serve.err" "^mlctl serve: serving churn:1 on http://127\\.0\\.0\\.1:$SERVE_PORT\$" 50
check "a package file: ready" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SERVE_PORT/v2/models/churn/ready")" = 200
serve_stop
trun serve "$TMP/churn.mlpkg" --pubkey "$TMP/other/mlctl.pub" --port 0
expect_rc "a package signed by another key is refused (exit 1)" 1
trun serve --target nosuch --port 0
expect_rc "serve --target of an unknown target exits 66" 66
trun serve nosuch:1 --port 0
expect_rc "serve of an unknown model exits 66" 66
trun serve --port 0
expect_rc "serve without a model or target exits 64" 64
