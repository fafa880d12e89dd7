#!/usr/bin/python3
"""model_cmp.py MINE REF — the same libsvm model in two texts: mlctl's (support-vector
values as %.17g) and svm-train's (%.8g). Header lines must be identical; on every SV line
the coefficients and indices must be identical and each of MINE's values must print as
REF's under %.8g (equal to 8 significant digits). Exit 0 when they are, else 1 with the
first difference on stderr."""
import sys


def lines(path):
    with open(path, encoding="ascii") as f:
        return [l.rstrip("\r\n") for l in f]


def main():
    mine, ref = lines(sys.argv[1]), lines(sys.argv[2])
    if len(mine) != len(ref):
        sys.exit("%d lines against %d" % (len(mine), len(ref)))
    sv = False
    for n, (a, b) in enumerate(zip(mine, ref), 1):
        if not sv:
            if a != b:
                sys.exit("line %d: %r, expected %r" % (n, a, b))
            sv = a == "SV"
            continue
        ta, tb = a.split(), b.split()
        if len(ta) != len(tb):
            sys.exit("line %d: %d tokens, expected %d" % (n, len(ta), len(tb)))
        for x, y in zip(ta, tb):
            if (":" in x) != (":" in y):
                sys.exit("line %d: %r against %r" % (n, x, y))
            if ":" not in x:
                if x != y:
                    sys.exit("line %d: coefficient %s, expected %s" % (n, x, y))
                continue
            (ix, vx), (iy, vy) = x.split(":"), y.split(":")
            if ix != iy or "%.8g" % float(vx) != vy:
                sys.exit("line %d: %s, expected %s to 8 digits" % (n, x, y))
    if not sv:
        sys.exit("no SV section")


main()
