"""Helpers shared by the benchmark scripts: timing, model bytes, CSV/Markdown output, plots,
and where a run writes (:func:`output_args`).

The scripts are modules of the ``benchmarks`` package; run them from the project root as
``python -m benchmarks.<name>`` (``python benchmarks/<name>.py`` works too: each script puts
the project root on ``sys.path`` when run as a file).
"""

import csv
import datetime
import os
import platform
import subprocess
import sys
import tempfile
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


def network_bytes(clf):
    """Bytes of a fitted ProjectionNetClassifier's network as the result files count them:
    float32 weights and biases plus the 8-byte seed (what the deprecated ``projection_size_bytes_``
    returned; ``clf.size_bytes`` also counts T, d, density and the layer widths)."""
    return int(sum(a.nbytes for a in clf.coefs_ + clf.intercepts_) + 8)


def pnet_bytes(clf):
    """(float32 bytes as :func:`network_bytes` counts them, int8 bytes computed)."""
    return network_bytes(clf), int8_bytes([c.shape for c in clf.coefs_])


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


def output_args(ap, partial=None, quick_help="tiny slice and grid, for CI (seconds)"):
    """Add ``--quick``, ``--out-dir`` (alias ``--out``) and ``--img-dir`` to ``ap``, and resolve
    the two directories when ``ap.parse_args()`` returns:

    - a full run (no ``--quick``, and not a partial run, see below) writes ``benchmarks/results/``
      and ``docs/img/`` unless ``--out-dir``/``--img-dir`` say otherwise;
    - a quick run writes a new temporary directory, or ``--out-dir``, and never the committed
      results: ``--out-dir benchmarks/results`` or ``--img-dir docs/img`` with ``--quick`` is
      refused;
    - a partial run (``partial(args)`` is true: e.g. a subset that would replace a committed file
      with fewer rows) also defaults to a new temporary directory; an explicit ``--out-dir``
      is obeyed;
    - ``--img-dir`` defaults to ``<out-dir>/img`` unless the run writes ``benchmarks/results/``.

    Where the run writes is logged (stderr) as soon as the arguments are parsed.
    """
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--out-dir", "--out", dest="out_dir", default=None,
                    help="where CSV and Markdown go (default: benchmarks/results for a full run, "
                         "a new temporary directory for --quick)")
    ap.add_argument("--img-dir", default=None,
                    help="where PNG plots go (default: docs/img when writing benchmarks/results, else <out-dir>/img)")
    parse_known_args = ap.parse_known_args

    def parse_and_resolve(args=None, namespace=None):
        ns, rest = parse_known_args(args, namespace)
        try:
            resolve_output_dirs(ns, ap.prog, quick=ns.quick, partial=partial is not None and bool(partial(ns)))
        except ValueError as e:
            ap.error(str(e))
        return ns, rest

    ap.parse_known_args = parse_and_resolve  # parse_args() goes through it
    return ap


def common_args(ap, datasets, subsets_are_full=True):
    """:func:`output_args` plus ``--datasets``. With ``subsets_are_full=False`` (a script that
    writes one merged file, not one file per data set), a subset of data sets is a partial run."""
    ap.add_argument("--datasets", default=",".join(datasets), help="comma-separated subset of " + ",".join(datasets))
    return output_args(ap, partial=None if subsets_are_full else
                       (lambda a: set(a.datasets.split(",")) != set(datasets)))


def _inside(path, root):
    path, root = Path(path).resolve(), root.resolve()
    return path == root or root in path.parents


def resolve_output_dirs(args, prog, quick, partial=False):
    """Set ``args.out_dir`` and ``args.img_dir`` (strings) as :func:`output_args` describes."""
    if quick:
        for given, committed, opt in ((args.out_dir, RESULTS, "--out-dir"), (args.img_dir, IMG, "--img-dir")):
            if given is not None and _inside(given, committed):
                raise ValueError(
                    f"{opt} {given}: a --quick run must not write into {committed}, which holds the committed "
                    f"results; omit {opt} (a temporary directory is used) or give another directory")
    if quick or partial:
        if args.out_dir is None:
            name = prog.split()[-1].removesuffix(".py").rsplit(".", 1)[-1] if prog else "benchmark"
            args.out_dir = tempfile.mkdtemp(prefix=f"{name}-{'quick' if quick else 'partial'}-")
    elif args.out_dir is None:
        args.out_dir = str(RESULTS)
    if args.img_dir is None:
        args.img_dir = str(IMG) if _inside(args.out_dir, RESULTS) else str(Path(args.out_dir) / "img")
    args.out_dir, args.img_dir = str(args.out_dir), str(args.img_dir)
    kind = "quick" if quick else "partial" if partial else "full"
    log(f"{kind} run: results to {args.out_dir}, plots to {args.img_dir}")
    return args


def written(args):
    """The closing line of a run: where its files are."""
    print(f"results in {args.out_dir}" + ("" if _inside(args.out_dir, RESULTS) else
                                          " (benchmarks/results/ left alone)"))


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
