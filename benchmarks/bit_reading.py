"""Bit reading: binary (sum > 0, inputs {0, 1}) against ternary (the sign, inputs {-1, 0, +1}).

The same projection (same seed) is read both ways; the projection network is trained alone
(``trainer_weight=0, distill_weight=0``, every other parameter at its default: alpha 1e-4,
Adam lr 1e-3, batch 200, up to 200 epochs) with a linear head and with one hidden layer of
64, for several ``random_state`` values, and scored as the full classifier and as its int8
compact model (the same bytes for both readings). Also reports the share of the test rows'
sums that are exactly 0 (what ternary tells apart from a negative sum).

Data: TREC-6 and SMS spam through the benchmark TF-IDF featuriser (4 000 features), 1 600
bits (T=160, d=10); MNIST, the first 20 000 training rows and the 10 000 test rows, 600 bits
(T=60, d=10). Default density ("auto").

Writes <out-dir>/bit_reading.csv and bit_reading.md. A full run (every data set) writes
benchmarks/results/; ``--quick``, or a subset of ``--datasets``, writes a new temporary
directory (or ``--out-dir``) and prints where, never the committed results.

From the project root::

    python -m benchmarks.bit_reading [--quick] [--seeds 0,1,2] [--heads linear,h64]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from sklearn_projection import ProjectionNetClassifier
from sklearn_projection._projection import lsh_bits

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import load_split  # noqa: E402

DATASETS = ("trec6", "sms_spam", "mnist")
BUDGET = {"trec6": (160, 10), "sms_spam": (160, 10), "mnist": (60, 10)}
HEADS = (("linear", ()), ("h64", (64,)))
READINGS = ("binary", "ternary")
COLUMNS = ["dataset", "bits", "head", "reading", "seed", "zero_share_test", "epochs", "accuracy", "int8_accuracy"]
SUMMARY = ["dataset", "bits", "head", "reading", "n_seeds", "zero_share_test", "accuracy_mean", "accuracy_std",
           "int8_mean", "int8_std"]


def main(argv=None):
    ap = C.common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), DATASETS, subsets_are_full=False)
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated random_state values")
    ap.add_argument("--heads", default="linear,h64", help="comma-separated subset of linear,h64")
    args = ap.parse_args(argv)
    C.quiet_convergence()
    seeds = [int(s) for s in args.seeds.split(",")][: 1 if args.quick else None]
    rows = []
    for name in args.datasets.split(","):
        Xtr, Xte, ytr, yte = load_split(name, quick=args.quick)
        T, d = (8, 8) if args.quick else BUDGET[name]
        for head, hidden in [h for h in HEADS if h[0] in args.heads.split(",")]:
            for reading in READINGS:
                for seed in seeds:
                    clf = ProjectionNetClassifier(
                        T, d, reading=reading, projection_hidden_layer_sizes=hidden, trainer_weight=0,
                        distill_weight=0, max_iter=5 if args.quick else 200, random_state=seed,
                    ).fit(Xtr, ytr)
                    p = clf.projection_  # its sums on the test rows, read as signs
                    signs = lsh_bits(Xte, p.seed_, p.n_bits_total_,
                                     p.density_, reading="ternary")
                    zero = float((signs == 0).mean())
                    row = dict(dataset=name, bits=T * d, head=head, reading=reading, seed=seed,
                               zero_share_test=zero, epochs=clf.n_iter_, accuracy=clf.score(Xte, yte),
                               int8_accuracy=clf.to_compact("int8").score(Xte, yte))
                    rows.append(row)
                    C.log(row)
    summary = []
    for key in dict.fromkeys((r["dataset"], r["bits"], r["head"], r["reading"]) for r in rows):
        group = [r for r in rows if (r["dataset"], r["bits"], r["head"], r["reading"]) == key]
        acc = np.array([r["accuracy"] for r in group])
        q = np.array([r["int8_accuracy"] for r in group])
        summary.append(dict(zip(SUMMARY[:4], key), n_seeds=len(group),
                            zero_share_test=float(np.mean([r["zero_share_test"] for r in group])),
                            accuracy_mean=acc.mean(), accuracy_std=acc.std(), int8_mean=q.mean(), int8_std=q.std()))
    out_dir = Path(args.out_dir)
    C.write_csv(rows, out_dir / "bit_reading.csv", COLUMNS)
    md = C.markdown_table(summary, SUMMARY, ["data set", "bits", "head", "reading", "seeds",
                                             "share of sums = 0 (test)", "accuracy (mean)", "std",
                                             "int8 compact (mean)", "std"])
    (out_dir / "bit_reading.md").write_text(md + "\n")
    print(md)
    C.written(args)


if __name__ == "__main__":
    main()
