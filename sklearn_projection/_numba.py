"""The njit wrapper every kernel of the package is compiled with.

Kernels live in their own modules (:mod:`._hashing`, :mod:`._inference`) as pure
functions over arrays; this module only decides how they are compiled and launched.
"""

import functools
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
      ``omp`` and ``tbb`` layers are thread-safe and run concurrently.
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

        @functools.wraps(func)
        def parallel_kernel(*args):
            if _threadsafe_layer():
                return kernel(*args)
            with _WORKQUEUE_LOCK:
                return kernel(*args)

        parallel_kernel.kernel = kernel
        return parallel_kernel

    return decorate


_WORKQUEUE_LOCK = threading.Lock()
_THREADSAFE = []


def _threadsafe_layer():
    """True once numba's threading layer is known to be thread-safe (tbb or omp)."""
    if not _THREADSAFE:
        try:
            layer = numba.threading_layer()
        except ValueError:  # not chosen before the first parallel launch
            return False
        _THREADSAFE.append(layer in ("tbb", "omp"))
    return _THREADSAFE[0]
