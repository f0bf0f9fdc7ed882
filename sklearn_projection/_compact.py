"""CompactProjectionClassifier: only what a ProjectionNet needs at inference, and nothing else.

A fitted :class:`~sklearn_projection.ProjectionNetClassifier` holds a trainer network,
optimiser state and training history; the model that ships is only the projection
network: the 64-bit seed the random projections are regenerated from, ``T``, ``d``, the
density, and the layers over the ``T * d`` bits. :class:`CompactProjectionClassifier`
holds exactly that, at float32, float16 or int8 (symmetric, one scale per output column),
and saves it to a small checksummed binary file that is parsed without pickle.

File format (version 2, all integers little-endian) -- see docs/deployment.md::

    magic    8 bytes   b"SKPNCMP\\x00"
    version  u32       2  (version 1, sklearn-projection 0.1, regenerated the projections
                          with another hash: refused, as its bits cannot be reproduced)
    body_len u64       number of body bytes that follow
    body     body_len bytes (below)
    crc32    u32       zlib.crc32 of every byte before it (magic .. body)

    body:
    dtype        u8        0 float32, 1 float16, 2 int8
    n_layers     u32       1 .. 1024
    seed         u64
    n_projections u32, n_bits u32    (T, d; T*d <= 2**31 - 1)
    density      f64       in (0, 1]
    n_features   u64       >= 1
    widths       u32 x (n_layers + 1)   widths[0] == T*d, widths[-1] == n_classes
    classes      kind u8 (0 numeric, 1 numpy unicode, 2 object str), n u32, then
                 kind 0: dtype string (u8 length + ASCII, e.g. "<i8") + n * itemsize bytes
                 kind 1: u32 characters per item, then n strings
                 kind 2: n strings                      (string = u32 length + UTF-8)
    feature names  u32 count (0 or n_features), then count strings
    layers       for l in 0 .. n_layers-1: W_l (widths[l] x widths[l+1], row-major, float32 /
                 float16 / int8), b_l (widths[l+1] float32), and for int8 s_l (widths[l+1]
                 float32 scales); weight of W_l[k, j] is s_l[j] * q_l[k, j].
"""

import copy
import io
import re
import struct
import zlib

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compact_kernels import gather_first_layer
from ._network import softmax
from ._projection import MAX_TOTAL_BITS, lsh_bits

MAGIC = b"SKPNCMP\x00"
FORMAT_VERSION = 2
DTYPES = ("float32", "float16", "int8")
_DTYPE_CODE = {name: i for i, name in enumerate(DTYPES)}
_MAX_LAYERS = 1024
_MAX_STRING = 1 << 20
_BATCH_ROWS = 1 << 16
# int8 first layer sums at most T*d values of |q| <= 127 in int32
_INT8_MAX_BITS = (2**31 - 1) // 127
_NUMERIC_DTYPE = re.compile(r"^(\|b1|\|[iu]1|<[iu][248]|<f[248])$")


def _quantize_int8(W):
    """Symmetric per-output-column int8: ``W[:, j] ~= scale[j] * q[:, j]``, |q| <= 127."""
    W = np.asarray(W, dtype=np.float64)
    amax = np.max(np.abs(W), axis=0) if W.shape[0] else np.zeros(W.shape[1])
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(W / scale.astype(np.float64)), -127, 127).astype(np.int8)
    return q, scale


