"""The documented projection (sklearn_projection._hashing's docstring) in pure Python integers.

Tests compare the numba kernels and the C export against this, so the definition and the
code cannot drift apart.
"""

import numpy as np

MASK = 2**64 - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def projection_matrix(seed, n_bits_total, n_features, density):
    """P[b, f] in {-1, 0, +1} as float64, shape (n_bits_total, n_features)."""
    B = n_bits_total
    w = min(int(round(B * density * 2.0**32)), B << 32)
    P = np.zeros((B, n_features))
    for f in range(n_features):
        key = mix64((seed + (f + 1) * GOLDEN) & MASK)
        k = (w >> 32) + ((key >> 32) < (w & 0xFFFFFFFF))
        for j in range(k):
            h = mix64((key + (j + 1) * GOLDEN) & MASK)
            lo, hi = j * B // k, (j + 1) * B // k
            b = lo + (((h >> 32) * (hi - lo)) >> 32)
            assert P[b, f] == 0
            P[b, f] = 1.0 if h & 1 else -1.0
    return P


def read_sums(S, reading):
    """The documented readings of the sums ``S = X @ P.T``: binary ``S > 0`` as uint8
    {0, 1}; ternary the sign of ``S`` as int8 {-1, 0, +1} (0 where the sum is exactly 0)."""
    if reading == "binary":
        return (S > 0).astype(np.uint8)
    assert reading == "ternary", reading
    return (S > 0).astype(np.int8) - (S < 0).astype(np.int8)
