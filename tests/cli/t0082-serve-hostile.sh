#!/bin/sh
# t0082-serve-hostile.sh — mlctl serve under hostile input: malformed JSON, wrong datatypes,
# shape/data mismatches, missing and unknown columns, "NaN" and 1e999, 10,000-deep nesting,
# invalid UTF-8 (400); a 100 MB Content-Length and a chunked body over --max-body (413,
# answered before the body is read); a body sent one byte a second (408 soon after
# --timeout); 2,000 idle connections (a new one is still served, memory stays bounded);
# unknown routes (404), wrong methods (405 with Allow), a 100 KB request line or header
# (414, 431). Every error is JSON {"error": "..."}, but for those two, which libmicrohttpd
# refuses itself with its own page; after each, a good request still succeeds and the
# server is alive.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
churn="$DATA/mlc_churn.csv"
head -n 1001 "$churn" >train.csv
{ head -n 1 "$churn"; sed -n '1002,1021p' "$churn"; } | cut -d, -f1-19 >rows.csv
"$MLCTL" train train.csv --name churn --label churn -q || fail "train churn"
"$MLCTL" deploy churn:1 --target prod -q || fail "deploy churn:1"
# room for 2,000 idle connections and more, for the server and the client
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null
check "ulimit -n is at least 4096 ($(ulimit -n))" test "$(ulimit -n)" -ge 4096

serve_start --target prod --timeout 2 --max-body 262144 || exit 1
pycheck - "$SERVE_PORT" "$SERVE_PID" <<'EOF'
import json, os, socket, sys, time
from servelib import *
port, pid = int(sys.argv[1]), int(sys.argv[2])
header, rows, numeric = read_csv("rows.csv")
good = v2_body(header, rows[:3], numeric)

def alive(after):
    try:
        st, h, b = request(port, "POST", "/v2/models/prod/infer", good)
        ok = st == 200 and len(flat(output(exact(b), "predictions")["data"])) == 3
    except Exception as e:
        st, ok = "connection error %s" % e.__class__.__name__, False
    try:
        os.kill(pid, 0)
        live = True
    except OSError:
        live = False
    check("after %s: a good request succeeds and the server is alive" % after, ok and live, "%s alive=%s" % (st, live))

def expect(name, st, h, b, want):
    check("%s: %s" % (name, want), st == want, "got %s: %r" % (st, b[:200]))
    check("%s: the body is JSON {\"error\": \"...\"}" % name, is_error_body(h, b), "%r (%s)" % (b[:200], h.get("content-type")))

def post(name, body, want=400, path="/v2/models/prod/infer"):
    try:
        st, h, b = request(port, "POST", path, body)
    except Exception as e:
        st, h, b = "connection error %s" % e.__class__.__name__, {}, b""
    expect(name, st, h, b, want)
    alive(name)
    return b

def inputs(**override):
    """The good V2 request's inputs as objects, some replaced (None: dropped)."""
    d = json.loads(good)
    out = []
    for i in d["inputs"]:
        if i["name"] in override:
            if override[i["name"]] is None:
                continue
            i = dict(i, **override[i["name"]])
        out.append(i)
    return out

def body(ins, extra=None):
    return json.dumps(dict({"inputs": ins}, **(extra or {})))

