"""The njit wrapper every kernel of the package is compiled with, and how rows are split
among threads.

Kernels live in their own modules (:mod:`._hashing`, :mod:`._inference`) as pure
functions over arrays; this module only decides how they are compiled and launched.

The row kernels (input -> bits, the first layer) are serial functions compiled with
``nogil=True``; :func:`in_threads` splits the rows among Python threads that run them at
once (:func:`row_workers` of them: numba's thread count, ``numba.set_num_threads``). Not
numba's ``prange``: a parallel kernel takes seconds more to compile (a cold first fit +
predict went from 6.4 s to 3.1 s without them), and its regions have the two properties
below. One kernel still runs in a parallel region (the n-gram hashing of
:mod:`._text_kernels`), so the wrapper keeps handling them:

- **An exception raised inside a parallel region does not reliably reach the caller**:
  the ``workqueue`` layer loses it (the call returns whatever the output held), OpenMP
  reports it at best as a ``SystemError``. The parallel kernels therefore allocate
  nothing: their callers allocate every output and scratch array with numpy (which
  raises ``MemoryError``) after a memory check that counts them.
- **fork**: GNU OpenMP (numba's ``omp`` layer on Linux) is not fork-safe. A process
  forked (``os.fork``, ``multiprocessing`` with the ``fork`` start method, the default on
  Linux before Python 3.14) after a parallel kernel ran used to be killed by numba at its
  first parallel kernel ("Terminating: fork() called from a process already using GNU
  OpenMP"), and a ``multiprocessing.Pool`` then waited forever for the lost task. Here,
  a process forked after the ``omp`` layer with GNU OpenMP started (and its forks in
  turn) runs the kernels serially, compiled once more without ``parallel=True`` on the
  first call in that process (a few seconds, not cached); bits and predictions are the
  same. The ``tbb`` and ``workqueue`` layers and non-GNU OpenMP survive fork and stay
  parallel. The ``spawn`` and ``forkserver`` start methods avoid the question.
"""

import functools
import os
import threading

import numba
import numpy as np


def njit(**options):
    """``numba.njit`` made robust to where the package is installed and how numba is run.

    - ``cache=True`` needs a writable cache directory: the package's ``__pycache__``, the
      user's cache directory or ``NUMBA_CACHE_DIR``. Where there is none (a read-only
      install with no writable home), numba raises at import; fall back to compiling
      without a cache instead.
    - With ``NUMBA_DISABLE_JIT=1`` the kernels run as plain Python over numpy ``uint64``
      scalars, whose wrap-around (intended: the hash is arithmetic modulo 2**64) numpy
      reports as overflow warnings; silence exactly those.
    - ``parallel=True`` kernels: numba's ``workqueue`` threading layer (used when neither
      TBB nor OpenMP is available) aborts the whole process when two Python threads run
      parallel kernels at once. Under that layer, calls are serialised by a lock; the
      ``omp`` and ``tbb`` layers are thread-safe and run concurrently. In a process
      forked after GNU OpenMP started, they run serially (see the module docstring).
    """

    def decorate(func):
        if numba.config.DISABLE_JIT:

            @functools.wraps(func)
            def pure_python(*args):
                with np.errstate(over="ignore"):
                    return func(*args)

            return pure_python
        try:
            kernel = numba.njit(**options)(func)
        except RuntimeError as exc:
            if not options.get("cache") or "cannot cache" not in str(exc):
                raise
            kernel = numba.njit(**{**options, "cache": False})(func)
        if not options.get("parallel"):
            return kernel
        serial = []

        @functools.wraps(func)
        def parallel_kernel(*args):
            if _FORKED_FROM_GNU_OPENMP:
                if not serial:
                    # not cached: numba's cache would not tell this from the parallel build
                    serial.append(numba.njit(**{**options, "parallel": False, "cache": False})(func))
                return serial[0](*args)
            if _threadsafe_layer():
                return kernel(*args)
            with _WORKQUEUE_LOCK:
                return kernel(*args)

        parallel_kernel.kernel = kernel
        return parallel_kernel

    return decorate


