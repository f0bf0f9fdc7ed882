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
    """P[b, f] in {-1, 0, +1} as float64, shape (n_bits_total, n_features): hash version 3,
    m entries of F = 64 // m bits from each 64-bit hash."""
    B = n_bits_total
    w = min(int(round(B * density * 2.0**32)), B << 32)
    k0 = w >> 32
    largest_block = -(-B // max(k0, 1))
    if largest_block <= 128:
        m = 4
    elif largest_block <= 4096:
        m = 3
    else:
        m = 2
    F = 64 // m
    p = F - 1
    P = np.zeros((B, n_features))
    for f in range(n_features):
        key = mix64((seed + (f + 1) * GOLDEN) & MASK)
        k = k0 + ((key >> 32) < (w & 0xFFFFFFFF))
        for j in range(k):
            g, t = divmod(j, m)
            h = mix64((key + (g + 1) * GOLDEN) & MASK)
            field = (h >> (F * t)) % 2**F
            lo, hi = j * B // k, (j + 1) * B // k
            b = lo + ((field // 2) * (hi - lo)) // 2**p
            assert lo <= b < hi and P[b, f] == 0
            P[b, f] = 1.0 if field % 2 else -1.0
    return P


def read_sums(S, reading, threshold=0.0):
    """The documented readings of the sums ``S = X @ P.T``: binary ``S > 0`` as uint8
    {0, 1}; ternary the sign of ``S`` as int8 {-1, 0, +1} (0 where the sum is exactly 0);
    quinary, with ``tau = threshold``, int8 +2 where S > tau, +1 where 0 < S <= tau, 0 where
    S == 0, -1 where -tau <= S < 0, -2 where S < -tau."""
    if reading == "binary":
        return (S > 0).astype(np.uint8)
    if reading == "quinary":
        tau = float(threshold)
        out = np.zeros(S.shape, dtype=np.int8)
        for index, s in np.ndenumerate(S):  # the five cases as written, one sum at a time
            if s > tau:
                out[index] = 2
            elif s > 0:
                out[index] = 1
            elif s == 0:
                out[index] = 0
            elif s >= -tau:
                out[index] = -1
            else:
                out[index] = -2
        return out
    assert reading == "ternary", reading
    return (S > 0).astype(np.int8) - (S < 0).astype(np.int8)


def quinary_threshold(S, n_rows=4096):
    """The documented quinary threshold: the median of |S| over the first n_rows rows of the
    sums ``S`` of the training data."""
    return float(np.median(np.abs(S[:n_rows])))


def pack_planes(values, reading):
    """The documented packed layout: per plane, bit b of a row in word b // 64 at b % 64;
    binary one plane (values > 0), ternary two (> 0, < 0), quinary four (> 0, < 0, > 1, < -1)."""
    masks = {"binary": [values > 0], "ternary": [values > 0, values < 0],
             "quinary": [values > 0, values < 0, values > 1, values < -1]}[reading]
    n, B = values.shape
    W = (B + 63) // 64
    out = np.zeros((n, len(masks) * W), dtype=np.uint64)
    for p, mask in enumerate(masks):
        for i, b in zip(*np.nonzero(mask)):
            out[i, p * W + b // 64] |= np.uint64(1) << np.uint64(b % 64)
    return out
