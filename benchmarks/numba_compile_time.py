"""First-call cost of the numba kernels: fresh cache vs warm cache, in fresh processes.

Each measurement is a new Python process with ``NUMBA_CACHE_DIR`` pointing at a
directory: empty for the "cold" run (every kernel is compiled), then the same directory
again for the "warm" runs (kernels are loaded from the cache). Two probes: (1) import
time, the first dense transform, the first sparse transform and the first ``fit`` +
``predict`` of a tiny linear classifier, against the same calls made a second time;
(2) a process whose first call is the ``fit`` of a hidden-layer classifier on digits
(default reading: quinary), then its ``predict`` and its int8 compact model's
``predict`` (issue 13's "first fit + predict in a new environment").

From the project root: ``python -m benchmarks.numba_compile_time [--warm-runs 2]``. Prints a
table; writes no file. Wall-clock numbers; on a shared machine they vary with load.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, time, warnings
t0 = time.perf_counter()
import numpy as np, scipy.sparse as sp
from sklearn_projection import LSHProjection, ProjectionNetClassifier
t_import = time.perf_counter() - t0
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
X = rng.rand(300, 20); Xs = sp.csr_matrix(X * (X > 0.7)); y = np.arange(300) % 3
proj = LSHProjection(random_state=0).fit(X)
def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t
out = {"import_s": t_import}
out["dense_transform_first_s"] = timed(lambda: proj.transform(X))
out["dense_transform_again_s"] = timed(lambda: proj.transform(X))
out["sparse_transform_first_s"] = timed(lambda: proj.transform(Xs))
out["sparse_transform_again_s"] = timed(lambda: proj.transform(Xs))
clf = ProjectionNetClassifier(n_projections=10, n_bits=10, trainer_hidden_layer_sizes=(8,), max_iter=2, random_state=0)
out["fit_predict_first_s"] = timed(lambda: clf.fit(X, y).predict(X))
out["fit_predict_again_s"] = timed(lambda: clf.fit(X, y).predict(X))
print(json.dumps(out))
"""


# a process whose first call is the fit of a default hidden-layer classifier (the quinary
# reading, "auto" on digits), then its predict and its int8 compact model's predict
FIRST_FIT = r"""
import json, time, warnings
t0 = time.perf_counter()
import numpy as np
from sklearn.datasets import load_digits
from sklearn_projection import ProjectionNetClassifier
t_import = time.perf_counter() - t0
warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t
clf = ProjectionNetClassifier(projection_hidden_layer_sizes=(32,), max_iter=2, random_state=0)
out = {"import_s": t_import}
out["hidden_fit_first_s"] = timed(lambda: clf.fit(X, y))
out["predict_first_s"] = timed(lambda: clf.predict(X))
compact = clf.to_compact("int8")
out["int8_predict_first_s"] = timed(lambda: compact.predict(X))
out["fit_again_s"] = timed(lambda: clf.fit(X, y))
out["predict_again_s"] = timed(lambda: clf.predict(X))
out["int8_predict_again_s"] = timed(lambda: compact.predict(X))
out["reading"] = clf.projection_.reading
print(json.dumps(out))
"""


def run(cache_dir, probe=PROBE):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(rows):
    """A Markdown table: one row per process, one column per timing (seconds)."""
    keys = [k for k in rows[0][1] if k != "reading"]
    print("| process | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for name, r in rows:
        print(f"| {name} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warm-runs", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        rows = [("cold (empty NUMBA_CACHE_DIR)", run(cache))]
        n_files = sum(1 for _ in Path(cache).rglob("*.nbi"))
        for i in range(args.warm_runs):
            rows.append((f"warm run {i + 1}", run(cache)))
    print("Transforms first, then a linear classifier:\n")
    _table(rows)
    print(f"kernels cached: {n_files} index files\n")
    with tempfile.TemporaryDirectory() as cache:
        first = [("cold (empty NUMBA_CACHE_DIR)", run(cache, FIRST_FIT))]
        for i in range(args.warm_runs):
            first.append((f"warm run {i + 1}", run(cache, FIRST_FIT)))
    print(f"A hidden-layer fit first (digits, reading {first[0][1]['reading']}), then predict and the int8 "
          "compact predict:\n")
    _table(first)
    return rows + first


if __name__ == "__main__":
    main()
