"""How many neural bits does a task need? (Ravi 2017, the paper's question.)

Sweeps the bit budget T*d on each data set and trains, at every budget:
- ProjectionNet **joint** (trainer + projection network, lambda = 1, 1, 1, temperature 4),
- ProjectionNet **alone** (projection network on the labels only: lambda1 = lambda2 = 0),
  each with a linear head and with one hidden layer of 64 ReLU units,
- **LSH bits + LogisticRegression** (the same bits, a convex linear model on top).
References: the joint trainer's own accuracy and MLPClassifier(256, 256) for the same epochs.

In this implementation the bits depend only on the product T*d (the projection matrix is
hashed column by column from (seed, feature) for T*d bits; T and d only group them), so
the sweep is over T*d.

Writes <out-dir>/bits_vs_accuracy_<data set>.csv (one row per fit), bits_vs_accuracy_summary.csv
(mean over seeds), joint_vs_alone.csv/.md and <img-dir>/bits_vs_accuracy.png, pareto.png. A full
run writes benchmarks/results/ and docs/img/; ``--quick`` writes a new temporary directory (or
``--out-dir``) and prints where, never the committed results.

From the project root::

    python -m benchmarks.bits_vs_accuracy            # full (long: MNIST 60k)
    python -m benchmarks.bits_vs_accuracy --quick    # seconds, tiny slices
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sklearn_projection import LSHProjection, ProjectionNetClassifier

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import load_dataset  # noqa: E402

DATASETS = ("digits", "mnist", "trec6", "sms_spam")
# (T, d) per budget; only T*d matters to the bits (see the module docstring)
BUDGETS = [(16, 4), (16, 10), (32, 10), (60, 10), (100, 10), (100, 16)]  # 64 ... 1600 bits
QUICK_BUDGETS = [(8, 8), (16, 10)]
EPOCHS = {"digits": 100, "mnist": 10, "trec6": 10, "sms_spam": 10}
SEEDS = {"digits": 5, "mnist": 2, "trec6": 5, "sms_spam": 5}
TEMPERATURE = 4.0
HEADS = {"linear": (), "h64": (64,)}


def configs(quick):
    """Every budget, head and mode on every data set (on an idle 2-core machine the full sweep
    takes well under an hour, MNIST at 2 seeds most of it)."""
    for T, d in QUICK_BUDGETS if quick else BUDGETS:
        for head, hidden in HEADS.items():
            for mode in ("joint", "alone"):
                yield T, d, head, hidden, mode
        yield T, d, "LR", None, "LSH+LR"


CSV_COLUMNS = ["dataset", "method", "head", "T", "d", "bits", "seed", "epochs", "accuracy",
               "trainer_accuracy", "fit_s", "bytes", "int8_bytes_computed"]


def run_dataset(name, quick, path=None, n_seeds=None):
    """All fits of one data set; with ``path``, the CSV is rewritten after every fit."""
    data = load_dataset(name, quick=quick)
    Xtr, Xte, ytr, yte = data["X_train"], data["X_test"], data["y_train"], data["y_test"]
    epochs = 3 if quick else EPOCHS[name]
    seeds = range(1 if quick else n_seeds or SEEDS[name])
    rows = []
    C.log(f"== {name}: train {Xtr.shape}, test {Xte.shape}, {epochs} epochs, seeds {list(seeds)}")

    mlp, fit_s = C.timed(MLPClassifier((256, 256), max_iter=epochs, tol=0.0, random_state=0).fit, Xtr, ytr)
    rows.append(dict(dataset=name, method="MLPClassifier(256,256)", head="", T="", d="", bits="", seed=0,
                     epochs=epochs, accuracy=mlp.score(Xte, yte), trainer_accuracy=np.nan, fit_s=fit_s,
                     bytes=C.linear_bytes(mlp), int8_bytes_computed=C.int8_bytes(C.linear_shapes(mlp), seed=False)))
    C.log(f"   MLP {rows[-1]['accuracy']:.4f} {fit_s:.1f}s")

    for T, d, head, hidden, mode in configs(quick):
        for seed in seeds:
            row = dict(dataset=name, head=head, T=T, d=d, bits=T * d, seed=seed, epochs=epochs)
            if mode == "LSH+LR":
                proj = LSHProjection(T, d, random_state=seed).fit(Xtr)
                lr = LogisticRegression(max_iter=50 if quick else 100 if name == "mnist" else 300)

                def fit_lr():
                    return lr.fit(proj.transform(Xtr), ytr)

                _, fit_s = C.timed(fit_lr)
                acc = lr.score(proj.transform(Xte), yte)
                row.update(method="LSH bits + LogisticRegression", accuracy=acc, trainer_accuracy=np.nan,
                           fit_s=fit_s, bytes=C.linear_bytes(lr) + 8,
                           int8_bytes_computed=C.int8_bytes(C.linear_shapes(lr)))
            else:
                kw = dict(trainer_weight=0, distill_weight=0) if mode == "alone" else dict(temperature=TEMPERATURE)
                clf = ProjectionNetClassifier(n_projections=T, n_bits=d, projection_hidden_layer_sizes=hidden,
                                              max_iter=epochs, tol=0.0, random_state=seed, **kw)
                _, fit_s = C.timed(clf.fit, Xtr, ytr)
                acc = clf.score(Xte, yte)
                tacc = np.mean(clf.trainer_.predict(Xte) == yte) if mode == "joint" else np.nan
                f32, i8 = C.pnet_bytes(clf)
                row.update(method=f"ProjectionNet {mode}", accuracy=acc, trainer_accuracy=tacc, fit_s=fit_s,
                           bytes=f32, int8_bytes_computed=i8)
            rows.append(row)
            if path is not None:
                C.write_csv(rows, path, CSV_COLUMNS)
            C.log(f"   {row['method']:32s} {head:6s} {T*d:5d} bits seed {seed}: {row['accuracy']:.4f} "
                  f"({row['fit_s']:.1f}s, {row['bytes']} B)")
    return rows


def _num(v):
    return np.nan if v == "" else float(v)


def summarize(rows):
    """Mean (and std) over seeds per (dataset, method, head, bits)."""
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["method"], r["head"], r["bits"]), []).append(r)
    out = []
    for (ds, method, head, bits), rs in groups.items():
        acc = np.array([_num(r["accuracy"]) for r in rs])
        tacc = np.array([_num(r["trainer_accuracy"]) for r in rs], dtype=float)
        short = method.replace("ProjectionNet ", "PN ").replace("LSH bits + LogisticRegression", "LSH bits + LR")
        label = short if bits == "" else f"{short}{' ' + head if head != 'LR' else ''} @{bits}"
        out.append(dict(dataset=ds, method=method, head=head, bits=bits, label=label, n_seeds=len(rs),
                        accuracy=acc.mean(), accuracy_std=acc.std(),
                        trainer_accuracy=np.nanmean(tacc) if np.isfinite(tacc).any() else np.nan,
                        fit_s=np.mean([float(r["fit_s"]) for r in rs]), bytes=rs[0]["bytes"],
                        int8_bytes_computed=rs[0]["int8_bytes_computed"], epochs=rs[0]["epochs"]))
    return out


def joint_vs_alone(summary):
    """Rows comparing joint and alone at the same head and bits."""
    idx = {(r["dataset"], r["method"], r["head"], r["bits"]): r for r in summary}
    out = []
    for (ds, method, head, bits), r in idx.items():
        if method != "ProjectionNet joint":
            continue
        alone = idx.get((ds, "ProjectionNet alone", head, bits))
        if alone is None:
            continue
        out.append(dict(dataset=ds, head=head, bits=bits, joint=r["accuracy"], alone=alone["accuracy"],
                        # rounded: equal means must give 0, not float noise, so that "ahead" means ahead
                        gain_points=round(100 * (r["accuracy"] - alone["accuracy"]), 4), n_seeds=r["n_seeds"]))
    return out


def plot(summary, img_dir):
    plt = C._plt()
    datasets = list(dict.fromkeys(r["dataset"] for r in summary))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.6 * len(datasets), 4.0), squeeze=False)
    styles = {("ProjectionNet joint", "h64"): ("C0", "o-"), ("ProjectionNet alone", "h64"): ("C0", "o--"),
              ("ProjectionNet joint", "linear"): ("C1", "s-"), ("ProjectionNet alone", "linear"): ("C1", "s--"),
              ("LSH bits + LogisticRegression", "LR"): ("C2", "^:")}
    for ax, ds in zip(axes[0], datasets):
        rs = [r for r in summary if r["dataset"] == ds]
        for (method, head), (color, fmt) in styles.items():
            pts = sorted((int(r["bits"]), r["accuracy"]) for r in rs if r["method"] == method and r["head"] == head)
            if pts:
                x, y = zip(*pts)
                label = "LSH bits + LogisticRegression" if head == "LR" else f"{method} ({head})"
                ax.plot(x, y, fmt, color=color, ms=4, lw=1.2, label=label)
        tr = [r["trainer_accuracy"] for r in rs if r["method"] == "ProjectionNet joint"
              and np.isfinite(r["trainer_accuracy"])]
        if tr:
            ax.axhline(np.mean(tr), color="k", lw=1, ls="-.", label="trainer (joint fits, mean)")
        mlp = [r["accuracy"] for r in rs if r["method"].startswith("MLP")]
        if mlp:
            ax.axhline(mlp[0], color="C3", lw=1, ls=":", label="MLPClassifier(256,256)")
        ax.set_xscale("log")
        ax.set_xlabel("bits T·d (log)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{ds} ({rs[0]['epochs']} epochs, {rs[-1]['n_seeds']} seed(s))")
        accs = [r["accuracy"] for r in rs]
        ax.set_ylim(max(0, min(accs) - 0.02), min(1.0, max(accs) + 0.01))
        ax.grid(alpha=0.3, which="both")
    h, l = axes[0][0].get_legend_handles_labels()
    fig.legend(h, l, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    Path(img_dir).mkdir(parents=True, exist_ok=True)
    path = Path(img_dir) / "bits_vs_accuracy.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv=None):
    ap = C.common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), DATASETS)
    ap.add_argument("--plots-only", action="store_true",
                    help="only merge the per-data-set CSVs in --out-dir into the summary, tables and plots")
    ap.add_argument("--seeds", type=int, default=None,
                    help="seeds per configuration (default: " + ", ".join(f"{n} for {k}" for k, n in SEEDS.items()) + ")")
    args = ap.parse_args(argv)
    C.quiet_convergence()
    out_dir = Path(args.out_dir)
    if not args.plots_only:
        for name in args.datasets.split(","):
            # one CSV per data set, so data sets can run in separate processes
            path = out_dir / f"bits_vs_accuracy_{name}.csv"
            C.write_csv(run_dataset(name, args.quick, path, args.seeds), path, CSV_COLUMNS)
    rows = C.read_per_dataset(out_dir, "bits_vs_accuracy", DATASETS)
    if not rows:
        print("no results in", out_dir)
        return
    summary = summarize(rows)
    C.write_csv(summary, out_dir / "bits_vs_accuracy_summary.csv")
    jva = joint_vs_alone(summary)
    C.write_csv(jva, out_dir / "joint_vs_alone.csv")
    md = C.markdown_table(jva, ["dataset", "head", "bits", "alone", "joint", "gain_points", "n_seeds"],
                          ["data set", "head", "bits T·d", "alone (λ1=λ2=0)", "joint (T=4)", "joint − alone (points)", "seeds"])
    (out_dir / "joint_vs_alone.md").write_text(md + "\n")
    print(md)
    try:
        print("wrote", plot(summary, args.img_dir), C.plot_pareto(out_dir, args.img_dir))
    except ImportError:
        print("matplotlib not installed (pip install '.[bench]'): no plots")
    C.written(args)


if __name__ == "__main__":
    main()
