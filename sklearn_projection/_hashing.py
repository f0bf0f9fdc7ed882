"""Numba kernels: the hash that regenerates the random projections, and X -> bits.

The random projection matrix ``P`` (``B = T * d`` bits x n_features) is regenerated
column by column: column ``f`` is a pure function of ``(seed, f)`` and holds
``B * density`` non-zeros on average, several found with each 64-bit hash, so
regenerating it costs ``O(B * density)``, not ``O(B)`` (hash version 3)::

    w      = round(B * density * 2**32)             # non-zeros per column, fixed point 32.32
    key_f  = mix64(seed + (f + 1) * GOLDEN)         # splitmix64 stream of the seed
    k_f    = (w >> 32) + ((key_f >> 32) < (w & 0xFFFFFFFF))   # floor or ceil of B * density
    S      = ceil(B / max(w >> 32, 1))              # the largest block of bits
    m      = 4 if S <= 128 else 3 if S <= 4096 else 2   # entries per 64-bit hash
    F, p   = 64 // m, 64 // m - 1                   # field bits (16, 21, 32), position bits
    for j in 0 .. k_f - 1:                          # one non-zero in each of k_f blocks of bits
        g, t   = j // m, j % m
        h      = mix64(key_f + (g + 1) * GOLDEN)    # one hash per m entries
        field  = (h >> (F * t)) & (2**F - 1)
        lo, hi = j * B // k_f, (j + 1) * B // k_f
        P[lo + (((field >> 1) * (hi - lo)) >> p), f] = +1 if field & 1 else -1

A position within a block of ``s <= S`` bits is ``floor(u * s / 2**p)`` of a uniform
``p``-bit ``u``, so each position is drawn with probability ``1/s`` to within ``S / 2**p``
relative: at most 128 / 2**15 and 4096 / 2**20 (0.4 %) for ``m`` = 4 and 3, and
``S / 2**31`` for ``m`` = 2 (0.4 % up to ``S = 2**23`` bits per block; 2**-32 relative
before, in hash version 2, which spent one hash per non-zero: ``field`` was the whole
hash, the position its top 32 bits, the sign its lowest bit). ``m`` depends on ``B``
and ``k0 = w >> 32`` only, so a model's columns all use the same ``m``.

``mix64`` is the splitmix64 finaliser. This is the block construction of sparse
Johnson-Lindenstrauss transforms (Kane & Nelson, 2014): every bit ``b`` still gets a
non-zero from feature ``f`` with probability about ``density`` (blocks differ in size by
at most one bit), of either sign, independently across features, so each bit is a
random-hyperplane LSH bit, while a column never holds two entries for one bit. Only
unsigned 64-bit integer arithmetic is involved, so the matrix is identical on every
machine; it is never stored between calls.
The dot products are summed in float64, feature by feature in increasing feature order,
one row per thread, so the bits depend neither on the number of threads nor on whether
the input was dense or sparse, nor on whether a call regenerated the columns once up
front or hashed them per non-zero entry.

The sums are read in one of three ways (``reading``, a small int code in the kernels:
0, 1, 2): "binary", bit = sum > 0 (uint8 {0, 1}, or 64 bits to a uint64 word when
packed); "ternary", the sign of the sum (int8 {-1, 0, +1}; packed as two planes of
words, the positive bits then the negative bits); "quinary", five levels with a
threshold ``tau >= 0`` (a stored float64, ``LSHProjection.threshold_``)::

    v = +2 if s > tau, +1 if 0 < s <= tau, 0 if s == 0, -1 if -tau <= s < 0, -2 if s < -tau

(int8; packed as four planes of words: ``s > 0``, ``s < 0``, ``s > tau``, ``s < -tau``,
so that ``v`` is plane 0 - plane 1 + plane 2 - plane 3; see :func:`_store`). All come
from the same float64 sums, compared with ``tau`` as float64.

How the kernels do it (none of this changes a bit): a batch with as many non-zeros as
features regenerates every column once, as a dense table of ``K = ceil(B * density)``
entries per column (bit index, and its value +1.0 or -1.0; a column with one entry
fewer is padded with a ``0.0`` entry, so every column's loop has the same length and
no branch to mispredict): a feature's contribution is then ``acc[bit] += x * value``
for each of its ``K`` entries, where ``x * (+-1.0)`` is exactly ``+-x`` and a padding
entry adds an exact zero (sums start at ``+0.0`` and never become ``-0.0``, so adding
a zero changes nothing). A dense row's non-zeros are found 64 features at a time: one
vectorised pass of ``x != 0`` builds a 64-bit mask, and its set bits are visited in
increasing order by their trailing-zero count.

The functions here are pure functions over arrays; validation happens in the callers.
The row kernels are serial and release the GIL: :func:`dense_bits` and :func:`csr_bits`
split the rows among worker threads (:func:`~sklearn_projection._numba.in_threads`),
each with its own scratch. They allocate nothing: every array they write, output or
scratch, is allocated by the caller (:func:`~sklearn_projection._projection.lsh_bits`)
with numpy, after a memory check, so a failed allocation raises ``MemoryError`` there.
"""