def parallel_workers(n_items):
    """How many parallel workers a kernel over ``n_items`` rows uses (each with its own
    scratch): numba's thread count, at most ``n_items``, 1 where kernels run serially."""
    threads = 1 if _FORKED_FROM_GNU_OPENMP or numba.config.DISABLE_JIT else numba.get_num_threads()
    return max(0, min(int(n_items), threads))


# a thread costs ~50 us to start: below this many rows per worker, fewer workers
MIN_ROWS_PER_THREAD = 128


def row_workers(n_rows, per_worker=MIN_ROWS_PER_THREAD):
    """How many workers :func:`in_threads` splits ``n_rows`` rows (or other items) among,
    each with its own scratch: numba's thread count (``numba.set_num_threads``), at most
    one per ``per_worker`` items (a thread's start must be worth it), at least 1."""
    return max(1, min(parallel_workers(n_rows), int(n_rows) // per_worker))


def in_threads(run, n_items, n_workers):
    """``run(worker, lo, hi)`` for ``n_items`` items split into ``n_workers`` contiguous
    ranges (``lo = worker * n_items // n_workers``), worker 0 in the calling thread, the
    others each in a thread of its own; returns their results in worker order, and raises
    the first exception any of them raised. A thread that cannot be started (``RuntimeError``:
    a process at its thread limit) is not an error: its range runs in the calling thread.

    The row kernels are serial numba functions compiled with ``nogil=True``, so the
    threads run at once. This takes the place of numba's ``prange``: a parallel kernel
    costs seconds more to compile (about half of a cold first fit and predict), an
    exception raised in it does not reliably reach the caller, and GNU OpenMP, behind it
    on Linux, does not survive ``fork`` (see the module docstring). Every item is computed
    the same way whichever worker takes it: results do not depend on ``n_workers``.
    """
    if n_workers <= 1:
        return [run(0, 0, n_items)]
    results = [None] * n_workers
    errors = []

    def work(w):
        try:
            results[w] = run(w, w * n_items // n_workers, (w + 1) * n_items // n_workers)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller
            errors.append(exc)

    started = []
    for w in range(1, n_workers):
        thread = threading.Thread(target=work, args=(w,), daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had (a process or container at its limit):
            work(w)  # this worker's rows run here instead, the same way
            continue
        started.append(thread)
    work(0)
    for thread in started:
        thread.join()
    if errors:
        raise errors[0]
    return results


_WORKQUEUE_LOCK = threading.Lock()
_THREADSAFE = []
# set in a child forked after GNU OpenMP started in its parent (or in an ancestor)
_FORKED_FROM_GNU_OPENMP = False


def _threadsafe_layer():
    """True once numba's threading layer is known to be thread-safe (tbb or omp)."""
    if not _THREADSAFE:
        try:
            layer = numba.threading_layer()
        except ValueError:  # not chosen before the first parallel launch
            return False
        _THREADSAFE.append(layer in ("tbb", "omp"))
    return _THREADSAFE[0]


def _gnu_openmp_started():
    """True when numba's threading layer has started and is GNU OpenMP (not fork-safe)."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run: the child starts its own layer
        return False
    if layer != "omp":
        return False
    try:
        from numba.np.ufunc import omppool
    except ImportError:  # pragma: no cover - omp layer without its module
        return True
    return getattr(omppool, "openmp_vendor", "GNU") == "GNU"


def _after_fork_in_child():
    global _FORKED_FROM_GNU_OPENMP, _WORKQUEUE_LOCK
    # a thread of the parent may have held the lock at the fork: the child's copy would
    # then stay locked forever
    _WORKQUEUE_LOCK = threading.Lock()
    if not _FORKED_FROM_GNU_OPENMP and _gnu_openmp_started():
        _FORKED_FROM_GNU_OPENMP = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
