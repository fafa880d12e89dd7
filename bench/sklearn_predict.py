"""sklearn_predict.py — scikit-learn's SVC.predict on the same libsvm model file, for
bench/predict.sh. The SVC is not fitted: it is built from the model file (support vectors,
dual coefficients, intercepts = -rho, gamma), so that it scores with exactly the model that
svm-predict and mlctl use. Run with /usr/bin/python3 (Debian's python3-sklearn).

    sklearn_predict.py MODEL DATA.libsvm OUT   -> OUT: one label per row;
                                                stdout: "rows wall-seconds cpu-seconds" of predict() alone
"""
import sys
import time

import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.svm import SVC


def read_model(path):
    head, svs = {}, []
    with open(path) as f:
        for line in f:
            if line.strip() == "SV":
                break
            key, *vals = line.split()
            head[key] = vals
        for line in f:
            svs.append(line.split())
    return head, svs


def build(head, svs, nfeat):
    if head["svm_type"][0] != "c_svc":
        raise SystemExit("sklearn_predict.py: only c_svc models")
    nr_class = int(head["nr_class"][0])
    ncoef = nr_class - 1
    coef = np.array([[float(t) for t in s[:ncoef]] for s in svs])
    sv = np.zeros((len(svs), nfeat))
    for i, s in enumerate(svs):
        for pair in s[ncoef:]:
            k, v = pair.split(":")
            if int(k) <= nfeat:
                sv[i, int(k) - 1] = float(v)
    kernel = head["kernel_type"][0]
    m = SVC(kernel=kernel, degree=int(head.get("degree", ["3"])[0]),
            coef0=float(head.get("coef0", ["0"])[0]))
    m._gamma = float(head.get("gamma", ["0"])[0])
    m.gamma = m._gamma
    m.classes_ = np.array([int(x) for x in head["label"]])
    m.support_ = np.arange(len(svs), dtype=np.int32)
    m.support_vectors_ = sv
    m._n_support = np.array([int(x) for x in head["nr_sv"]], dtype=np.int32)
    m._dual_coef_ = np.ascontiguousarray(coef.T)
    m.dual_coef_ = m._dual_coef_
    m._intercept_ = -np.array([float(x) for x in head["rho"]])
    m.intercept_ = m._intercept_
    m._probA = np.empty(0)
    m._probB = np.empty(0)
    m.fit_status_ = 0
    m.shape_fit_ = (len(svs), nfeat)
    m.n_features_in_ = nfeat
    m._sparse = False
    m.class_weight_ = np.ones(nr_class)
    return m


def main():
    model, data, out = sys.argv[1:4]
    head, svs = read_model(model)
    X, _ = load_svmlight_file(data)
    X = X.toarray()
    nfeat = max([X.shape[1]] + [int(p.split(":")[0]) for s in svs for p in s if ":" in p])
    X = np.ascontiguousarray(np.pad(X, ((0, 0), (0, nfeat - X.shape[1]))))
    m = build(head, svs, nfeat)
    t0, c0 = time.perf_counter(), time.process_time()
    y = m.predict(X)
    t, c = time.perf_counter() - t0, time.process_time() - c0
    with open(out, "w") as f:
        f.write("".join("%d\n" % v for v in y))
    print(len(y), t, c)


main()
