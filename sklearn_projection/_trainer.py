"""The trainer side of ProjectionNet: the built-in trainer network, or an external teacher.

After ``fit``, :attr:`ProjectionNetClassifier.trainer_` is always a fitted classifier with
``predict_proba``: a :class:`BuiltinTrainer` (the feed-forward network trained jointly
with the projection network) or the external teacher itself. Users compare the two
networks with ``clf.trainer_.predict(X)`` against ``clf.predict(X)``.

The built-in trainer's first layer is a dense ``n_features x width`` matrix, except over
sparse input wider than :data:`._embedding.TABLE_ROWS` columns (hashed text), where it
is a bounded table of hashed rows trained by row-sparse Adam (:mod:`._embedding`); the
choice is made on the first fit and recorded in ``table_rows_``.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from . import _network as nn
from ._embedding import RowBatch
from ._inference import LogitsClassifierMixin


class BuiltinTrainer(LogitsClassifierMixin, ClassifierMixin, BaseEstimator):
    """The built-in trainer network of a fitted ProjectionNetClassifier.

    A ReLU feed-forward network over the raw features with a softmax output, trained
    jointly with the projection network by
    :class:`~sklearn_projection.ProjectionNetClassifier` (it cannot be fitted alone).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Its hidden layers.

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        Weights and biases, layer by layer (in the dtype of the training data).
        ``coefs_[0]`` has ``n_features_in_`` rows, or ``table_rows_`` when the first layer
        is a hashed table.
    table_rows_ : int or None
        None: the first layer is dense (``n_features_in_ x width``). An int: the first
        layer is a table of that many rows, feature ``j`` reading row
        ``_embedding.feature_rows(j, table_rows_)`` (chosen by the first fit for sparse
        input with more than ``_embedding.TABLE_ROWS`` columns; see :mod:`._embedding`).
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        When the classifier was fitted on named features.
    """

    def __init__(self, hidden_layer_sizes=(256, 256)):
        self.hidden_layer_sizes = hidden_layer_sizes

    def fit(self, X, y=None):
        """Not supported: the built-in trainer is trained by ProjectionNetClassifier.fit."""
        raise TypeError(
            "BuiltinTrainer is trained jointly with the projection network: fit the "
            "ProjectionNetClassifier that holds it."
        )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    @property
    def size_bytes(self):
        """Bytes of its weights and biases."""
        check_is_fitted(self)
        return int(sum(a.nbytes for a in self.coefs_ + self.intercepts_))

    def _logits(self, X):
        """Output logits of validated ``X``; raises where the dense network overflows."""
        rows = getattr(self, "table_rows_", None)  # absent from pickles older than the table
        if rows is not None:
            X = RowBatch.from_sparse(X, rows)
        z = nn.forward(X, self.coefs_, self.intercepts_)[-1]
        if not np.isfinite(z).all():
            raise ValueError(
                "The trainer network's output overflowed to a non-finite value on this "
                "input (values too large for float arithmetic); scale the features. The "
                "projection network, which only uses signs, is not affected."
            )
        return z

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def fitted_teacher(trainer, X, y, sample_weight, incremental, classes):
    """The external teacher to distil from: ``trainer`` if fitted, else a fitted clone."""
    try:
        check_is_fitted(trainer)
        teacher = trainer
    except NotFittedError:
        if incremental:
            raise ValueError(
                "partial_fit needs a fitted trainer: fit the teacher first (and wrap "
                "it in sklearn.frozen.FrozenEstimator), or use fit()."
            ) from None
        teacher = clone(trainer)
        if sample_weight is not None:
            teacher.fit(X, y, sample_weight=sample_weight)
        else:
            teacher.fit(X, y)
    missing = np.setdiff1d(classes, teacher.classes_)
    if len(missing):
        raise ValueError(
            f"The trainer was fitted without the classes {missing!r}; its classes_ "
            f"must cover the classes of y, {classes!r}."
        )
    return teacher


def teacher_proba(teacher, X, classes):
    """An external teacher's probabilities, columns in the order of ``classes``."""
    proba = np.asarray(teacher.predict_proba(X), dtype=np.float64)
    if not np.isfinite(proba).all():
        raise ValueError(
            f"The trainer {type(teacher).__name__}.predict_proba returned NaN or "
            "infinite probabilities; the projection network cannot distil from them."
        )
    return proba[:, np.searchsorted(teacher.classes_, classes)]


def _skip_init_layers(rng, layer_units, chunk=1 << 20):
    """Advance ``rng`` past what ``nn.init_layers(rng, layer_units, ...)`` would draw,
    holding at most ``chunk`` numbers at a time.

    The unused built-in trainer is not initialised, but its initial weights are still
    drawn and discarded, so that the minibatch order (drawn next) and hence the fitted
    model stay those of sklearn-projection 0.2, where it was initialised. The Mersenne
    Twister itself is the cost (about 0.23 s per 2**18 x 256 weights; full-range uint32
    draws, cache-sized chunks or ``random_raw`` were no faster), so what bounds it is the
    size: a trainer over sparse input wider than ``_embedding.TABLE_ROWS`` columns has a
    table of ``TABLE_ROWS`` rows, not ``n_features``, and that is what is skipped.
    """
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        for n in (fan_in * fan_out, fan_out):  # one uniform double each, as init_layers
            while n > 0:
                rng.random_sample(min(n, chunk))
                n -= chunk


class UnusedBuiltinTrainer(BuiltinTrainer):
    """``trainer_`` of a classifier fitted with ``trainer_weight=0, distill_weight=0``:
    the built-in trainer is then never used, so it is neither sized, nor initialised, nor
    trained (its weights would be random). A later ``warm_start`` fit or ``partial_fit``
    that uses it initialises it then."""

    def _validate(self, X):
        raise NotFittedError(
            "The built-in trainer was never trained: the classifier was fitted with "
            "trainer_weight=0 and distill_weight=0 (the projection network alone), so the "
            "trainer was neither initialised nor trained. Fit with trainer_weight > 0 to "
            "train it."
        )
