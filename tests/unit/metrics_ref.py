"""metrics_ref.py — reference metrics from scikit-learn for tests/unit/check_metrics.c.

Run with /usr/bin/python3 (Debian's python3-sklearn):
  metrics_ref.py cls TRUTH PRED DEC|- CLASSVALUES NAMES
  metrics_ref.py reg TRUTH PRED
TRUTH is a libsvm-format file (the label is the first token of each line); PRED is in
svm-predict's format (a "labels ..." header and probability columns with -b 1); DEC has one
decision value per line. CLASSVALUES and NAMES are comma-separated, in the order the C side
uses. Prints one "name value" line per metric (repr of the float) and "cm I J COUNT" lines.
"""
import sys
import warnings

import numpy as np
from sklearn import metrics as M

warnings.simplefilter("ignore")


def read_truth(path):
    return np.array([float(l.split()[0]) for l in open(path) if l.strip()])


def read_pred(path):
    lines = [l for l in open(path).read().split("\n") if l.strip()]
    if lines[0].startswith("labels"):
        labs = [float(x) for x in lines[0].split()[1:]]
        rows = np.array([[float(x) for x in l.split()] for l in lines[1:]])
        return rows[:, 0], rows[:, 1:], labs
    return np.array([float(l) for l in lines]), None, None


def out(name, v):
    print(name, repr(float(v)))


def cls(truth, pred, dec, classvalues, names):
    yt = read_truth(truth)
    yp, P, labs = read_pred(pred)
    classes = [float(x) for x in classvalues.split(",")]
    names = names.split(",")
    out("accuracy", M.accuracy_score(yt, yp))
    out("balanced_accuracy", M.balanced_accuracy_score(yt, yp))
    for avg in ("macro", "weighted"):
        p, r, f, _ = M.precision_recall_fscore_support(yt, yp, average=avg)
        out("precision_" + avg, p)
        out("recall_" + avg, r)
        out("f1_" + avg, f)
    p, r, f, s = M.precision_recall_fscore_support(yt, yp, average=None)
    present = sorted(set(yt) | set(yp))   # sklearn's labels=None
    for i, lab in enumerate(present):
        n = names[classes.index(lab)]
        out("precision[%s]" % n, p[i])
        out("recall[%s]" % n, r[i])
        out("f1[%s]" % n, f[i])
        out("support[%s]" % n, s[i])
    cm = M.confusion_matrix(yt, yp, labels=classes)
    for i in range(len(classes)):
        for j in range(len(classes)):
            print("cm", i, j, cm[i, j])
    all_true = set(classes) <= set(yt)
    if P is not None:
        proba = P[:, [labs.index(c) for c in classes]]
        if all_true and len(classes) == 2:
            out("roc_auc", M.roc_auc_score(yt, proba[:, 1]))
        elif all_true:
            out("roc_auc", M.roc_auc_score(yt, proba, multi_class="ovr", average="macro"))
        out("log_loss", M.log_loss(yt, proba, labels=classes))
    elif dec != "-" and all_true and len(classes) == 2:
        d = np.array([float(l) for l in open(dec) if l.strip()])
        out("roc_auc", M.roc_auc_score(yt, d))


def reg(truth, pred):
    yt = read_truth(truth)
    yp, _, _ = read_pred(pred)
    out("mse", M.mean_squared_error(yt, yp))
    out("rmse", M.mean_squared_error(yt, yp, squared=False))
    out("mae", M.mean_absolute_error(yt, yp))
    out("r2", M.r2_score(yt, yp))
    out("max_error", M.max_error(yt, yp))


if __name__ == "__main__":
    if sys.argv[1] == "cls":
        cls(*sys.argv[2:7])
    else:
        reg(*sys.argv[2:4])