class CompactProjectionClassifier(ClassifierMixin, BaseEstimator):
    """The deployable part of a fitted ProjectionNetClassifier: seed, sizes and layers.

    Create it from a fitted classifier with
    :meth:`ProjectionNetClassifier.to_compact <sklearn_projection.ProjectionNetClassifier.to_compact>`
    or :meth:`from_classifier` (for a fitted :class:`~sklearn.pipeline.Pipeline`, use
    :func:`compact_pipeline`), or read one with :meth:`load`. It is a fitted scikit-learn
    classifier (``predict``, ``predict_proba``, ``predict_log_proba``, ``score``) that
    can replace the full classifier as the last step of a pipeline.

    Inference packs the ``T * d`` LSH bits of each row into ``uint64`` words and
    computes the first layer as a gather-sum of the weight rows of the set bits (a numba
    kernel, rows in parallel); at float32 the probabilities are bit-identical to the
    full classifier's.

    A compact model is not trained: it has no constructor parameters and :meth:`fit`
    raises. For the same reason ``sklearn.base.clone`` (and so ``GridSearchCV``,
    ``cross_val_score``) returns an empty, unusable instance; wrap a compact model in
    :class:`sklearn.frozen.FrozenEstimator` to keep it through ``clone``. It is not run
    through scikit-learn's ``parametrize_with_checks``, whose checks all start by
    fitting the estimator.

    Attributes
    ----------
    dtype_ : {"float32", "float16", "int8"}
        Storage type of the weight matrices. Biases and int8 scales are float32.
    seed_ : int
        The 64-bit seed the random projections are regenerated from.
    n_projections_, n_bits_ : int
        T and d; the projection network sees ``T * d`` bits.
    density_ : float
        Share of non-zero entries of each random vector.
    coefs_ : list of ndarray
        Weight matrices of the projection network (``dtype_``); ReLU between layers.
    intercepts_ : list of ndarray
        Biases (float32).
    scales_ : list of ndarray or None
        Per-output-column scales (float32) of the int8 weights; None otherwise.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input feature names, when the classifier was fitted on named features.

    See Also
    --------
    ProjectionNetClassifier : trains the model this is made from.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_projection import ProjectionNetClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ProjectionNetClassifier(n_projections=20, n_bits=10, max_iter=30,
    ...                               random_state=0).fit(X / 16, y)
    >>> compact = clf.to_compact("int8")
    >>> compact
    CompactProjectionClassifier()
    >>> compact.dtype_, compact.size_bytes  # 200 x 10 int8 weights, 10 biases, 10 scales
    ('int8', 2116)
    >>> bool((compact.predict(X / 16) == clf.predict(X / 16)).mean() > 0.95)
    True
    >>> bool((clf.to_compact().predict_proba(X / 16) == clf.predict_proba(X / 16)).all())
    True
    """

    def __init__(self):
        pass

    # ------------------------------------------------------------ construction
    @classmethod
    def from_classifier(cls, classifier, dtype="float32"):
        """The compact model of a fitted ProjectionNetClassifier.

        Parameters
        ----------
        classifier : ProjectionNetClassifier
            Fitted.
        dtype : {"float32", "float16", "int8"}, default="float32"
            Storage type of the weight matrices. "float32" is the classifier's own
            weights (identical predictions); "float16" rounds them; "int8" quantises each
            output column symmetrically with its own float32 scale. Biases stay float32.

        Returns
        -------
        compact : CompactProjectionClassifier
        """
        check_is_fitted(classifier, ["projection_", "coefs_"])
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}.")
        proj = classifier.projection_
        self = cls()
        self.dtype_ = dtype
        self.seed_ = int(proj.seed_)
        self.n_projections_ = int(proj.n_projections)
        self.n_bits_ = int(proj.n_bits)
        self.density_ = float(proj.density_)
        self.n_features_in_ = int(classifier.n_features_in_)
        if hasattr(classifier, "feature_names_in_"):
            self.feature_names_in_ = np.asarray(classifier.feature_names_in_, dtype=object).copy()
        self.classes_ = np.array(classifier.classes_, copy=True)
        coefs = [np.asarray(W, dtype=np.float32) for W in classifier.coefs_]
        self.intercepts_ = [np.array(b, dtype=np.float32, copy=True) for b in classifier.intercepts_]
        if dtype == "int8" and self.n_projections_ * self.n_bits_ > _INT8_MAX_BITS:
            raise ValueError(
                f"int8 supports at most {_INT8_MAX_BITS} bits (the first layer is summed in "
                f"int32); this model has {self.n_projections_ * self.n_bits_}."
            )
        if dtype == "float32":
            self.coefs_ = [W.copy() for W in coefs]
            self.scales_ = None
        elif dtype == "float16":
            self.coefs_ = [W.astype(np.float16) for W in coefs]
            self.scales_ = None
            if not all(np.isfinite(W).all() for W in self.coefs_):
                raise ValueError("Some weights exceed the float16 range (65504); use float32.")
        else:
            pairs = [_quantize_int8(W) for W in coefs]
            self.coefs_ = [q for q, _ in pairs]
            self.scales_ = [s for _, s in pairs]
        self._check_consistent()
        return self

    def fit(self, X=None, y=None):
        """Not supported: a compact model is made from a fitted ProjectionNetClassifier.

        Raises
        ------
        TypeError
            Always. Fit a :class:`~sklearn_projection.ProjectionNetClassifier` and call
            its ``to_compact``; to keep a compact model through ``clone``/``fit`` of a
            pipeline, wrap it in :class:`sklearn.frozen.FrozenEstimator`.
        """
        raise TypeError(
            "CompactProjectionClassifier is not trained: fit a ProjectionNetClassifier and "
            "call its to_compact(), or wrap this model in sklearn.frozen.FrozenEstimator "
            "to use it in a pipeline that is fitted again."
        )

    def _check_consistent(self):
        """Raise ValueError when the fitted attributes do not describe one network."""
        T, d = self.n_projections_, self.n_bits_
        if not (1 <= T and 1 <= d and T * d <= MAX_TOTAL_BITS):
            raise ValueError(f"invalid n_projections={T}, n_bits={d}.")
        if not (0 < self.density_ <= 1):
            raise ValueError(f"invalid density {self.density_!r}.")
        if not 0 <= self.seed_ < 2**64:
            raise ValueError("seed must be a 64-bit unsigned integer.")
        if len(self.coefs_) != len(self.intercepts_) or not self.coefs_:
            raise ValueError("coefs_ and intercepts_ must be non-empty lists of equal length.")
        fan_in = T * d
        for W, b in zip(self.coefs_, self.intercepts_):
            if W.ndim != 2 or W.shape[0] != fan_in or b.shape != (W.shape[1],):
                raise ValueError(f"layer shapes {W.shape}, {b.shape} do not chain from {fan_in} inputs.")
            fan_in = W.shape[1]
        if fan_in != len(self.classes_) or len(self.classes_) < 2:
            raise ValueError(f"the network has {fan_in} outputs for {len(self.classes_)} classes.")

    # --------------------------------------------------------------- inference
    @property
    def n_bits_total_(self):
        """T * d, the number of LSH bits."""
        return self.n_projections_ * self.n_bits_

    @property
    def size_bytes(self):
        """Inference footprint in bytes.

        The weight matrices at ``dtype_``, the float32 biases (and int8 scales), plus
        the scalars the projections are regenerated from: the 8-byte seed, the 8-byte
        density, T, d, the number of features and one width per layer (4 bytes each).
        The class labels are not counted (the C runtime returns class indices).
        """
        check_is_fitted(self)
        arrays = self.coefs_ + self.intercepts_ + (self.scales_ or [])
        return int(sum(a.nbytes for a in arrays) + 8 + 8 + 4 * (3 + len(self.coefs_) + 1))

    def _validate(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )

    def _float_weights(self, layer):
        W = self.coefs_[layer]
        return W.astype(np.float32) if W.dtype != np.float32 else W

    def _logits_validated(self, X):
        n = X.shape[0]
        out = []
        for start in range(0, n, _BATCH_ROWS):
            out.append(self._logits_batch(X[start : start + _BATCH_ROWS]))
        if not out:
            return np.empty((0, len(self.classes_)), dtype=np.float32)
        return out[0] if len(out) == 1 else np.concatenate(out)

    def _logits_batch(self, X):
        words = lsh_bits(X, self.seed_, self.n_bits_total_, self.density_, packed=True)
        b0 = self.intercepts_[0]
        if self.dtype_ == "int8":
            acc = gather_first_layer(
                words, self.coefs_[0], np.zeros((X.shape[0], b0.shape[0]), dtype=np.int32)
            )
            z = acc.astype(np.float32)
            z *= self.scales_[0]
            z += b0
        else:
            z = np.empty((X.shape[0], b0.shape[0]), dtype=np.float32)
            z[:] = b0
            z = gather_first_layer(words, self._float_weights(0), z)
        for layer in range(1, len(self.coefs_)):
            np.maximum(z, 0, out=z)
            if self.dtype_ == "float32":
                z = z @ self.coefs_[layer]
            else:
                z = z @ self._float_weights(layer)
                if self.scales_ is not None:
                    z *= self.scales_[layer]
            z += self.intercepts_[layer]
        return z

    def decision_function(self, X):
        """Output logits of the projection network (float32).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes)
        """
        return self._logits_validated(self._validate(X))

    def predict_proba(self, X):
        """Class probabilities: softmax of the logits, in float64.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self.decision_function(X).astype(np.float64))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = True
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    # ------------------------------------------------------------ persistence
    def to_bytes(self):
        """The model in the documented binary format (see :meth:`save`).

        Returns
        -------
        data : bytes
        """
        check_is_fitted(self)
        self._check_consistent()
        body = io.BytesIO()
        put = body.write
        widths = [self.n_bits_total_] + [W.shape[1] for W in self.coefs_]
        put(struct.pack("<BI", _DTYPE_CODE[self.dtype_], len(self.coefs_)))
        put(struct.pack("<QIIdQ", self.seed_, self.n_projections_, self.n_bits_,
                        self.density_, self.n_features_in_))
        put(struct.pack(f"<{len(widths)}I", *widths))
        _write_classes(put, self.classes_)
        names = getattr(self, "feature_names_in_", None)
        names = [] if names is None else [str(s) for s in names]
        put(struct.pack("<I", len(names)))
        for s in names:
            _write_str(put, s)
        for layer, (W, b) in enumerate(zip(self.coefs_, self.intercepts_)):
            put(np.ascontiguousarray(W, dtype=W.dtype.newbyteorder("<")).tobytes())
            put(np.ascontiguousarray(b, dtype="<f4").tobytes())
            if self.dtype_ == "int8":
                put(np.ascontiguousarray(self.scales_[layer], dtype="<f4").tobytes())
        body = body.getvalue()
        head = MAGIC + struct.pack("<IQ", FORMAT_VERSION, len(body)) + body
        return head + struct.pack("<I", zlib.crc32(head))

    @classmethod
    def from_bytes(cls, data):
        """Parse the binary format written by :meth:`to_bytes`; never unpickles.

        Parameters
        ----------
        data : bytes-like

        Returns
        -------
        compact : CompactProjectionClassifier

        Raises
        ------
        ValueError
            If ``data`` is not a complete, intact file of a supported version, or
            describes an inconsistent or oversized model. Sizes are checked against the
            bytes present before any array is allocated.
        """
        return _parse(cls, bytes(data))

    def save(self, path):
        """Write the model to ``path`` in the binary format documented in docs/deployment.md.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        n_bytes : int
            Size of the file written.
        """
        data = self.to_bytes()
        with open(path, "wb") as f:
            f.write(data)
        return len(data)

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`. No pickle, no code execution.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        compact : CompactProjectionClassifier

        Raises
        ------
        ValueError
            If the file is truncated, corrupted (checksum), of another format or version,
            or inconsistent.
        """
        with open(path, "rb") as f:
            data = f.read()
        return cls.from_bytes(data)

    def __getstate__(self):
        # Pickle (and copy/deepcopy) carry the compact binary format, so a pickle is the
        # size of the file plus a few dozen bytes of class reference.
        if not self.__sklearn_is_fitted__():
            return dict(self.__dict__)
        return {"_compact_format": self.to_bytes()}

    def __setstate__(self, state):
        if "_compact_format" in state:
            other = _parse(type(self), state["_compact_format"])
            self.__dict__.update(other.__dict__)
        else:
            self.__dict__.update(state)

    # ------------------------------------------------------------------ C
    def export_c(self, path, prefix="pn"):
        """Write a self-contained C99 runtime of this model: ``<path>.c`` and ``<path>.h``.

        The code needs only the C standard library (``-lm`` for ``exp``). It regenerates
        the random projections with the same splitmix64 hash as the Python kernels and
        reproduces :meth:`predict` and :meth:`predict_proba` on dense ``double`` input
        and on sparse (index, value) input. See docs/deployment.md.

        Parameters
        ----------
        path : str or path-like
            Output path; a trailing ``.c`` or ``.h`` is ignored.
        prefix : str, default="pn"
            Prefix of the C identifiers (a C identifier).

        Returns
        -------
        c_path, h_path : pathlib.Path
        """
        from ._export_c import export_c

        check_is_fitted(self)
        return export_c(self, path, prefix=prefix)


