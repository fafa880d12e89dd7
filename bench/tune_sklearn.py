"""bench/tune_sklearn.py — the scikit-learn side of bench/tune.sh.

  prepare DATA LABEL TASK OUTDIR [SAMPLE]   write OUTDIR/train.csv and test.csv (a seeded 80/20
                                            split, stratified for classification, after an
                                            optional seeded SAMPLE of rows), and train.svm /
                                            test.svm for svm-grid: the same preprocessing as
                                            the pipeline below, fitted on train.csv
  search OUTDIR LABEL TASK                  GridSearchCV (n_jobs=2, 5-fold) over the 30-point
                                            grid; prints "best_cv C gamma holdout"

The pipeline is one-hot (text columns, 0/1 indicators) + min-max (numbers, to [-1, 1], as
mlctl's default --scale minmax and svm-scale do) + SVC or SVR, so that both sides fit the same
problems. Scores: accuracy for classification; for regression the CV score is the mean squared
error (mlctl's default metric) and the holdout score r2.
"""
import sys
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, KFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder
from sklearn.svm import SVC, SVR

C = [2.0 ** e for e in range(-5, 16, 4)]        # C=2^-5..2^15:x16
GAMMA = [2.0 ** e for e in range(3, -16, -4)]   # gamma=2^3..2^-15:/16


def preprocess(X):
    text = [c for c in X.columns if X[c].dtype == object]
    nums = [c for c in X.columns if c not in text]
    return ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), text),
                              ("minmax", MinMaxScaler(feature_range=(-1, 1)), nums)],
                             sparse_threshold=0)


def prepare(data, label, task, out, sample=None):
    df = pd.read_csv(data)
    if sample:
        df = df.sample(n=int(sample), random_state=1).reset_index(drop=True)
    tr, te = train_test_split(df, test_size=0.2, random_state=1,
                              stratify=df[label] if task == "classification" else None)
    tr.to_csv(out + "/train.csv", index=False)
    te.to_csv(out + "/test.csv", index=False)
    pre = preprocess(tr.drop(columns=[label]))
    xtr = pre.fit_transform(tr.drop(columns=[label]))
    xte = pre.transform(te.drop(columns=[label]))
    codes = {v: i for i, v in enumerate(sorted(df[label].astype(str).unique()))}
    for x, y, name in ((xtr, tr[label], "train.svm"), (xte, te[label], "test.svm")):
        with open(out + "/" + name, "w") as f:
            for row, lab in zip(x, y):
                lab = codes[str(lab)] if task == "classification" else lab
                f.write(str(lab) + "".join(" %d:%.17g" % (j + 1, v) for j, v in enumerate(row) if v != 0) + "\n")


def search(out, label, task):
    tr, te = pd.read_csv(out + "/train.csv"), pd.read_csv(out + "/test.csv")
    X, y = tr.drop(columns=[label]), tr[label]
    model = SVC() if task == "classification" else SVR()
    pipe = Pipeline([("pre", preprocess(X)), ("svm", model)])
    cv = StratifiedKFold(5, shuffle=True, random_state=1) if task == "classification" else KFold(5, shuffle=True, random_state=1)
    scoring = "accuracy" if task == "classification" else "neg_mean_squared_error"
    gs = GridSearchCV(pipe, {"svm__C": C, "svm__gamma": GAMMA}, cv=cv, n_jobs=2, scoring=scoring)
    gs.fit(X, y)
    pred = gs.predict(te.drop(columns=[label]))
    hold = accuracy_score(te[label], pred) if task == "classification" else r2_score(te[label], pred)
    best = gs.best_score_ if task == "classification" else -gs.best_score_
    print("%.6f %g %g %.6f" % (best, gs.best_params_["svm__C"], gs.best_params_["svm__gamma"], hold))


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(*sys.argv[2:])
    else:
        search(*sys.argv[2:])
