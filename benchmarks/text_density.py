"""Density of the random vectors on short texts: does a denser projection help?

A bit is 1 when <x, r_i> > 0. With the default density 1/sqrt(n_features) and a short text
(TREC-6 questions: ~10 non-zero TF-IDF features out of 4 000), most r_i touch none of the
text's features: the dot product is exactly 0 and the bit is 0 for that text. One might expect
denser random vectors (fewer zero dot products) to give more informative bits. This script
measures the share of zero dot products on the training texts (no labels needed) and the
accuracy of the projection network trained alone (cheap: no trainer) and of LSH bits +
LogisticRegression at a few densities.

Writes <out-dir>/text_density.csv and text_density.md. A full run (every data set) writes
benchmarks/results/; ``--quick``, or a subset of ``--datasets``, writes a new temporary
directory (or ``--out-dir``) and prints where, never the committed results.

From the project root::

    python -m benchmarks.text_density [--quick]
"""

import argparse
import sys
from pathlib import Path

from sklearn.linear_model import LogisticRegression

from sklearn_projection import LSHProjection, ProjectionNetClassifier

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import load_dataset  # noqa: E402

DATASETS = ("trec6", "sms_spam")
DENSITIES = ("auto", 0.1, 1 / 3)
BUDGETS = [(16, 4), (32, 10), (100, 16)]
EPOCHS = 10
COLUMNS = ["dataset", "density", "bits", "zero_dot_share_train", "alone_linear", "alone_h64", "lsh_lr"]


def main(argv=None):
    ap = C.common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), DATASETS, subsets_are_full=False)
    args = ap.parse_args(argv)
    C.quiet_convergence()
    budgets = BUDGETS[:1] if args.quick else BUDGETS
    epochs = 3 if args.quick else EPOCHS
    rows = []
    for name in args.datasets.split(","):
        data = load_dataset(name, quick=args.quick)
        Xtr, Xte, ytr, yte = data["X_train"], data["X_test"], data["y_train"], data["y_test"]
        for density in DENSITIES:
            for T, d in budgets:
                proj = LSHProjection(T, d, density=density, random_state=0).fit(Xtr)
                zero = float(((proj.transform(Xtr) == 0) & (proj.transform(-Xtr) == 0)).mean())
                row = dict(dataset=name, density=density if density == "auto" else round(density, 4),
                           bits=T * d, zero_dot_share_train=zero)
                for head, hidden in (("alone_linear", ()), ("alone_h64", (64,))):
                    clf = ProjectionNetClassifier(T, d, density=density, projection_hidden_layer_sizes=hidden,
                                                  trainer_weight=0, distill_weight=0, max_iter=epochs, tol=0.0,
                                                  random_state=0).fit(Xtr, ytr)
                    row[head] = clf.score(Xte, yte)
                lr = LogisticRegression(max_iter=300).fit(proj.transform(Xtr), ytr)
                row["lsh_lr"] = lr.score(proj.transform(Xte), yte)
                rows.append(row)
                C.log(row)
    out_dir = Path(args.out_dir)
    C.write_csv(rows, out_dir / "text_density.csv", COLUMNS)
    md = C.markdown_table(rows, COLUMNS, ["data set", "density", "bits T·d", "share of ⟨x, r_i⟩ = 0 (train)",
                                          f"PN alone linear ({epochs} ep.)", f"PN alone h64 ({epochs} ep.)",
                                          "LSH bits + LR"])
    (out_dir / "text_density.md").write_text(md + "\n")
    print(md)
    C.written(args)


if __name__ == "__main__":
    main()
