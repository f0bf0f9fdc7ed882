"""Helpers shared by the benchmark scripts: timing, model bytes, CSV/Markdown output, plots."""

import csv
import datetime
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
IMG = ROOT / "docs" / "img"

# MLPClassifier(256, 256) on MNIST: 784*256 + 256*256 + 256*10 weights + 522 biases, float64
MLP_MNIST_BYTES = 2_154_576

warnings.filterwarnings("ignore", category=UserWarning, message=".*batch_size.*")


def quiet_convergence():
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)


def timed(f, *a, repeat=1, **kw):
    """(result of the last call, best wall time in seconds over ``repeat`` calls)."""
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*a, **kw)
        best = min(best, time.perf_counter() - t)
    return out, best


def array_bytes(*arrays):
    return int(sum(np.asarray(a).nbytes for a in arrays))


def int8_bytes(weight_shapes, seed=True):
    """int8 footprint, computed (not measured): 1 byte per weight, a float32 scale per
    output column, a float32 bias per output column, plus the 8-byte seed."""
    n_weights = sum(int(np.prod(s)) for s in weight_shapes)
    n_out = sum(int(s[-1]) for s in weight_shapes)
    return n_weights + 4 * n_out + 4 * n_out + (8 if seed else 0)


def linear_shapes(est):
    """Weight shapes (fan_in x fan_out) of a fitted linear model or MLP."""
    if hasattr(est, "coefs_"):
        return [c.shape for c in est.coefs_]
    coef = np.atleast_2d(est.coef_)
    return [coef.T.shape]


def linear_bytes(est):
    if hasattr(est, "coefs_"):
        return array_bytes(*est.coefs_, *est.intercepts_)
    return array_bytes(est.coef_, est.intercept_)


def pnet_bytes(clf):
    """(float32 bytes as measured by projection_size_bytes_, int8 bytes computed)."""
    return clf.projection_size_bytes_, int8_bytes([c.shape for c in clf.coefs_])


def write_csv(rows, path, columns=None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k, "")) for k in columns})
    return path


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        return f"{v:.6g}"
    return v


def markdown_table(rows, columns, headers=None):
    headers = headers or columns
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(str(_fmt_md(r.get(c, ""))) for c in columns) + " |")
    return "\n".join(lines)


def _fmt_md(v):
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.4g}"
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    return v


def machine():
    """One line describing this machine and the date, for the docs."""
    try:
        model = [l.split(":", 1)[1].strip() for l in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if l.startswith("Model name")][0]
    except Exception:  # pragma: no cover
        model = platform.processor() or "unknown CPU"
    import numba
    import sklearn

    return (f"{model}, {os.cpu_count()} logical CPUs (nproc), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, numba {numba.__version__}; "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")


def common_args(ap, datasets):
    ap.add_argument("--quick", action="store_true", help="tiny slice and grid, for CI (seconds)")
    ap.add_argument("--datasets", default=",".join(datasets), help="comma-separated subset of " + ",".join(datasets))
    ap.add_argument("--out-dir", default=str(RESULTS), help="where CSV and Markdown go")
    ap.add_argument("--img-dir", default=str(IMG), help="where PNG plots go")
    return ap


def log(*a):
    print(*a, flush=True, file=sys.stderr)


# ------------------------------------------------------------------------------ plots
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_pareto(out_dir, img_dir):
    """Accuracy vs inference bytes (log x), every configuration of the bits sweep and every peer,
    and the peers' ProjectionNet models made compact at int8 (measured bytes and accuracy)."""
    out_dir, img_dir = Path(out_dir), Path(img_dir)
    sweep = out_dir / "bits_vs_accuracy_summary.csv"
    peers = out_dir / "peers.csv"
    rows = []
    if sweep.exists():
        for r in read_csv(sweep):
            rows.append((r["dataset"], r["label"], float(r["bytes"]), float(r["accuracy"]), "sweep"))
    if peers.exists():
        for r in read_csv(peers):
            rows.append((r["dataset"], r["method"], float(r["model_bytes"]), float(r["accuracy"]), "peer"))
            if r.get("compact_int8_bytes"):
                rows.append((r["dataset"], "ProjectionNet peers as int8 compact models", float(r["compact_int8_bytes"]),
                             float(r["compact_int8_accuracy"]), "peer"))
    if not rows:
        return None
    plt = _plt()
    datasets = list(dict.fromkeys(r[0] for r in rows))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.6 * len(datasets), 4.2), squeeze=False)

    def key(label, kind):
        return (label.split(" @")[0] if kind == "sweep" else label), kind

    # one colour and marker per series across all panels, so the shared legend is right
    keys = list(dict.fromkeys(key(r[1], r[4]) for r in rows))
    cmap = plt.get_cmap("tab20")
    style = {k: (cmap(i % 20), "o-" if k[1] == "sweep" else "sDv^<>ph*"[i % 9]) for i, k in enumerate(keys)}
    for ax, ds in zip(axes[0], datasets):
        pts = [r for r in rows if r[0] == ds]
        series = {}
        for _, label, b, acc, kind in pts:
            series.setdefault(key(label, kind), []).append((b, acc))
        for k, xy in series.items():
            xy.sort()
            x, y = zip(*xy)
            color, fmt = style[k]
            if k[1] == "sweep":
                ax.plot(x, y, fmt, color=color, ms=3, lw=1, label=k[0])
            else:
                ax.plot(x, y, fmt, color=color, ms=7, mfc="none", mew=1.5, ls="none", label=k[0])
        # the frontier: best accuracy at or below each byte size
        allp = sorted((b, a) for _, _, b, a, _ in pts)
        fx, fy, best = [], [], -1
        for b, a in allp:
            if a > best:
                best = a
                fx.append(b)
                fy.append(a)
        ax.step(fx, fy, where="post", color="k", lw=0.8, alpha=0.5, label="Pareto frontier")
        ax.set_xscale("log")
        ax.set_xlabel("inference model bytes (log)")
        ax.set_ylabel("test accuracy")
        lo = np.percentile([a for *_, a, _ in pts], 10)
        ax.set_ylim(max(0.0, lo - 0.05), 1.0)
        ax.set_title(ds)
        ax.grid(alpha=0.3, which="both")
    handles, labels = [], []
    for ax in axes[0]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.03 + 0.035 * ((len(labels) + 3) // 4), 1, 1))
    img_dir.mkdir(parents=True, exist_ok=True)
    path = img_dir / "pareto.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def read_per_dataset(out_dir, prefix, datasets):
    """Rows of <out_dir>/<prefix>_<dataset>.csv for every data set that has one, numbers parsed."""
    rows = []
    for ds in datasets:
        path = Path(out_dir) / f"{prefix}_{ds}.csv"
        if path.exists():
            rows += [{k: _parse(v) for k, v in r.items()} for r in read_csv(path)]
    return rows


def _parse(v):
    if v == "":
        return v
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
