"""LSHProjection: the ProjectionNet projection layer as a scikit-learn transformer."""

import math
import os
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _hashing, _numba

# a dense batch of at most this many rows counts its non-zeros (see lsh_bits)
_FEW_ROWS = 256
# which definition of the projection matrix (_hashing's docstring) a pickled fit used:
# 1 in sklearn-projection 0.1, 2 in 0.2 (one 64-bit hash per non-zero), 3 since (m
# non-zeros per 64-bit hash)
HASH_VERSION = 3
# the releases that pickled each earlier hash version (named in the refusal)
_HASH_RELEASES = {1: "0.1", 2: "0.2, before hash version 3"}
# bit indices are int32 inside the kernels
MAX_TOTAL_BITS = 2**31 - 1
# below this many expected non-zeros per bit of a row (density x non-zeros per row), over
# 99 % of a row's bits are 0 whatever its values: fit warns (see check_bits_can_be_set)
MIN_NONZEROS_PER_BIT = 0.01
# how the sum of a hyperplane is read: "binary" (sum > 0, {0, 1}), "ternary" (its sign,
# {-1, 0, +1}) or "quinary" (five levels, {-2 .. 2}, with a threshold); see _hashing's
# docstring. The index is the kernels' reading code and the file format's reading byte.
READINGS = ("binary", "ternary", "quinary")
# planes of packed words per reading
PLANES = {"binary": 1, "ternary": 2, "quinary": 4}
# rows of the training data whose sums set the quinary threshold (LSHProjection.fit)
THRESHOLD_ROWS = 4096


def _physical_memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 2**40


# "auto" density = min(1, AUTO_DENSITY_C / sqrt(mean_row_nnz)) / sqrt(n_seen); see data_density
AUTO_DENSITY_C = 4.0
# rows per chunk when data_density scans dense X (bounds its temporary boolean array)
_DENSITY_CHUNK = 4096


def data_density(X):
    """The density ``density="auto"`` picks for training data ``X``: ``min(1/sqrt(s), 4/sqrt(s*m))``.

    ``s`` is the number of features that are non-zero in at least one row of ``X`` and
    ``m`` the mean number of non-zeros per row. Why this form:

    - ``1 / sqrt(s)`` is scikit-learn's ``SparseRandomProjection`` density over the
      columns in use. Rows with more than 16 non-zeros get less: a bit of a row sums
      ``density * m`` of the row's non-zero inputs on average, and on wide dense rows
      fewer is better: ``4 / sqrt(s * m)`` is a third of ``1 / sqrt(s)`` on MNIST (784
      pixels, 150 non-zero per image: 1.8 inputs per bit instead of 5.6), where that is
      about a point more accurate and 3x cheaper; 0.7 of it on digits (33 non-zero
      pixels of 64), and none of it on short texts (10-16 non-zeros per row). It was
      chosen by measuring several densities with a linear head on MNIST, digits, TREC-6
      and SMS spam (docs/research/issue11_bits_head_density.md) and checked with the
      default networks (docs/method.md, "Density"). Without the ``1 / sqrt(s)`` cap a
      few dense features would get density 1, every bit a sum of all of them: on
      iris's 4 positive features that lost 20 points.
    - ``s`` counts only the columns the data uses, not ``n_features``: hashing texts into
      2**20 or 2**31 columns leaves most of them empty, and empty columns change no bit.
      So the same texts get about the same density whatever the hashing width, where
      ``1 / sqrt(n_features)`` (scikit-learn's ``SparseRandomProjection``, this
      library's "auto" before 0.3) would shrink with the width until no bit is ever set.

    All-zero ``X`` (no information) falls back to ``1 / sqrt(n_features)``. The cost is
    one pass over ``X`` (dense: in chunks of rows; sparse: a sort of its column indices).
    """
    n_rows, n_features = X.shape
    if sp.issparse(X):
        X = X.tocsr() if X.format not in ("csr", "csc") else X
        data = X.data
        cols = X.indices if X.format == "csr" else np.repeat(np.arange(n_features), np.diff(X.indptr))
        keep = data != 0
        nnz = int(np.count_nonzero(keep))
        seen = np.unique(cols[keep]).size if nnz else 0
    else:
        used = np.zeros(n_features, dtype=bool)
        nnz = 0
        for start in range(0, n_rows, _DENSITY_CHUNK):
            nonzero = X[start : start + _DENSITY_CHUNK] != 0
            nnz += int(np.count_nonzero(nonzero))
            used |= nonzero.any(axis=0)
        seen = int(np.count_nonzero(used))
    if nnz == 0 or n_rows == 0:
        return 1.0 / np.sqrt(n_features)
    return float(min(1.0, AUTO_DENSITY_C / np.sqrt(nnz / n_rows)) / np.sqrt(seen))


