"""API deprecated in 0.3, kept working with a FutureWarning until 0.4.

- ``predict(X, network="trainer")`` (and ``predict_proba``, ``predict_log_proba``):
  use ``clf.trainer_.predict(X)``;
- ``trainer_coefs_``, ``trainer_intercepts_``: use ``clf.trainer_.coefs_`` and
  ``clf.trainer_.intercepts_``;
- ``projection_size_bytes_``: use ``clf.size_bytes`` (which also counts the scalars the
  projections are regenerated from).
"""

import warnings

import numpy as np

from ._trainer import BuiltinTrainer, teacher_proba


def _deprecated_attribute(old, new):
    warnings.warn(
        f"{old} is deprecated since 0.3 and will be removed in 0.4; use {new}.",
        FutureWarning,
        stacklevel=3,
    )


class ExternalTrainerView:
    """The deprecated ``network="trainer"`` answers of a classifier with an external teacher:
    the input checked against the classifier, the teacher's columns in ``classes_`` order."""

    def __init__(self, clf):
        self.clf = clf

    def predict_proba(self, X):
        self.clf._validate(X)
        return teacher_proba(self.clf.trainer_, X, self.clf.classes_)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        return self.clf.classes_[np.argmax(self.predict_proba(X), axis=1)]


class DeprecatedAttributesMixin:
    """The deprecated fitted attributes of ProjectionNetClassifier."""

    @property
    def projection_size_bytes_(self):
        """Deprecated since 0.3: use :attr:`size_bytes` (which also counts T, d, density,
        widths). This is the float32 weights and biases plus the 8-byte seed."""
        _deprecated_attribute("projection_size_bytes_", "size_bytes")
        if not hasattr(self, "coefs_"):
            raise AttributeError("projection_size_bytes_")
        return int(sum(a.nbytes for a in self.coefs_ + self.intercepts_) + 8)

    @property
    def trainer_coefs_(self):
        """Deprecated since 0.3: use ``trainer_.coefs_``. None for an external trainer."""
        _deprecated_attribute("trainer_coefs_", "trainer_.coefs_")
        return self._builtin_attribute("coefs_")

    @property
    def trainer_intercepts_(self):
        """Deprecated since 0.3: use ``trainer_.intercepts_``. None for an external trainer."""
        _deprecated_attribute("trainer_intercepts_", "trainer_.intercepts_")
        return self._builtin_attribute("intercepts_")

    def _builtin_attribute(self, name):
        if not hasattr(self, "trainer_"):
            raise AttributeError(f"trainer_{name}")
        return getattr(self.trainer_, name) if isinstance(self.trainer_, BuiltinTrainer) else None
