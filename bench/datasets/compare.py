#!/usr/bin/python3
"""baton's learned score against scikit-learn and a naive Bayes frequency
model, on the same features and the same time-based split.

    compare.py BATON [--data DIR] [--work DIR] [DATASET...]

For each dataset (olist, xeducation, maven, bank; all that are present by
default): converts it (convert.py), runs `baton train --export-rows`, then
fits scikit-learn's LogisticRegression (L2, C=1, as baton) and an Odoo-style
naive Bayes on the rows baton exported, fitting on baton's fitting part and
scoring baton's holdout. Prints a Markdown table for docs/scoring.md.
scikit-learn comes from Debian (python3-sklearn): this script only, never
baton itself.
"""
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import convert  # noqa: E402


def naive_bayes(X_fit, y_fit, X_test):
    """Odoo-style frequency model: for every field value a lead has, the
    share of won and of lost leads that had it (Laplace-smoothed), multiplied
    as naive Bayes. A count becomes a value by bucket (1, 2-3, 4-7, 8+)."""
    def values(X):
        X = X.tocsr()
        out = []
        for i in range(X.shape[0]):
            row = []
            for j, v in zip(X.indices[X.indptr[i]:X.indptr[i + 1]], X.data[X.indptr[i]:X.indptr[i + 1]]):
                n = round(math.expm1(v)) if v != 1.0 else 1  # counts were encoded log(1 + n)
                row.append((j, 0 if n <= 1 else 1 if n <= 3 else 2 if n <= 7 else 3))
            out.append(row)
        return out
    won, lost = {}, {}
    n_won = int(y_fit.sum())
    n_lost = len(y_fit) - n_won
    for row, y in zip(values(X_fit), y_fit):
        table = won if y == 1 else lost
        for key in row:
            table[key] = table.get(key, 0) + 1
    prior = math.log((n_won + 1) / (n_lost + 1))
    scores = []
    for row in values(X_test):
        s = prior
        for key in row:
            s += math.log((won.get(key, 0) + 1) / (n_won + 2)) - math.log((lost.get(key, 0) + 1) / (n_lost + 2))
        scores.append(s)
    return np.array(scores)


def run(baton, name, data, work):
    out = os.path.join(work, name)
    w = convert.DATASETS[name](data)
    w.write(out)
    args = open(os.path.join(out, "train.args")).read().split()
    cmd = [baton, "train", "--contract", os.path.join(out, "contract.yaml"), "--history",
           os.path.join(out, "events.jsonl"), "-o", os.path.join(out, "model"), "--export-rows",
           os.path.join(out, "rows.svm")] + args
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("%s: baton train failed:\n%s" % (name, p.stderr))
    auc = float(re.search(r"holdout: AUC ([0-9.]+)", p.stdout).group(1))
    fit_s = float(re.search(r"fit ([0-9.]+) s", p.stdout).group(1))
    features = int(re.search(r"features: ([0-9]+)", p.stdout).group(1))
    X, y, qid = load_svmlight_file(os.path.join(out, "rows.svm"), query_id=True, zero_based=False)
    fit, test = qid == 1, qid == 3
    t1 = time.monotonic()
    lr = LogisticRegression(C=1.0, max_iter=5000).fit(X[fit], y[fit])
    sk_s = time.monotonic() - t1
    sk_auc = roc_auc_score(y[test], lr.decision_function(X[test]))
    nb_auc = roc_auc_score(y[test], naive_bayes(X[fit], y[fit], X[test]))
    return dict(name=name, leads=w.rows, rows=X.shape[0], won=int(y.sum()), features=features, test=int(test.sum()),
                auc=auc, fit_s=fit_s, wall=wall, sk_auc=sk_auc, sk_s=sk_s, nb_auc=nb_auc)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    baton = os.path.abspath(argv[1])
    data = argv[argv.index("--data") + 1] if "--data" in argv else convert.DATA
    work = argv[argv.index("--work") + 1] if "--work" in argv else "/tmp/baton-datasets"
    names = [a for a in argv[2:] if a in convert.DATASETS] or list(convert.DATASETS)
    present = {"olist": "olist-marketing-funnel", "xeducation": "x-education-leads",
               "maven": "maven-crm-sales-opportunities", "bank": "uci-bank-marketing"}
    print("| dataset | rows (won) | features | holdout rows | baton AUC | scikit-learn AUC | difference "
          "| naive Bayes AUC | baton fit s | baton train s | scikit-learn fit s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        if not os.path.isdir(os.path.join(data, present[name])):
            print("| %s | not present in %s | | | | | | | | | |" % (name, data))
            continue
        r = run(baton, name, data, work)
        print("| %(name)s | %(rows)d (%(won)d) | %(features)d | %(test)d | %(auc).4f | %(sk_auc).4f | "
              "%(diff)+.4f | %(nb_auc).4f | %(fit_s).2f | %(wall).2f | %(sk_s).2f |" % dict(r, diff=r["auc"] - r["sk_auc"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