# ---- 400s ----
post("malformed JSON", '{"inputs": [')
post("malformed JSON (trailing garbage)", good + "x")
post("not an object", "[1, 2, 3]")
post("empty body", "")
post("wrong datatype: BYTES for a number column", body(inputs(account_length={"datatype": "BYTES", "data": ["a", "b", "c"]})))
# (FP64 for a text column is no error: a number stands for its text, as in a CSV — schema.h)
post("wrong datatype: a number in BYTES data", body(inputs(state={"data": ["KS", 2, "OH"]})))
post("wrong datatype: BOOL", body(inputs(voice_mail_plan={"datatype": "BOOL", "data": [True, False, True]})))
post("wrong datatype: 1.5 in INT64 data", body(inputs(account_length={"datatype": "INT64", "data": [1, 1.5, 3]})))
post("unknown datatype", body(inputs(account_length={"datatype": "FP99"})))
post("a string in FP64 data", body(inputs(account_length={"data": [1, "x", 3]})))
post("shape [3], 2 values", body(inputs(account_length={"data": [1, 2]})))
post("shape [4] against 3-row inputs", body(inputs(account_length={"shape": [4], "data": [1, 2, 3, 4]})))
post("negative shape", body(inputs(account_length={"shape": [-3]})))
post("missing column", body(inputs(account_length=None)))
ins = inputs()
ins.append({"name": "no_such_column", "datatype": "FP64", "shape": [3], "data": [1, 2, 3]})
post("unknown column", body(ins))
ins = inputs()
ins.append(dict(ins[1]))
post("a column given twice", body(ins))
post('"NaN" string in FP64', body(inputs(account_length={"data": [1, "NaN", 3]})))
post("NaN literal", body(inputs(account_length={"data": ["@", 2, 3]})).replace('"@"', "NaN"))
post("1e999 in FP64", body(inputs(account_length={"data": ["@", 2, 3]})).replace('"@"', "1e999"))
post("-1e999 in FP64", body(inputs(total_day_minutes={"data": [1.5, "@", 3]})).replace('"@"', "-1e999"))
post("10,000-deep nesting", '{"inputs":' + "[" * 10000 + "]" * 10000 + "}")
post("10,000-deep nesting in data", body(inputs(account_length={"data": json.loads("[" * 50 + "1" + "]" * 50)})).replace(
    "[" * 50, "[" * 10000).replace("]" * 50, "]" * 10000))
post("V1: malformed JSON", "{", path="/v1/models/prod:predict")
inst = json.loads(v1_instances(header, rows[:1], numeric))["instances"][0]
post("V1: missing column", json.dumps({"instances": [{k: v for k, v in inst.items() if k != "state"}]}),
     path="/v1/models/prod:predict")
post("V1: unknown column", json.dumps({"instances": [dict(inst, nosuch=1)]}), path="/v1/models/prod:predict")
post("V1: a text for a number", json.dumps({"instances": [dict(inst, account_length="many")]}), path="/v1/models/prod:predict")
post("V1: neither instances nor inputs", '{"rows": []}', path="/v1/models/prod:predict")
# invalid UTF-8 in a BYTES value (raw bytes: JSON cannot carry them otherwise)
raw = good.encode().replace(b'"KS"', b'"K\xff\xfeS"', 1)
if raw == good.encode():
    raw = good.encode().replace(b'"data":["', b'"data":["\xc3\x28', 1)
post("invalid UTF-8 in a BYTES value", raw)

# ---- 404, 405 ----
for path in ("/nosuch", "/v2/nosuch", "/v2/models/prod/versions/abc/infer", "/v3/models/prod/infer", "/v1/models/prod:explain"):
    st, h, b = request(port, "GET", path)
    expect("GET %s" % path, st, h, b, 404)
for method, path, allow in (("GET", "/v2/models/prod/infer", "POST"), ("DELETE", "/v2/models/prod/infer", "POST"),
                            ("POST", "/v2/health/live", "GET"), ("PUT", "/metrics", "GET"), ("GET", "/v1/models/prod:predict", "POST")):
    st, h, b = request(port, method, path, good if method != "GET" else None)
    expect("%s %s" % (method, path), st, h, b, 405)
    check("%s %s: Allow names %s" % (method, path, allow), allow in h.get("allow", ""), h.get("allow"))
alive("404s and 405s")

# ---- 413: a 100 MB Content-Length, refused before the body is read ----
s = raw_connect(port)
s.sendall(b"POST /v2/models/prod/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 104857600\r\n\r\n")
sent = 0
chunk = b" " * 65536
s.settimeout(0.2)
st = None
t0 = time.time()
while sent < 104857600 and time.time() - t0 < 30:
    try:
        if s.recv(1, socket.MSG_PEEK):
            break
    except socket.timeout:
        pass
    except ConnectionError:
        break
    try:
        s.sendall(chunk)
        sent += len(chunk)
    except (ConnectionError, socket.timeout):
        break
