"""CompactProjectionClassifier: only what a ProjectionNet needs at inference, and nothing else.

A fitted :class:`~sklearn_projection.ProjectionNetClassifier` holds a trainer network,
optimiser state and training history; the model that ships is only the projection
network: the 64-bit seed the random projections are regenerated from, ``T``, ``d``, the
density, and the layers over the ``T * d`` bits. :class:`CompactProjectionClassifier`
holds exactly that, at float32, float16 or int8 (symmetric, one scale per output column),
and saves it to a small checksummed binary file that is parsed without pickle.

The file format is documented in :mod:`._format` and docs/deployment.md; inference runs
through :mod:`._inference`, the path the full classifier uses too.

A compact model may also carry the :class:`~sklearn_projection.NgramHasher` that turned
texts into its input (``hasher_``; :func:`compact_pipeline` of a pipeline ``NgramHasher ->
ProjectionNetClassifier``): it then predicts from raw texts, its file stores the hasher's
settings, and its C export has a ``predict_text`` function (:mod:`._export_text_c`). It
reads its bits through the hasher exactly as the pipeline did, norm included, so at float32
its predictions are identical to the pipeline's.
"""

import copy

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from . import _format, _inference
from ._format import DTYPES, INT8_MAX_BITS
from ._inference import LogitsClassifierMixin
from ._projection import MAX_TOTAL_BITS, READINGS
from ._text import NgramHasher


#: bytes of a text model's hasher settings at inference: the nine int fields of the C ngh_params
TEXT_SETTINGS_BYTES = 36


def _quantize_int8(W):
    """Symmetric per-output-column int8: ``W[:, j] ~= scale[j] * q[:, j]``, |q| <= 127."""
    W = np.asarray(W, dtype=np.float64)
    amax = np.max(np.abs(W), axis=0) if W.shape[0] else np.zeros(W.shape[1])
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(W / scale.astype(np.float64)), -127, 127).astype(np.int8)
    return q, scale


