"""serve_flask.py — the other side of bench/serve.sh: a Flask app that trains
scikit-learn's SVC on heart_scale with the same hyper-parameters as the mlctl model and
serves TF-Serving's POST /v1/models/heart:predict, as a Flask + gunicorn deployment of a
scikit-learn model usually looks. Run with /usr/bin/python3 (Debian's python3-flask,
python3-sklearn, gunicorn):

    HEART_DATA=examples/data/heart_scale SVC_C=2 SVC_GAMMA=0.5 \
        /usr/bin/python3 -m gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench serve_flask:app

Body: {"instances": [row, ...]}, each row either an object keyed by column name
("1".."13", the names mlctl gives libsvm features; a column left out is 0, as an absent
feature of a libsvm row is) or an array of the 13 values in column order.
Answer: {"predictions": ["1", "-1", ...]}, the class names as mlctl writes them.

sklearn's SVC is libsvm inside (same solver, same defaults: tol 1e-3, shrinking,
cache 200 MB), so it fits the same model as `mlctl train --scale none -C C --gamma G`
and bench/serve.sh checks that both answer the same on its rows.
"""
import os

import numpy as np
from flask import Flask, jsonify, request
from sklearn.datasets import load_svmlight_file
from sklearn.svm import SVC

NFEAT = 13
COLUMNS = [str(i) for i in range(1, NFEAT + 1)]


def fit():
    X, y = load_svmlight_file(os.environ.get("HEART_DATA", "../examples/data/heart_scale"),
                              n_features=NFEAT)
    m = SVC(kernel="rbf", C=float(os.environ.get("SVC_C", "2")),
            gamma=float(os.environ.get("SVC_GAMMA", "0.5")))
    m.fit(X.toarray(), y)
    return m


model = fit()
app = Flask(__name__)


def design(instances):
    """The rows of a request as a dense matrix, or a message saying which row is wrong."""
    X = np.zeros((len(instances), NFEAT))
    for i, row in enumerate(instances):
        if isinstance(row, dict):
            for k, v in row.items():
                if k not in COLUMNS:
                    return None, "row %d: unknown column %r" % (i + 1, k)
                X[i, int(k) - 1] = v
        elif isinstance(row, list) and len(row) == NFEAT:
            X[i] = row
        else:
            return None, "row %d: expected an object or %d numbers" % (i + 1, NFEAT)
    return X, None


@app.route("/v1/models/heart:predict", methods=["POST"])
def predict():
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("instances"), list):
        return jsonify(error='expected {"instances": [...]}'), 400
    try:
        X, err = design(body["instances"])
    except (TypeError, ValueError) as e:
        X, err = None, str(e)
    if err is not None:
        return jsonify(error=err), 400
    if len(X) == 0:
        return jsonify(predictions=[])
    return jsonify(predictions=["%d" % v for v in model.predict(X)])


@app.route("/health", methods=["GET"])
def health():
    return ""