def resolve_density(density, X):
    """The density in use: :func:`data_density` of the training data ``X`` for "auto"."""
    if density == "auto":
        return data_density(X)
    return float(density)


def check_bits_fit_in_memory(n_rows, n_bits_total, packed, n_workers=1, columns_nbytes=0,
                             what="the bits", planes=1):
    """Raise a ValueError naming the sizes when computing bits would not fit in memory.

    Counts the output and the kernels' scratch: 8 bytes (a float64 sum) per bit for each
    of ``n_workers`` parallel workers, and the regenerated projection columns
    (``columns_nbytes``). Packed ternary output holds two ``planes`` of words.
    """
    per_row = 8 * planes * ((n_bits_total + 63) // 64) if packed else n_bits_total
    output = n_rows * per_row
    scratch = n_workers * 8 * n_bits_total + columns_nbytes
    needed = output + scratch
    available = _physical_memory_bytes()
    if needed > available:
        parts = [f"8 bytes per bit for each of {n_workers} thread{'s' if n_workers != 1 else ''}"]
        if columns_nbytes:
            parts.append(f"{columns_nbytes / 2**30:.1f} GiB of regenerated projection columns")
        raise ValueError(
            f"{what} of {n_rows} rows x {n_bits_total} bits (n_projections * n_bits) "
            f"would need {output / 2**30:.1f} GiB of output plus {scratch / 2**30:.1f} GiB "
            f"of scratch while they are computed ({', '.join(parts)}): "
            f"{needed / 2**30:.1f} GiB, more than this machine's "
            f"{available / 2**30:.1f} GiB of memory; lower n_projections or n_bits, "
            "transform in smaller batches, or run fewer numba threads (numba.set_num_threads)."
        )


def check_bits_can_be_set(X, n_bits_total, density, density_param):
    """Warn when the projection can set hardly any bit of the rows of ``X``.

    A bit of a row can only be 1 if one of the row's non-zero features has a non-zero in
    that bit's random vector, which happens ``density x (non-zeros of the row)`` times per
    bit on average. Far below one (under :data:`MIN_NONZEROS_PER_BIT`), nearly every bit
    of every row is 0 whatever the values, e.g. ``density=1e-5`` with short texts (the
    1/sqrt(n_features) of 2**31 - 1 hashed columns is 2.2e-5). "auto" (:func:`data_density`)
    sets at least ``min(1, 4 * sqrt(m / s))`` non-zeros per bit, so it warns only where rows
    hold under 1/160 000 of the columns the data uses. All-zero data says nothing about the
    projection and gives no warning.
    """
    n_rows, n_features = X.shape
    nnz = X.count_nonzero() if sp.issparse(X) else np.count_nonzero(X)
    if nnz == 0 or n_rows == 0:
        return
    per_row = nnz / n_rows
    per_bit = per_row * density
    if per_bit >= MIN_NONZEROS_PER_BIT:
        return
    zero_share = math.exp(-per_bit)
    how = (
        f'density="auto" ({density:.3g} for {n_features} features)'
        if isinstance(density_param, str) else f"density={density:.3g}"
    )
    warnings.warn(
        f"LSHProjection: {per_bit:.2g} expected non-zeros per bit of a row ({how} x "
        f"mean {per_row:.1f} non-zeros per row), far below one: about {100 * zero_share:.4g}% of "
        f"the bits of a row are 0 whatever its values (on average "
        f"{n_bits_total * -math.expm1(-per_bit):.3g} of its {n_bits_total} bits can be 1). "
        f"raise density (density={min(1.0, 0.1 / per_row):.3g} gives 0.1 non-zeros per "
        "bit), or hash the features into fewer columns.",
        UserWarning,
        stacklevel=3,
    )


def lsh_bits(X, seed, n_bits_total, density, packed=False, reading="binary", threshold=0.0):
    """T*d LSH bits of validated ``X`` (dense float array or scipy sparse matrix).

    ``reading="binary"`` returns a (n, n_bits_total) uint8 {0, 1} array (bit = sum > 0),
    or (n, ceil(n_bits_total/64)) uint64 words when ``packed`` (bit ``b`` in word
    ``b // 64`` at position ``b % 64``; the input of :mod:`._inference`).
    ``reading="ternary"`` returns the signs of the sums, a (n, n_bits_total) int8
    {-1, 0, +1} array, or when ``packed`` (n, 2 * ceil(n_bits_total/64)) uint64 words: the
    words of the positive bits (sum > 0), then those of the negative bits (sum < 0), each
    plane laid out as the binary words. ``reading="quinary"`` returns five levels with the
    threshold ``tau = threshold``: ``+2`` where ``s > tau``, ``+1`` where ``0 < s <= tau``, ``0``
    where ``s == 0``, ``-1`` where ``-tau <= s < 0``, ``-2`` where ``s < -tau`` (int8), or when
    ``packed`` (n, 4 * ceil(n_bits_total/64)) uint64 words, four planes: ``s > 0``, ``s < 0``,
    ``s > tau``, ``s < -tau``. The projection matrix is regenerated for the duration of this
    call only: every column once, or, when ``X`` has fewer non-zeros than features, each
    non-zero's column where it is used. Every array the kernels write, output and
    scratch, is allocated here, after a memory check that counts all of it.
    """
    n_samples, n_features = X.shape
    n_bits_total = int(n_bits_total)
    packed = bool(packed)
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}.")
    code = READINGS.index(reading)
    planes = PLANES[reading]
    tau = float(threshold) if reading == "quinary" else 0.0
    if not (math.isfinite(tau) and tau >= 0.0):
        raise ValueError(f"the quinary threshold must be finite and >= 0, got {threshold!r}.")
    dense = not sp.issparse(X)
    n_workers = _numba.row_workers(n_samples)
    # cheap bounds first (the input may be huge): output and the per-thread sums
    check_bits_fit_in_memory(n_samples, n_bits_total, packed, n_workers, planes=planes)
    spec = _hashing.projection_spec(seed, n_bits_total, density)
    if dense:
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        X = np.ascontiguousarray(X)
        nnz = np.count_nonzero(X) if n_samples <= _FEW_ROWS else X.size
    else:
        X = sp.csr_matrix(X)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()  # also sorts the indices: the same order as the dense path
        nnz = X.nnz
    # Regenerating every column once costs n_features column hashes; hashing each
    # non-zero's column where it is used costs nnz of them: take the cheaper.
    regenerate = nnz >= n_features
    if regenerate:  # the check above, now with the regenerated columns counted too
        check_bits_fit_in_memory(
            n_samples, n_bits_total, packed, n_workers,
            _hashing.columns_nbytes(n_features, n_bits_total, density), planes=planes,
        )
    columns = _hashing.projection_columns(n_features, *spec) if regenerate else _hashing.NO_COLUMNS
    width = (n_bits_total + 63) // 64
    out8 = np.empty((0 if packed else n_samples, n_bits_total), dtype=np.uint8 if code == 0 else np.int8)
    out64 = np.empty((n_samples if packed else 0, planes * width), dtype=np.uint64)
    acc = np.empty((n_workers, n_bits_total), dtype=np.float64)
    if dense:
        _hashing.dense_bits(X, columns, spec, packed, code, out8, out64, acc, tau)
    else:
        # indices are non-negative: viewing them unsigned spares numba's wrap-around checks
        indices = X.indices.view(np.uint32 if X.indices.dtype == np.int32 else np.uint64)
        _hashing.csr_bits(
            np.asarray(X.data, dtype=np.float64), indices, X.indptr.astype(np.int64),
            columns, spec, packed, code, out8, out64, acc, tau,
        )
    return out64 if packed else out8


