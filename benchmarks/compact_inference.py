"""Bytes, accuracy and inference speed of the compact ProjectionNet model against its peers.

**MNIST** (the speed comparison of issue 13): 20,000 training rows, the 10,000 test rows.
Compact ProjectionNet models over 600 bits (linear and one hidden layer of 64; float32
and int8) against ``LogisticRegression``, ``MLPClassifier((32,))`` and
``MLPClassifier((256, 256))`` on the raw pixels: ``predict`` rows/s on the 10,000 rows
and the latency of ``predict`` on one row (µs per call), at 1 and at 2 threads (numba
threads for ours, BLAS threads via threadpoolctl for scikit-learn's). Every timing is
best-of-N with the models interleaved (round r times every model once before round
r + 1), so a change in the machine's load hits all of them alike; ratios are to
``MLPClassifier((32,))`` at the same thread count. At one thread the calling thread's
CPU time is reported too (all the work runs in it), which a loaded machine disturbs far
less than the wall clock. ``--baseline DIR`` also loads the
compact models into another copy of the package (e.g. ``git archive <commit>
sklearn_projection``, unpacked) and times it in the same rounds, after checking that it
predicts the same probabilities. At one thread it also times the stages of ``predict`` of
the h64 int8 model (binary and ternary reading of the same weights) against
``MLPClassifier((32,)).predict`` in the same interleaved rounds, by thread CPU time: the
input check ``validate_data`` would run (``np.add.reduce`` over ``X``), the packed LSH
bits, the int8 first layer (scaled), the remaining layers and the whole ``predict``.

**digits and TREC-6**: for scikit-learn's digits and for TREC-6 (CountVectorizer features), trains on the same
split an ``MLPClassifier(256, 256)``, a ``LogisticRegression`` and a
``ProjectionNetClassifier``, then reports

- bytes and test accuracy of: the pickled MLPClassifier(256, 256), the pickled full
  ProjectionNetClassifier, the compact model at float32 / float16 / int8 (``size_bytes``,
  the inference footprint, and its pickle), and the C export of the int8 model (weight
  tables, compiled object size, accuracy of the compiled C runtime when a compiler is found);
- rows/s of ``predict`` of the compact models, ``MLPClassifier`` and ``LogisticRegression``
  on the same test rows (tiled), with 1 thread and with all threads (numba threads for the
  compact model, BLAS threads via threadpoolctl for the others), all in one run.

Prints Markdown tables; writes no file except the ``--json`` path, if given. From the project
root::

    python -m benchmarks.compact_inference            # full run (a few minutes on 2 cores)
    python -m benchmarks.compact_inference --quick    # tiny slices, seconds; checks it runs
    python -m benchmarks.compact_inference --only mnist --json results.json
    mkdir -p /tmp/base && git archive b83953c sklearn_projection | tar -x -C /tmp/base  # before issue 13
    python -m benchmarks.compact_inference --only mnist --baseline /tmp/base/sklearn_projection
"""

import argparse
import importlib.util
import inspect
import itertools
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from sklearn_projection import ProjectionNetClassifier, _format, _projection
from sklearn_projection._export_c import c_weight_bytes

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.datasets import load_digits_split, load_mnist, load_text  # noqa: E402

MNIST_PEER = "MLPClassifier((32,))"

_DRIVER = r"""
#include <stdio.h>
#include "model.h"
int main(void)
{
    double x[PN_N_FEATURES + 1];
    int64_t idx[PN_N_FEATURES + 1];
    long nnz, k;
    while (scanf("%ld", &nnz) == 1) {
        for (k = 0; k < nnz; ++k) {
            long long i;
            if (scanf("%lld %lf", &i, &x[k]) != 2)
                return 2;
            idx[k] = (int64_t)i;
        }
        printf("%d\n", pn_predict_sparse(idx, x, (size_t)nnz, NULL));
    }
    return 0;
}
"""


