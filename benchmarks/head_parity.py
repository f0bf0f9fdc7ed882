"""Head training parity: the library's linear head against LogisticRegression on the same bits.

Issue 11, item 2: with the library's defaults, a linear projection network over the
library's bits must score within 0.5 point of ``LogisticRegression`` with C chosen by
cross-validation over the *same* bits (the same ``projection_``, so only the training of
the weights differs).

For each data set and ``random_state``:

- ``ProjectionNetClassifier(T, d, random_state=seed)``, every other parameter at its default
  (joint training with the built-in trainer, alpha, learning rate, epochs, density "auto"),
  and the same with ``trainer_weight=0, distill_weight=0`` (the head trained alone);
- the bits of the alone model's ``projection_`` (train and test rows), and on them
  ``LogisticRegressionCV(Cs=C_GRID, cv=3)`` (lbfgs, multinomial) -- the peer;
- accuracy of each on the test rows, the C that CV chose, epochs run.

Data: TREC-6 through the benchmark TF-IDF featuriser (4 000 features), 1 600 bits
(T=160, d=10); MNIST, the first 20 000 training rows and the 10 000 test rows, 600 bits
(T=60, d=10).

Writes <out-dir>/head_parity.csv and head_parity.md (``--quick`` or a subset: a temporary
directory, printed). From the project root::

    python -m benchmarks.head_parity [--quick] [--seeds 0,1,2] [--datasets trec6,mnist]
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegressionCV

from sklearn_projection import ProjectionNetClassifier

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import load_split  # noqa: E402

DATASETS = ("trec6", "mnist")
BUDGET = {"trec6": (160, 10), "mnist": (60, 10), "sms_spam": (160, 10), "digits": (60, 10)}
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
COLUMNS = ["dataset", "bits", "seed", "density", "lr_cv_C", "lr_cv", "head_alone", "head_alone_epochs",
           "head_joint", "head_joint_epochs", "alone_minus_lr", "joint_minus_lr"]
SUMMARY = ["dataset", "bits", "n_seeds", "lr_cv", "head_alone", "head_joint", "alone_minus_lr",
           "joint_minus_lr", "worst_alone_minus_lr"]


def parity_row(name, Xtr, ytr, Xte, yte, T, d, seed, quick=False):
    """One seed: the two library heads and LogisticRegressionCV on the alone head's bits."""
    extra = dict(max_iter=20) if quick else {}
    alone = ProjectionNetClassifier(T, d, trainer_weight=0, distill_weight=0, random_state=seed, **extra)
    alone.fit(Xtr, ytr)
    joint = ProjectionNetClassifier(T, d, random_state=seed, **extra).fit(Xtr, ytr)
    # the bits as uint8 {0, 1}: exactly what the library's head reads
    bits_tr, bits_te = alone.projection_.transform(Xtr), alone.projection_.transform(Xte)
    lr = LogisticRegressionCV(Cs=list(C_GRID), cv=3, scoring="accuracy", max_iter=300 if quick else 2000, n_jobs=1)
    with warnings.catch_warnings():
        # newer scikit-learn announces changes of LogisticRegressionCV's defaults and attributes
        # (l1_ratios, fitted attribute layout) that do not touch an l2 fit read through C_
        warnings.simplefilter("ignore", FutureWarning)
        lr.fit(bits_tr.astype(np.float32), ytr)
    lr_acc = float(lr.score(bits_te.astype(np.float32), yte))
    a, j = float(alone.score(Xte, yte)), float(joint.score(Xte, yte))
    return dict(dataset=name, bits=T * d, seed=seed, density=float(alone.projection_.density_),
                lr_cv_C=float(np.ravel(lr.C_)[0]), lr_cv=lr_acc, head_alone=a,
                head_alone_epochs=alone.n_iter_, head_joint=j, head_joint_epochs=joint.n_iter_,
                alone_minus_lr=a - lr_acc, joint_minus_lr=j - lr_acc)


def main(argv=None):
    ap = C.common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), DATASETS, subsets_are_full=False)
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated random_state values")
    args = ap.parse_args(argv)
    C.quiet_convergence()
    seeds = [int(s) for s in args.seeds.split(",")][: 1 if args.quick else None]
    rows = []
    for name in args.datasets.split(","):
        Xtr, Xte, ytr, yte = load_split(name, quick=args.quick)
        T, d = (8, 8) if args.quick else BUDGET[name]
        for seed in seeds:
            row = parity_row(name, Xtr, ytr, Xte, yte, T, d, seed, quick=args.quick)
            rows.append(row)
            C.log(row)
    summary = []
    for key in dict.fromkeys((r["dataset"], r["bits"]) for r in rows):
        group = [r for r in rows if (r["dataset"], r["bits"]) == key]
        mean = {k: float(np.mean([r[k] for r in group]))
                for k in ("lr_cv", "head_alone", "head_joint", "alone_minus_lr", "joint_minus_lr")}
        summary.append(dict(dataset=key[0], bits=key[1], n_seeds=len(group), **mean,
                            worst_alone_minus_lr=min(r["alone_minus_lr"] for r in group)))
    out_dir = Path(args.out_dir)
    C.write_csv(rows, out_dir / "head_parity.csv", COLUMNS)
    md = C.markdown_table(summary, SUMMARY, ["data set", "bits", "seeds", "LogisticRegressionCV (mean)",
                                             "head alone (mean)", "head joint (mean)",
                                             "alone - LR", "joint - LR", "worst seed, alone - LR"])
    md_rows = C.markdown_table(rows, COLUMNS)
    (out_dir / "head_parity.md").write_text(md + "\n\n" + md_rows + "\n")
    print(md)
    C.written(args)


if __name__ == "__main__":
    main()