def compact_pipeline(pipeline, dtype="float32"):
    """A copy of a fitted Pipeline whose last step, a ProjectionNetClassifier, is made compact.

    The other steps are deep-copied (so refitting the original pipeline later does not
    change the compact one); the last step becomes a :class:`CompactProjectionClassifier`.

    Parameters
    ----------
    pipeline : Pipeline
        Fitted; its final step is a fitted ProjectionNetClassifier.
    dtype : {"float32", "float16", "int8"}, default="float32"

    Returns
    -------
    compact : Pipeline

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_projection import ProjectionNetClassifier
    >>> from sklearn_projection._compact import compact_pipeline
    >>> texts = ["good movie", "great film", "bad movie", "awful film"] * 5
    >>> labels = ["pos", "pos", "neg", "neg"] * 5
    >>> pipe = make_pipeline(CountVectorizer(), ProjectionNetClassifier(
    ...     n_projections=8, n_bits=8, max_iter=50, random_state=0)).fit(texts, labels)
    >>> small = compact_pipeline(pipe, "int8")
    >>> type(small[-1]).__name__, small.predict(["great movie", "awful movie"]).tolist()
    ('CompactProjectionClassifier', ['pos', 'neg'])
    """
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"expected a fitted sklearn Pipeline, got {type(pipeline).__name__}.")
    *head, (name, last) = pipeline.steps
    if not hasattr(last, "to_compact"):
        raise TypeError(
            f"the last step {name!r} is a {type(last).__name__}, not a ProjectionNetClassifier."
        )
    compact = last.to_compact(dtype)
    steps = [(n, copy.deepcopy(step)) for n, step in head] + [(name, compact)]
    return Pipeline(steps, memory=pipeline.memory, verbose=pipeline.verbose)