import functools

import numba
import numpy as np

from ._numba import in_threads, njit, row_workers

if numba.config.DISABLE_JIT:  # the kernels run as Python over numpy scalars

    def trailing_zeros(x):
        """Index of the lowest set bit of a non-zero integer."""
        x = int(x)
        return np.uint64((x & -x).bit_length() - 1)

else:
    # LLVM's cttz: one instruction (tzcnt); defined (64) for zero, never called with it here
    from numba.cpython.unsafe.numbers import trailing_zeros

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)

# A row whose largest |x| exceeds _BIG is summed again after scaling by the exact power
# of two _SHRINK, so that sums cannot overflow to +-inf (scaling by 2**-k keeps signs).
_BIG = 2.0**960
_SHRINK = 2.0**-1000
_FLOAT_MAX = np.finfo(np.float64).max


@njit(cache=True, inline="always")
def mix64(z):
    """splitmix64 finaliser (Steele, Lea & Flood 2014) on a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def column_weight(n_bits_total, density):
    """``round(B * density * 2**32)``: the expected non-zeros per column in fixed point 32.32."""
    return min(int(round(n_bits_total * density * 2.0**32)), n_bits_total << 32)


def block_starts(n_bits_total, k):
    """``j * B // k`` for j in 0..k: the blocks of bits a column with k non-zeros uses."""
    if k == 0:
        return np.zeros(1, dtype=np.uint64)
    return (np.arange(k + 1, dtype=np.uint64) * np.uint64(n_bits_total)) // np.uint64(k)


