"""Minibatch training of the ProjectionNet objective: the fitting machinery of the classifier.

:class:`JointTrainingMixin` holds what ``fit`` and ``partial_fit`` of
:class:`~sklearn_projection.ProjectionNetClassifier` do, in the manner of scikit-learn's
``BaseMultilayerPerceptron``: validate, encode the labels, initialise both networks,
compute the training set's bits once, then run epochs of minibatch Adam over
:func:`._network.joint_objective` with MLPClassifier's stopping rules (loss tolerance, or
early stopping on a stratified validation split that keeps the best weights).

The built-in trainer's first layer is chosen on the first call from ``X``
(:func:`._embedding.table_rows_for`): dense ``n_features x width`` weights, or, for sparse
``X`` wider than ``_embedding.TABLE_ROWS`` columns (hashed text), a bounded table of hashed
rows whose minibatch cost is O(nnz x width) (``trainer_.table_rows_`` records which). An
unused trainer (``trainer_weight=0, distill_weight=0``) is not initialised, but the random
numbers its initialisation would draw are skipped, so both networks see the same minibatches
whether or not it is used; with a table, that is ``TABLE_ROWS x width`` numbers, not
``n_features x width`` (fits alone on sparse input wider than ``TABLE_ROWS`` columns
therefore differ from those of 0.3, which skipped ``n_features x width``: 2.7e8 numbers, ~1 s,
at 2**20 columns, and 5.5e11, hours, at 2**31).

A call either succeeds or changes nothing that matters: a ``fit`` that starts afresh and
fails (invalid data, non-finite weights, memory) leaves the estimator unfitted; a call
that continues the previous network (``warm_start=True`` or ``partial_fit``) and fails
leaves it exactly as it was. Continuing refuses parameters that changed the network's
structure since it was initialised (``n_projections``, ``n_bits``, ``density``,
``reading``, the hidden layer sizes, ``trainer``) instead of silently keeping the old network.
"""

import pickle
import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, column_or_1d, validate_data
from threadpoolctl import threadpool_limits

from . import _network as nn
from ._embedding import RowBatch, feature_rows, table_rows_for
from ._fit_state import FitStateMixin
from ._optim import Adam
from ._projection import LSHProjection, _physical_memory_bytes, check_total_bits
from ._trainer import (
    BuiltinTrainer,
    UnusedBuiltinTrainer,
    _skip_init_layers,
    fitted_teacher,
    teacher_proba,
)

# The projection network is trained in the dtype of X (float64 or float32, as
# MLPClassifier) and stored in float32 after every fit: its input is 0/1 bits, and
# float32 halves the bytes that ship.
PROJECTION_DTYPE = np.float32

# alpha="auto": AUTO_ALPHA for a training set of up to AUTO_ALPHA_ROWS rows (its total sample
# weight), AUTO_ALPHA * AUTO_ALPHA_ROWS / n beyond. The penalty is per minibatch (alpha / (2 *
# batch) * ||W||^2 per step, as MLPClassifier), so a fixed alpha is a prior that grows with
# the data; scaled by 1/n it stays the one of 4 096 rows, like LogisticRegression's fixed C
# (about 0.16 here). 0.3 was chosen on TREC-6 and SMS spam (4 100 training rows); on MNIST's
# 60 000 rows the scaled value (0.02) gained 0.65 point for a hidden-64 head (docs/method.md).
AUTO_ALPHA = 0.3
AUTO_ALPHA_ROWS = 4096


def auto_alpha(n_rows):
    """The L2 penalty ``alpha="auto"`` gives a training set of ``n_rows`` rows (or total
    sample weight): ``0.3 * min(1, 4096 / n_rows)``."""
    return AUTO_ALPHA * min(1.0, AUTO_ALPHA_ROWS / float(n_rows)) if n_rows > 0 else AUTO_ALPHA


def _layer_sizes(sizes, name):
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if any(not isinstance(s, Integral) or isinstance(s, (bool, np.bool_)) or s <= 0 for s in sizes):
        raise ValueError(f"{name} must hold positive integers, got {sizes}.")
    return [int(s) for s in sizes]