# ------------------------------------------------------------------ format helpers
def _write_str(put, s):
    raw = s.encode("utf-8")
    put(struct.pack("<I", len(raw)))
    put(raw)


def _write_classes(put, classes):
    classes = np.asarray(classes)
    n = len(classes)
    if classes.dtype.kind in "biuf":
        dt = classes.dtype.newbyteorder("<") if classes.dtype.itemsize > 1 else classes.dtype
        code = dt.str.encode("ascii")
        put(struct.pack("<BIB", 0, n, len(code)) + code)
        put(np.ascontiguousarray(classes, dtype=dt).tobytes())
    elif classes.dtype.kind == "U":
        put(struct.pack("<BII", 1, n, classes.dtype.itemsize // 4))
        for s in classes:
            _write_str(put, str(s))
    elif classes.dtype.kind == "O" and all(isinstance(s, str) for s in classes):
        put(struct.pack("<BI", 2, n))
        for s in classes:
            _write_str(put, s)
    else:
        raise ValueError(
            f"class labels of dtype {classes.dtype} cannot be saved: the format stores "
            "numbers (bool, int, float) and strings."
        )


class _Reader:
    """Bounds-checked reads from an in-memory buffer; every overrun is a ValueError."""

    def __init__(self, data, start, end):
        self.data, self.pos, self.end = data, start, end

    @property
    def remaining(self):
        return self.end - self.pos

    def take(self, n, what):
        if n < 0 or n > self.remaining:
            raise ValueError(
                f"corrupt compact model: {what} needs {n} bytes but only {self.remaining} remain."
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt, what):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def string(self, what):
        (n,) = self.unpack("<I", what)
        if n > _MAX_STRING:
            raise ValueError(f"corrupt compact model: {what} claims a {n}-byte string.")
        try:
            return self.take(n, what).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"corrupt compact model: {what} is not UTF-8.") from exc

    def array(self, dtype, count, what):
        dtype = np.dtype(dtype)
        raw = self.take(count * dtype.itemsize, what)
        return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=True)