def entries_per_hash(n_bits_total, k0):
    """``m``, the entries drawn from one 64-bit hash (see the module docstring): 4, 3 or 2,
    as the largest block of bits ``S = ceil(B / max(k0, 1))`` fits 15, 20 or 31 position
    bits with a bias of at most ``S / 2**p``."""
    largest = -(-int(n_bits_total) // max(int(k0), 1))
    return 4 if largest <= 128 else 3 if largest <= 4096 else 2


@functools.lru_cache(maxsize=64)
def projection_spec(seed, n_bits_total, density):
    """What the kernels need to regenerate P: ``(seed, fraction threshold, k0, starts, m,
    F, p)``: ``k0 = floor(B * density)``, ``starts`` (2 x (k0 + 2) uint64), whose row 0
    holds the block starts of a column with k0 non-zeros and row 1 those of a column with
    ``k0 + 1`` (each padded with its last entry), ``m`` (int64) the entries per hash,
    ``F`` and ``p`` (uint64) the bits of an entry's field and of its position.

    One array, indexed by the column's row: the kernels never pick one of two arrays per
    feature (numba may count references to an array chosen per iteration: atomic
    increments and decrements in the hottest loop).

    Cached (a model predicting one row at a time asks for the same spec every call):
    callers must not modify the array. (It is not flagged read-only, which would give
    numba another type to compile the kernels for.)"""
    w = column_weight(n_bits_total, density)
    k = w >> 32
    starts = np.zeros((2, k + 2), dtype=np.uint64)
    for row, k_row in enumerate((k, min(k + 1, n_bits_total))):
        blocks = block_starts(n_bits_total, k_row)
        starts[row] = blocks[-1]
        starts[row, : blocks.shape[0]] = blocks
    m = entries_per_hash(n_bits_total, k)
    return (np.uint64(seed), np.uint64(w & 0xFFFFFFFF), np.int64(k), starts, np.int64(m),
            np.uint64(64 // m), np.uint64(64 // m - 1))


@njit(cache=True, inline="always")
def feature_key(seed, feature):
    return mix64(seed + (np.uint64(feature) + _ONE) * _GOLDEN)


@njit(cache=True, inline="always")
def column_row(key, frac):
    """The row of ``projection_spec``'s starts for the column whose key is ``key``: 1 if it
    has ``k0 + 1`` non-zeros, else 0; ``k_f = k0 + column_row(key, frac)``."""
    return 1 if (key >> _S32) < frac else 0


@njit(cache=True, inline="always")
def group_hash(key, g):
    """The hash of the g-th group of ``m`` non-zeros of the column whose key is ``key``."""
    return mix64(key + (np.uint64(g) + _ONE) * _GOLDEN)


@njit(cache=True, inline="always")
def column_entry(h, lo, hi, pmask, pbits):
    """(bit, is_positive) of the non-zero whose field is the lowest bits of ``h`` (a group
    hash shifted right by ``F * t``), in the block of bits ``lo .. hi-1``: the position
    is the field's ``p`` bits above its lowest, the sign its lowest bit."""
    return lo + ((((h >> _ONE) & pmask) * (hi - lo)) >> pbits), (h & _ONE) != _ZERO


# The column loops below draw a column's k_f entries in one loop: a group hash every m
# entries (a counter, no division or modulo by m), then its fields by shifting it right F
# bits per entry. (A loop over the groups with an inner loop over their m fields was 10-14 %
# slower on 10k MNIST rows hashed per non-zero: its inner trip count, m or the last
# group's rest, is another exit per column for the branch predictor.)


@njit(cache=True, nogil=True)
def fill_columns(seed, frac, k0, starts, per_hash, fbits, pbits, bit_index, value, lo, hi):
    """Fill the rows ``lo .. hi-1`` of ``bit_index`` and ``value`` (n_features x K) with the
    columns of P (see :func:`projection_columns`)."""
    pmask = (_ONE << pbits) - _ONE
    for f in range(lo, hi):
        key = feature_key(seed, f)
        r = column_row(key, frac)
        k = k0 + r
        h = _ZERO
        g = 0
        left = 0
        for j in range(k):
            if left == 0:
                h = group_hash(key, g)
                g += 1
                left = per_hash
            b, positive = column_entry(h, starts[r, j], starts[r, j + 1], pmask, pbits)
            bit_index[f, j] = b
            value[f, j] = 1.0 if positive else -1.0
            h >>= fbits
            left -= 1
        for j in range(k, bit_index.shape[1]):
            bit_index[f, j] = 0
            value[f, j] = 0.0


# columns per worker of projection_columns (a column is a few hashes: ~10 us per 1000)
_COLUMNS_PER_THREAD = 1 << 14


def entries_per_column(frac, k0, starts):
    """K: the most non-zeros any column has (ceil of B * density, or floor when exact)."""
    return int(k0) + (1 if frac else 0)


def projection_columns(n_features, seed, frac, k0, starts, per_hash, fbits, pbits):
    """Regenerate the columns 0..n_features-1 of P as two (n_features x K) tables.

    ``bit_index`` (uint32: numba then skips the negative-index wrap-around check in the
    hot loops) and ``value`` (float64): column f is ``P[bit_index[f, j], f] = value[f, j]``
    for j < K, where ``value`` is +1.0 or -1.0, and 0.0 in the padding entry of a column
    with fewer than ``K`` non-zeros (its bit index is 0; adding ``x * 0.0`` is exact).
    """
    K = entries_per_column(frac, k0, starts)
    bit_index = np.empty((n_features, K), dtype=np.uint32)
    value = np.empty((n_features, K), dtype=np.float64)
    n_workers = row_workers(n_features, _COLUMNS_PER_THREAD)
    in_threads(lambda w, lo, hi: fill_columns(seed, frac, k0, starts, per_hash, fbits, pbits, bit_index, value,
                                              lo, hi), n_features, n_workers)
    return bit_index, value


def columns_nbytes(n_features, n_bits_total, density):
    """Bytes :func:`projection_columns` holds (for the memory checks)."""
    per_column = -(-column_weight(n_bits_total, density) >> 32)  # ceil of B * density
    return 12 * n_features * per_column


# same types as projection_columns' tables, so the kernels compile once for both cases
NO_COLUMNS = (np.zeros((0, 0), dtype=np.uint32), np.zeros((0, 0), dtype=np.float64))


# reading codes of the kernels (``ternary`` flags of older callers, False/True, read as 0/1)
BINARY, TERNARY, QUINARY = 0, 1, 2


@njit(cache=True, inline="always")
def _store(acc, out8, out64, i, packed, reading, tau):
    """Write the reading of the sums ``acc`` of row ``i``.

    binary (``reading`` 0): bit ``b = acc[b] > 0``, 64 to a word when ``packed``, else
    one per byte (uint8 {0, 1}). ternary (1): ``+1`` where ``acc[b] > 0``, ``-1`` where
    ``acc[b] < 0``, ``0`` where ``acc[b] == 0``; one int8 per value, or, when ``packed``, two
    planes of ``W = ceil(B / 64)`` words: words ``0 .. W-1`` hold the positive bits
    (``acc[b] > 0``), words ``W .. 2W-1`` the negative ones (``acc[b] < 0``), bit ``b`` of a
    plane in its word ``b // 64`` at position ``b % 64``. quinary (2): the ternary value
    plus one more of the same sign where ``|acc[b]| > tau`` (int8 in {-2 .. 2}); packed,
    four planes: ``acc > 0``, ``acc < 0``, ``acc > tau``, ``acc < -tau``.
    """
    if packed:
        # each word is assembled in a register and stored once; a full word with a fixed
        # trip count of 64 (a few vector compares), the last word the same way
        n_bits = acc.shape[0]
        width = (n_bits + 63) >> 6
        for w in range(width):
            base = w * 64
            pos = _ZERO
            neg = _ZERO
            big = _ZERO
            small = _ZERO
            if base + 64 <= n_bits:
                if reading == QUINARY:
                    for j in range(64):
                        a = acc[base + j]
                        pos |= np.uint64(a > 0.0) << np.uint64(j)
                        neg |= np.uint64(a < 0.0) << np.uint64(j)
                        big |= np.uint64(a > tau) << np.uint64(j)
                        small |= np.uint64(a < -tau) << np.uint64(j)
                elif reading:
                    for j in range(64):
                        a = acc[base + j]
                        pos |= np.uint64(a > 0.0) << np.uint64(j)
                        neg |= np.uint64(a < 0.0) << np.uint64(j)
                else:
                    for j in range(64):
                        pos |= np.uint64(acc[base + j] > 0.0) << np.uint64(j)
            else:
                for j in range(n_bits - base):
                    a = acc[base + j]
                    pos |= np.uint64(a > 0.0) << np.uint64(j)
                    neg |= np.uint64(a < 0.0) << np.uint64(j)
                    big |= np.uint64(a > tau) << np.uint64(j)
                    small |= np.uint64(a < -tau) << np.uint64(j)
            out64[i, w] = pos
            if reading:
                out64[i, width + w] = neg
            if reading == QUINARY:
                out64[i, 2 * width + w] = big
                out64[i, 3 * width + w] = small
    else:
        row8 = out8[i]
        if reading == QUINARY:
            for b in range(acc.shape[0]):
                a = acc[b]
                if a > 0.0:
                    row8[b] = 2 if a > tau else 1
                elif a < 0.0:
                    row8[b] = -2 if a < -tau else -1
                else:
                    row8[b] = 0
        elif reading:
            for b in range(acc.shape[0]):
                a = acc[b]
                row8[b] = 1 if a > 0.0 else (-1 if a < 0.0 else 0)
        else:
            for b in range(acc.shape[0]):
                row8[b] = 1 if acc[b] > 0.0 else 0


# The row kernels below take every array as its own argument, unpacked once per call,
# and index them in place inside their loops: no tuple unpacked, no row view taken, no
# array picked or passed to an inlined function per non-zero. numba counts references
# to such arrays (atomic increments and decrements, through function calls) and its
# pruning of those counts does not reliably remove them from a branchy loop: with
# them, 8 calls per non-zero, a dense batch ran 6x slower (82 ms instead of 13 on 10k
# MNIST rows), depending on how the kernel happened to be compiled.
#
# Adding a feature x (column f of P) to the sums ``acc``, the same in both kernels:
# from the regenerated columns (``bit_index``, ``value``) if there are any (the same K
# entries for every column: no mispredicted exit), otherwise hashing the column's
# non-zeros where they are used (the same entries either way).


@njit(cache=True)
def _sparse_row(acc, cols, values, bit_index, value, seed, frac, k0, starts, per_hash, fbits, pbits, scale):
    """Sum the columns of one CSR row into ``acc``; returns the row's largest |x|."""
    for b in range(acc.shape[0]):
        acc[b] = 0.0
    big = 0.0
    pmask = (_ONE << pbits) - _ONE
    for k in range(cols.shape[0]):
        x = values[k] * scale
        if x != 0.0:
            big = max(big, abs(x))
            f = cols[k]
            if bit_index.shape[0]:
                for j in range(bit_index.shape[1]):
                    acc[bit_index[f, j]] += x * value[f, j]
            else:
                key = feature_key(seed, f)
                r = column_row(key, frac)
                h = _ZERO
                g = 0
                left = 0
                for j in range(k0 + r):
                    if left == 0:
                        h = group_hash(key, g)
                        g += 1
                        left = per_hash
                    b, positive = column_entry(h, starts[r, j], starts[r, j + 1], pmask, pbits)
                    acc[b] += x if positive else -x
                    h >>= fbits
                    left -= 1
    return big


@njit(cache=True, inline="always")
def _magnitude(x):
    """``|x|``, or ``inf`` for NaN (which ``max`` would otherwise pass over)."""
    ax = abs(x)
    return ax if ax <= _FLOAT_MAX else np.inf


@njit(cache=True)
def _dense_row(acc, row, bit_index, value, seed, frac, k0, starts, per_hash, fbits, pbits, scale):
    """Sum the columns of one dense row into ``acc``; returns the row's largest |x|, ``inf``
    if the row holds NaN or an infinity.

    The non-zero features are found 64 at a time (a fixed trip count of ``x != 0`` that
    the compiler turns into a few vector compares builds a 64-bit mask; the last,
    shorter block the same way) and visited in increasing order, lowest set bit first:
    no branch per feature to mispredict on images. (NaN and infinities are non-zero, so
    every non-finite value is visited: the check costs nothing on the zeros.)
    """
    for b in range(acc.shape[0]):
        acc[b] = 0.0
    big = 0.0
    pmask = (_ONE << pbits) - _ONE
    n_features = row.shape[0]
    for base in range(0, n_features, 64):
        m = _ZERO
        if base + 64 <= n_features:
            for j in range(64):
                m |= np.uint64(row[base + j] != 0.0) << np.uint64(j)
        else:
            for j in range(n_features - base):
                m |= np.uint64(row[base + j] != 0.0) << np.uint64(j)
        while m != _ZERO:
            f = np.uint64(base) + trailing_zeros(m)
            m &= m - _ONE
            x = row[f] * scale
            big = max(big, _magnitude(x))
            # the same column loop as _sparse_row's, written out: a helper taking the
            # arrays per non-zero left numba's reference counting in the hot loop (634cb37)
            if bit_index.shape[0]:
                for j in range(bit_index.shape[1]):
                    acc[bit_index[f, j]] += x * value[f, j]
            else:
                key = feature_key(seed, f)
                r = column_row(key, frac)
                h = _ZERO
                g = 0
                left = 0
                for j in range(k0 + r):
                    if left == 0:
                        h = group_hash(key, g)
                        g += 1
                        left = per_hash
                    b, positive = column_entry(h, starts[r, j], starts[r, j + 1], pmask, pbits)
                    acc[b] += x if positive else -x
                    h >>= fbits
                    left -= 1
    return big


class NotFiniteError(ValueError):
    """:func:`dense_bits` found NaN or an infinity in ``X`` (whose bits would mean nothing)."""


def dense_bits(X, columns, spec, packed, reading, out8, out64, acc, tau=0.0):
    """Write the bits of the rows of dense ``X`` to ``out8`` (one per byte: uint8 {0, 1},
    or int8 {-1, 0, +1} (ternary) or {-2 .. 2} (quinary)) or, when ``packed``, to ``out64``
    (64 to a word; two planes when ternary, four when quinary, see :func:`_store`).
    ``reading`` is the code :data:`BINARY`, :data:`TERNARY` or :data:`QUINARY` (False and
    True read as binary and ternary), ``tau`` the quinary threshold.

    Raises :class:`NotFiniteError` when rows of ``X`` hold NaN or an infinity, found in
    the same pass over ``X`` (every non-finite value is a non-zero the kernel visits), so
    a caller may skip checking ``X`` for them first: a separate pass over a large ``X``
    costs about as much as reading it here (on 10k MNIST rows, 3.4 ms of a 21 ms
    predict). Arguments as :func:`dense_bits_count`.
    """
    n_not_finite = dense_bits_count(X, columns, spec, packed, reading, out8, out64, acc, tau)
    if n_not_finite:
        raise NotFiniteError(
            f"X holds NaN or infinity in {n_not_finite} of its {X.shape[0]} rows: the random "
            "projections of such rows are undefined; remove or impute these values."
        )


def dense_bits_count(X, columns, spec, packed, reading, out8, out64, acc, tau=0.0):
    """The work of :func:`dense_bits`; returns the number of rows holding NaN or an
    infinity (their bits are left meaningless).

    ``columns`` is :func:`projection_columns` for every feature, or :data:`NO_COLUMNS` to
    hash each non-zero's column where it is used; ``spec`` is :func:`projection_spec`.
    Scratch, allocated by the caller: ``acc`` (workers x n_bits_total float64); rows are
    split into ``acc.shape[0]`` contiguous ranges, one per worker thread
    (:func:`~sklearn_projection._numba.in_threads`; a row's non-zeros are found in
    registers, 64 features at a time: no other scratch).
    """
    return sum(in_threads(
        lambda w, lo, hi: _dense_rows(X, columns, spec, packed, reading, out8, out64, acc[w], lo, hi, tau),
        X.shape[0], acc.shape[0],
    ))


# The row kernels: serial, and without the GIL, so that worker threads run them at once.
@njit(cache=True, nogil=True)
def _dense_rows(X, columns, spec, packed, reading, out8, out64, acc, lo, hi, tau):
    bit_index, value = columns
    seed, frac, k0, starts, per_hash, fbits, pbits = spec
    n_not_finite = 0
    for i in range(lo, hi):
        big = _dense_row(acc, X[i], bit_index, value, seed, frac, k0, starts, per_hash, fbits, pbits, 1.0)
        if big > _BIG:  # huge (scaled by 2**-1000, stays finite) or not finite (stays inf)
            big = _dense_row(acc, X[i], bit_index, value, seed, frac, k0, starts, per_hash, fbits, pbits,
                             _SHRINK)
        n_not_finite += big == np.inf
        _store(acc, out8, out64, i, packed, reading, tau)
    return n_not_finite


@njit(cache=True)
def csr_abs_sums(data, indices, row_ptr, spec, out):
    """``out[i] = |sums|`` of CSR row ``i``: the bit kernels' float64 sums, each non-zero's
    column hashed where it is used (no column is regenerated, so the cost does not grow
    with the number of features). For the quinary threshold."""
    seed, frac, k0, starts, per_hash, fbits, pbits = spec
    bit_index = np.zeros((0, 0), dtype=np.uint32)
    value = np.zeros((0, 0), dtype=np.float64)
    for i in range(row_ptr.shape[0] - 1):
        lo, hi = row_ptr[i], row_ptr[i + 1]
        acc = out[i]
        _sparse_row(acc, indices[lo:hi], data[lo:hi], bit_index, value, seed, frac, k0, starts, per_hash, fbits, pbits,
                    1.0)
        for b in range(acc.shape[0]):
            acc[b] = abs(acc[b])


@njit(cache=True, nogil=True)
def dense_abs_sums(X, spec, out):
    """``out[i] = |sums|`` of dense row ``i``: as :func:`csr_abs_sums` (the same sums), with
    the row kernel the dense bits use, so a process that only sees dense data compiles no
    sparse kernel for the threshold."""
    seed, frac, k0, starts, per_hash, fbits, pbits = spec
    bit_index = np.zeros((0, 0), dtype=np.uint32)
    value = np.zeros((0, 0), dtype=np.float64)
    for i in range(out.shape[0]):
        acc = out[i]
        _dense_row(acc, X[i], bit_index, value, seed, frac, k0, starts, per_hash, fbits, pbits, 1.0)
        for b in range(acc.shape[0]):
            acc[b] = abs(acc[b])


def csr_bits(data, indices, row_ptr, columns, spec, packed, reading, out8, out64, acc, tau=0.0):
    """As :func:`dense_bits` for CSR rows (sorted, no duplicates; not checked for NaN);
    rows split among ``acc.shape[0]`` worker threads."""
    in_threads(
        lambda w, first, last: _csr_rows(data, indices, row_ptr, columns, spec, packed, reading, out8, out64,
                                         acc[w], first, last, tau),
        row_ptr.shape[0] - 1, acc.shape[0],
    )


@njit(cache=True, nogil=True)
def _csr_rows(data, indices, row_ptr, columns, spec, packed, reading, out8, out64, acc, first, last, tau):
    bit_index, value = columns
    seed, frac, k0, starts, per_hash, fbits, pbits = spec
    for i in range(first, last):
        lo, hi = row_ptr[i], row_ptr[i + 1]
        cols, vals = indices[lo:hi], data[lo:hi]
        if _sparse_row(acc, cols, vals, bit_index, value, seed, frac, k0, starts, per_hash, fbits, pbits, 1.0) > _BIG:
            _sparse_row(acc, cols, vals, bit_index, value, seed, frac, k0, starts, per_hash, fbits, pbits, _SHRINK)
        _store(acc, out8, out64, i, packed, reading, tau)


@njit(cache=True, nogil=True)
def _pack_bits(bits, out):
    for i in range(bits.shape[0]):
        for b in range(bits.shape[1]):
            if bits[i, b]:
                out[i, b >> 6] |= np.uint64(1) << np.uint64(b & 63)


def pack_bits(bits):
    """Pack a (n, B) {0,1} uint8 array into (n, ceil(B/64)) uint64 words, bit b -> word b//64, bit b%64."""
    n, n_bits_total = bits.shape
    out = np.zeros((n, (n_bits_total + 63) // 64), dtype=np.uint64)
    _pack_bits(bits, out)
    return out


@njit(cache=True, nogil=True)
def _unpack_bits(words, out):
    for i in range(out.shape[0]):
        for b in range(out.shape[1]):
            out[i, b] = (words[i, b >> 6] >> np.uint64(b & 63)) & np.uint64(1)


def unpack_bits(words, n_bits_total):
    """Inverse of :func:`pack_bits`."""
    out = np.empty((words.shape[0], n_bits_total), dtype=np.uint8)
    _unpack_bits(words, out)
    return out


def pack_quinary(values):
    """Pack a (n, B) int8 {-2 .. 2} array into the four planes of the quinary reading:
    (n, 4 * ceil(B/64)) uint64, the words of ``values > 0``, ``values < 0``, ``values > 1``
    then ``values < -1``."""
    return np.hstack([pack_bits(m.view(np.uint8)) for m in (values > 0, values < 0, values > 1, values < -1)])


def unpack_quinary(words, n_bits_total):
    """Inverse of :func:`pack_quinary`."""
    width = (n_bits_total + 63) // 64
    planes = [unpack_bits(np.ascontiguousarray(words[:, p * width : (p + 1) * width]), n_bits_total).view(np.int8)
              for p in range(4)]
    return planes[0] - planes[1] + planes[2] - planes[3]


def pack_ternary(values):
    """Pack a (n, B) int8 {-1, 0, +1} array into the two planes of the ternary reading:
    (n, 2 * ceil(B/64)) uint64, the words of ``values > 0`` then those of ``values < 0``."""
    return np.hstack([pack_bits((values > 0).view(np.uint8)), pack_bits((values < 0).view(np.uint8))])


def unpack_ternary(words, n_bits_total):
    """Inverse of :func:`pack_ternary`."""
    width = (n_bits_total + 63) // 64
    positive = unpack_bits(np.ascontiguousarray(words[:, :width]), n_bits_total).view(np.int8)
    negative = unpack_bits(np.ascontiguousarray(words[:, width:]), n_bits_total).view(np.int8)
    return positive - negative