st, h, b = read_response(s, timeout=10)
s.close()
expect("Content-Length 104857600", st, h, b, 413)
check("Content-Length 104857600: answered with %d bytes of the body sent (under 10 MB)" % sent, sent < 10 * 1048576, sent)
alive("a 100 MB Content-Length")

# ---- 413: a chunked body over --max-body ----
s = raw_connect(port)
s.sendall(b"POST /v2/models/prod/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n")
sent = 0
s.settimeout(0.2)
t0 = time.time()
while sent < 4 * 1048576 and time.time() - t0 < 30:
    try:
        if s.recv(1, socket.MSG_PEEK):
            break
    except socket.timeout:
        pass
    except ConnectionError:
        break
    try:
        s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sent += len(chunk)
    except (ConnectionError, socket.timeout):
        break
st, h, b = read_response(s, timeout=10)
s.close()
expect("chunked body over --max-body 262144", st, h, b, 413)
check("chunked body: refused before 4 MiB were sent (%d)" % sent, sent < 4 * 1048576, sent)
alive("a chunked body over --max-body")

# ---- 408: a body one byte a second, --timeout 2 ----
s = raw_connect(port)
payload = good.encode()
s.sendall(b"POST /v2/models/prod/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(payload))
t0 = time.time()
s.settimeout(1.0)
got = False
for i in range(len(payload)):
    if time.time() - t0 > 20:
        break
    try:
        if s.recv(1, socket.MSG_PEEK):
            got = True
            break
    except socket.timeout:
        pass
    except ConnectionError:
        break
    try:
        s.sendall(payload[i:i + 1])
    except (ConnectionError, socket.timeout):
        break
st, h, b = read_response(s, timeout=5)
took = time.time() - t0
s.close()
expect("a body at one byte a second", st, h, b, 408)
check("a body at one byte a second: answered within 10 s of --timeout 2 (%.1f s)" % took, took < 12, took)
alive("a slow body")

# ---- request line and header of 100 KB ----
for name, head in (("a 100 KB request line", b"GET /v2/" + b"a" * 102400 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
                   ("a 100 KB header", b"GET /v2 HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 102400 + b"\r\n\r\n")):
    s = raw_connect(port)
    try:
        s.sendall(head)
    except ConnectionError:
        pass
    st, h, b = read_response(s, timeout=10)
    s.close()
    # libmicrohttpd refuses these itself, before the server sees a request, with its own
    # short HTML page: the status says what was wrong (mlctl-serve(1) says so)
    want = 414 if "line" in name else 431
    check("%s: %d from libmicrohttpd" % (name, want), st == want, "got %s %r" % (st, b[:100]))
    alive(name)

# ---- 2,000 idle connections ----
idle = []
err = None
try:
    for i in range(2000):
        idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
except OSError as e:
    err = e
check("2,000 idle connections opened", len(idle) == 2000, "%d, then %s" % (len(idle), err))
st, h, b = request(port, "POST", "/v2/models/prod/infer", good, timeout=10)
check("with 2,000 idle connections open: a good request on a new connection succeeds", st == 200, st)
r = rss_kb(pid)
check("with 2,000 idle connections open: server RSS %d kB < 200 MB" % r, 0 < r < 200 * 1024, r)
for s in idle:
    s.close()
alive("2,000 idle connections")
r = rss_kb(pid)
check("at the end: server RSS %d kB < 200 MB" % r, 0 < r < 200 * 1024, r)
EOF
check "the server is alive at the end" kill -0 "$SERVE_PID"
serve_stop
check "SIGTERM: exit 0" test "$serve_rc" -eq 0
check "stderr has no sanitizer or assertion report" sh -c "! grep -Eq 'AddressSanitizer|runtime error|Assertion' '$TMP/serve.err'"