def _parse(cls, data):
    head_len = len(MAGIC) + 12
    if data[: len(MAGIC)] != MAGIC[: len(data)] or not data:
        raise ValueError(
            f"not a compact ProjectionNet model: the file starts with {data[:8]!r}, "
            f"expected the magic bytes {MAGIC!r}."
        )
    if len(data) < head_len + 4:
        raise ValueError(
            f"not a compact ProjectionNet model: {len(data)} bytes is shorter than the "
            f"{head_len + 4}-byte minimum (truncated file?)."
        )
    version, body_len = struct.unpack_from("<IQ", data, len(MAGIC))
    if version == 1:
        raise ValueError(
            "this compact model was saved by sklearn-projection 0.1 (format version 1), whose "
            "random projections were regenerated with an earlier hash; this library "
            f"(format version {FORMAT_VERSION}) cannot reproduce its bits. Refit the "
            "ProjectionNetClassifier with this version and save it again."
        )
    if version != FORMAT_VERSION:
        raise ValueError(
            f"unsupported compact model format version {version}; this library reads "
            f"version {FORMAT_VERSION}."
        )
    if head_len + body_len + 4 != len(data):
        raise ValueError(
            f"corrupt compact model: the header announces {body_len} body bytes, so "
            f"{head_len + body_len + 4} bytes in all, but there are {len(data)} (truncated?)."
        )
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if zlib.crc32(data[:-4]) != crc:
        raise ValueError("corrupt compact model: CRC32 checksum mismatch.")

    r = _Reader(data, head_len, len(data) - 4)
    code, n_layers = r.unpack("<BI", "dtype and layer count")
    if code >= len(DTYPES):
        raise ValueError(f"corrupt compact model: unknown weight dtype code {code}.")
    if not 1 <= n_layers <= _MAX_LAYERS:
        raise ValueError(f"corrupt compact model: {n_layers} layers (1..{_MAX_LAYERS} allowed).")
    seed, T, d, density, n_features = r.unpack("<QIIdQ", "projection parameters")
    if T < 1 or d < 1 or T * d > MAX_TOTAL_BITS:
        raise ValueError(f"corrupt compact model: n_projections={T}, n_bits={d}.")
    if not (np.isfinite(density) and 0 < density <= 1):
        raise ValueError(f"corrupt compact model: density {density!r} not in (0, 1].")
    if not 1 <= n_features < 2**62:
        raise ValueError(f"corrupt compact model: {n_features} input features.")
    widths = list(r.unpack(f"<{n_layers + 1}I", "layer widths"))
    if widths[0] != T * d or min(widths) < 1:
        raise ValueError(f"corrupt compact model: layer widths {widths} for T*d = {T * d} bits.")
    dtype = DTYPES[code]
    if dtype == "int8" and T * d > _INT8_MAX_BITS:
        raise ValueError(f"corrupt compact model: int8 model with {T * d} bits.")
    # every size is known now: check the weights fit in the bytes present before reading
    itemsize = {"float32": 4, "float16": 2, "int8": 1}[dtype]
    per_out = 8 if dtype == "int8" else 4
    weight_bytes = sum(a * b * itemsize + b * per_out for a, b in zip(widths, widths[1:]))
    if weight_bytes > r.remaining:
        raise ValueError(
            f"corrupt compact model: layer widths {widths} need {weight_bytes} bytes of "
            f"weights but the file holds only {r.remaining} more bytes."
        )
    classes = _read_classes(r, widths[-1])
    (n_names,) = r.unpack("<I", "feature name count")
    if n_names not in (0, n_features) or 4 * n_names > r.remaining:
        raise ValueError(f"corrupt compact model: {n_names} feature names for {n_features} features.")
    names = [r.string("feature name") for _ in range(n_names)]
    if r.remaining != weight_bytes:
        raise ValueError(
            f"corrupt compact model: {r.remaining} bytes left for weights, expected {weight_bytes}."
        )
    coefs, intercepts, scales = [], [], []
    wdt = {"float32": "<f4", "float16": "<f2", "int8": "i1"}[dtype]
    for a, b in zip(widths, widths[1:]):
        coefs.append(r.array(wdt, a * b, "weights").reshape(a, b))
        intercepts.append(r.array("<f4", b, "biases"))
        if dtype == "int8":
            scales.append(r.array("<f4", b, "scales"))

    self = cls()
    self.dtype_ = dtype
    self.seed_ = int(seed)
    self.n_projections_, self.n_bits_ = int(T), int(d)
    self.density_ = float(density)
    self.n_features_in_ = int(n_features)
    if n_names:
        self.feature_names_in_ = np.array(names, dtype=object)
    self.classes_ = classes
    self.coefs_, self.intercepts_ = coefs, intercepts
    self.scales_ = scales if dtype == "int8" else None
    self._check_consistent()
    return self


def _read_classes(r, n_expected):
    kind, n = r.unpack("<BI", "class labels")
    if n != n_expected:
        raise ValueError(f"corrupt compact model: {n} class labels for {n_expected} outputs.")
    if kind == 0:
        (k,) = r.unpack("<B", "class dtype")
        code = r.take(k, "class dtype").decode("ascii", errors="replace")
        if not _NUMERIC_DTYPE.match(code):
            raise ValueError(f"corrupt compact model: class dtype {code!r} is not numeric.")
        classes = r.array(code, n, "class labels")
    elif kind in (1, 2):
        width = r.unpack("<I", "class label width")[0] if kind == 1 else 0
        if 4 * n > r.remaining or width > _MAX_STRING:
            raise ValueError("corrupt compact model: class labels overrun the file.")
        labels = [r.string("class label") for _ in range(n)]
        if kind == 1:
            if any(len(s) > width for s in labels):
                raise ValueError("corrupt compact model: class label longer than its width.")
            classes = np.array(labels, dtype=f"<U{max(width, 1)}")
        else:
            classes = np.array(labels, dtype=object)
    else:
        raise ValueError(f"corrupt compact model: unknown class label kind {kind}.")
    return classes
