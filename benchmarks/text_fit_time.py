"""Joint training over hashed text: fit time at 2**20 columns against a 4 000-word vocabulary,
and whether distilling from the built-in trainer pays there (issue 12, item 3).

Data: TREC-6, stratified 75/25 split (random_state=0, ``benchmarks.datasets.load_text``).
Features, float64 CSR:

- ``count4000``: ``CountVectorizer(max_features=4000)`` fitted on the training texts (the
  built-in trainer's first layer is then a dense 4 000 x 256 matrix, as before);
- ``hashed2^20``: ``NgramHasher(n_features=2**20)`` (word 1-2-grams and char 2-4-grams, the
  defaults; no vocabulary). Sparse input this wide gets the trainer's hashed table of
  ``_embedding.TABLE_ROWS`` rows with row-sparse Adam (``trainer_.table_rows_``).

Model: ``ProjectionNetClassifier(n_projections=160, n_bits=10, projection_hidden_layer_sizes=(64,),
alpha=0.3, density=DENSITY, reading=READING)`` (density passed explicitly: ``1/sqrt(n_features)``
means nothing at 2**20 columns), trainer (256, 256) by default.

1. **Fit time** (``text_fit_time.csv``): every fit runs exactly ``--epochs`` epochs
   (``max_iter=epochs, n_iter_no_change=epochs``), joint and alone (``trainer_weight=0,
   distill_weight=0``) on both feature sets, the four fits interleaved in each of ``--repeat``
   rounds in one process after a warm-up round (numba compiled); best time of each. The
   acceptance is the ratio hashed / count of the joint fits (issue: within 2x).
2. **Joint vs alone on the hashed features** (``text_fit_time_accuracy.csv``): the default
   stopping rule (``max_iter=200``, ``tol``, ``n_iter_no_change=10``), seeds ``--seeds``;
   test accuracy of the projection network joint and alone, and of the trainer.
3. **Table rows** (``text_fit_time_table.csv``): the hashed table at 2**14, 2**16 and 2**18
   rows (``_embedding.TABLE_ROWS`` patched for the fit), ``--epochs`` epochs, seed 0: trainer
   and projection test accuracy, the table's bytes with Adam's moments, fit time (one
   interleaved round after the warm-up; the same rows as section 1 at 2**16).

A full run writes the three CSVs and ``text_fit_time.md`` into benchmarks/results (or
``--out-dir``); ``--quick`` (600 training and 300 test texts, 2 epochs, one repeat, one seed,
two table sizes) writes into a temporary directory.

From the project root::

    python -m benchmarks.text_fit_time [--quick] [--epochs 10] [--repeat 3] [--seeds 0,1,2]
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import load_text  # noqa: E402
from sklearn_projection import NgramHasher, ProjectionNetClassifier  # noqa: E402
from sklearn_projection import _embedding  # noqa: E402

DENSITY = 0.01
READING = "ternary"
MODEL = dict(n_projections=160, n_bits=10, projection_hidden_layer_sizes=(64,), alpha=0.3,
             density=DENSITY, reading=READING)
ALONE = dict(trainer_weight=0.0, distill_weight=0.0)
TIME_COLUMNS = ["features", "mode", "n_features", "nnz_per_row", "trainer_first_layer", "epochs",
                "best_s", "median_s", "repeats", "ratio_to_count4000", "accuracy", "trainer_accuracy"]
ACC_COLUMNS = ["seed", "mode", "epochs", "accuracy", "trainer_accuracy", "seconds"]
TABLE_COLUMNS = ["table_rows", "table_mib_with_moments", "epochs", "seconds", "trainer_accuracy", "accuracy"]


def features(quick):
    texts_train, texts_test, y_train, y_test = load_text("trec6")
    if quick:
        texts_train, texts_test, y_train, y_test = texts_train[:600], texts_test[:300], y_train[:600], y_test[:300]
    cv = CountVectorizer(max_features=4000)
    hasher = NgramHasher(n_features=2**20)
    sets = {
        "count4000": (cv.fit_transform(texts_train).astype(np.float64), cv.transform(texts_test).astype(np.float64)),
        "hashed2^20": (hasher.transform(texts_train), hasher.transform(texts_test)),
    }
    return sets, np.asarray(y_train), np.asarray(y_test)


def fixed_epochs(epochs, seed=0, **kw):
    return ProjectionNetClassifier(max_iter=epochs, n_iter_no_change=epochs, random_state=seed, **MODEL, **kw)


def fit_time(sets, y_train, y_test, epochs, repeat):
    runs = [(name, mode) for name in sets for mode in ("joint", "alone")]
    times = {run: [] for run in runs}
    models = {}
    for round_ in range(repeat + 1):  # round 0 warms up (numba compiles, caches)
        for name, mode in runs:
            X_train = sets[name][0]
            clf = fixed_epochs(epochs, **(ALONE if mode == "alone" else {}))
            t = time.perf_counter()
            clf.fit(X_train, y_train)
            elapsed = time.perf_counter() - t
            if round_:
                times[name, mode].append(elapsed)
            models[name, mode] = clf
    rows = []
    for name, mode in runs:
        X_train, X_test = sets[name]
        clf = models[name, mode]
        rows.append(dict(
            features=name, mode=mode, n_features=X_train.shape[1], nnz_per_row=X_train.nnz / X_train.shape[0],
            trainer_first_layer=("-" if mode == "alone" else
                                 "dense" if clf.trainer_.table_rows_ is None else f"table {clf.trainer_.table_rows_}"),
            epochs=clf.n_iter_, best_s=min(times[name, mode]), median_s=float(np.median(times[name, mode])),
            repeats=repeat, accuracy=clf.score(X_test, y_test),
            trainer_accuracy=clf.trainer_.score(X_test, y_test) if mode == "joint" else float("nan"),
        ))
    for r in rows:
        peer = next(p for p in rows if p["features"] == "count4000" and p["mode"] == r["mode"])
        r["ratio_to_count4000"] = r["best_s"] / peer["best_s"]
    return rows


def joint_vs_alone(X_train, X_test, y_train, y_test, seeds, max_iter):
    rows = []
    for seed in seeds:
        for mode in ("joint", "alone"):
            clf = ProjectionNetClassifier(random_state=seed, max_iter=max_iter, **MODEL,
                                          **(ALONE if mode == "alone" else {}))
            t = time.perf_counter()
            clf.fit(X_train, y_train)
            rows.append(dict(seed=seed, mode=mode, epochs=clf.n_iter_, accuracy=clf.score(X_test, y_test),
                             trainer_accuracy=clf.trainer_.score(X_test, y_test) if mode == "joint" else float("nan"),
                             seconds=time.perf_counter() - t))
    return rows


def table_rows(X_train, X_test, y_train, y_test, epochs, sizes):
    rows = []
    default = _embedding.TABLE_ROWS
    try:
        for n_rows in sizes:
            _embedding.TABLE_ROWS = n_rows
            clf = fixed_epochs(epochs)
            t = time.perf_counter()
            clf.fit(X_train, y_train)
            seconds = time.perf_counter() - t
            assert clf.trainer_.table_rows_ == n_rows
            table = clf.trainer_.coefs_[0]
            rows.append(dict(table_rows=n_rows, table_mib_with_moments=3 * table.nbytes / 2**20, epochs=clf.n_iter_,
                             seconds=seconds, trainer_accuracy=clf.trainer_.score(X_test, y_test),
                             accuracy=clf.score(X_test, y_test)))
    finally:
        _embedding.TABLE_ROWS = default
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10, help="epochs of every fixed-length fit")
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds after the warm-up round")
    ap.add_argument("--seeds", default="0,1,2", help="seeds of the joint vs alone comparison")
    C.output_args(ap, quick_help="600/300 texts, 2 epochs, 1 repeat, 1 seed (seconds)")
    args = ap.parse_args(argv)
    C.quiet_convergence()
    warnings.filterwarnings("ignore", message=".*expected non-zeros per bit.*")
    epochs, repeat = (2, 1) if args.quick else (args.epochs, args.repeat)
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    sizes = [2**12, 2**14] if args.quick else [2**14, 2**16, 2**18]

    sets, y_train, y_test = features(args.quick)
    timing = fit_time(sets, y_train, y_test, epochs, repeat)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    time_table = C.markdown_table(timing, TIME_COLUMNS, [
        "features", "mode", "n_features", "nnz per row", "trainer first layer", "epochs", "best s", "median s",
        "repeats", "time / count4000", "accuracy", "trainer accuracy"])
    print(time_table)
    print(f"load average (1 min) after the timings: {load:.2f} on {os.cpu_count()} CPUs", flush=True)

    X_train, X_test = sets["hashed2^20"]
    acc = joint_vs_alone(X_train, X_test, y_train, y_test, seeds, 5 if args.quick else 200)
    gain = np.mean([r["accuracy"] for r in acc if r["mode"] == "joint"]) - np.mean(
        [r["accuracy"] for r in acc if r["mode"] == "alone"])
    acc_table = C.markdown_table(acc, ACC_COLUMNS, ["seed", "mode", "epochs", "accuracy", "trainer accuracy", "s"])
    print(acc_table)
    print(f"joint - alone, mean over seeds {seeds}: {100 * gain:+.2f} points", flush=True)

    tab = table_rows(X_train, X_test, y_train, y_test, epochs, sizes)
    tab_table = C.markdown_table(tab, TABLE_COLUMNS, ["table rows", "table MiB (x3 with Adam moments)", "epochs",
                                                      "s", "trainer accuracy", "accuracy"])
    print(tab_table)

    out = Path(args.out_dir)
    C.write_csv(timing, out / "text_fit_time.csv", TIME_COLUMNS)
    C.write_csv(acc, out / "text_fit_time_accuracy.csv", ACC_COLUMNS)
    C.write_csv(tab, out / "text_fit_time_table.csv", TABLE_COLUMNS)
    (out / "text_fit_time.md").write_text(
        "# Joint training over hashed text: fit time and joint vs alone (TREC-6)\n\n"
        f"Machine: {C.machine()}; load average (1 min) after the timings {load:.2f} (other work shared the "
        f"machine: times are best of {repeat} interleaved rounds, compare ratios only).\n\n"
        f"Model: `ProjectionNetClassifier({', '.join(f'{k}={v!r}' for k, v in MODEL.items())})`, trainer (256, 256).\n\n"
        f"## Fit time, {epochs} epochs each\n\n{time_table}\n\n"
        f"## Joint vs alone over NgramHasher(n_features=2**20), default stopping rule\n\n{acc_table}\n\n"
        f"joint - alone, mean over seeds {seeds}: {100 * gain:+.2f} points\n\n"
        f"## Rows of the trainer's hashed table, {epochs} epochs, seed 0\n\n{tab_table}\n")
    C.written(args)
    return timing, acc, tab


if __name__ == "__main__":
    main()
