"""Thread safety: predict from 8 Python threads on one fitted model equals serial results."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_projection import ProjectionNetClassifier

ROOT = Path(__file__).resolve().parents[1]
N_THREADS = 8


def _concurrent_matches_serial(clf, X):
    """Each of 8 threads predicts overlapping, differently sized slices several times."""
    jobs = [(start, start + size) for size in (1, 64, X.shape[0]) for start in (0, 11)]
    jobs = jobs * 2  # 12 calls of each kind over 8 threads
    serial = {
        (a, b, kind): (clf.predict(X[a:b]) if kind == "predict" else clf.predict_proba(X[a:b]))
        for a, b in set(jobs)
        for kind in ("predict", "proba")
    }

    def work(job):
        a, b = job
        return (a, b, "predict"), clf.predict(X[a:b]), (a, b, "proba"), clf.predict_proba(X[a:b])

    with ThreadPoolExecutor(N_THREADS) as pool:
        results = list(pool.map(work, jobs))
    assert len(results) == len(jobs)
    for k1, pred, k2, proba in results:
        np.testing.assert_array_equal(pred, serial[k1])
        np.testing.assert_array_equal(proba, serial[k2])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predict_from_8_threads_equals_serial(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(
        n_projections=30, n_bits=10, projection_hidden_layer_sizes=(16,), trainer_hidden_layer_sizes=(32,),
        max_iter=10, random_state=0,
    ).fit(X_train, y_train)
    _concurrent_matches_serial(clf, X_test)
    _concurrent_matches_serial(clf, sp.csr_matrix(X_test))


WORKQUEUE_SCRIPT = r"""
import sys, warnings
import numpy as np, numba
sys.path.insert(0, sys.argv[1])
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from concurrent.futures import ThreadPoolExecutor
from sklearn_projection import ProjectionNetClassifier
warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = X / 16.0
clf = ProjectionNetClassifier(n_projections=20, n_bits=10, trainer_hidden_layer_sizes=(16,), max_iter=2,
                              random_state=0).fit(X[:1000], y[:1000])
serial = clf.predict_proba(X)
with ThreadPoolExecutor(8) as pool:
    out = list(pool.map(lambda _: clf.predict_proba(X), range(32)))
assert numba.threading_layer() == "workqueue", numba.threading_layer()
assert all((o == serial).all() for o in out)
print("ok")
"""


def test_threads_under_numba_workqueue_layer_do_not_abort():
    """numba's workqueue layer (no TBB/OpenMP) aborts the process on concurrent parallel
    launches; the library serialises its kernels under that layer."""
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", WORKQUEUE_SCRIPT, str(ROOT)], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
