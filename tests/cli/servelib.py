"""servelib.py - helpers for the `mlctl serve` end-to-end tests (t008*.sh), standard library
only: requests over http.client or raw sockets, request bodies built from CSV rows, JSON read
with its number texts kept (to compare numbers byte for byte), and PASS/FAIL lines that
lib.sh's pycheck reports."""
import csv
import http.client
import json
import socket
import sys

failures = 0


def check(name, cond, why=""):
    """Print PASS name or FAIL name: why (pycheck in lib.sh reports them)."""
    global failures
    if cond:
        print("PASS " + name)
    else:
        failures += 1
        print("FAIL %s: %s" % (name, str(why)[:600].replace("\n", " ")))
    sys.stdout.flush()
    return bool(cond)


def exact(text):
    """Parse JSON keeping every number as its text, so numbers compare byte for byte."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, parse_float=str, parse_int=str)


def request(port, method, path, body=None, headers=None, conn=None, timeout=30):
    """One request; (status, headers as a dict with lower-case names, body bytes). With conn,
    on that (keep-alive) connection."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        if own:
            conn.close()


def is_error_body(hdrs, body):
    """An error answer: JSON {"error": "<non-empty string>"} with Content-Type application/json."""
    try:
        d = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return (isinstance(d, dict) and isinstance(d.get("error"), str) and d["error"] != ""
            and hdrs.get("content-type", "").startswith("application/json"))


def read_csv(path):
    """(header, rows, numeric) of a CSV: rows as lists of the fields' texts; numeric[i] when
    every field of column i is a number or empty."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    numeric = []
    for i in range(len(header)):
        ok = True
        for r in rows:
            if r[i] == "":
                continue
            try:
                float(r[i])
            except ValueError:
                ok = False
                break
        numeric.append(ok)
    return header, rows, numeric


def _val(text, num):
    if text == "":
        return "null"
    return text if num else json.dumps(text)


def v2_body(header, rows, numeric, id=None, outputs=None, intcols=()):
    """A V2 infer request with one input per column: numbers FP64 (INT64 for the columns in
    intcols), written as the CSV writes them; texts BYTES."""
    inputs = []
    for i, name in enumerate(header):
        if numeric[i]:
            dt = "INT64" if name in intcols else "FP64"
        else:
            dt = "BYTES"
        data = ",".join(_val(r[i], numeric[i]) for r in rows)
        inputs.append('{"name":%s,"datatype":"%s","shape":[%d],"data":[%s]}'
                      % (json.dumps(name), dt, len(rows), data))
    body = '{'
    if id is not None:
        body += '"id":%s,' % json.dumps(id)
    body += '"inputs":[%s]' % ",".join(inputs)
    if outputs is not None:
        body += ',"outputs":[%s]' % ",".join('{"name":%s}' % json.dumps(o) for o in outputs)
    return body + '}'


def v2_tensor_body(rows, nested=False, id=None):
    """A V2 infer request with one FP64 tensor "input" of shape [N, d] (numeric rows)."""
    if nested:
        data = ",".join("[%s]" % ",".join(r) for r in rows)
    else:
        data = ",".join(",".join(r) for r in rows)
    body = '{'
    if id is not None:
        body += '"id":%s,' % json.dumps(id)
    return body + ('"inputs":[{"name":"input","datatype":"FP64","shape":[%d,%d],"data":[%s]}]}'
                   % (len(rows), len(rows[0]), data))


def v1_instances(header, rows, numeric):
    objs = []
    for r in rows:
        objs.append("{%s}" % ",".join("%s:%s" % (json.dumps(h), _val(r[i], numeric[i]))
                                      for i, h in enumerate(header)))
    return '{"instances":[%s]}' % ",".join(objs)


def v1_columnar(header, rows, numeric):
    cols = []
    for i, h in enumerate(header):
        cols.append("%s:[%s]" % (json.dumps(h), ",".join(_val(r[i], numeric[i]) for r in rows)))
    return '{"inputs":{%s}}' % ",".join(cols)


def read_jsonl(path):
    """mlctl predict --format jsonl output, numbers as texts."""
    with open(path) as f:
        return [exact(line) for line in f if line.strip()]


def output(resp, name):
    """The V2 response's output called name, or None."""
    for o in resp.get("outputs", []):
        if o.get("name") == name:
            return o
    return None


def flat(data):
    """A tensor's data, flattened (the server may nest it as the shape says)."""
    out = []
    for x in data:
        if isinstance(x, list):
            out.extend(flat(x))
        else:
            out.append(x)
    return out


def first_diff(a, b):
    if len(a) != len(b):
        return "%d values vs %d" % (len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "row %d: %r vs %r" % (i + 1, x, y)
    return ""


def raw_connect(port, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_response(s, timeout=30):
    """Read one HTTP/1.1 response from a raw socket: (status, headers dict, body bytes), or
    (None, {}, what was read) when the connection closed (or timed out) before a status."""
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except (socket.timeout, ConnectionError):
        pass
    if b"\r\n\r\n" not in buf:
        return None, {}, buf
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None, {}, buf
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0") or 0)
    try:
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    except (socket.timeout, ConnectionError):
        pass
    return status, hdrs, rest[:n]


def rss_kb(pid):
    """VmRSS of a process in kB (from /proc/PID/status), or -1."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1
