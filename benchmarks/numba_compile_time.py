"""First-call cost of the numba kernels: fresh cache vs warm cache, in fresh processes.

Each measurement is a new Python process with ``NUMBA_CACHE_DIR`` pointing at a
directory: empty for the "cold" run (every kernel is compiled), then the same directory
again for the "warm" runs (kernels are loaded from the cache). Reported per process:
import time, the first dense transform, the first sparse transform and the first
``fit`` + ``predict`` of a tiny classifier, against the same calls made a second time.

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


def run(cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warm-runs", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        rows = [("cold (empty NUMBA_CACHE_DIR)", run(cache))]
        n_files = sum(1 for _ in Path(cache).rglob("*.nbi"))
        for i in range(args.warm_runs):
            rows.append((f"warm run {i + 1}", run(cache)))
    keys = list(rows[0][1])
    print(f"{'process':32s}" + "".join(f"{k:>26s}" for k in keys))
    for name, r in rows:
        print(f"{name:32s}" + "".join(f"{r[k]:26.3f}" for k in keys))
    print(f"kernels cached: {n_files} index files")
    return rows


if __name__ == "__main__":
    main()
