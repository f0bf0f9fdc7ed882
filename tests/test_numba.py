"""The njit wrapper (_numba.py): pure-Python fallback, parallel launches, cache fallback."""

import warnings

import numba
import numpy as np

from sklearn_projection import _numba


def _wraps_around(x):
    return x * np.uint64(0x9E3779B97F4A7C15)


def test_disabled_jit_runs_python_and_silences_only_the_intended_overflow(monkeypatch):
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    kernel = _numba.njit(cache=True)(_wraps_around)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # uint64 wrap-around would warn without the wrapper
        assert int(kernel(np.uint64(3))) == (3 * 0x9E3779B97F4A7C15) % 2**64


def test_parallel_kernels_are_wrapped_and_give_the_kernel_result():
    def total(x):
        s = 0.0
        for i in numba.prange(x.shape[0]):
            s += x[i]
        return s

    kernel = _numba.njit(parallel=True)(total)
    assert hasattr(kernel, "kernel")
    assert kernel(np.arange(100.0)) == 4950.0
    assert isinstance(_numba._threadsafe_layer(), bool)


def test_uncachable_function_falls_back_to_no_cache():
    # functions defined by exec have no source file: numba cannot cache them
    namespace = {}
    exec("def f(x):\n    return x + 1\n", namespace)
    kernel = _numba.njit(cache=True)(namespace["f"])
    assert kernel(41) == 42


def test_in_threads_splits_the_items_in_order_and_raises_a_worker_error():
    seen = []

    def run(w, lo, hi):
        seen.append((w, lo, hi))
        return w * 10

    for n_workers in (1, 2, 3):
        seen.clear()
        assert _numba.in_threads(run, 10, n_workers) == [10 * w for w in range(n_workers)]
        ranges = sorted(seen)
        assert [r[0] for r in ranges] == list(range(n_workers))
        assert ranges[0][1] == 0 and ranges[-1][2] == 10  # contiguous, in order, covering every item
        assert all(a[2] == b[1] for a, b in zip(ranges, ranges[1:]))

    def fails(w, lo, hi):
        if w == 1:
            raise MemoryError("worker 1")
        return w

    import pytest

    with pytest.raises(MemoryError, match="worker 1"):
        _numba.in_threads(fails, 10, 3)


def test_row_workers_leave_small_batches_to_one_thread(monkeypatch):
    monkeypatch.setattr(numba, "get_num_threads", lambda: 4)
    assert _numba.row_workers(0) == _numba.row_workers(1) == 1
    assert _numba.row_workers(2 * _numba.MIN_ROWS_PER_THREAD) == 2
    assert _numba.row_workers(100 * _numba.MIN_ROWS_PER_THREAD) == 4


def test_in_threads_runs_a_range_here_when_no_thread_can_be_started(monkeypatch):
    import threading

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    seen = []
    out = _numba.in_threads(lambda w, lo, hi: seen.append((lo, hi)) or hi - lo, 10, 3)
    assert out == [3, 3, 4] and sorted(seen) == [(0, 3), (3, 6), (6, 10)]


def test_predict_without_threads_equals_predict_with_them(monkeypatch):
    # a batch large enough for two workers, predicted when no thread can be started: the same answers
    import threading

    from sklearn.datasets import load_digits

    from sklearn_projection import ProjectionNetClassifier

    X, y = load_digits(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=10, n_bits=10, projection_hidden_layer_sizes=(8,), max_iter=2,
                                  random_state=0).fit(X, y)
    compact = clf.to_compact("int8")
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        expected = compact.predict_proba(X), clf.predict_proba(X)

        def refuse(self):
            raise RuntimeError("can't start new thread")

        monkeypatch.setattr(threading.Thread, "start", refuse)
        got = compact.predict_proba(X), clf.predict_proba(X)
    finally:
        numba.set_num_threads(old)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
