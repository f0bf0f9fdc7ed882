"""Accuracy per shipped byte: every model int8 by the same rule, bytes counted the same way.

One command measures, on digits, MNIST, TREC-6 and SMS spam, ProjectionNet against the small
models a user would ship instead, each made int8 by ONE rule and counted by ONE rule:

* int8 rule: every weight matrix (fan_in x fan_out) is quantised symmetrically per output
  column, ``W[:, j] ~= scale[j] * q[:, j]`` with ``|q| <= 127`` (``scale = max|W[:, j]| / 127``);
  biases stay float32; scales are float32. The accuracy reported is that of the QUANTISED model
  (peers: a forward pass with the de-quantised weights and float32 biases; ProjectionNet:
  ``to_compact("int8").score``).
* model bytes: 1 per int8 weight + 4 per bias + 4 per scale. ProjectionNet: ``size_bytes`` of
  ``to_compact("int8")``, which adds its scalar header (seed, density, T, d, n_features, layer
  widths: 48-56 bytes). Peers get no header (a handful of bytes in their favour).
* projection bytes (SparseRandomProjection only): scikit-learn stores the random matrix, so it
  ships: per non-zero a column index (2 bytes when n_features <= 65 536, else 4) and a sign
  bit, 4 bytes per row pointer, one float32 magnitude. ProjectionNet regenerates its
  projections from the seed in its header.
* featuriser bytes (text): a TF-IDF vocabulary ships as the UTF-8 bytes of its terms plus 4
  bytes per term (its column index / idf as one 32-bit number); HashingVectorizer ships
  nothing.
* total bytes = model + projection + featuriser: what a device must hold.

Models (see ``grid``): LogisticRegression (C by cross-validation on a small grid),
MLPClassifier((16,)), ((32,)), ((64,)) on the raw features (TF-IDF for text);
SparseRandomProjection(k) + LogisticRegression; on text HashingVectorizer(2^9..2^14,
1-2-grams, alternate_sign=True) + LogisticRegression; ProjectionNetClassifier (joint training
with the default trainer; otherwise library defaults apart from sizes and max_iter) with
linear, (16,), (32,), (64,) heads over 300, 600, 1 200 bits (T = 30, 60, 120; d = 10),
density "auto" (decided from the data since 0.3; before, 1/sqrt(n_features) and, on MNIST, also a
quarter of it: rows labelled "density/4" in older result files); on text also ProjectionNet over hashed
1-2-grams (HashingVectorizer(2^12), alternate_sign=True), which ships no vocabulary.

Seeds: random_state 0, 1, 2 on digits and text, 0, 1 on MNIST, for every model that has
randomness (LogisticRegression and HashingVectorizer + LogisticRegression are deterministic:
one run). MNIST trains on the first 20 000 of the 60 000 training rows (the full 10 000 test
rows) and ProjectionNet runs max_iter=20 there, to keep one core's run near an hour.

Writes benchmarks/results/equal_bytes_<dataset>.csv (one row per model and seed, appended as
they finish), equal_bytes.csv (mean and spread over seeds), equal_bytes.md (tables: all
models, Pareto frontier, ProjectionNet against each peer at equal bytes) and
docs/img/equal_bytes_<dataset>.png.

    python -m benchmarks.equal_bytes                  # full run (about an hour on one core)
    python -m benchmarks.equal_bytes --quick          # tiny slices, < 1 minute, temporary directory
    python -m benchmarks.equal_bytes --datasets digits,trec6
    python -m benchmarks.equal_bytes --report-only    # tables and plots from the CSVs
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, StratifiedShuffleSplit
from sklearn.neural_network import MLPClassifier
from sklearn.random_projection import SparseRandomProjection

from benchmarks import _common as C
from benchmarks.datasets import MNIST_TRAIN_ROWS, TEXT_SETS, load_dataset
from sklearn_projection import ProjectionNetClassifier

DATASETS = ("digits", "mnist", "trec6", "sms_spam")
COLUMNS = ["dataset", "family", "config", "seed", "accuracy_int8", "accuracy_float", "model_bytes",
           "projection_bytes", "featurizer_bytes", "total_bytes", "fit_s", "detail"]
SUMMARY = ["dataset", "family", "config", "n_seeds", "accuracy_int8", "accuracy_int8_std", "accuracy_int8_min",
           "accuracy_int8_max", "accuracy_float", "model_bytes", "projection_bytes", "featurizer_bytes",
           "total_bytes", "bytes_without_featurizer", "detail"]
MNIST_ROWS = MNIST_TRAIN_ROWS


# ------------------------------------------------------------------------------ the int8 rule
def quantize_int8(W):
    """Symmetric per-output-column int8 (the rule of CompactProjectionClassifier):
    ``W[:, j] ~= scale[j] * q[:, j]``, ``|q| <= 127``, float32 scales."""
    W = np.asarray(W, dtype=np.float64)
    amax = np.max(np.abs(W), axis=0) if W.shape[0] else np.zeros(W.shape[1])
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(W / scale.astype(np.float64)), -127, 127).astype(np.int8)
    return q, scale


class Int8Net:
    """A peer's layers (fan_in x fan_out weights, biases) made int8 by the rule above; ReLU
    between layers (MLPClassifier's default activation); argmax of the logits, or the sign
    of the single logit of a binary problem."""

    def __init__(self, coefs, intercepts, classes):
        self.layers = []
        self.bytes = 0
        for W, b in zip(coefs, intercepts):
            q, s = quantize_int8(W)
            b32 = np.asarray(b, dtype=np.float32).ravel()
            self.layers.append((q.astype(np.float64) * s.astype(np.float64), b32.astype(np.float64)))
            self.bytes += q.size + 4 * b32.size + 4 * s.size
        self.classes = np.asarray(classes)

    def predict(self, X):
        h = X
        for i, (W, b) in enumerate(self.layers):
            h = np.asarray(h @ W) + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        if h.shape[1] == 1:
            return self.classes[(h[:, 0] > 0).astype(int)]
        return self.classes[np.argmax(h, axis=1)]

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))

    @classmethod
    def of(cls, est):
        if hasattr(est, "coefs_"):
            return cls(est.coefs_, est.intercepts_, est.classes_)
        return cls([np.atleast_2d(est.coef_).T], [est.intercept_], est.classes_)


# ------------------------------------------------------------------------------ bytes of what ships
def vocabulary_bytes(vectorizer):
    """UTF-8 bytes of every term plus 4 bytes per term (its index / idf as one 32-bit number)."""
    vocab = vectorizer.vocabulary_
    return int(sum(len(t.encode("utf-8")) for t in vocab) + 4 * len(vocab))


def srp_bytes(srp, n_features):
    """SparseRandomProjection's matrix as shipped: its entries are +-v, so per non-zero a column
    index (2 bytes up to 65 536 features, else 4) and a sign bit; 4 bytes per row pointer; one
    float32 v."""
    comp = srp.components_
    nnz = int(comp.nnz) if hasattr(comp, "nnz") else int(np.count_nonzero(comp))
    idx = 2 if n_features <= 65536 else 4
    return nnz * idx + (nnz + 7) // 8 + 4 * (comp.shape[0] + 1) + 4


# ------------------------------------------------------------------------------ the grid
def settings(name, quick):
    text = name in TEXT_SETS
    s = dict(
        seeds=[0, 1] if name == "mnist" else [0, 1, 2],
        pnet_epochs={"digits": 100, "mnist": 20, "trec6": 30, "sms_spam": 30}[name],
        heads=[(), (16,), (32,), (64,)],
        bits=[(30, 10), (60, 10), (120, 10)],
        # "auto" is decided from the data since 0.3 (about a third of 1/sqrt(784) on MNIST), which
        # replaced the hand-set quarter of 1/sqrt(n_features) this grid carried for MNIST before
        densities=["auto"],
        mlp_widths=[16, 32, 64],
        srp_widths={"digits": [16, 32, 64, 128], "mnist": [50, 150, 600]}.get(name, [150, 600, 1200]),
        hash_widths=[2**k for k in range(9, 15)] if text else [],
        hashed_pnet=[((60, 10), ()), ((120, 10), ()), ((60, 10), (32,)), ((120, 10), (32,))] if text else [],
        C_grid=[0.01, 0.1, 1.0, 10.0] if name == "mnist" else [0.01, 0.1, 1.0, 10.0, 100.0],
        lr_max_iter=300,
    )
    if quick:
        s.update(seeds=[0], pnet_epochs=3, heads=[(), (16,)], bits=[(30, 10)], densities=["auto"], mlp_widths=[16],
                 srp_widths=s["srp_widths"][:1], hash_widths=s["hash_widths"][:1], hashed_pnet=s["hashed_pnet"][:1],
                 C_grid=[0.1, 10.0], lr_max_iter=100)
    return s


def choose_C(X, y, grid, max_iter, big, seed=0):
    """C of LogisticRegression by cross-validated accuracy: 3-fold stratified, or on MNIST-sized
    data one stratified 80/20 hold-out split."""
    cv = (StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=seed) if big
          else StratifiedKFold(3, shuffle=True, random_state=seed))
    gs = GridSearchCV(LogisticRegression(max_iter=max_iter), {"C": grid}, cv=cv, refit=False).fit(X, y)
    return float(gs.best_params_["C"])


def hashing(n_features, alternate_sign=True):
    return HashingVectorizer(n_features=n_features, ngram_range=(1, 2), alternate_sign=alternate_sign)


def run_dataset(name, quick, out_csv, only_seeds=None):
    s = settings(name, quick)
    if name == "mnist" and not quick:
        from benchmarks.datasets import SOURCES, load_mnist

        Xtr, Xte, ytr, yte = load_mnist(MNIST_ROWS, None)
        data = dict(X_train=Xtr, X_test=Xte, y_train=ytr, y_test=yte, split=SOURCES["mnist"][2])
    else:
        data = load_dataset(name, quick=quick)
        Xtr, Xte, ytr, yte = data["X_train"], data["X_test"], data["y_train"], data["y_test"]
    text = name in TEXT_SETS
    big = Xtr.shape[0] > 10_000
    fz = vocabulary_bytes(data["vectorizer"]) if text else 0
    C.log(f"== {name}: train {Xtr.shape}, test {Xte.shape}, featuriser {fz} B, seeds {s['seeds']}")
    rows = []
    done = set()
    if Path(out_csv).exists():  # resume: keep what a previous run of the same data set measured
        rows = [{k: C._parse(v) for k, v in r.items()} for r in C.read_csv(out_csv)]
        done = {(r["config"], int(r["seed"])) for r in rows}
        if done:
            C.log(f"   resuming: {len(done)} rows already in {out_csv}")

    def record(family, config, seed, acc8, accf, model_b, fit_s, proj_b=0, feat_b=fz, detail=""):
        r = dict(dataset=name, family=family, config=config, seed=seed, accuracy_int8=acc8, accuracy_float=accf,
                 model_bytes=int(model_b), projection_bytes=int(proj_b), featurizer_bytes=int(feat_b),
                 total_bytes=int(model_b + proj_b + feat_b), fit_s=fit_s, detail=detail)
        rows.append(r)
        C.write_csv(rows, out_csv, COLUMNS)
        C.log(f"   {config:48s} seed {seed}  int8 {acc8:.4f}  float {accf:.4f}  {r['total_bytes']:>8,} B  "
              f"fit {fit_s:.1f}s")

    def peer(family, config, seed, est, tr, te, proj_b=0, feat_b=fz, detail="", pre=None):
        if (config, seed) in done:
            return
        t = time.perf_counter()
        est.fit(tr, ytr)
        fit_s = time.perf_counter() - t
        net = Int8Net.of(est)
        record(family, config, seed, net.score(te, yte), est.score(te, yte), net.bytes, fit_s, proj_b, feat_b, detail)

    feat = "TF-IDF" if text else "raw"
    seeds = [sd for sd in s["seeds"] if only_seeds is None or sd in only_seeds]
    Cs = {}

    # -- deterministic peers: one run (seed 0)
    if 0 in seeds:
        cfg = f"LogisticRegression ({feat})"
        if (cfg, 0) not in done:
            Cs[cfg] = choose_C(Xtr, ytr, s["C_grid"], s["lr_max_iter"], big)
            peer("LogisticRegression", cfg, 0, LogisticRegression(C=Cs[cfg], max_iter=s["lr_max_iter"]), Xtr, Xte,
                 detail=f"C={Cs[cfg]:g}")
        for nf in s["hash_widths"]:
            cfg = f"HashingVectorizer(2^{int(np.log2(nf))}) + LR"
            if (cfg, 0) in done:
                continue
            hv = hashing(nf)
            htr, hte = hv.transform(data["texts_train"]), hv.transform(data["texts_test"])
            c = choose_C(htr, ytr, s["C_grid"], s["lr_max_iter"], big)
            peer("HashingVectorizer + LR", cfg, 0, LogisticRegression(C=c, max_iter=s["lr_max_iter"]), htr, hte,
                 feat_b=0, detail=f"C={c:g}")

    for seed in seeds:
        for w in s["mlp_widths"]:
            peer(f"MLP({w},)", f"MLPClassifier(({w},)) ({feat})", seed,
                 MLPClassifier((w,), random_state=seed), Xtr, Xte)
        for k in s["srp_widths"]:
            cfg = f"SparseRandomProjection({k}) + LR"
            if (cfg, seed) in done:
                continue
            srp = SparseRandomProjection(k, dense_output=True, random_state=seed).fit(Xtr)
            ptr, pte = srp.transform(Xtr), srp.transform(Xte)
            key = ("srp", k)
            if key not in Cs:  # C chosen once per width (on the first seed run), reused for the others
                Cs[key] = choose_C(ptr, ytr, s["C_grid"], s["lr_max_iter"], big)
            peer("SparseRandomProjection + LR", cfg, seed, LogisticRegression(C=Cs[key], max_iter=s["lr_max_iter"]),
                 ptr, pte, proj_b=srp_bytes(srp, Xtr.shape[1]), detail=f"C={Cs[key]:g}")
        for dens in s["densities"]:
            for (T, d) in s["bits"]:
                for head in s["heads"]:
                    hname = "linear" if not head else f"h{head[0]}"
                    dlabel = "" if dens == "auto" else ", density/4"
                    cfg = f"ProjectionNet {hname}, {T * d} bits{dlabel}"
                    if (cfg, seed) in done:
                        continue
                    density = "auto" if dens == "auto" else 1.0 / np.sqrt(Xtr.shape[1]) / 4
                    pnet(record, cfg, f"ProjectionNet {hname}{dlabel}", seed, T, d, head, density, s,
                         Xtr, Xte, ytr, yte, fz)
        if s["hashed_pnet"]:
            # 2^12 columns: the trainer's first layer (n_features x 256, with Adam's state) stays the size it
            # has over TF-IDF's 4 000 columns, and density "auto" is the same (1/64)
            hv = hashing(2**12)
            htr, hte = hv.transform(data["texts_train"]), hv.transform(data["texts_test"])
            for (T, d), head in s["hashed_pnet"]:
                hname = "linear" if not head else f"h{head[0]}"
                cfg = f"ProjectionNet {hname}, {T * d} bits, HashingVectorizer(2^12)"
                if (cfg, seed) in done:
                    continue
                pnet(record, cfg, "ProjectionNet on hashed n-grams (no vocabulary)", seed, T, d, head, "auto", s,
                     htr, hte, ytr, yte, 0)
    return rows


def pnet(record, cfg, family, seed, T, d, head, density, s, Xtr, Xte, ytr, yte, feat_b):
    clf = ProjectionNetClassifier(n_projections=T, n_bits=d, projection_hidden_layer_sizes=head, density=density,
                                  max_iter=s["pnet_epochs"], random_state=seed)
    t = time.perf_counter()
    clf.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t
    compact = clf.to_compact("int8")
    record(family, cfg, seed, float(compact.score(Xte, yte)), float(clf.score(Xte, yte)), compact.size_bytes,
           fit_s, 0, feat_b, detail=f"density={clf.projection_.density_:.4g}, n_iter={clf.n_iter_}"
           if hasattr(clf, "projection_") else f"n_iter={clf.n_iter_}")


# ------------------------------------------------------------------------------ summary, tables, plots
def summarise(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["config"]), []).append(r)
    out = []
    for (ds, cfg), rs in groups.items():
        a8 = np.array([float(r["accuracy_int8"]) for r in rs])
        af = np.array([float(r["accuracy_float"]) for r in rs])
        r0 = rs[0]
        family = r0["family"]
        if family.startswith("ProjectionNet on hashed"):  # one series per head in the plot
            family = f"ProjectionNet {cfg.split()[1].rstrip(',')}, hashed n-grams (no vocabulary)"
        out.append(dict(dataset=ds, family=family, config=cfg, n_seeds=len(rs), accuracy_int8=a8.mean(),
                        accuracy_int8_std=a8.std(ddof=1) if len(rs) > 1 else 0.0, accuracy_int8_min=a8.min(),
                        accuracy_int8_max=a8.max(), accuracy_float=af.mean(),
                        **{k: int(r0[k]) for k in ("model_bytes", "projection_bytes", "featurizer_bytes",
                                                   "total_bytes")},
                        bytes_without_featurizer=int(r0["model_bytes"]) + int(r0["projection_bytes"]),
                        detail="; ".join(dict.fromkeys(str(r["detail"]).split(",")[0] for r in rs if r["detail"]))))
    return sorted(out, key=lambda r: (DATASETS.index(r["dataset"]), r["total_bytes"]))


def is_pnet(r):
    return r["family"].startswith("ProjectionNet")


def frontier(rows, key="total_bytes"):
    best, out = -1.0, []
    for r in sorted(rows, key=lambda r: (r[key], -r["accuracy_int8"])):
        if r["accuracy_int8"] > best:
            best = r["accuracy_int8"]
            out.append(r)
    return out


def acc(r):
    a = f"{r['accuracy_int8']:.4f}"
    if r["n_seeds"] > 1:
        a += f" ± {r['accuracy_int8_std']:.4f}"
    return a


def versus(rows, key="total_bytes"):
    """For every peer: the best ProjectionNet at no more bytes, and the smallest ProjectionNet at least as
    accurate."""
    pn = [r for r in rows if is_pnet(r)]
    lines = ["| peer | bytes | int8 acc | best ProjectionNet at ≤ its bytes | bytes | int8 acc | Δ points | "
             "smallest ProjectionNet at ≥ its acc | bytes (× peer) |", "|" + "---|" * 9]
    for p in [r for r in rows if not is_pnet(r)]:
        under = [r for r in pn if r[key] <= p[key]]
        b = max(under, key=lambda r: r["accuracy_int8"]) if under else None
        over = [r for r in pn if r["accuracy_int8"] >= p["accuracy_int8"]]
        m = min(over, key=lambda r: r[key]) if over else None
        cells = [p["config"], f"{p[key]:,}", acc(p)]
        cells += ([b["config"], f"{b[key]:,}", acc(b), f"{100 * (b['accuracy_int8'] - p['accuracy_int8']):+.2f}"]
                  if b else ["none this small", "", "", ""])
        cells += [m["config"], f"{m[key]:,} ({m[key] / p[key]:.2f}×)"] if m else ["none", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(rows, key="total_bytes"):
    lines = ["| model | model B | + projection B | + featuriser B | total B | int8 acc (mean ± sd) | float acc | "
             "seeds | note |", "|" + "---|" * 9]
    for r in sorted(rows, key=lambda r: r[key]):
        lines.append("| " + " | ".join([
            r["config"], f"{r['model_bytes']:,}", f"{r['projection_bytes']:,}" if r["projection_bytes"] else "",
            f"{r['featurizer_bytes']:,}" if r["featurizer_bytes"] else "", f"{r['total_bytes']:,}", acc(r),
            f"{r['accuracy_float']:.4f}", str(r["n_seeds"]), str(r["detail"])]) + " |")
    return "\n".join(lines)


def front_table(rows, key):
    lines = ["| model | bytes | int8 acc |", "|---|---|---|"]
    for r in frontier(rows, key):
        name = f"**{r['config']}**" if is_pnet(r) else r["config"]
        lines.append(f"| {name} | {r[key]:,} | {acc(r)} |")
    return "\n".join(lines)


def report(summary, out_dir):
    parts = ["# Equal-bytes benchmark (generated by `python -m benchmarks.equal_bytes`)", "",
             f"Machine: {C.machine()}", "",
             "Accuracy is that of the int8 model (mean ± sample sd over seeds). Bytes: int8 weights + 4 per "
             "float32 bias + 4 per float32 scale (+ ProjectionNet's header), + SparseRandomProjection's matrix, "
             "+ the TF-IDF vocabulary on text. ProjectionNet rows in **bold** on the frontier.", ""]
    for ds in DATASETS:
        rows = [r for r in summary if r["dataset"] == ds]
        if not rows:
            continue
        parts += [f"## {ds}", "", "### Pareto frontier (total bytes)", "", front_table(rows, "total_bytes"), ""]
        if any(r["featurizer_bytes"] for r in rows):
            parts += ["### Pareto frontier (vocabulary not counted; SRP's matrix still is)", "",
                      front_table(rows, "bytes_without_featurizer"), ""]
        parts += ["### ProjectionNet against each peer at equal total bytes", "", versus(rows), ""]
        if any(r["featurizer_bytes"] for r in rows):
            parts += ["### The same, vocabulary not counted", "", versus(rows, "bytes_without_featurizer"), ""]
        parts += ["### Every model", "", table(rows), ""]
    path = Path(out_dir) / "equal_bytes.md"
    path.write_text("\n".join(parts))
    return path


STYLE = {  # family -> (colour, marker, filled)
    "LogisticRegression": ("tab:blue", "s", True),
    "MLP(16,)": ("tab:orange", "^", True),
    "MLP(32,)": ("tab:orange", "v", True),
    "MLP(64,)": ("tab:orange", "D", True),
    "HashingVectorizer + LR": ("tab:purple", "P", True),
    "SparseRandomProjection + LR": ("tab:brown", "X", True),
    "ProjectionNet linear": ("tab:green", "o", False),
    "ProjectionNet h16": ("tab:red", "o", False),
    "ProjectionNet h32": ("tab:cyan", "o", False),
    "ProjectionNet h64": ("tab:olive", "o", False),
    "ProjectionNet linear, density/4": ("tab:green", "*", False),
    "ProjectionNet h16, density/4": ("tab:red", "*", False),
    "ProjectionNet h32, density/4": ("tab:cyan", "*", False),
    "ProjectionNet h64, density/4": ("tab:olive", "*", False),
    "ProjectionNet linear, hashed n-grams (no vocabulary)": ("black", "h", False),
    "ProjectionNet h32, hashed n-grams (no vocabulary)": ("gray", "p", False),
}


def plot(summary, img_dir):
    plt = C._plt()
    paths = []
    for ds in DATASETS:
        rows = [r for r in summary if r["dataset"] == ds]
        if not rows:
            continue
        keys = ["total_bytes"] + (["bytes_without_featurizer"] if any(r["featurizer_bytes"] for r in rows) else [])
        fig, axes = plt.subplots(1, len(keys), figsize=(7.2 * len(keys), 5.4), squeeze=False)
        for ax, key in zip(axes[0], keys):
            fams = list(dict.fromkeys(r["family"] for r in rows))
            for fam in fams:
                pts = sorted((r[key], r["accuracy_int8"], r["accuracy_int8_std"]) for r in rows if r["family"] == fam)
                x, y, e = map(np.array, zip(*pts))
                color, marker, filled = STYLE.get(fam, ("gray", "o", True))
                ax.errorbar(x, y, yerr=e, fmt=marker + ("-" if fam.startswith("ProjectionNet") else ":"),
                            color=color, ms=7, lw=0.8, capsize=2, mfc=color if filled else "none", mew=1.4,
                            label=fam)
            f = frontier(rows, key)
            ax.step([r[key] for r in f] + [max(r[key] for r in rows)],
                    [r["accuracy_int8"] for r in f] + [f[-1]["accuracy_int8"]], where="post", color="k",
                    lw=1, alpha=0.4, label="Pareto frontier")
            ax.set_xscale("log")
            ax.set_xlabel({"total_bytes": "bytes that ship: int8 model + projection + vocabulary (log)",
                           "bytes_without_featurizer": "bytes without the vocabulary: int8 model + projection (log)"}[key])
            ax.set_ylabel("test accuracy of the int8 model")
            accs = [r["accuracy_int8"] for r in rows]
            ax.set_ylim(max(0.0, np.percentile(accs, 5) - 0.03), min(1.0, max(accs) + 0.01))
            ax.grid(alpha=0.3, which="both")
            ax.set_title(f"{ds}: accuracy per shipped byte (all int8)")
        axes[0][0].legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        Path(img_dir).mkdir(parents=True, exist_ok=True)
        path = Path(img_dir) / f"equal_bytes_{ds}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # --quick, --out-dir, --img-dir, --datasets: a quick run writes a new temporary directory (or --out-dir) and
    # never benchmarks/results/ or docs/img/; a full run (the default) writes them. A subset of the data sets
    # rewrites only its own equal_bytes_<dataset>.csv, so it counts as a full run.
    C.common_args(ap, DATASETS)
    ap.add_argument("--full", action="store_true", help="the full run (the default without --quick)")
    ap.add_argument("--seeds", default=None, help="comma-separated subset of the seeds to run (default: all)")
    ap.add_argument("--report-only", action="store_true", help="only rebuild equal_bytes.csv, .md and the plots")
    ap.add_argument("--fresh", action="store_true", help="discard the per-data-set CSVs instead of resuming")
    args = ap.parse_args(argv)
    if args.quick and args.full:
        ap.error("--quick and --full exclude each other")
    C.quiet_convergence()
    out_dir, img_dir = Path(args.out_dir), Path(args.img_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [n for n in args.datasets.split(",") if n]
    for n in names:
        if n not in DATASETS:
            ap.error(f"unknown data set {n!r}; known: {', '.join(DATASETS)}")
    seeds = None if args.seeds is None else [int(x) for x in args.seeds.split(",")]
    if not args.report_only:
        for n in names:
            csv = out_dir / f"equal_bytes_{n}.csv"
            if args.fresh and csv.exists():
                csv.unlink()
            run_dataset(n, args.quick, csv, seeds)
    rows = C.read_per_dataset(out_dir, "equal_bytes", DATASETS)
    if not rows:
        print("no results in", out_dir)
        return
    summary = summarise(rows)
    C.write_csv(summary, out_dir / "equal_bytes.csv", SUMMARY)
    print("wrote", report(summary, out_dir))
    for p in plot(summary, img_dir):
        print("wrote", p)
    C.written(args)


if __name__ == "__main__":
    main()
