"""Determinism and numba robustness.

- a fixed ``random_state`` gives bit-identical models across runs, across numba thread
  counts (``NUMBA_NUM_THREADS=1`` vs the default, in fresh subprocesses) and through
  pickling;
- ``NUMBA_DISABLE_JIT=1`` (numba's pure-Python mode, for debugging) gives identical
  results on small inputs;
- the package imports and works from a read-only directory, where numba's
  ``cache=True`` has nowhere to write.

BLAS: the trainer network uses numpy matmul, whose rounding can depend on the number of
BLAS threads. The subprocesses pin ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/
``MKL_NUM_THREADS`` to 1 in both runs, so that the comparison isolates numba's thread
count (the LSH kernels sum each row in a fixed order on one thread, whatever the count).
"""

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_projection import ProjectionNetClassifier

ROOT = Path(__file__).resolve().parents[1]

# Fits a classifier on digits (dense) and a sparse random problem, prints a digest of
# everything that defines the models and of their outputs.
WORKER = r"""
import hashlib, json, sys, warnings
import numpy as np, scipy.sparse as sp, numba
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn_projection import LSHProjection, ProjectionNetClassifier
warnings.simplefilter("ignore", ConvergenceWarning)
small = sys.argv[1] == "small"
if small:
    rng = np.random.RandomState(0)
    X = rng.randn(24, 10) * (rng.rand(24, 10) < 0.5)
    y = np.arange(24) % 3
    kw = dict(n_projections=4, n_bits=16, trainer_hidden_layer_sizes=(8,), max_iter=3)
else:
    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    y = y[:600]
    kw = dict(n_projections=20, n_bits=10, projection_hidden_layer_sizes=(16,),
              trainer_hidden_layer_sizes=(32,), max_iter=5, temperature=4.0)
h = hashlib.sha256()
def add(name, a):
    a = np.ascontiguousarray(a)
    h.update(name.encode()); h.update(str(a.dtype).encode()); h.update(a.tobytes())
for sparse, reading in ((False, "binary"), (True, "binary"), (False, "ternary"), (True, "ternary"),
                        (False, "quinary"), (True, "quinary")):
    Xi = sp.csr_matrix(X) if sparse else X
    clf = ProjectionNetClassifier(random_state=0, reading=reading, **kw).fit(Xi, y)
    clf.partial_fit(Xi, y)
    for i, a in enumerate(clf.coefs_ + clf.intercepts_ + clf.trainer_.coefs_ + clf.trainer_.intercepts_):
        add(f"w{sparse}{i}", a)
    add("loss", np.array(clf.loss_curve_))
    add("seed", np.array([clf.projection_.seed_], dtype=np.uint64))
    add("tau", np.array([clf.projection_.threshold_]))
    add("proba", clf.predict_proba(Xi))
    add("int8", clf.to_compact("int8").predict_proba(Xi))
    add("trainer", clf.trainer_.predict_proba(Xi))
    for packed in (False, True):
        add(f"bits{packed}", LSHProjection(n_projections=3, n_bits=50, reading=reading, packed=packed,
                                           random_state=1).fit(Xi).transform(Xi))
print(json.dumps({"digest": h.hexdigest(), "threads": numba.get_num_threads(),
                  "jit_disabled": bool(numba.config.DISABLE_JIT)}))
"""


