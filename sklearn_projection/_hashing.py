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

import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_ONE = np.uint64(1)

# Rows whose largest |x| exceeds this are rescaled by an exact power of two before
# summing, so that a sum of up to 2**40 such terms cannot overflow to +-inf.
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
def projection_columns(keys, features, threshold):
    """Regenerate the columns ``features`` of P in a compressed (CSC-like) layout.

    Returns ``indptr`` (len(features) + 1), ``bit_index`` (int32) and ``sign``
    (float64, +-1): column j holds the non-zero entries of P[:, features[j]].
    """
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
    bit_index = np.empty(indptr[-1], dtype=np.int32)
    sign = np.empty(indptr[-1], dtype=np.float64)
    for j in prange(n_cols):
        f = features[j]
        k = indptr[j]
        for b in range(n_bits_total):
            e = entry(keys[b], f, threshold)
            if e != 0:
                bit_index[k] = b
                sign[k] = e
                k += 1
    return indptr, bit_index, sign


@njit(cache=True, inline="always")
def _row_scale(values):
    """1.0, or the exact power of two 2**-1000 for rows whose sum could overflow."""
    m = 0.0
    for v in values:
        a = abs(v)
        if a > m:
            m = a
    return 1.0 if m <= _BIG else _SHRINK


@njit(cache=True, inline="always")
def _store_bits(acc, out_row):
    for b in range(acc.shape[0]):
        out_row[b] = 1 if acc[b] > 0.0 else 0


@njit(cache=True, inline="always")
def _store_packed(acc, out_row):
    for w in range(out_row.shape[0]):
        out_row[w] = 0
    for b in range(acc.shape[0]):
        if acc[b] > 0.0:
            out_row[b >> 6] |= np.uint64(1) << np.uint64(b & 63)


@njit(cache=True, inline="always")
def _accumulate(acc, cols, values, indptr, bit_index, sign):
    acc[:] = 0.0
    scale = _row_scale(values)
    for k in range(cols.shape[0]):
        x = values[k] * scale
        if x == 0.0:
            continue
        c = cols[k]
        for t in range(indptr[c], indptr[c + 1]):
            acc[bit_index[t]] += sign[t] * x


@njit(cache=True, parallel=True)
def dense_bits(X, indptr, bit_index, sign, n_bits_total, packed):
    """Bits of the rows of dense float64 ``X`` (C-contiguous) given all columns of P."""
    n, n_features = X.shape
    width = (n_bits_total + 63) // 64 if packed else n_bits_total
    out8 = np.empty((0 if packed else n, n_bits_total), dtype=np.uint8)
    out64 = np.empty((n if packed else 0, width if packed else 0), dtype=np.uint64)
    cols = np.arange(n_features)
    n_chunks = min(n, 256)
    for c in prange(n_chunks):
        acc = np.empty(n_bits_total, dtype=np.float64)
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            _accumulate(acc, cols, X[i], indptr, bit_index, sign)
            if packed:
                _store_packed(acc, out64[i])
            else:
                _store_bits(acc, out8[i])
    return out8, out64


@njit(cache=True, parallel=True)
def csr_bits(data, local_cols, row_ptr, indptr, bit_index, sign, n_bits_total, packed):
    """Bits of CSR rows (sorted, no duplicates); ``local_cols`` index the regenerated columns."""
    n = row_ptr.shape[0] - 1
    width = (n_bits_total + 63) // 64 if packed else n_bits_total
    out8 = np.empty((0 if packed else n, n_bits_total), dtype=np.uint8)
    out64 = np.empty((n if packed else 0, width if packed else 0), dtype=np.uint64)
    n_chunks = min(n, 256)
    for c in prange(n_chunks):
        acc = np.empty(n_bits_total, dtype=np.float64)
        for i in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            lo, hi = row_ptr[i], row_ptr[i + 1]
            _accumulate(acc, local_cols[lo:hi], data[lo:hi], indptr, bit_index, sign)
            if packed:
                _store_packed(acc, out64[i])
            else:
                _store_bits(acc, out8[i])
    return out8, out64


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
