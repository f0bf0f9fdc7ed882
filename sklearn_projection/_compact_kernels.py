"""Numba kernels of the compact model: the first layer as a gather-sum over packed bits.

The bits of a row arrive packed 64 to a ``uint64`` word (bit ``b`` in word ``b // 64``
at position ``b % 64``, the layout of :func:`sklearn_projection._hashing.pack_bits`).
The first layer of the projection network is ``bias + sum of W[b] over the set bits b``:
each set bit is found with the lowest-set-bit trick and a de Bruijn multiply, and its
weight row is added; nothing is multiplied by a bit. Bits are visited in increasing
order, the order :func:`sklearn_projection._hashing.dense_bits` adds them in, so float32
results are bit-identical to the full classifier's first layer.
"""

import numpy as np
from numba import prange

from ._hashing import njit  # numba.njit with the read-only-install and NUMBA_DISABLE_JIT fallbacks

# de Bruijn sequence B(2, 6): (low * _DEBRUIJN) >> 58 is a distinct 6-bit index for each
# power of two ``low`` < 2**64; _DEBRUIJN_INDEX maps it back to log2(low).
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_S58 = np.uint64(58)
_ONE = np.uint64(1)


def _debruijn_index():
    table = np.zeros(64, dtype=np.int64)
    for k in range(64):
        low = (1 << k) * 0x03F79D71B4CB0A89 % 2**64
        table[low >> 58] = k
    return table


_DEBRUIJN_INDEX = _debruijn_index()


@njit(cache=True, parallel=True)
def gather_first_layer(words, weights, out):
    """``out[i] += sum of weights[b] over the set bits b of words[i]``, in increasing b.

    ``out`` (n x H) is pre-filled by the caller (the float32 bias, or int32 zeros for
    int8 weights, which then accumulate exactly in int32). Rows run in parallel.
    """
    table = _DEBRUIJN_INDEX
    n, n_words = words.shape
    n_out = weights.shape[1]
    for i in prange(n):
        row = out[i]
        for w in range(n_words):
            x = words[i, w]
            base = w * 64
            while x != 0:
                low = x & (~x + _ONE)
                b = base + table[(low * _DEBRUIJN) >> _S58]
                for h in range(n_out):
                    row[h] += weights[b, h]
                x ^= low
    return out