def _c_results(compact, X_test):
    """(object bytes of the compiled model, C predictions) or (None, None) without a compiler."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None, None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        c_path, _ = compact.export_c(tmp / "model")
        (tmp / "main.c").write_text(_DRIVER)
        subprocess.run([cc, "-std=c99", "-O2", "-c", str(c_path), "-o", str(tmp / "model.o")], check=True)
        text_size = _text_size(tmp / "model.o")
        subprocess.run([cc, "-std=c99", "-O2", str(tmp / "model.o"), str(tmp / "main.c"),
                        "-o", str(tmp / "model"), "-lm"], check=True)
        X = sp.csr_matrix(X_test)
        X.sum_duplicates()
        lines = []
        for i in range(X.shape[0]):
            lo, hi = X.indptr[i], X.indptr[i + 1]
            lines.append(f"{hi - lo} " + " ".join(
                f"{j} {float(v)!r}" for j, v in zip(X.indices[lo:hi], X.data[lo:hi])))
        out = subprocess.run([str(tmp / "model")], input="\n".join(lines) + "\n",
                             capture_output=True, text=True, check=True).stdout
        return text_size, compact.classes_[np.array(out.split(), dtype=int)]


def _text_size(obj):
    """Code + data bytes of an object file (``size``'s text+data+bss), else its file size."""
    size = shutil.which("size")
    if size:
        out = subprocess.run([size, str(obj)], capture_output=True, text=True).stdout.splitlines()
        if len(out) >= 2:
            text, data, bss = (int(v) for v in out[1].split()[:3])
            return {"text": text, "data": data, "bss": bss}
    return {"file": obj.stat().st_size}


def _rows_per_second(predict, X, min_seconds):
    predict(X[:10])  # warm-up (numba compile, caches)
    best, total, n = np.inf, 0.0, 0
    while total < min_seconds or n < 3:
        t0 = time.perf_counter()
        predict(X)
        dt = time.perf_counter() - t0
        best, total, n = min(best, dt), total + dt, n + 1
    return X.shape[0] / best


def _datasets(quick):
    X_train, X_test, y_train, y_test = load_digits_split()
    if quick:
        X_train, y_train, X_test, y_test = X_train[:300], y_train[:300], X_test[:100], y_test[:100]
    yield "digits", X_train, X_test, y_train, y_test, dict(n_projections=60, n_bits=10)
    t_train, t_test, ty_train, ty_test = load_text("trec6")
    if quick:
        t_train, ty_train, t_test, ty_test = t_train[:600], ty_train[:600], t_test[:100], ty_test[:100]
    vec = CountVectorizer().fit(t_train)
    yield ("trec6", vec.transform(t_train), vec.transform(t_test), ty_train, ty_test,
           dict(n_projections=60, n_bits=10, projection_hidden_layer_sizes=(64,), temperature=4.0))


def _run_small(quick, n_rows, min_seconds):
    n_rows = n_rows or (500 if quick else 20000)
    min_seconds = min_seconds if min_seconds is not None else (0.0 if quick else 1.0)
    epochs = 5 if quick else 200
    all_threads = numba.config.NUMBA_NUM_THREADS
    sizes, speed = [], []
    for name, X_train, X_test, y_train, y_test, pn_params in _datasets(quick):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp = MLPClassifier((256, 256), max_iter=epochs, random_state=0).fit(X_train, y_train)
            lr = LogisticRegression(max_iter=epochs * 5).fit(X_train, y_train)
            pn = ProjectionNetClassifier(max_iter=epochs, random_state=0, **pn_params).fit(X_train, y_train)
        mlp_bytes = len(pickle.dumps(mlp))
        print(f"[{name}] models trained", file=sys.stderr, flush=True)

        def row(model, n_bytes, acc, note=""):
            sizes.append(dict(dataset=name, model=model, bytes=int(n_bytes),
                              mlp_over_bytes=round(mlp_bytes / n_bytes, 1),
                              accuracy=None if acc is None else round(float(acc), 4), note=note))

        row("MLPClassifier(256,256) pickled", mlp_bytes, mlp.score(X_test, y_test))
        row("ProjectionNetClassifier pickled (full)", len(pickle.dumps(pn)), pn.score(X_test, y_test))
        compacts = {dt: pn.to_compact(dt) for dt in ("float32", "float16", "int8")}
        for dt, c in compacts.items():
            row(f"compact {dt}", c.size_bytes, c.score(X_test, y_test),
                f"pickle {len(pickle.dumps(c))} B, file {len(c.to_bytes())} B")
        obj, c_pred = _c_results(compacts["int8"], X_test)
        row("C weights (int8 tables)", c_weight_bytes(compacts["int8"]),
            None if c_pred is None else np.mean(c_pred == y_test),
            "no C compiler" if obj is None else f"compiled object (cc -O2): {obj}")

        reps = -(-n_rows // X_test.shape[0])
        X_rep = sp.vstack([X_test] * reps).tocsr()[:n_rows] if sp.issparse(X_test) else np.tile(X_test, (reps, 1))[:n_rows]
        models = {"compact int8": compacts["int8"], "compact float32": compacts["float32"],
                  "MLPClassifier(256,256)": mlp, "LogisticRegression": lr}
        for threads in (1, all_threads):
            numba.set_num_threads(threads)
            with threadpool_limits(limits=threads):
                for model_name, model in models.items():
                    rate = _rows_per_second(model.predict, X_rep, min_seconds)
                    speed.append(dict(dataset=name, model=model_name, threads=threads,
                                      rows=int(X_rep.shape[0]), rows_per_s=round(rate)))
        numba.set_num_threads(all_threads)
    return sizes, speed


def _load_baseline(path):
    """Import another copy of the package (a directory holding its ``__init__.py``) under the
    directory's name, or ``sklearn_projection_baseline`` for a directory named like the
    package (always the same name for the same directory: numba's cache records it)."""
    path = Path(path).resolve()
    name = "sklearn_projection_baseline" if path.name == "sklearn_projection" else path.name
    spec = importlib.util.spec_from_file_location(
        name, path / "__init__.py", submodule_search_locations=[str(path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _baseline_model(base, compact):
    """``compact`` rebuilt in the ``base`` package from its parts (as this package reads
    them from its file), so an older copy that does not read this file version works."""
    parts = _format.read(compact.to_bytes())
    accepted = inspect.signature(base.CompactProjectionClassifier._from_parts).parameters
    return base.CompactProjectionClassifier._from_parts(**{k: v for k, v in parts.items() if k in accepted})


def _interleaved(calls, rounds, inner):
    """Best time per call (seconds) of each of ``calls`` (name -> function): ``rounds``
    rounds, each timing every call ``inner`` times in a row, in turn. Returns
    ``(wall, cpu)``: wall-clock times and the calling thread's CPU times (the latter mean
    something only where all the work runs in the calling thread: one thread)."""
    wall, cpu = dict.fromkeys(calls, np.inf), dict.fromkeys(calls, np.inf)
    for f in calls.values():
        f()  # warm-up: numba compilation, caches
    for _ in range(rounds):
        for name, f in calls.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            for _ in range(inner):
                f()
            c1, t1 = time.thread_time(), time.perf_counter()
            wall[name] = min(wall[name], (t1 - t0) / inner)
            cpu[name] = min(cpu[name], (c1 - c0) / inner)
    return wall, cpu


def _stages(compact, peer, X, rounds):
    """Thread CPU time (ms, best of ``rounds``, interleaved) of each stage of ``predict`` of
    an int8 compact model with a hidden layer, for the three readings of its weights, and of
    ``peer.predict``, on ``X`` at one thread."""
    from sklearn_projection import _inference, _projection

    seed, n_bits, density = compact.seed_, compact.n_bits_total_, compact.density_
    W, b, scale = compact.coefs_[0], compact.intercepts_[0], compact.scales_[0]
    calls = {"MLPClassifier((32,)).predict": lambda: peer.predict(X),
             "input check (np.add.reduce over X)": lambda: _inference._sum_is_finite(X)}
    # the quinary threshold: the model's own if it reads five levels, else that of the training rows' scale
    tau = compact.threshold_ if compact.reading_ == "quinary" else _projection.quinary_threshold(
        X, seed, n_bits, density)
    for reading in ("binary", "ternary", "quinary"):
        planes = {"binary": 1, "ternary": 2, "quinary": 4}[reading]
        threshold = tau if reading == "quinary" else 0.0
        words = _projection.lsh_bits(X, seed, n_bits, density, packed=True, reading=reading, threshold=threshold)
        z = _inference.first_layer(words, W, b, scale, planes=planes)
        model = pickle.loads(pickle.dumps(compact))
        model.reading_, model.threshold_ = reading, threshold
        calls[f"{reading}: LSH bits (lsh_bits, packed)"] = (
            lambda r=reading, t=threshold: _projection.lsh_bits(X, seed, n_bits, density, packed=True, reading=r,
                                                                threshold=t))
        calls[f"{reading}: first layer"] = lambda w=words, p=planes: _inference.first_layer(w, W, b, scale, planes=p)
        calls[f"{reading}: remaining layers"] = (
            lambda z=z: _inference.remaining_layers(z.copy(), compact.coefs_, compact.intercepts_, compact.scales_))
        calls[f"{reading}: predict"] = lambda m=model: m.predict(X)
    _, cpu = _interleaved(calls, rounds, 1)
    return [dict(stage=name, ms=round(t * 1e3, 2)) for name, t in cpu.items()]


def _run_mnist(quick, baseline=None, rounds=None):
    """Rows/s and one-row latency of the compact models and the scikit-learn peers on MNIST."""
    n_train, n_test = (1000, 200) if quick else (20000, None)
    X_train, X_test, y_train, y_test = load_mnist(n_train, n_test)
    epochs = 3 if quick else 10
    rounds = rounds or (2 if quick else 9)
    inner_one = 5 if quick else 200
    models, info = {}, {}
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        peers = {"LogisticRegression": LogisticRegression(max_iter=10 * epochs),
                 MNIST_PEER: MLPClassifier((32,), max_iter=3 * epochs, random_state=0),
                 "MLPClassifier((256, 256))": MLPClassifier((256, 256), max_iter=epochs, random_state=0)}
        for name, model in peers.items():
            models[name] = model.fit(X_train, y_train)
            info[name] = dict(bytes=len(pickle.dumps(model)), note="pickled")
        for head, hidden in (("h64", (64,)), ("linear", ())):
            pn = ProjectionNetClassifier(n_projections=60, n_bits=10, projection_hidden_layer_sizes=hidden,
                                         max_iter=epochs, random_state=0).fit(X_train, y_train)
            for dtype in ("int8", "float32"):
                name = f"compact {head} {dtype}"
                models[name] = pn.to_compact(dtype)
                info[name] = dict(bytes=models[name].size_bytes,
                                  note=f"600 bits, density {pn.projection_.density_:.4g}")
    print("[mnist] models trained", file=sys.stderr, flush=True)
    other_hash = []
    if baseline is not None:
        base = _load_baseline(baseline)
        # a baseline of another projection hash computes other bits for the same weights: the
        # same work per row, so its speed compares, but not its probabilities or accuracy
        base_hash = getattr(base._projection, "HASH_VERSION", None)
        same_hash = base_hash == _projection.HASH_VERSION
        for name in [m for m in models if m.startswith("compact")]:
            old = _baseline_model(base, models[name])
            # the same classes, the probabilities to float32 rounding (before 11ffe2e the layers
            # after the first were summed by numpy's matmul, in BLAS's order)
            p_old, p_new = old.predict_proba(X_test), models[name].predict_proba(X_test)
            if same_hash and not (np.array_equal(p_old.argmax(axis=1), p_new.argmax(axis=1))
                                  and np.allclose(p_old, p_new, rtol=0, atol=2e-6)):
                raise AssertionError(f"{name}: the baseline package predicts other classes or probabilities")
            models[f"baseline {name}"] = old
            note = f"{info[name]['note']}; {baseline}" + ("" if same_hash else f" (hash version {base_hash}: "
                                                                                "other bits, accuracy not comparable)")
            info[f"baseline {name}"] = dict(info[name], note=note)
            if not same_hash:
                other_hash.append(f"baseline {name}")
    for name, model in models.items():
        info[name]["accuracy"] = (None if name in other_hash else
                                  round(float(np.mean(model.predict(X_test) == y_test)), 4))
    one = [np.ascontiguousarray(X_test[i : i + 1]) for i in range(min(64, len(X_test)))]
    rows = []
    numba.set_num_threads(1)
    with threadpool_limits(limits=1):
        stages = _stages(models["compact h64 int8"], models[MNIST_PEER], X_test, rounds)
    for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
        numba.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            batch, batch_cpu = _interleaved({n: (lambda m=m: m.predict(X_test)) for n, m in models.items()},
                                            rounds, 1)
            # one row per call, cycling through different rows
            single, single_cpu = _interleaved({n: (lambda m=m, it=itertools.cycle(one): m.predict(next(it)))
                                               for n, m in models.items()}, rounds, inner_one)
        for name in models:
            # CPU time: on a loaded machine the wall-clock minimum of a 20-50 ms call is a
            # lottery, the calling thread's CPU time much less so (one thread only)
            cpu = threads == 1
            rows.append(dict(dataset="mnist", model=name, threads=threads, rows=len(X_test),
                             rows_per_s=round(len(X_test) / batch[name]), one_row_us=round(single[name] * 1e6, 1),
                             rows_per_cpu_s=round(len(X_test) / batch_cpu[name]) if cpu else None,
                             one_row_cpu_us=round(single_cpu[name] * 1e6, 1) if cpu else None,
                             **info[name]))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return rows, stages


def run(quick=False, n_rows=None, min_seconds=None, only="all", baseline=None):
    load_before = os.getloadavg()[0]
    sizes, speed, mnist, stages = [], [], [], []
    if only in ("all", "mnist"):
        mnist, stages = _run_mnist(quick, baseline)
    if only in ("all", "small"):
        sizes, speed = _run_small(quick, n_rows, min_seconds)
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = None
    meta = dict(date=str(date.today()), machine=f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
                python=platform.python_version(), numba=numba.__version__, numba_threading_layer=layer,
                quick=quick, command=" ".join(sys.argv),
                # the run's own threads count too
                load_average_1min_before=round(load_before, 2), load_average_1min_after=round(os.getloadavg()[0], 2))
    return dict(meta=meta, sizes=sizes, throughput=speed, mnist=mnist, mnist_stages=stages)




def mnist_markdown(rows):
    """The MNIST table: rows/s and one-row latency per model and thread count, with ratios
    to MLPClassifier((32,)) at the same thread count; at one thread also by CPU time."""
    lines = ["| model | accuracy | bytes | threads | rows/s | vs MLP((32,)) | rows/CPU-s | vs MLP((32,)) "
             "| one row (µs) | MLP((32,)) µs / this | one row (CPU µs) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    peer = {r["threads"]: r for r in rows if r["model"] == MNIST_PEER}
    for r in sorted(rows, key=lambda r: (r["threads"], -(r.get("rows_per_cpu_s") or r["rows_per_s"]))):
        p = peer[r["threads"]]
        cpu = r.get("rows_per_cpu_s")
        cpu_cells = (f"{cpu:,} | {cpu / p['rows_per_cpu_s']:.2f} | " if cpu else "– | – | ")
        one_cpu = f"{r['one_row_cpu_us']:.0f}" if r.get("one_row_cpu_us") else "–"
        accuracy = "n/a" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        lines.append(f"| {r['model']} | {accuracy} | {r['bytes']:,} | {r['threads']} | {r['rows_per_s']:,} "
                     f"| {r['rows_per_s'] / p['rows_per_s']:.2f} | {cpu_cells}{r['one_row_us']:.0f} "
                     f"| {p['one_row_us'] / r['one_row_us']:.2f} | {one_cpu} |")
    return "\n".join(lines)


def to_markdown(results):
    lines = [f"{results['meta']}", ""]
    if results.get("mnist"):
        lines += [mnist_markdown(results["mnist"]), ""]
    if results.get("mnist_stages"):
        lines += ["| stage of predict, compact h64 int8, 1 thread | thread CPU ms per call |", "|---|---:|"]
        lines += [f"| {r['stage']} | {r['ms']:.2f} |" for r in results["mnist_stages"]] + [""]
    if not results["sizes"]:
        return "\n".join(lines)
    lines += ["| data | model | bytes | MLP bytes / bytes | accuracy | note |",
              "|---|---|---:|---:|---:|---|"]
    for r in results["sizes"]:
        acc = "n/a" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        lines.append(f"| {r['dataset']} | {r['model']} | {r['bytes']:,} | {r['mlp_over_bytes']} | {acc} | {r['note']} |")
    lines += ["", "| data | model | threads | rows | rows/s | vs MLP (same threads) | vs LR |",
              "|---|---|---:|---:|---:|---:|---:|"]
    by = {(r["dataset"], r["model"], r["threads"]): r["rows_per_s"] for r in results["throughput"]}
    for r in results["throughput"]:
        key = (r["dataset"], "MLPClassifier(256,256)", r["threads"])
        lr = (r["dataset"], "LogisticRegression", r["threads"])
        lines.append(f"| {r['dataset']} | {r['model']} | {r['threads']} | {r['rows']:,} | {r['rows_per_s']:,} "
                     f"| {r['rows_per_s'] / by[key]:.2f} | {r['rows_per_s'] / by[lr]:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny slices and few epochs")
    parser.add_argument("--rows", type=int, default=None, help="rows per throughput measurement")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--only", choices=("all", "mnist", "small"), default="all",
                        help="mnist: the MNIST speed comparison only; small: digits and TREC-6 only")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="directory of another copy of the sklearn_projection package to time alongside")
    args = parser.parse_args(argv)
    results = run(quick=args.quick, n_rows=args.rows, only=args.only, baseline=args.baseline)
    print(to_markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
