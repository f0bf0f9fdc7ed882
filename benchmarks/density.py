"""How sparse should the random vectors be? Accuracy and predict time against ``density``.

``density`` is the share of non-zero entries in each random vector r_i (a bit then sums
``density * n_features`` features of x on average); the default "auto" is
1/sqrt(n_features), scikit-learn's SparseRandomProjection convention. Hashing and summing
cost grow with it (about ``T*d*density`` additions per non-zero feature). This script trains
the projection network alone (λ1 = λ2 = 0: the projection is what changes, not the
teacher) at 600 bits with a linear and a hidden-64 head, at densities from twice to an
eighth of "auto", on every benchmark data set, over several seeds, and times ``predict``
of the hidden-64 model on the test set (seed 0, best of 3, default threads).

Writes <out-dir>/density_<data set>.csv (so data sets can run in separate processes), then
merges every such CSV found into density.csv and density.md. A full run writes
benchmarks/results/; ``--quick`` writes a new temporary directory (or ``--out-dir``) and prints
where, never the committed results.

From the project root::

    python -m benchmarks.density [--quick] [--datasets mnist,digits]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from sklearn_projection import ProjectionNetClassifier

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import load_dataset  # noqa: E402

DATASETS = ("digits", "mnist", "trec6", "sms_spam")
FACTORS = (2.0, 1.0, 0.5, 0.25, 0.125)  # density = factor / sqrt(n_features), at most 1
T, D = 60, 10
EPOCHS = {"digits": 100, "mnist": 10, "trec6": 10, "sms_spam": 10}
SEEDS = 3
HEADS = {"linear": (), "h64": (64,)}
COLUMNS = ["dataset", "density_factor", "density", "nonzeros_per_column", "linear", "linear_std", "h64",
           "h64_std", "h64_predict_ms", "n_seeds"]


def main(argv=None):
    ap = C.common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), DATASETS)
    args = ap.parse_args(argv)
    C.quiet_convergence()
    factors = FACTORS[1:3] if args.quick else FACTORS
    seeds = range(1 if args.quick else SEEDS)
    out_dir = Path(args.out_dir)
    for name in args.datasets.split(","):
        rows = []
        data = load_dataset(name, quick=args.quick)
        Xtr, Xte, ytr, yte = data["X_train"], data["X_test"], data["y_train"], data["y_test"]
        epochs = 3 if args.quick else EPOCHS[name]
        for factor in factors:
            density = min(1.0, factor / np.sqrt(Xtr.shape[1]))
            row = dict(dataset=name, density_factor=factor, density=density,
                       nonzeros_per_column=T * D * density, n_seeds=len(seeds))
            for head, hidden in HEADS.items():
                acc = []
                for seed in seeds:
                    clf = ProjectionNetClassifier(T, D, density=density, projection_hidden_layer_sizes=hidden,
                                                  trainer_weight=0, distill_weight=0, max_iter=epochs, tol=0.0,
                                                  random_state=seed).fit(Xtr, ytr)
                    acc.append(clf.score(Xte, yte))
                    if head == "h64" and seed == 0:
                        clf.predict(Xte[:10])  # compiled, caches warm
                        row["h64_predict_ms"] = 1e3 * C.timed(clf.predict, Xte, repeat=3)[1]
                row[head], row[f"{head}_std"] = float(np.mean(acc)), float(np.std(acc))
            rows.append(row)
            C.log(row)
        C.write_csv(rows, out_dir / f"density_{name}.csv", COLUMNS)
    rows = C.read_per_dataset(out_dir, "density", DATASETS)
    C.write_csv(rows, out_dir / "density.csv", COLUMNS)
    md = C.markdown_table(rows, COLUMNS, [
        "data set", "density / auto", "density", "non-zeros per column (600 bits)", "PN alone linear",
        "± std", "PN alone h64", "± std", "h64 predict ms (test set)", "seeds"])
    (out_dir / "density.md").write_text(md + "\n")
    print(md)
    C.written(args)


if __name__ == "__main__":
    main()
