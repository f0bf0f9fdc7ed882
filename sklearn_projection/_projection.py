"""LSHProjection: the ProjectionNet projection layer as a scikit-learn transformer."""

import os
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _hashing

# a dense batch of at most this many rows counts its non-zeros (see lsh_bits)
_FEW_ROWS = 256
# which definition of the projection matrix (_hashing's docstring) a pickled fit used:
# 1 in sklearn-projection 0.1, 2 since 0.2
HASH_VERSION = 2
# bit indices are int32 inside the kernels
MAX_TOTAL_BITS = 2**31 - 1


def _physical_memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 2**40


def resolve_density(density, n_features):
    if density == "auto":
        return 1.0 / np.sqrt(n_features)
    return float(density)


def check_bits_fit_in_memory(n_rows, n_bits_total, packed, what="the bits"):
    """Raise a ValueError naming the sizes when an output would not fit in memory."""
    per_row = 8 * ((n_bits_total + 63) // 64) if packed else n_bits_total
    needed = n_rows * per_row
    available = _physical_memory_bytes()
    if needed > available:
        raise ValueError(
            f"{what} of {n_rows} rows x {n_bits_total} bits (n_projections * n_bits) "
            f"would need {needed / 2**30:.1f} GiB, more than this machine's "
            f"{available / 2**30:.1f} GiB of memory; lower n_projections or n_bits, "
            "or transform in smaller batches."
        )


def lsh_bits(X, seed, n_bits_total, density, packed=False):
    """T*d LSH bits of validated ``X`` (dense float array or scipy sparse matrix).

    Returns a (n, n_bits_total) uint8 array, or (n, ceil(n_bits_total/64)) uint64 words
    when ``packed`` (bit ``b`` in word ``b // 64`` at position ``b % 64``; the input of
    :mod:`._inference`). The projection matrix is regenerated for the duration of this
    call only: every column once, or, when ``X`` has fewer non-zeros than features, each
    non-zero's column where it is used.
    """
    n_samples, n_features = X.shape
    check_bits_fit_in_memory(n_samples, n_bits_total, packed)
    spec = _hashing.projection_spec(seed, n_bits_total, density)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()  # also sorts the indices: the same order as the dense path
        nnz = X.nnz
    else:
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        X = np.ascontiguousarray(X)
        nnz = np.count_nonzero(X) if n_samples <= _FEW_ROWS else X.size
    # Regenerating every column once costs n_features column hashes; hashing each
    # non-zero's column where it is used costs nnz of them: take the cheaper.
    if nnz >= n_features:
        columns = _hashing.projection_columns(n_features, *spec)
    else:
        columns = _hashing.NO_COLUMNS
    packed = bool(packed)
    if sp.issparse(X):
        # indices are non-negative: viewing them unsigned spares numba's wrap-around checks
        indices = X.indices.view(np.uint32 if X.indices.dtype == np.int32 else np.uint64)
        out8, out64 = _hashing.csr_bits(
            np.asarray(X.data, dtype=np.float64), indices, X.indptr.astype(np.int64),
            columns, spec, n_bits_total, packed,
        )
    else:
        out8, out64 = _hashing.dense_bits(X, columns, spec, n_bits_total, packed)
    return out64 if packed else out8


class LSHProjection(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Locality-sensitive bit projection with no stored projection matrix.

    Maps each row ``x`` to ``n_projections * n_bits`` bits: bit ``i`` is 1 where
    ``<x, r_i> > 0`` for a sparse random vector ``r_i`` with entries in {-1, 0, +1}
    (Charikar's random-hyperplane LSH with Achlioptas/Li "very sparse" vectors). Inputs
    at angle ``theta`` agree on a bit with probability ``1 - theta / pi``.

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
        Share of non-zero entries in each random vector. "auto" is
        ``1 / sqrt(n_features)``, as in :class:`~sklearn.random_projection.SparseRandomProjection`.
        Cost of a transform is ``O(nnz(X) * T * d * density)``.
    packed : bool, default=False
        If True, ``transform`` returns the bits packed 64 to a ``uint64`` word, bit ``b``
        of a row in word ``b // 64`` at position ``b % 64``.
    random_state : int, RandomState instance or None, default=None
        Draws ``seed_`` at ``fit``. Pass an int for the same bits across calls.

    Attributes
    ----------
    seed_ : int
        The 64-bit seed the projection matrix is regenerated from.
    density_ : float
        The density in use.
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
    """

    _parameter_constraints = {
        "n_projections": [Interval(Integral, 1, None, closed="left")],
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "density": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="right")],
        "packed": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_projections=60, n_bits=10, density="auto", packed=False, random_state=None):
        self.n_projections = n_projections
        self.n_bits = n_bits
        self.density = density
        self.packed = packed
        self.random_state = random_state

    @property
    def n_bits_total_(self):
        """T * d, the number of output bits."""
        return self.n_projections * self.n_bits

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the input width and draw the seed; nothing else is stored.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : LSHProjection
        """
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"], dtype=(np.float64, np.float32))
        check_total_bits(self.n_projections, self.n_bits)
        rng = check_random_state(self.random_state)
        hi, lo = rng.randint(0, 2**32, size=2, dtype=np.uint64)
        self.seed_ = int((int(hi) << 32) | int(lo))
        self.density_ = resolve_density(self.density, X.shape[1])
        return self

    def transform(self, X):
        """Bits of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense or sparse (CSR/CSC/COO) input; sparse input is never densified.

        Returns
        -------
        bits : ndarray of shape (n_samples, T*d) uint8, or (n_samples, ceil(T*d/64)) uint64 if ``packed``
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"], dtype=(np.float64, np.float32), reset=False)
        return self._transform(X, self.packed)

    def _transform(self, X, packed):
        """Bits of already validated ``X``."""
        return lsh_bits(X, self.seed_, self.n_bits_total_, self.density_, packed=packed)

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
                f"(sklearn-projection {'0.1' if version == 1 else 'other than this one'}); this "
                f"version regenerates the random projections with hash version {HASH_VERSION} "
                "and cannot reproduce its bits. Refit it (or the ProjectionNetClassifier "
                "holding it) with this version."
            )
        state = dict(state)
        state.pop("_hash_version", None)
        super().__setstate__(state)

    @property
    def _n_features_out(self):
        n = self.n_projections * self.n_bits
        return (n + 63) // 64 if self.packed else n

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def check_total_bits(n_projections, n_bits):
    total = n_projections * n_bits
    if total > MAX_TOTAL_BITS:
        raise ValueError(
            f"n_projections * n_bits = {n_projections} * {n_bits} = {total} bits is too "
            f"large: at most {MAX_TOTAL_BITS} bits are supported."
        )
