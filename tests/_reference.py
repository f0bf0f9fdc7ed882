"""The documented projection (sklearn_projection._hashing's docstring) in pure Python integers.

Tests compare the numba kernels against this, so the definition and the code cannot drift apart.
"""

import numpy as np

from sklearn_projection._projection import density_threshold

MASK = 2**64 - 1


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def projection_matrix(seed, n_bits_total, n_features, density):
    """P[b, f] in {-1, 0, +1} as float64, shape (n_bits_total, n_features)."""
    threshold = int(density_threshold(density))
    P = np.zeros((n_bits_total, n_features))
    for b in range(n_bits_total):
        key = mix64(seed ^ mix64(b + 1))
        for f in range(n_features):
            h = mix64((key + (f + 1) * 0x9E3779B97F4A7C15) & MASK)
            if (h >> 32) < threshold:
                P[b, f] = 1.0 if h & 1 else -1.0
    return P