class CompactProjectionClassifier(LogitsClassifierMixin, ClassifierMixin, BaseEstimator):
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
    reading_ : {"binary", "ternary", "quinary"}
        How the sums of the random projections are read: "binary" inputs {0, 1}
        (sum > 0), "ternary" inputs {-1, 0, +1} (the sign of the sum), "quinary" inputs
        {-2, -1, 0, +1, +2} (the sign, doubled where ``|sum| > threshold_``).
    threshold_ : float
        The quinary reading's threshold ``tau`` (``LSHProjection.threshold_``, a float64
        >= 0, stored in the file); 0.0 for the other readings, which do not use it.
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
    hasher_ : NgramHasher or None
        For a text model, the hasher that turns raw texts into the ``n_features_in_``
        columns the projection reads; ``predict`` and co. then take an iterable of texts
        (str or UTF-8 bytes), the file stores the hasher's settings and :meth:`export_c`
        writes a ``predict_text`` function. None for numeric input.

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
    def from_classifier(cls, classifier, dtype="float32", *, hasher=None):
        """The compact model of a fitted ProjectionNetClassifier.

        Parameters
        ----------
        classifier : ProjectionNetClassifier
            Fitted.
        dtype : {"float32", "float16", "int8"}, default="float32"
            Storage type of the weight matrices. "float32" is the classifier's own
            weights (identical predictions); "float16" rounds them; "int8" quantises each
            output column symmetrically with its own float32 scale. Biases stay float32.
        hasher : NgramHasher or None, default=None
            The hasher whose output the classifier was fitted on (``n_features`` equal to
            the classifier's ``n_features_in_``): the compact model then predicts from raw
            texts and keeps a copy of the hasher in ``hasher_``. See
            :func:`compact_pipeline`.

        Returns
        -------
        compact : CompactProjectionClassifier
        """
        check_is_fitted(classifier, ["projection_", "coefs_"])
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}.")
        proj = classifier.projection_
        T, d = int(proj.n_projections), int(proj.n_bits)
        reading = getattr(proj, "reading", "binary")
        max_bits = _format.int8_max_bits(reading)
        if dtype == "int8" and T * d > max_bits:
            raise ValueError(
                f"int8 supports at most {max_bits} bits with the {reading} reading (the first "
                f"layer is summed in int32); this model has {T * d}."
            )
        coefs = [np.asarray(W, dtype=np.float32) for W in classifier.coefs_]
        scales = None
        if dtype == "float32":
            coefs = [W.copy() for W in coefs]
        elif dtype == "float16":
            coefs = [W.astype(np.float16) for W in coefs]
            if not all(np.isfinite(W).all() for W in coefs):
                raise ValueError("Some weights exceed the float16 range (65504); use float32.")
        else:
            coefs, scales = map(list, zip(*[_quantize_int8(W) for W in coefs]))
        names = getattr(classifier, "feature_names_in_", None)
        if hasher is not None:
            if not isinstance(hasher, NgramHasher):
                raise TypeError(f"hasher must be an NgramHasher or None, got {type(hasher).__name__}.")
            if hasher.n_features != classifier.n_features_in_:
                raise ValueError(
                    f"the hasher has n_features={hasher.n_features} but the classifier was fitted "
                    f"on {classifier.n_features_in_} features: pass the hasher it was fitted behind."
                )
            hasher, names = clone(hasher), None
        return cls._from_parts(
            dtype=dtype, seed=int(proj.seed_), n_projections=T, n_bits=d,
            density=float(proj.density_), reading=reading,
            threshold=float(getattr(proj, "threshold_", 0.0)) if reading == "quinary" else 0.0,
            n_features=int(classifier.n_features_in_),
            classes=np.array(classifier.classes_, copy=True), coefs=coefs,
            intercepts=[np.array(b, dtype=np.float32, copy=True) for b in classifier.intercepts_],
            scales=scales, feature_names=None if names is None else np.asarray(names, dtype=object).copy(),
            hasher=hasher,
        )

    @classmethod
    def _from_parts(cls, *, dtype, seed, n_projections, n_bits, density, n_features, classes,
                    coefs, intercepts, scales, feature_names, reading="binary", hasher=None,
                    threshold=0.0):
        """The one constructor of a fitted model (from a classifier or from a file);
        raises ValueError unless the parts describe one consistent network."""
        self = cls()
        self.dtype_ = dtype
        self.seed_ = seed
        self.n_projections_, self.n_bits_ = n_projections, n_bits
        self.density_ = density
        self.reading_ = reading
        self.threshold_ = threshold
        self.n_features_in_ = n_features
        if feature_names is not None:
            self.feature_names_in_ = feature_names
        self.classes_ = classes
        self.coefs_, self.intercepts_, self.scales_ = coefs, intercepts, scales
        self.hasher_ = hasher
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
        """Raise ValueError unless the fitted attributes describe one network that makes sense.

        Run by every constructor (:meth:`from_classifier`, :meth:`from_bytes`, :meth:`load`,
        unpickling) and before every writer (:meth:`to_bytes`, :meth:`save`, pickling,
        :meth:`export_c`): sizes and shapes chain; arrays have the stored dtypes; class
        labels are unique and sorted (strictly increasing, as ``np.unique`` returns them);
        weights, biases and int8 scales are finite, scales positive, int8 weights in
        [-127, 127], and no input can push the float32 forward pass out of range (see
        :mod:`._format` for the exact rules).
        """
        T, d = self.n_projections_, self.n_bits_
        if not (1 <= T and 1 <= d and T * d <= MAX_TOTAL_BITS):
            raise ValueError(f"invalid n_projections={T}, n_bits={d}.")
        if not (0 < self.density_ <= 1):
            raise ValueError(f"invalid density {self.density_!r}.")
        if self.reading_ not in READINGS:
            raise ValueError(f"reading_ must be one of {READINGS}, got {self.reading_!r}.")
        tau = getattr(self, "threshold_", 0.0)
        if not (isinstance(tau, float) and np.isfinite(tau) and tau >= 0.0):
            raise ValueError(f"threshold_ must be a finite float >= 0 (the quinary tau), got {tau!r}.")
        if self.reading_ != "quinary" and tau != 0.0:
            raise ValueError(f"threshold_ is only used by the quinary reading; the {self.reading_} reading has 0.0, "
                             f"got {tau!r}.")
        if self.dtype_ == "int8" and T * d > _format.int8_max_bits(self.reading_):
            raise ValueError(
                f"int8 supports at most {_format.int8_max_bits(self.reading_)} bits with the "
                f"{self.reading_} reading (the first layer is summed in int32); this model has {T * d}."
            )
        if not 0 <= self.seed_ < 2**64:
            raise ValueError("seed must be a 64-bit unsigned integer.")
        if not 1 <= self.n_features_in_ < 2**62:
            raise ValueError(f"invalid number of input features {self.n_features_in_}.")
        hasher = getattr(self, "hasher_", None)
        if hasher is not None:
            _format.text_settings(hasher)  # an NgramHasher with valid parameters
            if hasher.n_features != self.n_features_in_ or hasattr(self, "feature_names_in_"):
                raise ValueError(
                    f"a text model's hasher has n_features={hasher.n_features}, so the model "
                    f"reads {hasher.n_features} unnamed features, not {self.n_features_in_}"
                    + (" named ones." if hasattr(self, "feature_names_in_") else ".")
                )
        if self.dtype_ not in DTYPES:
            raise ValueError(f"dtype_ must be one of {DTYPES}, got {self.dtype_!r}.")
        if len(self.coefs_) != len(self.intercepts_) or not self.coefs_:
            raise ValueError("coefs_ and intercepts_ must be non-empty lists of equal length.")
        int8 = self.dtype_ == "int8"
        if int8 != (self.scales_ is not None) or (int8 and len(self.scales_) != len(self.coefs_)):
            raise ValueError("scales_ must hold one array per layer for int8 weights, and be None otherwise.")
        fan_in = T * d
        for layer, (W, b) in enumerate(zip(self.coefs_, self.intercepts_)):
            if W.ndim != 2 or W.shape[0] != fan_in or b.shape != (W.shape[1],):
                raise ValueError(f"layer shapes {W.shape}, {b.shape} do not chain from {fan_in} inputs.")
            s = self.scales_[layer] if int8 else None
            if W.dtype != np.dtype(self.dtype_) or b.dtype != np.float32 or (
                    int8 and (s.dtype != np.float32 or s.shape != b.shape)):
                raise ValueError(
                    f"layer {layer} holds {W.dtype} weights and {b.dtype} biases"
                    + (f" and {s.dtype} scales of shape {s.shape}" if int8 else "")
                    + f"; a {self.dtype_} model stores {self.dtype_} weights and float32 biases"
                    + (" and one float32 scale per output column." if int8 else ".")
                )
            fan_in = W.shape[1]
        if fan_in != len(self.classes_):
            raise ValueError(f"the network has {fan_in} outputs for {len(self.classes_)} classes.")
        _format.check_classes(self.classes_)
        _format.check_parameters(self.dtype_, self.coefs_, self.intercepts_, self.scales_, self.reading_)

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
        density, T, d, the number of features and one width per layer (4 bytes each),
        and the quinary reading's 8-byte threshold. The class labels are not counted (the C runtime returns class indices). A text
        model adds its hasher's settings, :data:`TEXT_SETTINGS_BYTES` (the C ``ngh_params``:
        nine int fields); the hasher itself stores nothing learned.
        """
        check_is_fitted(self)
        text = TEXT_SETTINGS_BYTES if getattr(self, "hasher_", None) is not None else 0
        return _inference.footprint_bytes(self.coefs_, self.intercepts_, self.scales_, self.reading_) + text

    def _validate(self, X):
        if getattr(self, "hasher_", None) is None:
            return super()._validate(X)
        check_is_fitted(self)
        features = self.hasher_.transform(X)
        if features.shape[0] == 0:  # as the pipeline it came from: its classifier refuses no rows
            raise ValueError(
                f"Found array with 0 sample(s) (shape={features.shape}) while a minimum of 1 is "
                f"required by {type(self).__name__}: pass at least one text."
            )
        return features

    def _logits(self, X):
        return _inference.logits(
            X, self.seed_, self.n_bits_total_, self.density_, self.coefs_, self.intercepts_,
            self.scales_, self.reading_, getattr(self, "threshold_", 0.0),
        )

    @property
    def _logits_refuses_not_finite(self):
        # The bit kernel refuses NaN and infinities in its own pass over a dense X, so a
        # plain float array skips the separate finite check (LogitsClassifierMixin). Not
        # for a text model: its input is texts, which go through the hasher (_validate).
        return getattr(self, "hasher_", None) is None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = True
        if getattr(self, "hasher_", None) is not None:  # a text model, as a text pipeline
            tags.input_tags.sparse = False
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
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
        return _format.write(self)

    @classmethod
    def from_bytes(cls, data):
        """Parse the binary format written by :meth:`to_bytes`; never unpickles.

        Parameters
        ----------
        data : bytes-like
            ``bytes``, ``bytearray``, ``memoryview`` or any object with the buffer protocol.

        Returns
        -------
        compact : CompactProjectionClassifier

        Raises
        ------
        TypeError
            If ``data`` is not bytes-like (an int, a str, None...), before anything is
            allocated.
        ValueError
            If ``data`` is not a complete, intact file of a supported version, or
            describes an inconsistent, oversized or meaningless model: every size is
            checked against the bytes present before any array is allocated (what is
            allocated stays within a small multiple of ``len(data)``); class labels must
            be unique and sorted; weights, biases and int8 scales finite (scales
            positive) and small enough that no input overflows float32. The rules are
            listed in docs/deployment.md.
        """
        return cls._from_parts(**_format.read(data))

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
        data = self.to_bytes()  # checks the model first: nothing is written if it is refused
        with open(path, "wb") as f:
            f.write(data)
        return len(data)

    @classmethod
    def load(cls, path, *, max_bytes=_format.MAX_FILE_BYTES):
        """Read a model written by :meth:`save`. No pickle, no code execution.

        Parameters
        ----------
        path : str or path-like
            A regular file.
        max_bytes : int, default=2**32
            Largest file accepted (4 GiB by default): a larger file is refused from its
            size, and at most ``max_bytes + 1`` bytes are ever read.

        Returns
        -------
        compact : CompactProjectionClassifier

        Raises
        ------
        ValueError
            If ``path`` is not a regular file (a directory, a device such as /dev/zero, a
            FIFO: refused without reading), is larger than ``max_bytes``, or is truncated,
            corrupted (checksum), of another format or version, or inconsistent (see
            :meth:`from_bytes`).
        """
        return cls.from_bytes(_format.read_file(path, max_bytes))

    def __getstate__(self):
        # Pickle (and copy/deepcopy) carry the compact binary format, so a pickle is the
        # size of the file plus a few dozen bytes of class reference.
        if not self.__sklearn_is_fitted__():
            return dict(self.__dict__)
        return {"_compact_format": self.to_bytes()}

    def __setstate__(self, state):
        if "_compact_format" in state:
            other = type(self)._from_parts(**_format.read(state["_compact_format"]))
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

        A text model (``hasher_`` set) also gets
        ``int <prefix>_predict_text(const char *utf8, size_t len, double *proba)``, which
        tokenises, hashes, projects and classifies one UTF-8 text with no heap allocation
        (:mod:`._export_text_c`): with ``weighting="count"`` and ``norm=None`` every n-gram
        occurrence is streamed into the sums, for texts of any length; otherwise ("binary"
        and "sublinear" need each n-gram's count, "l2" the whole row) the text's n-grams
        are sorted in a buffer of
        ``<PREFIX>_MAX_NGRAMS`` occurrences (compile-time, default 4096) and a longer text
        returns ``<PREFIX>_ERROR_TOO_LONG``. Text that is not well-formed UTF-8 returns
        ``<PREFIX>_ERROR_UTF8``, where Python raises ValueError.

        Parameters
        ----------
        path : str or path-like
            Output path; a trailing ``.c`` or ``.h`` is ignored. The file name (without
            its directory) is written into the generated ``#include`` and comments, so it
            must consist of ASCII letters, digits, spaces and ``_ . , + = @ # % ~ ( ) [ ] { } -``;
            any other name (quotes, backslashes, newlines, ``*``, ``?``, non-ASCII) is
            refused with a ValueError before anything is written.
        prefix : str, default="pn"
            Prefix of the C identifiers: an ASCII C identifier (``[A-Za-z_][A-Za-z0-9_]*``),
            else ValueError.

        Returns
        -------
        c_path, h_path : pathlib.Path

        Raises
        ------
        ValueError
            For a bad file name or prefix, or a model that fails the checks of
            :meth:`from_bytes` (e.g. non-finite weights, unsorted labels).
        """
        from ._export_c import export_c

        check_is_fitted(self)
        self._check_consistent()
        return export_c(self, path, prefix=prefix)