def run_worker(size, env_extra, pythonpath=ROOT, cwd=None, wrap=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(
        PYTHONPATH=str(pythonpath), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"
    )
    env.update(env_extra)
    cmd = [sys.executable, "-c", WORKER, size]
    if wrap:
        cmd = wrap + cmd
    out = subprocess.run(cmd, env=env, cwd=cwd or ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _model_arrays(clf):
    return clf.coefs_ + clf.intercepts_ + clf.trainer_.coefs_ + clf.trainer_.intercepts_


def test_same_random_state_gives_bit_identical_models_and_pickles(digits_split):
    X_train, X_test, y_train, _ = digits_split
    kw = dict(n_projections=20, n_bits=10, projection_hidden_layer_sizes=(16,), trainer_hidden_layer_sizes=(32,),
              max_iter=5, random_state=7)
    a = ProjectionNetClassifier(**kw).fit(X_train, y_train)
    b = ProjectionNetClassifier(**kw).fit(X_train, y_train)
    assert a.projection_.seed_ == b.projection_.seed_
    for u, v in zip(_model_arrays(a), _model_arrays(b), strict=True):
        assert u.dtype == v.dtype and u.tobytes() == v.tobytes()
    assert a.loss_curve_ == b.loss_curve_
    # pickling keeps every bit, including the optimiser state used by partial_fit
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.predict_proba(X_test), a.predict_proba(X_test))
    np.testing.assert_array_equal(c.trainer_.predict_proba(X_test), a.trainer_.predict_proba(X_test))
    a.partial_fit(X_train, y_train)
    c.partial_fit(X_train, y_train)
    for u, v in zip(_model_arrays(a), _model_arrays(c), strict=True):
        assert u.tobytes() == v.tobytes()
    # a different seed gives a different model: the comparison above can fail
    d = ProjectionNetClassifier(**{**kw, "random_state": 8}).fit(X_train, y_train)
    assert d.coefs_[0].tobytes() != a.coefs_[0].tobytes()


def test_bit_identical_across_numba_thread_counts_in_subprocesses():
    one = run_worker("digits", {"NUMBA_NUM_THREADS": "1"})
    default = run_worker("digits", {})
    assert one["threads"] == 1
    if default["threads"] == 1:
        pytest.skip("this machine has one CPU: nothing to compare")
    assert one["digest"] == default["digest"]


def test_disable_jit_gives_identical_results_on_small_inputs():
    jit = run_worker("small", {})
    pure = run_worker("small", {"NUMBA_DISABLE_JIT": "1"})
    assert pure["jit_disabled"] and not jit["jit_disabled"]
    assert pure["digest"] == jit["digest"]


def _read_only_runner(pkg_parent):
    """A command prefix that runs a process seeing ``pkg_parent`` read-only, or None."""
    if os.geteuid() != 0:
        for path in [pkg_parent, *pkg_parent.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        return []
    # root ignores permission bits: mount the directory read-only in a private namespace
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    d = str(pkg_parent)
    probe = subprocess.run(
        [unshare, "-m", "sh", "-c", f"mount --bind {d} {d} && mount -o remount,bind,ro {d} && ! touch {d}/x"],
        capture_output=True,
    )
    if probe.returncode != 0:
        return None
    return [unshare, "-m", "sh", "-c", f'mount --bind {d} {d} && mount -o remount,bind,ro {d} && exec "$@"', "sh"]


def test_imports_and_works_from_a_read_only_install(tmp_path):
    """numba's cache=True needs a writable place; without one the package must still work.

    Without NUMBA_CACHE_DIR and with no writable home, numba used to raise at import
    ("cannot cache function 'mix64': no locator available"). (With NUMBA_CACHE_DIR set,
    numba caches there: see benchmarks/numba_compile_time.py.)
    """
    site = tmp_path / "site"
    shutil.copytree(ROOT / "sklearn_projection", site / "sklearn_projection",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {"HOME": str(site), "XDG_CACHE_HOME": str(site / "cache")}  # nowhere writable
    wrap = _read_only_runner(site)
    if wrap is None:
        pytest.skip("cannot make a read-only directory here (root without mount namespaces)")
    try:
        got = run_worker("small", env, pythonpath=site, cwd=tmp_path, wrap=wrap)
    finally:
        for path in [site, *site.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert not (site / "sklearn_projection" / "__pycache__").exists() or not any(
        (site / "sklearn_projection" / "__pycache__").glob("*.nbi")
    )
    assert got["digest"] == run_worker("small", {})["digest"]
