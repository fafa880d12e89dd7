#!/usr/bin/python3
"""bench/monitor_pandas.py REFERENCE.csv CURRENT.csv [--drop COL]... [--psi-threshold X]

What a user without `mlctl monitor` would script: read the reference and the current CSV with
pandas, and for each column choose the test by Evidently's default rule and run it with scipy,
plus a PSI over the reference's deciles (numeric) or categories:

  reference <= 1,000 rows: numeric with more than 5 distinct values (both sides together)
    -> ks_2samp, drift at p < 0.05; others -> chisquare (more than 2 values) or the
    two-sample proportion Z-test (2 values), drift at p < 0.05;
  reference > 1,000 rows: numeric with more than 5 distinct values ->
    wasserstein_distance / max(std(reference), 0.001), drift at >= 0.1; others ->
    jensenshannon(base=2) on the value shares, drift at >= 0.1;
  dataset drift when at least half the columns drift.

A column is categorical when pandas reads it as text (object dtype), as Evidently infers it.
Missing values are dropped before the tests. Prints one JSON object on stdout: the columns
with their test, statistic, p-value, drifted and PSI, the dataset drift, and the seconds spent
reading and testing.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance


def shares(ref, cur):
    """The value shares of both sides over the union of their values (Evidently's binning of
    a categorical column), in sorted order of the values."""
    rc, cc = ref.value_counts(), cur.value_counts()
    keys = sorted(set(rc.index) | set(cc.index), key=str)
    r = rc.reindex(keys, fill_value=0).to_numpy(dtype=float)
    c = cc.reindex(keys, fill_value=0).to_numpy(dtype=float)
    return keys, r, c


def psi(ref_counts, cur_counts):
    r = ref_counts / ref_counts.sum()
    c = cur_counts / cur_counts.sum()
    r = np.where(r == 0, 0.0001, r)
    c = np.where(c == 0, 0.0001, c)
    return float(np.sum((c - r) * np.log(c / r)))


def decile_counts(ref, cur):
    """Counts over the reference's 9 inner decile edges (type 7, numpy's default): a value v
    falls in bin "number of edges <= v"."""
    edges = np.quantile(ref, np.arange(1, 10) / 10)
    rb = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10)
    cb = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=10)
    return rb.astype(float), cb.astype(float)


def z_test(ref, cur, first):
    """Evidently's two-sample proportion Z-test on "is not the first value"."""
    a = (ref != first).astype(float)
    b = (cur != first).astype(float)
    n1, n2 = len(a), len(b)
    p1, p2 = a.mean(), b.mean()
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 0.0, 1.0
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - stats.norm.cdf(abs(z))))


def column(name, ref, cur, ref_rows):
    ref, cur = ref.dropna(), cur.dropna()
    categorical = ref.dtype == object or cur.dtype == object
    if categorical:
        ref, cur = ref.astype(str), cur.astype(str)
    ndistinct = pd.concat([ref, cur]).nunique()
    numeric_test = not categorical and ndistinct > 5
    pvalue = None
    if ref_rows <= 1000:
        if numeric_test:
            test = "ks"
            statistic, pvalue = stats.ks_2samp(ref.to_numpy(), cur.to_numpy())
        else:
            keys, r, c = shares(ref, cur)
            if len(keys) > 2:
                test = "chisquare"
                statistic, pvalue = stats.chisquare(c, r * (c.sum() / r.sum()))
            else:
                test = "z"
                statistic, pvalue = z_test(ref.to_numpy(), cur.to_numpy(), keys[0])
        drifted = pvalue < 0.05
    else:
        if numeric_test:
            test = "wasserstein"
            statistic = stats.wasserstein_distance(ref.to_numpy(), cur.to_numpy()) / max(np.std(ref.to_numpy()), 0.001)
        else:
            test = "jensenshannon"
            keys, r, c = shares(ref, cur)
            statistic = distance.jensenshannon(r, c, base=2)
        drifted = statistic >= 0.1
    if categorical:
        # PSI over the reference's categories, one bin more for values it does not have
        rc = ref.value_counts()
        cc = cur.value_counts().reindex(rc.index, fill_value=0)
        unseen = len(cur) - cc.sum()
        p = psi(np.append(rc.to_numpy(dtype=float), 0.0), np.append(cc.to_numpy(dtype=float), float(unseen)))
    else:
        p = psi(*decile_counts(ref.to_numpy(dtype=float), cur.to_numpy(dtype=float)))
    return {"name": name, "type": "categorical" if categorical else "numeric", "test": test,
            "statistic": float(statistic), "pvalue": None if pvalue is None else float(pvalue),
            "drifted": bool(drifted), "psi": p}


def main(argv):
    drop, files, psi_threshold = [], [], 0.2
    k = 1
    while k < len(argv):
        if argv[k] == "--drop":
            drop.append(argv[k + 1])
            k += 2
        elif argv[k] == "--psi-threshold":
            psi_threshold = float(argv[k + 1])
            k += 2
        else:
            files.append(argv[k])
            k += 1
    if len(files) != 2:
        sys.exit(__doc__.split("\n")[0])
    t0 = time.perf_counter()
    ref = pd.read_csv(files[0])
    cur = pd.read_csv(files[1])
    t1 = time.perf_counter()
    cols = [c for c in ref.columns if c not in drop and c in cur.columns]
    out = [column(c, ref[c], cur[c], len(ref)) for c in cols]
    t2 = time.perf_counter()
    for f in out:
        f["psi_alert"] = f["psi"] > psi_threshold
    ndrifted = sum(f["drifted"] for f in out)
    json.dump({"reference_rows": len(ref), "current_rows": len(cur), "features": out,
               "drifted_features": ndrifted, "dataset_drift": bool(out) and ndrifted >= 0.5 * len(out),
               "read_seconds": t1 - t0, "test_seconds": t2 - t1}, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv)