def _check_networks_fit_in_memory(n_samples, batch_size, projection_units, trainer_units):
    """Raise a ValueError naming the sizes before allocating networks that cannot fit.

    Training holds each weight matrix with its gradient and two Adam moments (4 float64
    copies), the training set's bits (one uint8 per row and bit) and, per minibatch, the
    bits and every layer's activations as floats.
    """
    n_weights = sum(a * b + b for a, b in zip(projection_units[:-1], projection_units[1:]))
    n_weights += sum(a * b + b for a, b in zip(trainer_units[:-1], trainer_units[1:]))
    n_activations = batch_size * (sum(projection_units) + sum(trainer_units))
    needed = 4 * 8 * n_weights + n_samples * projection_units[0] + 8 * n_activations
    available = _physical_memory_bytes()
    if needed > available:
        raise ValueError(
            f"Training would need {needed / 2**30:.1f} GiB (projection network layers "
            f"{projection_units}, n_projections * n_bits = {projection_units[0]} bits, "
            f"trainer layers {trainer_units or 'external'}, {n_samples} rows), more than "
            f"this machine's {available / 2**30:.1f} GiB of memory; lower n_projections, "
            "n_bits or the hidden layer sizes."
        )


class JointTrainingMixin(FitStateMixin):
    """``fit``/``partial_fit`` machinery of ProjectionNetClassifier (see the module docstring)."""

    def _fit(self, X, y, sample_weight, incremental, classes):
        """``fit``/``partial_fit``: on failure, unfitted (a fresh start) or unchanged."""
        saved = self._fitted_state() if self._continues(incremental) else {}
        try:
            return self._fit_unchecked(X, y, sample_weight, incremental, classes)
        except BaseException:
            self._restore_fitted_state(saved)
            raise
        finally:
            self.__dict__.pop("_table_undo", None)

    def _fit_unchecked(self, X, y, sample_weight, incremental, classes):
        first_call = not self._continues(incremental)
        if first_call:
            # a fresh start: nothing of an earlier fit survives, even if this one fails
            self._restore_fitted_state({})
        n_bits_total = check_total_bits(self.n_projections, self.n_bits)
        proj_hidden = _layer_sizes(self.projection_hidden_layer_sizes, "projection_hidden_layer_sizes")
        trainer_hidden = _layer_sizes(self.trainer_hidden_layer_sizes, "trainer_hidden_layer_sizes")
        if self.distill_weight == 0 and self.projection_weight == 0:
            raise ValueError(
                "distill_weight and projection_weight are both 0: the projection network "
                "would learn nothing. Set at least one of them > 0."
            )
        if self.trainer is None and self.trainer_weight == 0 and self.distill_weight > 0:
            raise ValueError(
                "distill_weight > 0 with trainer_weight = 0 would distil from a built-in "
                "trainer that never learns. Set trainer_weight > 0, or distill_weight = 0 "
                "to train the projection network alone, or pass a fitted trainer."
            )
        if not first_call:
            self._check_same_structure(proj_hidden, trainer_hidden)
        X_raw = X
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=first_call,
        )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            if not sample_weight.sum() > 0:
                raise ValueError("sample_weight sums to zero: there is nothing to learn from.")
        Y = self._encode_targets(y, first_call, incremental, classes)
        # a number is used as given (also when a continued fit changes it); "auto" is decided
        # by the first call's data and kept by the calls that continue it
        if self.alpha != "auto":
            self.alpha_ = float(self.alpha)
        elif first_call or not hasattr(self, "alpha_"):
            self.alpha_ = auto_alpha(X.shape[0] if sample_weight is None else float(sample_weight.sum()))

        rng = check_random_state(self.random_state)
        if first_call:
            self._initialize(X, y, sample_weight, rng, proj_hidden, trainer_hidden, incremental)
        elif isinstance(self.trainer_, UnusedBuiltinTrainer) and self._builtin_trainer_used():
            # continued with the trainer's weights turned on: it is initialised now, with
            # the first layer the first call chose
            table_rows = getattr(self.trainer_, "table_rows_", None)
            _check_networks_fit_in_memory(
                X.shape[0], self._batch_rows(X), [n_bits_total, *proj_hidden, len(self.classes_)],
                [table_rows or X.shape[1], *trainer_hidden, len(self.classes_)],
            )
            self.trainer_ = self._builtin_trainer(X, rng, trainer_hidden, X.dtype, table_rows)
            self._set_sizes()

        # an external teacher's tempered probabilities, once per fit (not per minibatch)
        soft_target = None
        if not isinstance(self.trainer_, BuiltinTrainer):
            soft_target = nn.tempered(teacher_proba(self.trainer_, X_raw, self.classes_), self.temperature)
        # the bits of the training set are computed once per fit, not once per epoch:
        # uint8 {0, 1} (binary reading) or int8 {-1, 0, +1} (ternary), the network's inputs
        bits = self.projection_._transform(X, packed=False)
        self.coefs_ = [c.astype(X.dtype) for c in self.coefs_]
        self.intercepts_ = [b.astype(X.dtype) for b in self.intercepts_]
        try:
            # One BLAS thread: the minibatch products (at most batch_size rows) are too
            # small to gain from threads, and BLAS threads spinning against other work on
            # the same cores made fits 7-9x slower (digits and MNIST on a loaded 2-core
            # machine, docs/benchmarks.md).
            with threadpool_limits(limits=1, user_api="blas"):
                self._run_epochs(X, bits, Y, soft_target, sample_weight, rng, incremental)
        finally:
            self.coefs_ = [c.astype(PROJECTION_DTYPE) for c in self.coefs_]
            self.intercepts_ = [b.astype(PROJECTION_DTYPE) for b in self.intercepts_]
        self._check_finite()
        return self

    def _builtin_trainer_used(self):
        """Whether the objective uses the built-in trainer (else it is never trained)."""
        return self.trainer is None and (self.trainer_weight > 0 or self.distill_weight > 0)

    def _batch_rows(self, X):
        return min(200 if self.batch_size == "auto" else int(self.batch_size), X.shape[0])

    def _encode_targets(self, y, first_call, incremental, classes):
        """Labels as indices into ``classes_``; sets ``classes_`` only once y is valid."""
        labels = np.unique(y)
        if first_call:
            if incremental and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            known = np.unique(column_or_1d(classes)) if incremental else labels
            if len(known) < 2:
                raise ValueError(
                    "ProjectionNetClassifier needs samples of at least 2 classes in the "
                    f"data, but the data contains only one class: {known[0]!r}."
                )
        else:
            known = self.classes_
            if classes is not None and not np.array_equal(np.unique(classes), known):
                raise ValueError(
                    f"classes={np.unique(classes)!r} differs from the classes of the first "
                    f"call to partial_fit, {known!r}."
                )
            if not incremental and not np.array_equal(labels, known):
                raise ValueError(
                    "warm_start can only be used where y has the same classes as in the "
                    f"previous call to fit: previously {known!r}, y has {labels!r}."
                )
        unseen = np.setdiff1d(labels, known)
        if len(unseen):
            raise ValueError(
                f"y has labels {unseen!r} not in classes_ {known!r}; pass all "
                "classes on the first call to partial_fit (or refit)."
            )
        self.classes_ = known
        return np.searchsorted(known, y)

    def _initialize(self, X, y, sample_weight, rng, proj_hidden, trainer_hidden, incremental):
        dtype = X.dtype
        n_classes = len(self.classes_)
        n_bits_total = check_total_bits(self.n_projections, self.n_bits)
        # the built-in trainer's first layer: dense over X's columns, or a bounded table of
        # hashed rows over sparse wide X (hashed text); decided here, once, and recorded
        table_rows = table_rows_for(X) if self.trainer is None else None
        trainer_units = [table_rows or X.shape[1], *trainer_hidden, n_classes]
        # an unused built-in trainer (trainer_weight=0, distill_weight=0) is not sized
        _check_networks_fit_in_memory(
            X.shape[0],
            self._batch_rows(X),
            [n_bits_total, *proj_hidden, n_classes],
            trainer_units if self._builtin_trainer_used() else [],
        )
        self.projection_ = LSHProjection(
            n_projections=self.n_projections,
            n_bits=self.n_bits,
            density=self.density,
            reading=self._reading_for(proj_hidden),
            random_state=int(rng.randint(np.iinfo(np.int32).max)),
        )
        # only the width and the seed are stored; the whole X lets fit warn about a
        # density that can set hardly any bit of its rows
        self.projection_.fit(X, sample_weight=sample_weight)
        if self.reading == "auto" and self.projection_.reading == "quinary" and self.projection_.threshold_ == 0:
            # over half of the training sums are exactly 0 (short texts): five levels would
            # be the signs doubled, so "auto" reads the signs (docs/method.md, "Bit reading")
            self.projection_.set_params(reading="ternary")
        self.coefs_, self.intercepts_ = nn.init_layers(
            rng, [n_bits_total, *proj_hidden, n_classes], PROJECTION_DTYPE
        )
        self._trainer_param = self.trainer
        if self.trainer is None and not self._builtin_trainer_used():
            self.trainer_ = UnusedBuiltinTrainer(hidden_layer_sizes=tuple(trainer_hidden))
            self.trainer_.table_rows_ = table_rows
            _skip_init_layers(rng, trainer_units)
        elif self.trainer is None:
            self.trainer_ = self._builtin_trainer(X, rng, trainer_hidden, dtype, table_rows)
        else:
            self.trainer_ = fitted_teacher(
                self.trainer, X, y, sample_weight, incremental, self.classes_
            )
        self._optimizer = None
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf
        self._set_sizes()

    def _builtin_trainer(self, X, rng, hidden, dtype, table_rows):
        trainer = BuiltinTrainer(hidden_layer_sizes=tuple(hidden))
        trainer.coefs_, trainer.intercepts_ = nn.init_layers(
            rng, [table_rows or X.shape[1], *hidden, len(self.classes_)], dtype
        )
        trainer.table_rows_ = table_rows
        trainer.classes_ = self.classes_
        trainer.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            trainer.feature_names_in_ = self.feature_names_in_
        return trainer

    def _set_sizes(self):
        if isinstance(self.trainer_, UnusedBuiltinTrainer):
            self.trainer_size_bytes_ = 0
        elif isinstance(self.trainer_, BuiltinTrainer):
            self.trainer_size_bytes_ = self.trainer_.size_bytes
        else:
            self.trainer_size_bytes_ = len(pickle.dumps(self.trainer_))

    def _params(self):
        params = self.coefs_ + self.intercepts_
        if self._trainer_trained():
            params = params + self.trainer_.coefs_ + self.trainer_.intercepts_
        return params

    def _run_epochs(self, X, bits, Y, teacher_proba, sample_weight, rng, incremental):
        params = self._params()
        if self._optimizer is None or not incremental or len(self._optimizer.ms) != len(params):
            self._optimizer = Adam(
                params, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
            )
        if self._trainer_trained() and getattr(self.trainer_, "table_rows_", None) is not None:
            # the only rows of the hashed table (and of its moments) this call can change
            X_csr = X if sp.issparse(X) else sp.csr_matrix(X)
            self._save_table_rows(np.unique(feature_rows(X_csr.indices, self.trainer_.table_rows_)))
        early_stopping = self.early_stopping and not incremental
        if not incremental:
            self._no_improvement_count = 0
        # a warm_start fit may switch early_stopping on or off: start the record it needs
        if early_stopping and self.validation_scores_ is None:
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        if not early_stopping and self.best_loss_ is None:
            self.best_loss_ = np.inf
        if early_stopping:
            stratify = Y if np.bincount(Y).min() >= 2 else None
            arrays = [X, bits, Y] + [a for a in (teacher_proba, sample_weight) if a is not None]
            split = train_test_split(
                *arrays, random_state=rng, test_size=self.validation_fraction, stratify=stratify
            )
            train, val = split[0::2], split[1::2]
            X, bits, Y = train[:3]
            bits_val, Y_val = val[1], val[2]
            rest_train, rest_val = list(train[3:]), list(val[3:])
            teacher_proba = rest_train.pop(0) if teacher_proba is not None else None
            if teacher_proba is not None:
                rest_val.pop(0)
            sample_weight = rest_train.pop(0) if sample_weight is not None else None
            sw_val = rest_val.pop(0) if sample_weight is not None else None
            if bits_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or "
                    "the size of your dataset."
                )
        n_samples = X.shape[0]
        batch_size = min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        if batch_size > n_samples and not incremental:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {n_samples} samples; using {n_samples}."
            )
        batch_size = min(batch_size, n_samples)
        order = np.arange(n_samples)
        n_classes = len(self.classes_)
        eye = np.eye(n_classes, dtype=X.dtype)
        builtin_used = self._trainer_initialised() and (
            self.trainer_weight > 0 or self.distill_weight > 0
        )
        table_rows = getattr(self.trainer_, "table_rows_", None) if builtin_used else None
        if table_rows is not None and (not sp.issparse(X) or X.format != "csr"):
            X = sp.csr_matrix(X)  # minibatches are sliced by rows

        for _ in range(1 if incremental else self.max_iter):
            if self.shuffle:
                order = rng.permutation(n_samples)
            accumulated = 0.0
            for batch in gen_batches(n_samples, batch_size):
                idx = order[batch]
                sw = None if sample_weight is None else sample_weight[idx]
                q = None if teacher_proba is None else teacher_proba[idx]
                X_b = None
                if table_rows is not None:
                    X_b = RowBatch.from_sparse(X[idx], table_rows)
                elif builtin_used:
                    X_b = X[idx] if sp.issparse(X) else np.take(X, idx, axis=0)
                loss = self._step(X_b, bits[idx].astype(X.dtype), eye[Y[idx]], q, sw, params)
                accumulated += loss * len(idx)
            self.n_iter_ += 1
            self.t_ += n_samples
            self.loss_ = accumulated / n_samples
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if incremental:
                break
            if early_stopping:
                self._update_validation(bits_val, Y_val, sw_val)
            else:
                self._update_loss_progress()
            if self._no_improvement_count > self.n_iter_no_change:
                if self.verbose:
                    what = "Validation score" if early_stopping else "Training loss"
                    print(
                        f"{what} did not improve more than tol={self.tol} for "
                        f"{self.n_iter_no_change} consecutive epochs. Stopping."
                    )
                break
        else:
            if not incremental:
                warnings.warn(
                    f"Maximum iterations ({self.max_iter}) reached and the optimization "
                    "hasn't converged yet.",
                    ConvergenceWarning,
                )
        if early_stopping:
            self.coefs_, self.intercepts_ = self._best_coefs, self._best_intercepts

    def _trainer_initialised(self):
        """A built-in trainer with weights (not an external one, not an unused one)."""
        return isinstance(self.trainer_, BuiltinTrainer) and not isinstance(
            self.trainer_, UnusedBuiltinTrainer
        )

    def _trainer_trained(self):
        return self._trainer_initialised() and self.trainer_weight > 0

    def _step(self, X_b, bits_b, Y_b, q, sw, params):
        """One Adam step on a minibatch; returns its joint loss."""
        if sw is not None and not sw.sum() > 0:
            return 0.0  # every row of this minibatch has zero weight: no step
        builtin = self._trainer_initialised()
        loss, (gc, gi), trainer_grads = nn.joint_objective(
            bits_b, Y_b, self.coefs_, self.intercepts_,
            trainer=(self.trainer_.coefs_, self.trainer_.intercepts_) if builtin else None,
            X=X_b, soft_target=q, trainer_weight=self.trainer_weight,
            distill_weight=self.distill_weight, projection_weight=self.projection_weight,
            temperature=self.temperature, alpha=self.alpha_, sample_weight=sw,
        )
        grads = gc + gi
        if trainer_grads is not None:
            grads = grads + trainer_grads[0] + trainer_grads[1]
        self._optimizer.update(params, grads)
        return loss

    def _update_loss_progress(self):
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

    def _update_validation(self, bits_val, Y_val, sw_val):
        z = nn.forward(bits_val.astype(self.coefs_[0].dtype), self.coefs_, self.intercepts_)[-1]
        pred = np.argmax(z, axis=1)
        score = accuracy_score(Y_val, pred, sample_weight=sw_val)
        self.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation score: {score:.6f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_coefs = [c.copy() for c in self.coefs_]
            self._best_intercepts = [b.copy() for b in self.intercepts_]

    def _check_finite(self):
        arrays = self.coefs_ + self.intercepts_
        if self._trainer_initialised():
            t_coefs = self.trainer_.coefs_
            undo = getattr(self, "_table_undo", None)
            if undo is not None:  # a continued call changed only the saved rows of the table
                t_coefs = [t_coefs[0][undo[0][1]] if undo else t_coefs[0][:0], *t_coefs[1:]]
            arrays = arrays + t_coefs + self.trainer_.intercepts_
        if not all(np.isfinite(a).all() for a in arrays):
            raise ValueError(
                "Training produced non-finite weights; the input may contain very large "
                "values: scale the features (e.g. StandardScaler) or lower learning_rate_init."
            )

