"""Numba kernels: the hash that regenerates the random projections, and X -> bits.

Every entry of the random projection matrix is a pure function of
``(seed, bit, feature)``::

    key_b  = mix64(seed ^ mix64(bit + 1))                 # one key per output bit
    h      = mix64(key_b + (feature + 1) * GOLDEN)        # splitmix64 stream of that key
    P[b,f] = 0                   if (h >> 32) >= threshold   (threshold = density * 2**32)
           = +1 if h & 1 else -1 otherwise

``mix64`` is the splitmix64 finaliser. Only unsigned 64-bit integer arithmetic is
involved, so the matrix is identical on every machine; it is never stored between
calls. The dot products are summed in float64, feature by feature in increasing feature
order, one row per thread, so the bits do not depend on the number of threads nor on
whether the input was dense or sparse.

The functions here are pure functions over arrays; validation happens in the callers.
"""

import functools
import threading

import numba
import numpy as np
from numba import prange


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


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_ONE = np.uint64(1)

# A row whose largest |x| exceeds _BIG is summed again after scaling by the exact power
# of two _SHRINK, so that sums cannot overflow to +-inf (scaling by 2**-k keeps signs).
_BIG = 2.0**960
_SHRINK = 2.0**-1000


@njit(cache=True, inline="always")
def mix64(z):
    """splitmix64 finaliser (Steele, Lea & Flood 2014) on a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def bit_keys(seed, n_bits_total):
    """The per-bit keys ``key_b = mix64(seed ^ mix64(b + 1))``."""
    keys = np.empty(n_bits_total, dtype=np.uint64)
    s = np.uint64(seed)
    for b in range(n_bits_total):
        keys[b] = mix64(s ^ mix64(np.uint64(b) + _ONE))
    return keys


@njit(cache=True, inline="always")
def entry(key, feature, threshold):
    """P[b, feature] in {-1, 0, +1} for the bit whose key is ``key``."""
    h = mix64(key + (np.uint64(feature) + _ONE) * _GOLDEN)
    if (h >> _S32) >= threshold:
        return 0
    return 1 if (h & _ONE) else -1


@njit(cache=True, parallel=True)
def _projection_columns_two_pass(keys, features, threshold):
    """As :func:`_projection_columns_one_pass`, hashing each entry twice (count, then
    fill): the fallback for a column with more non-zeros than the scratch capacity."""
    n_bits_total = keys.shape[0]
    n_cols = features.shape[0]
    counts = np.zeros(n_cols + 1, dtype=np.int64)
    for j in prange(n_cols):
        f = features[j]
        c = 0
        for b in range(n_bits_total):
            if entry(keys[b], f, threshold) != 0:
                c += 1
        counts[j + 1] = c
    indptr = np.cumsum(counts)
    mid = np.empty(n_cols, dtype=np.uint64)
    bit_index = np.empty(indptr[-1], dtype=np.uint32)
    for j in prange(n_cols):
        f = features[j]
        lo, hi = indptr[j], indptr[j + 1]
        for b in range(n_bits_total):
            e = entry(keys[b], f, threshold)
            if e > 0:
                bit_index[lo] = b
                lo += 1
            elif e < 0:
                hi -= 1
                bit_index[hi] = b
        mid[j] = lo
    return indptr.astype(np.uint64), mid, bit_index


def projection_columns(keys, features, threshold, capacity):
    """Columns of P for ``features``: see :func:`_projection_columns_one_pass`."""
    indptr, mid, bit_index, complete = _projection_columns_one_pass(keys, features, threshold, capacity)
    if not complete:
        return _projection_columns_two_pass(keys, features, threshold)
    return indptr, mid, bit_index


@njit(cache=True, parallel=True)
def _projection_columns_one_pass(keys, features, threshold, capacity):
    """Regenerate the columns ``features`` of P in a compressed (CSC-like) layout.

    Returns ``indptr`` (len(features) + 1), ``mid`` (len(features)) and ``bit_index``
    (all unsigned: numba then skips the negative-index wrap-around check in the hot
    loops): column j has +1 at the bits ``bit_index[indptr[j]:mid[j]]`` and -1 at
    ``bit_index[mid[j]:indptr[j+1]]``. Splitting by sign lets the kernels add and
    subtract without a multiply.

    Each entry is hashed once, into a scratch row of ``capacity`` slots per column (a
    bound on a column's non-zeros the caller sets well above their expected count). The
    last value returned is False in the rare case a column has more: the caller then
    regenerates the columns in two passes instead.
    """
    n_bits_total = keys.shape[0]
    n_cols = features.shape[0]
    scratch = np.empty((n_cols, capacity), dtype=np.uint32)
    n_pos = np.zeros(n_cols, dtype=np.int64)
    n_neg = np.zeros(n_cols, dtype=np.int64)
    overflow = np.zeros(n_cols, dtype=np.uint8)
    for j in prange(n_cols):
        f = features[j]
        lo, hi = 0, capacity
        for b in range(n_bits_total):
            e = entry(keys[b], f, threshold)
            if e != 0:
                if lo == hi:
                    overflow[j] = 1
                    break
                if e > 0:
                    scratch[j, lo] = b
                    lo += 1
                else:
                    hi -= 1
                    scratch[j, hi] = b
        n_pos[j] = lo
        n_neg[j] = capacity - hi
    if overflow.any():
        empty = np.zeros(1, dtype=np.uint64)
        return empty, empty[:0], np.empty(0, dtype=np.uint32), False
    counts = np.zeros(n_cols + 1, dtype=np.int64)
    counts[1:] = n_pos + n_neg
    indptr = np.cumsum(counts)
    mid = np.empty(n_cols, dtype=np.uint64)
    bit_index = np.empty(indptr[-1], dtype=np.uint32)
    for j in prange(n_cols):
        start = indptr[j]
        for k in range(n_pos[j]):
            bit_index[start + k] = scratch[j, k]
        start += n_pos[j]
        mid[j] = start
        for k in range(n_neg[j]):
            bit_index[start + k] = scratch[j, capacity - 1 - k]
    return indptr.astype(np.uint64), mid, bit_index, True


def column_capacity(n_bits_total, density):
    """Scratch slots per column for :func:`projection_columns`: mean + 6 sd + 16."""
    mean = n_bits_total * density
    return int(min(n_bits_total, mean + 6.0 * np.sqrt(mean) + 16))


@njit(cache=True, inline="always")
def _add_column(acc, x, c, indptr, mid, bit_index):
    for t in range(indptr[c], mid[c]):
        acc[bit_index[t]] += x
    for t in range(mid[c], indptr[c + 1]):
        acc[bit_index[t]] -= x


# What the kernels write for each row: the bits, the packed bits, or the first layer of
# the projection network (bias + the sum of the weight rows of the set bits).
BITS, PACKED, FIRST_LAYER = 0, 1, 2


@njit(cache=True, inline="always")
def _store(acc, out8, out64, outf, weights, i, mode, set_bits):
    if mode == PACKED:
        row = out64[i]
        for w in range(row.shape[0]):
            row[w] = 0
        for b in range(acc.shape[0]):
            row[b >> 6] |= np.uint64(acc[b] > 0.0) << np.uint64(b & 63)
    elif mode == FIRST_LAYER:
        # a gather-sum of weight rows: no multiply over the bits. The set bits are listed
        # first without branching (a bit is set about half the time, so a branch per bit
        # mispredicts often), then their rows are added in increasing bit order.
        n_set = 0
        for b in range(acc.shape[0]):
            set_bits[n_set] = b
            n_set += acc[b] > 0.0
        row_f = outf[i]
        for k in range(n_set):
            w_row = weights[set_bits[k]]
            for h in range(row_f.shape[0]):
                row_f[h] += w_row[h]
    else:
        row8 = out8[i]
        for b in range(acc.shape[0]):
            row8[b] = 1 if acc[b] > 0.0 else 0


@njit(cache=True, inline="always")
def _outputs(n, n_bits_total, mode, weights, bias):
    width = (n_bits_total + 63) // 64
    out8 = np.empty((n if mode == BITS else 0, n_bits_total), dtype=np.uint8)
    out64 = np.empty((n if mode == PACKED else 0, width), dtype=np.uint64)
    outf = np.empty((n if mode == FIRST_LAYER else 0, weights.shape[1]), dtype=weights.dtype)
    for i in range(outf.shape[0]):
        outf[i] = bias
    return out8, out64, outf


@njit(cache=True)
def _sparse_row(acc, cols, values, indptr, mid, bit_index, scale):
    """Sum the columns of one CSR row into ``acc``; returns the row's largest |x|."""
    acc[:] = 0.0
    big = 0.0
    for k in range(cols.shape[0]):
        x = values[k] * scale
        if x != 0.0:
            big = max(big, abs(x))
            _add_column(acc, x, cols[k], indptr, mid, bit_index)
    return big


@njit(cache=True)
def _dense_row(acc, row, col_of, indptr, mid, bit_index, scale, nonzero):
    """Sum the columns of one dense row into ``acc``; returns the row's largest |x|.

    The non-zero features are listed first without branching (``nonzero`` is scratch
    space of n_features), which avoids a mispredicted branch per feature on images.
    """
    acc[:] = 0.0
    n_nonzero = 0
    for f in range(row.shape[0]):
        nonzero[n_nonzero] = f
        n_nonzero += row[f] != 0.0
    big = 0.0
    for k in range(n_nonzero):
        f = nonzero[k]
        x = row[f] * scale
        big = max(big, abs(x))
        _add_column(acc, x, col_of[f], indptr, mid, bit_index)
    return big


@njit(cache=True, parallel=True)
def dense_bits(X, col_of, indptr, mid, bit_index, n_bits_total, mode, weights, bias):
    """Bits (or packed bits, or first layer: see ``mode``) of the rows of dense ``X``.

    ``col_of[f]`` is the regenerated column holding feature ``f`` (any value where the
    feature is zero in every row). ``weights`` (n_bits_total x H) and ``bias`` (H) are
    used for ``mode == FIRST_LAYER`` only.

    Returns ``(bits_uint8, words_uint64, first_layer)``; those not asked for have 0 rows.
    """
    n = X.shape[0]
    out8, out64, outf = _outputs(n, n_bits_total, mode, weights, bias)
    n_chunks = min(n, 256)
    for c in prange(n_chunks):
        acc = np.empty(n_bits_total, dtype=np.float64)
        set_bits = np.empty(n_bits_total, dtype=np.uint32)
        nonzero = np.empty(X.shape[1], dtype=np.uint32)
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            if _dense_row(acc, X[i], col_of, indptr, mid, bit_index, 1.0, nonzero) > _BIG:
                _dense_row(acc, X[i], col_of, indptr, mid, bit_index, _SHRINK, nonzero)
            _store(acc, out8, out64, outf, weights, i, mode, set_bits)
    return out8, out64, outf


@njit(cache=True, parallel=True)
def csr_bits(data, local_cols, row_ptr, indptr, mid, bit_index, n_bits_total, mode, weights, bias):
    """As :func:`dense_bits` for CSR rows (sorted, no duplicates); ``local_cols`` index
    the regenerated columns."""
    n = row_ptr.shape[0] - 1
    out8, out64, outf = _outputs(n, n_bits_total, mode, weights, bias)
    n_chunks = min(n, 256)
    for c in prange(n_chunks):
        acc = np.empty(n_bits_total, dtype=np.float64)
        set_bits = np.empty(n_bits_total, dtype=np.uint32)
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            lo, hi = row_ptr[i], row_ptr[i + 1]
            cols, vals = local_cols[lo:hi], data[lo:hi]
            if _sparse_row(acc, cols, vals, indptr, mid, bit_index, 1.0) > _BIG:
                _sparse_row(acc, cols, vals, indptr, mid, bit_index, _SHRINK)
            _store(acc, out8, out64, outf, weights, i, mode, set_bits)
    return out8, out64, outf


@njit(cache=True, parallel=True)
def pack_bits(bits):
    """Pack a (n, B) {0,1} uint8 array into (n, ceil(B/64)) uint64 words, bit b -> word b//64, bit b%64."""
    n, n_bits_total = bits.shape
    width = (n_bits_total + 63) // 64
    out = np.zeros((n, width), dtype=np.uint64)
    for i in prange(n):
        for b in range(n_bits_total):
            if bits[i, b]:
                out[i, b >> 6] |= np.uint64(1) << np.uint64(b & 63)
    return out


@njit(cache=True, parallel=True)
def unpack_bits(words, n_bits_total):
    """Inverse of :func:`pack_bits`."""
    n = words.shape[0]
    out = np.empty((n, n_bits_total), dtype=np.uint8)
    for i in prange(n):
        for b in range(n_bits_total):
            out[i, b] = (words[i, b >> 6] >> np.uint64(b & 63)) & np.uint64(1)
    return out