def compact_pipeline(pipeline, dtype="float32"):
    """A copy of a fitted Pipeline whose last step, a ProjectionNetClassifier, is made compact.

    The other steps are deep-copied (so refitting the original pipeline later does not
    change the compact one); the last step becomes a :class:`CompactProjectionClassifier`.

    A pipeline of exactly two steps, an :class:`~sklearn_projection.NgramHasher` and the
    classifier, becomes one text model instead: a :class:`CompactProjectionClassifier`
    that predicts from raw texts, keeps the hasher in ``hasher_``, saves its settings in
    its file, and exports C with ``predict_text`` (see
    :meth:`CompactProjectionClassifier.export_c`). For a device, fit the pipeline with
    ``NgramHasher(weighting="count", norm=None)``: the C runtime then streams texts of any
    length with no buffer (the norm only rescales each row, so it cannot improve the bits of
    a projection).

    Parameters
    ----------
    pipeline : Pipeline
        Fitted; its final step is a fitted ProjectionNetClassifier.
    dtype : {"float32", "float16", "int8"}, default="float32"

    Returns
    -------
    compact : Pipeline or CompactProjectionClassifier
        A CompactProjectionClassifier for ``NgramHasher -> ProjectionNetClassifier``, a
        Pipeline otherwise.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_projection import ProjectionNetClassifier
    >>> from sklearn_projection._compact import compact_pipeline
    >>> texts = ["good movie", "great film", "bad movie", "awful film"] * 5
    >>> labels = ["pos", "pos", "neg", "neg"] * 5
    >>> pipe = make_pipeline(CountVectorizer(), ProjectionNetClassifier(
    ...     n_projections=16, n_bits=8, max_iter=50, random_state=0)).fit(texts, labels)
    >>> small = compact_pipeline(pipe, "int8")
    >>> type(small[-1]).__name__, small.predict(["great movie", "awful movie"]).tolist()
    ('CompactProjectionClassifier', ['pos', 'neg'])

    Vocabulary-free: a hasher in front gives one model that reads raw text.

    >>> from sklearn_projection import NgramHasher
    >>> text_pipe = make_pipeline(NgramHasher(n_features=2**16, weighting="count", norm=None),
    ...                           ProjectionNetClassifier(8, 8, density=0.05, trainer_weight=0,
    ...                                                   distill_weight=0, max_iter=50, random_state=0))
    >>> model = compact_pipeline(text_pipe.fit(texts, labels), "int8")
    >>> type(model).__name__, model.hasher_.weighting
    ('CompactProjectionClassifier', 'count')
    >>> bool((model.predict(texts) == text_pipe.predict(texts)).all())
    True
    """
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"expected a fitted sklearn Pipeline, got {type(pipeline).__name__}.")
    *head, (name, last) = pipeline.steps
    if not hasattr(last, "to_compact"):
        raise TypeError(
            f"the last step {name!r} is a {type(last).__name__}, not a ProjectionNetClassifier."
        )
    if len(head) == 1 and isinstance(head[0][1], NgramHasher):
        return CompactProjectionClassifier.from_classifier(last, dtype, hasher=head[0][1])
    compact = last.to_compact(dtype)
    steps = [(n, copy.deepcopy(step)) for n, step in head] + [(name, compact)]
    return Pipeline(steps, memory=pipeline.memory, verbose=pipeline.verbose)
