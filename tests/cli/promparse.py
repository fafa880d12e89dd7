#!/usr/bin/python3
"""promparse.py - a strict parser of the Prometheus text exposition format 0.0.4, to check
what `mlctl serve` answers on /metrics (t0080-serve.sh).

    parse(text) -> (families, samples) or raises PromError naming the line

families: {name: {"type": ..., "help": ...}}; samples: {(sample name, ((label, value), ...)
sorted): float}. Checked: every line ends with a newline; HELP and TYPE lines name a valid
metric name, at most one of each per family, TYPE before the family's first sample and
its type one of counter, gauge, histogram, summary, untyped; metric and label names by their
grammar (label names not starting with "__"), label values quoted with only the \\\\ \\" \\n
escapes, values as Go's ParseFloat reads them (and Nan, +Inf, -Inf), an optional integer
timestamp; a family's samples are contiguous (no family comes back after another); no
duplicate series; counters are non-negative; a histogram's series are NAME_bucket with an
"le" label, NAME_sum and NAME_count, its buckets per label set ascending by le, cumulative
(non-decreasing), ending with le="+Inf", and NAME_count equal to the +Inf bucket; a
summary's quantile label is a number.

Run as a program: promparse.py FILE checks FILE (- for stdin), prints the error and exits
1, or prints "ok: N families, N samples". promparse.py --self-test checks that it rejects
each kind of bad text.
"""
import math
import re
import sys

METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf|inf|NaN|nan)$")
TIMESTAMP = re.compile(r"-?[0-9]+$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(Exception):
    pass


def _float(text, where):
    if not FLOAT.match(text):
        raise PromError("%s: value %r is not a number" % (where, text))
    return float(text)


def _labels(line, i, where):
    """Parse {a="x",b="y"} from line[i] == "{"; (labels list, index after "}")."""
    labels = []
    i += 1
    while True:
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        m = LABEL.match(line, i)
        if not m:
            raise PromError("%s: bad label name at column %d" % (where, i + 1))
        name = m.group(0)
        if name.startswith("__"):
            raise PromError("%s: label name %r is reserved" % (where, name))
        i = m.end()
        if line[i:i + 2] != '="':
            raise PromError("%s: expected =\" after label %s" % (where, name))
        i += 2
        val = []
        while True:
            if i >= len(line):
                raise PromError("%s: label value of %s not closed" % (where, name))
            c = line[i]
            if c == "\\":
                nxt = line[i + 1:i + 2]
                if nxt == "\\":
                    val.append("\\")
                elif nxt == '"':
                    val.append('"')
                elif nxt == "n":
                    val.append("\n")
                else:
                    raise PromError("%s: bad escape \\%s in label %s" % (where, nxt, name))
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                val.append(c)
                i += 1
        if any(n == name for n, _ in labels):
            raise PromError("%s: label %s twice" % (where, name))
        labels.append((name, "".join(val)))
        if i < len(line) and line[i] == ",":
            i += 1
            continue
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        raise PromError("%s: expected , or } at column %d" % (where, i + 1))


def _family_of(name, families):
    """The family a sample belongs to: itself, or NAME for NAME_bucket/_sum/_count of a
    histogram or summary NAME declared before."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[:-len(suffix)]
            f = families.get(base)
            if f and f["type"] in ("histogram", "summary"):
                if suffix == "_bucket" and f["type"] != "histogram":
                    continue
                return base
    return name


def parse(text):
    if text and not text.endswith("\n"):
        raise PromError("the last line does not end with a newline")
    families = {}
    samples = {}
    order = []          # families in the order their samples came
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % n
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not METRIC.fullmatch(parts[2]):
                    raise PromError("%s: %s without a valid metric name" % (where, parts[1]))
                name = parts[2]
                f = families.setdefault(name, {"type": None, "help": None, "seen": False})
                if parts[1] == "TYPE":
                    t = parts[3].strip() if len(parts) > 3 else ""
                    if t not in TYPES:
                        raise PromError("%s: unknown type %r" % (where, t))
                    if f["type"] is not None:
                        raise PromError("%s: second TYPE line for %s" % (where, name))
                    if f["seen"]:
                        raise PromError("%s: TYPE for %s after its samples" % (where, name))
                    f["type"] = t
                else:
                    if f["help"] is not None:
                        raise PromError("%s: second HELP line for %s" % (where, name))
                    h = parts[3] if len(parts) > 3 else ""
                    if re.search(r"\\[^\\n]", h.replace("\\\\", "")):
                        raise PromError("%s: bad escape in HELP of %s" % (where, name))
                    f["help"] = h
            continue
        m = METRIC.match(line)
        if not m:
            raise PromError("%s: bad metric name: %r" % (where, line[:60]))
        name = m.group(0)
        i = m.end()
        labels = []
        if i < len(line) and line[i] == "{":
            labels, i = _labels(line, i, where)
        rest = line[i:]
        if not rest.startswith(" ") and not rest.startswith("\t"):
            raise PromError("%s: expected a blank before the value" % where)
        fields = rest.split()
        if len(fields) not in (1, 2):
            raise PromError("%s: expected a value and an optional timestamp" % where)
        value = _float(fields[0], where)
        if len(fields) == 2 and not TIMESTAMP.match(fields[1]):
            raise PromError("%s: bad timestamp %r" % (where, fields[1]))
        fam = _family_of(name, families)
        f = families.setdefault(fam, {"type": None, "help": None, "seen": False})
        t = f["type"] or "untyped"
        if fam != name and t in ("histogram", "summary"):
            pass
        elif t == "histogram":
            raise PromError("%s: histogram %s has a sample %s" % (where, fam, name))
        if not f["seen"]:
            f["seen"] = True
            order.append(fam)
        elif order[-1] != fam:
            raise PromError("%s: samples of %s are not together" % (where, fam))
        if t == "counter" and not value >= 0:
            raise PromError("%s: counter %s is %s" % (where, name, fields[0]))
        if name.endswith("_bucket") and t == "histogram":
            le = dict(labels).get("le")
            if le is None:
                raise PromError("%s: bucket without le" % where)
            _float(le, where)
        if t == "summary" and name == fam:
            q = dict(labels).get("quantile")
            if q is None:
                raise PromError("%s: summary sample without quantile" % where)
            _float(q, where)
        key = (name, tuple(sorted(labels)))
        if key in samples:
            raise PromError("%s: duplicate series %s%s" % (where, name, dict(labels)))
        samples[key] = value
    for fam, f in families.items():
        if f["type"] == "histogram":
            _check_histogram(fam, samples)
    return families, samples


def _check_histogram(fam, samples):
    groups = {}
    for (name, labels), v in samples.items():
        if name == fam + "_bucket":
            rest = tuple(l for l in labels if l[0] != "le")
            groups.setdefault(rest, []).append((float(dict(labels)["le"]), v))
    for rest, buckets in groups.items():
        les = [b[0] for b in buckets]
        if les != sorted(les) or len(set(les)) != len(les):
            raise PromError("%s%s: buckets are not in ascending le order" % (fam, dict(rest)))
        if not math.isinf(les[-1]):
            raise PromError("%s%s: no le=\"+Inf\" bucket" % (fam, dict(rest)))
        counts = [b[1] for b in buckets]
        if any(b < a for a, b in zip(counts, counts[1:])):
            raise PromError("%s%s: bucket counts decrease" % (fam, dict(rest)))
        c = samples.get((fam + "_count", rest))
        if c is None:
            raise PromError("%s%s: no _count" % (fam, dict(rest)))
        if c != counts[-1]:
            raise PromError("%s%s: _count %s != +Inf bucket %s" % (fam, dict(rest), c, counts[-1]))
        if (fam + "_sum", rest) not in samples:
            raise PromError("%s%s: no _sum" % (fam, dict(rest)))
    for (name, labels) in samples:
        if name in (fam + "_count", fam + "_sum") and labels not in groups:
            raise PromError("%s%s: %s without buckets" % (fam, dict(labels), name))


def value(samples, name, **labels):
    """Sum of the samples called name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


BAD = [
    ("no final newline", "a 1"),
    ("bad metric name", "1a 1\n"),
    ("bad label name", 'a{1b="x"} 1\n'),
    ("reserved label name", 'a{__x="x"} 1\n'),
    ("unquoted label value", "a{b=x} 1\n"),
    ("bad escape", 'a{b="\\t"} 1\n'),
    ("unclosed label value", 'a{b="x} 1\n'),
    ("bad value", "a 1x\n"),
    ("bad timestamp", "a 1 1.5\n"),
    ("unknown type", "# TYPE a countr\na 1\n"),
    ("two TYPE lines", "# TYPE a counter\n# TYPE a counter\na 1\n"),
    ("two HELP lines", "# HELP a x\n# HELP a y\na 1\n"),
    ("TYPE after samples", "a 1\n# TYPE a counter\n"),
    ("duplicate series", 'a{b="1"} 1\na{b="1"} 2\n'),
    ("duplicate series, labels reordered", 'a{b="1",c="2"} 1\na{c="2",b="1"} 2\n'),
    ("negative counter", "# TYPE a counter\na -1\n"),
    ("families interleaved", "a 1\nb 1\na{x=\"y\"} 1\n"),
    ("histogram without +Inf",
     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"),
    ("histogram buckets descending",
     "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
    ("histogram counts decrease",
     "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
    ("histogram _count != +Inf",
     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"),
    ("histogram without _count",
     "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"),
    ("histogram plain sample", "# TYPE h histogram\nh 1\n"),
    ("bucket without le", "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n"),
]
GOOD = ('# HELP a_total A \\\\ counter\\n.\n# TYPE a_total counter\na_total{route="x\\"y\\\\z\\n",code="200"} 3\n'
        'a_total{route="v2",code="200",} 1e3 1700000000000\n'
        '# TYPE h histogram\nh_bucket{r="a",le="10"} 1\nh_bucket{r="a",le="100.5"} 2\n'
        'h_bucket{r="a",le="+Inf"} 2\nh_sum{r="a"} 30\nh_count{r="a"} 2\n'
        '# TYPE g gauge\ng -1.5\ng{x="1"} NaN\ng{x="2"} +Inf\n')


def self_test():
    bad = 0
    for what, text in BAD:
        try:
            parse(text)
            print("not rejected: %s" % what)
            bad += 1
        except PromError:
            pass
    try:
        fams, samples = parse(GOOD)
        if value(samples, "a_total", code="200") != 1003 or fams["h"]["type"] != "histogram":
            print("good text parsed wrong: %r" % samples)
            bad += 1
    except PromError as e:
        print("good text rejected: %s" % e)
        bad += 1
    return bad


def main():
    if sys.argv[1:] == ["--self-test"]:
        bad = self_test()
        print("self-test: %d of %d cases wrong" % (bad, len(BAD) + 1))
        return 1 if bad else 0
    text = sys.stdin.read() if sys.argv[1] == "-" else open(sys.argv[1]).read()
    try:
        fams, samples = parse(text)
    except PromError as e:
        print("error: %s" % e)
        return 1
    print("ok: %d families, %d samples" % (len(fams), len(samples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