class LSHProjection(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Locality-sensitive bit projection with no stored projection matrix.

    Maps each row ``x`` to ``n_projections * n_bits`` bits: bit ``i`` is 1 where
    ``<x, r_i> > 0`` for a sparse random vector ``r_i`` with entries in {-1, 0, +1}
    (Charikar's random-hyperplane LSH with Achlioptas/Li "very sparse" vectors). Inputs
    at angle ``theta`` agree on a bit with probability ``1 - theta / pi``. With
    ``reading="ternary"`` each output is instead the sign of ``<x, r_i>``: +1, -1, or 0
    where the sum is exactly 0 (as it is for most bits of a short text, whose few
    non-zeros often miss a sparse ``r_i``). With ``reading="quinary"`` it is read as five
    levels: the sign, doubled where ``|<x, r_i>|`` exceeds a threshold ``threshold_`` set at
    ``fit`` (the median of the magnitudes of the sums of the training rows).

    Each entry of ``r_i`` is recomputed from an integer hash of ``(seed_, i, feature)``
    whenever it is needed, so the fitted transformer stores one 64-bit seed however many
    features and bits there are, and gives the same bits on every machine and for any
    number of threads. This is the projection layer of
    :class:`~sklearn_projection.ProjectionNetClassifier`.

    Parameters
    ----------
    n_projections : int, default=60
        Number T of projection functions.
    n_bits : int, default=10
        Bits d per projection function. The output has ``T * d`` bits; only the
        product matters to the bits, the split is kept to match the paper.
    density : "auto" or float in (0, 1], default="auto"
        Share of non-zero entries in each random vector. "auto" decides it from the
        data at ``fit`` (:func:`data_density`): ``min(1/sqrt(s), 4/sqrt(s * m))`` for
        ``s`` columns used by the data and ``m`` non-zeros per row on average, recorded in
        ``density_``. It does not depend on how many empty columns the input has, so
        texts hashed into 2**20 or 2**31 columns get a usable density. (Before 0.3
        "auto" was ``1 / sqrt(n_features)``, as in
        :class:`~sklearn.random_projection.SparseRandomProjection`: pass that number to
        get the old bits.) Cost of a transform is ``O(nnz(X) * T * d * density)``. A bit
        of a row can only be 1 if one of the row's non-zeros meets a non-zero of that
        bit's vector, which happens ``density * nnz(row)`` times per bit on average:
        ``fit`` warns (``UserWarning``, naming the numbers) when that is below 0.01 on
        its data, where over 99 % of the bits are 0 whatever the input.
    reading : {"binary", "ternary", "quinary"}, default="binary"
        How each sum ``s = <x, r_i>`` is read. "binary": ``s > 0``, a uint8 in {0, 1}.
        "ternary": the sign of ``s``, an int8 in {-1, 0, +1}, which tells a sum of
        exactly 0 from a negative one at no cost in output width (on short texts
        79-87 % of the sums are exactly 0; see docs/method.md, "Bit reading").
        "quinary": an int8 in {-2, -1, 0, +1, +2}, the sign of ``s`` plus one more of the
        same sign where ``|s| > tau``: ``+2`` if ``s > tau``, ``+1`` if ``0 < s <= tau``, ``0``
        if ``s == 0``, ``-1`` if ``-tau <= s < 0``, ``-2`` if ``s < -tau``, with one global
        ``tau = threshold_`` (the median of ``|s|`` over the first 4096 training rows),
        which also says how far from the hyperplane a row lies. (A network over these
        inputs has as many weights as over bits.)
    packed : bool, default=False
        If True, ``transform`` returns the bits packed 64 to a ``uint64`` word, bit ``b``
        of a row in word ``b // 64`` at position ``b % 64``: ``ceil(T*d / 64)`` words per
        row. With ``reading="ternary"`` a row has two planes of that many words, the
        positive bits (``s > 0``) then the negative bits (``s < 0``): ``2 * ceil(T*d / 64)``
        words. With ``reading="quinary"``, four planes: ``s > 0``, ``s < 0``,
        ``s > tau``, ``s < -tau`` (the value is plane 0 - plane 1 + plane 2 - plane 3).
    random_state : int, RandomState instance or None, default=None
        Draws ``seed_`` at ``fit``. Pass an int for the same bits across calls.

    Attributes
    ----------
    seed_ : int
        The 64-bit seed the projection matrix is regenerated from.
    density_ : float
        The density in use (for "auto", decided from the data at ``fit``).
    threshold_ : float
        The quinary reading's ``tau``: the median of ``|s|`` over the ``T*d`` sums (computed
        in float64) of each of the first ``min(n_samples, 4096)`` rows of the training
        data. 0.0 for the binary and ternary readings, which do not use it.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string feature names.

    See Also
    --------
    sklearn.random_projection.SparseRandomProjection : the same projection, with the matrix stored.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_projection import LSHProjection
    >>> X = np.array([[1.0, 2.0, 0.0], [1.0, 2.1, 0.0], [-3.0, 0.5, 1.0]])
    >>> proj = LSHProjection(n_projections=4, n_bits=8, random_state=0).fit(X)
    >>> bits = proj.transform(X)
    >>> bits.shape, bits.dtype.name
    ((3, 32), 'uint8')
    >>> int((bits[0] != bits[1]).sum()) < int((bits[0] != bits[2]).sum())
    True
    >>> LSHProjection(n_projections=4, n_bits=8, packed=True, random_state=0).fit_transform(X).shape
    (3, 1)
    >>> signs = LSHProjection(n_projections=4, n_bits=8, reading="ternary", random_state=0).fit_transform(X)
    >>> signs.dtype.name, sorted(set(signs.ravel().tolist())) <= [-1, 0, 1]
    ('int8', True)
    >>> bool(((signs > 0) == bits).all())  # the positive signs are the binary bits
    True
    """

    _parameter_constraints = {
        "n_projections": [Interval(Integral, 1, None, closed="left")],
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "density": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="right")],
        "reading": [StrOptions(set(READINGS))],
        "packed": ["boolean"],
        "random_state": ["random_state"],
    }

    # reading comes last: inserting it earlier would shift positional arguments (0.2 had none)
    def __init__(self, n_projections=60, n_bits=10, density="auto", packed=False, random_state=None,
                 reading="binary"):
        self.n_projections = n_projections
        self.n_bits = n_bits
        self.density = density
        self.reading = reading
        self.packed = packed
        self.random_state = random_state

    @property
    def n_bits_total_(self):
        """T * d, the number of output bits (a Python int)."""
        return int(self.n_projections) * int(self.n_bits)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Record the input width and draw the seed (and, for the quinary reading, set
        ``threshold_``); nothing else is stored.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the quinary threshold's median (a row of weight 2
            counts as that row twice); unused by the other readings.

        Returns
        -------
        self : LSHProjection
        """
        n_bits_total = check_total_bits(self.n_projections, self.n_bits)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"], dtype=(np.float64, np.float32))
        rng = check_random_state(self.random_state)
        hi, lo = rng.randint(0, 2**32, size=2, dtype=np.uint64)
        self.seed_ = int((int(hi) << 32) | int(lo))
        self.density_ = resolve_density(self.density, X)
        check_bits_can_be_set(X, n_bits_total, self.density_, self.density)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        self.threshold_ = (
            quinary_threshold(X, self.seed_, n_bits_total, self.density_, sample_weight=sample_weight)
            if self.reading == "quinary" else 0.0
        )
        return self

    def transform(self, X):
        """Bits of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense or sparse (CSR/CSC/COO) input; sparse input is never densified.

        Returns
        -------
        bits : ndarray
            binary reading: (n_samples, T*d) uint8 {0, 1}, or (n_samples, ceil(T*d/64))
            uint64 if ``packed``. ternary reading: (n_samples, T*d) int8 {-1, 0, 1}, or
            (n_samples, 2 * ceil(T*d/64)) uint64 if ``packed`` (positive words, then
            negative words). quinary reading: (n_samples, T*d) int8 {-2 .. 2}, or
            (n_samples, 4 * ceil(T*d/64)) uint64 if ``packed`` (four planes).
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"], dtype=(np.float64, np.float32), reset=False)
        return self._transform(X, self.packed)

    def _transform(self, X, packed):
        """Bits of already validated ``X``."""
        return lsh_bits(X, self.seed_, self.n_bits_total_, self.density_, packed=packed,
                        reading=self.reading, threshold=getattr(self, "threshold_", 0.0))

    def __getstate__(self):
        state = super().__getstate__()
        if hasattr(self, "seed_"):
            state["_hash_version"] = HASH_VERSION
        return state

    def __setstate__(self, state):
        version = state.get("_hash_version", 1)  # 0.1 pickled no version
        if "seed_" in state and version != HASH_VERSION:
            raise ValueError(
                f"this fitted LSHProjection was pickled with projection hash version {version} "
                f"(sklearn-projection {_HASH_RELEASES.get(version, 'other than this one')}); this "
                f"version regenerates the random projections with hash version {HASH_VERSION} "
                "and cannot reproduce its bits. Refit it (or the ProjectionNetClassifier "
                "holding it) with this version."
            )
        state = dict(state)
        state.pop("_hash_version", None)
        state.setdefault("reading", "binary")  # pickled before the reading option existed
        super().__setstate__(state)

    @property
    def _n_features_out(self):
        n = self.n_bits_total_
        planes = PLANES[self.reading]
        return planes * ((n + 63) // 64) if self.packed else n

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def weighted_median(values, weights):
    """The median of ``values`` where each counts ``weights`` times: for integer weights
    exactly ``np.median`` of the values repeated that many times (the mean of the two
    middle ones when the total is even), so weighting a row equals repeating it.
    Zero weights drop their values; all-zero weights give 0.0."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    cum = np.cumsum(weights[order])
    total = cum[-1] if cum.size else 0.0
    if not total > 0:
        return 0.0
    half = total / 2.0
    lo = min(int(np.searchsorted(cum, half, side="left")), v.size - 1)   # first with cum >= total/2
    hi = min(int(np.searchsorted(cum, half, side="right")), v.size - 1)  # first with cum > total/2
    return float(0.5 * (v[lo] + v[hi]))


def quinary_threshold(X, seed, n_bits_total, density, n_rows=THRESHOLD_ROWS, sample_weight=None):
    """``tau`` of the quinary reading: the median of ``|s|`` over the ``n_bits_total`` sums
    ``s`` of each of the first ``min(n_samples, n_rows)`` rows of validated ``X``, each row
    counted ``sample_weight`` times if given (:func:`weighted_median`).

    The sums are the bit kernels' own float64 sums (each non-zero's column hashed where it
    is used, so the cost grows with the sample's non-zeros, not with ``n_features``).
    Holds the ``m x B`` magnitudes in float64 while it runs (4096 rows of 600 bits: 20 MB).
    Raises a ValueError when it is not finite (sums of huge values overflowing float64).
    """
    m = min(X.shape[0], n_rows)
    if m == 0:
        return 0.0
    spec = _hashing.projection_spec(seed, n_bits_total, density)
    # the kernels' own sums, each non-zero's column hashed where it is used: regenerating
    # every column would cost memory in proportion to n_features (2**31 hashed text columns)
    magnitudes = np.empty((m, n_bits_total), dtype=np.float64)
    if not sp.issparse(X):
        rows = X[:m] if X.dtype in (np.float32, np.float64) else X[:m].astype(np.float64)
        _hashing.dense_abs_sums(np.ascontiguousarray(rows), spec, magnitudes)
    else:
        rows = sp.csr_matrix(X)[:m]
        if not rows.has_canonical_format:
            rows = rows.copy()
            rows.sum_duplicates()
        indices = rows.indices.view(np.uint32 if rows.indices.dtype == np.int32 else np.uint64)
        _hashing.csr_abs_sums(np.asarray(rows.data, dtype=np.float64), indices, rows.indptr.astype(np.int64), spec,
                              magnitudes)
    if sample_weight is None:
        tau = float(np.median(magnitudes, overwrite_input=True))  # (no copy of the m x B values)
    else:
        tau = weighted_median(magnitudes.ravel(), np.repeat(np.asarray(sample_weight[:m], dtype=np.float64),
                                                             n_bits_total))
    if not math.isfinite(tau):
        raise ValueError(
            f"the quinary reading's threshold (median |sum| over {m} rows) is {tau}: the input's "
            "values are too large for float64 sums; scale the features."
        )
    return tau


def python_int(value, name):
    """``value`` as a Python int; refuses bools (and anything not integral) by name."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an int, got {value!r}.")
    return int(value)


def check_total_bits(n_projections, n_bits):
    """``n_projections * n_bits`` as a Python int (numpy integers would wrap around);
    raises a ValueError above :data:`MAX_TOTAL_BITS`."""
    T, d = python_int(n_projections, "n_projections"), python_int(n_bits, "n_bits")
    total = T * d
    if total > MAX_TOTAL_BITS:
        raise ValueError(
            f"n_projections * n_bits = {T} * {d} = {total} bits is too "
            f"large: at most {MAX_TOTAL_BITS} bits are supported."
        )
    return total
