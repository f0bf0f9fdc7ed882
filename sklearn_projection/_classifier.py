"""ProjectionNetClassifier: a trainer network and a compact projection network trained jointly."""

import pickle
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _network as nn
from ._optim import Adam
from ._projection import LSHProjection, _physical_memory_bytes, check_total_bits

_SEED_BYTES = 8
# The projection network is trained in the dtype of X (float64 or float32, as
# MLPClassifier) and stored in float32 after every fit: its input is 0/1 bits, and
# float32 halves the bytes that ship.
PROJECTION_DTYPE = np.float32


def _layer_sizes(sizes, name):
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if any(not isinstance(s, Integral) or s <= 0 for s in sizes):
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


class ProjectionNetClassifier(ClassifierMixin, BaseEstimator):
    """ProjectionNet (Ravi, 2017): a full trainer network teaches a tiny projection network.

    Two networks are trained together with minibatch Adam:

    - the **trainer**, a feed-forward ReLU network on ``X`` (or any fitted scikit-learn
      classifier passed as ``trainer``), and
    - the **projection network**: ``X`` is mapped by :class:`LSHProjection` to
      ``T * d`` bits (``n_projections * n_bits``), followed by optional ReLU hidden
      layers and a softmax.

    The objective is ``λ1·L_θ + λ2·L_p + λ3·L̂_p``, each term a weighted mean
    cross-entropy over the minibatch:

    - ``L_θ`` (``trainer_weight``): trainer against the labels. Updates the trainer only.
    - ``L_p`` (``distill_weight``): projection network against the trainer's soft
      prediction ``softmax(z_trainer / temperature)``. The trainer's output is treated
      as a constant target here (the projection network is the apprentice), so this
      term updates the projection network only; the projection network itself keeps a
      plain softmax.
    - ``L̂_p`` (``projection_weight``): projection network against the labels.

    ``predict``, ``predict_proba`` and ``score`` use the projection network, the
    compact model; ``predict_proba(X, network="trainer")`` gives the trainer's output.
    Setting ``trainer_weight=0, distill_weight=0`` trains the projection network alone.

    Parameters
    ----------
    n_projections : int, default=60
        Number T of LSH projection functions.
    n_bits : int, default=10
        Bits d per projection function; the projection network sees ``T * d`` bits.
    density : "auto" or float in (0, 1], default="auto"
        Share of non-zero entries of each random vector ("auto": ``1/sqrt(n_features)``).
        Lower is cheaper; on wide dense inputs a lower density can also be more accurate
        (MNIST: a quarter of "auto" gained about a point, docs/method.md), so it is worth
        searching over a few fractions of "auto".
    projection_hidden_layer_sizes : tuple of int, default=()
        Hidden ReLU layers of the projection network. ``()`` is a softmax regression over
        the bits (``T*d*C`` weights); one small hidden layer (e.g. ``(64,)``) is where
        distillation from the trainer measurably pays.
    trainer_hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden ReLU layers of the built-in trainer network.
    trainer : None or classifier with ``predict_proba``, default=None
        None trains the built-in feed-forward trainer jointly. A scikit-learn classifier
        is used as a frozen teacher instead: ``L_θ`` is dropped and the projection
        network distils from its ``predict_proba``. A fitted classifier is used as it
        is; an unfitted one is cloned and fitted on the training data at the start of
        ``fit``. ``sklearn.base.clone`` (and so ``GridSearchCV``) un-fits estimators:
        wrap a fitted teacher in :class:`sklearn.frozen.FrozenEstimator` to keep it.
    trainer_weight, distill_weight, projection_weight : float >= 0, default=1.0
        λ1, λ2, λ3 of the joint objective.
    temperature : float > 0, default=4.0
        Softens the trainer's output in ``L_p``: ``softmax(z / temperature)`` (the
        projection network keeps a plain softmax). 4 is the default because it is where
        distillation measurably paid: on digits (linear head, 5 seeds) joint training
        scored 0.9730 on average at temperature 1 and 0.9756 at 4, against 0.9722 for the
        projection network alone.
    alpha : float >= 0, default=1e-4
        L2 penalty on the weights of both networks.
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float > 0, default=1e-3
        Adam step size.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle samples in each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the projection, weight initialisation, shuffling and validation split.
    tol : float, default=1e-4
        Improvement of the loss (or of the validation score with ``early_stopping``)
        below which an epoch counts as no improvement.
    verbose : bool, default=False
        Print progress.
    warm_start : bool, default=False
        Reuse the previous solution (weights and projection seed) in ``fit``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop when the
        projection network's accuracy on it stops improving; keeps the best weights.
    validation_fraction : float in (0, 1), default=0.1
        Share of training data held out for early stopping.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam parameters.
    n_iter_no_change : int, default=10
        Epochs without improvement by ``tol`` before stopping.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    projection_ : LSHProjection
        The fitted projection layer (holds only ``seed_``).
    coefs_, intercepts_ : list of ndarray
        Weights and biases of the projection network, layer by layer.
    trainer_coefs_, trainer_intercepts_ : list of ndarray
        Weights and biases of the built-in trainer (None with an external ``trainer``).
    trainer_ : estimator or None
        The external teacher in use (None for the built-in trainer).
    projection_size_bytes_ : int
        Bytes the projection network needs at inference: its weights and biases at the
        stored dtype (float32) plus the 8-byte seed.
    trainer_size_bytes_ : int
        Bytes of the trainer's weights and biases (pickled size for an external trainer).
    loss_ : float
        Joint loss of the last epoch.
    loss_curve_ : list of float
        Joint loss per epoch.
    best_loss_ : float or None
        Lowest joint loss seen (None with early stopping).
    validation_scores_ : list of float or None
        Projection network accuracy on the held-out set per epoch (early stopping only).
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training samples seen.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string feature names.

    References
    ----------
    S. Ravi, "ProjectionNet: Learning Efficient On-Device Deep Networks Using Neural
    Projections", arXiv:1708.00630, 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_projection import ProjectionNetClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = ProjectionNetClassifier(n_projections=60, n_bits=10, max_iter=60,
    ...                               random_state=0).fit(X_train, y_train)
    >>> clf.score(X_test, y_test) > 0.9
    True
    >>> clf.projection_size_bytes_ < clf.trainer_size_bytes_ / 10
    True

    Any fitted classifier with ``predict_proba`` can be the teacher:

    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sklearn.frozen import FrozenEstimator
    >>> teacher = HistGradientBoostingClassifier(random_state=0).fit(X_train, y_train)
    >>> student = ProjectionNetClassifier(trainer=FrozenEstimator(teacher), max_iter=60,
    ...                                   random_state=0).fit(X_train, y_train)
    >>> student.score(X_test, y_test) > 0.9
    True
    """

    _parameter_constraints = {
        "n_projections": [Interval(Integral, 1, None, closed="left")],
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "density": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="right")],
        "projection_hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "trainer_hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "trainer": [None, HasMethods(["fit", "predict_proba"])],
        "trainer_weight": [Interval(Real, 0, None, closed="left")],
        "distill_weight": [Interval(Real, 0, None, closed="left")],
        "projection_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_projections=60,
        n_bits=10,
        density="auto",
        projection_hidden_layer_sizes=(),
        trainer_hidden_layer_sizes=(256, 256),
        trainer=None,
        trainer_weight=1.0,
        distill_weight=1.0,
        projection_weight=1.0,
        temperature=4.0,
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
    ):
        self.n_projections = n_projections
        self.n_bits = n_bits
        self.density = density
        self.projection_hidden_layer_sizes = projection_hidden_layer_sizes
        self.trainer_hidden_layer_sizes = trainer_hidden_layer_sizes
        self.trainer = trainer
        self.trainer_weight = trainer_weight
        self.distill_weight = distill_weight
        self.projection_weight = projection_weight
        self.temperature = temperature
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

    # ------------------------------------------------------------------ fitting
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Train the trainer and the projection network jointly.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : ProjectionNetClassifier
        """
        return self._fit(X, y, sample_weight, incremental=False, classes=None)

    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over ``(X, y)``, continuing from the current state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            All classes that can appear; required on the first call.

        Returns
        -------
        self : ProjectionNetClassifier
        """
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _uses_builtin_trainer(self):
        return self.trainer is None

    def _fit(self, X, y, sample_weight, incremental, classes):
        first_call = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        check_total_bits(self.n_projections, self.n_bits)
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

        rng = check_random_state(self.random_state)
        if first_call:
            self._initialize(X, y, sample_weight, rng, proj_hidden, trainer_hidden, incremental)
        elif self.projection_.n_bits_total_ != self.n_projections * self.n_bits:
            raise ValueError(
                "n_projections or n_bits changed since the first fit; refit from scratch "
                "(warm_start=False) to change the bit budget."
            )

        teacher_proba = self._teacher_proba(X_raw) if self.trainer_ is not None else None
        # the bits of the training set are computed once per fit, not once per epoch
        bits = self.projection_._transform(X, packed=False)
        self.coefs_ = [c.astype(X.dtype) for c in self.coefs_]
        self.intercepts_ = [b.astype(X.dtype) for b in self.intercepts_]
        try:
            self._run_epochs(X, bits, Y, teacher_proba, sample_weight, rng, incremental)
        finally:
            self.coefs_ = [c.astype(PROJECTION_DTYPE) for c in self.coefs_]
            self.intercepts_ = [b.astype(PROJECTION_DTYPE) for b in self.intercepts_]
        self._check_finite()
        return self

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
        n_bits_total = self.n_projections * self.n_bits
        _check_networks_fit_in_memory(
            X.shape[0],
            min(200 if self.batch_size == "auto" else self.batch_size, X.shape[0]),
            [n_bits_total, *proj_hidden, n_classes],
            [X.shape[1], *trainer_hidden, n_classes] if self._uses_builtin_trainer() else [],
        )
        self.projection_ = LSHProjection(
            n_projections=self.n_projections,
            n_bits=self.n_bits,
            density=self.density,
            random_state=int(rng.randint(np.iinfo(np.int32).max)),
        )
        # the projection is fitted on a 1-row slice: only the width and seed matter
        self.projection_.fit(X[:1])
        self.coefs_, self.intercepts_ = nn.init_layers(
            rng, [n_bits_total, *proj_hidden, n_classes], PROJECTION_DTYPE
        )
        if self._uses_builtin_trainer():
            self.trainer_ = None
            self.trainer_coefs_, self.trainer_intercepts_ = nn.init_layers(
                rng, [X.shape[1], *trainer_hidden, n_classes], dtype
            )
        else:
            self.trainer_ = self._fitted_trainer(X, y, sample_weight, incremental)
            self.trainer_coefs_ = self.trainer_intercepts_ = None
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

    def _fitted_trainer(self, X, y, sample_weight, incremental):
        try:
            check_is_fitted(self.trainer)
            teacher = self.trainer
        except NotFittedError:
            if incremental:
                raise ValueError(
                    "partial_fit needs a fitted trainer: fit the teacher first (and wrap "
                    "it in sklearn.frozen.FrozenEstimator), or use fit()."
                ) from None
            teacher = clone(self.trainer)
            if sample_weight is not None:
                teacher.fit(X, y, sample_weight=sample_weight)
            else:
                teacher.fit(X, y)
        missing = np.setdiff1d(self.classes_, teacher.classes_)
        if len(missing):
            raise ValueError(
                f"The trainer was fitted without the classes {missing!r}; its classes_ "
                f"must cover the classes of y, {self.classes_!r}."
            )
        return teacher

    def _teacher_proba(self, X):
        """The external trainer's probabilities, columns in the order of ``classes_``."""
        proba = np.asarray(self.trainer_.predict_proba(X), dtype=np.float64)
        if not np.isfinite(proba).all():
            raise ValueError(
                f"The trainer {type(self.trainer_).__name__}.predict_proba returned NaN or "
                "infinite probabilities; the projection network cannot distil from them."
            )
        cols = np.searchsorted(self.trainer_.classes_, self.classes_)
        return proba[:, cols]

    def _set_sizes(self):
        self.projection_size_bytes_ = int(
            sum(a.nbytes for a in self.coefs_ + self.intercepts_) + _SEED_BYTES
        )
        if self.trainer_ is None:
            self.trainer_size_bytes_ = int(
                sum(a.nbytes for a in self.trainer_coefs_ + self.trainer_intercepts_)
            )
        else:
            self.trainer_size_bytes_ = len(pickle.dumps(self.trainer_))

    def _params(self):
        params = self.coefs_ + self.intercepts_
        if self.trainer_ is None and self.trainer_weight > 0:
            params = params + self.trainer_coefs_ + self.trainer_intercepts_
        return params

    def _run_epochs(self, X, bits, Y, teacher_proba, sample_weight, rng, incremental):
        params = self._params()
        if self._optimizer is None or not incremental or len(self._optimizer.ms) != len(params):
            self._optimizer = Adam(
                params, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
            )
        early_stopping = self.early_stopping and not incremental
        if not incremental:
            self._no_improvement_count = 0
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

        for _ in range(1 if incremental else self.max_iter):
            if self.shuffle:
                order = rng.permutation(n_samples)
            accumulated = 0.0
            for batch in gen_batches(n_samples, batch_size):
                idx = order[batch]
                sw = None if sample_weight is None else sample_weight[idx]
                q = None if teacher_proba is None else teacher_proba[idx]
                X_b = X[idx] if sp.issparse(X) else np.take(X, idx, axis=0)
                loss = self._step(X_b, bits[idx], eye[Y[idx]], q, sw, params)
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

    def _step(self, X_b, bits_b, Y_b, q, sw, params):
        """One Adam step on a minibatch; returns its joint loss."""
        sw_sum = float(len(Y_b)) if sw is None else float(sw.sum())
        if sw_sum == 0:
            return 0.0  # every row of this minibatch has zero weight: no step
        lam1, lam2, lam3 = self.trainer_weight, self.distill_weight, self.projection_weight
        grads_c, grads_i = [], []
        loss = 0.0

        trainer_acts = None
        if self.trainer_ is None and (lam1 > 0 or lam2 > 0):
            trainer_acts = nn.forward(X_b, self.trainer_coefs_, self.trainer_intercepts_)
            z_t = trainer_acts[-1]
            if lam2 > 0:
                q = nn.softmax(z_t, self.temperature)
        if q is not None and self.trainer_ is not None and self.temperature != 1.0:
            with np.errstate(divide="ignore"):
                q = nn.softmax(np.log(q) / self.temperature)

        proj_acts = nn.forward(bits_b.astype(X_b.dtype), self.coefs_, self.intercepts_)
        log_p = nn.log_softmax(proj_acts[-1])
        p = np.exp(log_p)
        delta_p = np.zeros_like(p)
        if lam3 > 0:
            delta_p += lam3 * (p - Y_b)
            loss += lam3 * nn.cross_entropy(Y_b, log_p, sw)
        if lam2 > 0:
            delta_p += lam2 * (p - q)
            loss += lam2 * nn.cross_entropy(q, log_p, sw)
        if sw is not None:
            delta_p *= sw[:, None]
        gc, gi = nn.backward(proj_acts, delta_p, self.coefs_, self.alpha, sw_sum)
        grads_c += gc
        grads_i += gi
        loss += nn.l2_penalty(self.coefs_, self.alpha, sw_sum)

        if self.trainer_ is None and lam1 > 0:
            log_t = nn.log_softmax(trainer_acts[-1])
            delta_t = lam1 * (np.exp(log_t) - Y_b)
            loss += lam1 * nn.cross_entropy(Y_b, log_t, sw)
            if sw is not None:
                delta_t *= sw[:, None]
            tc, ti = nn.backward(trainer_acts, delta_t, self.trainer_coefs_, self.alpha, sw_sum)
            loss += lam1 * nn.l2_penalty(self.trainer_coefs_, self.alpha, sw_sum)
            grads = gc + gi + tc + ti
        else:
            grads = gc + gi
        self._optimizer.update(params, grads)
        return loss

    def _update_loss_progress(self):
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

    def _update_validation(self, bits_val, Y_val, sw_val):
        pred = np.argmax(self._projection_logits(bits_val), axis=1)
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
        if self.trainer_ is None:
            arrays = arrays + self.trainer_coefs_ + self.trainer_intercepts_
        if not all(np.isfinite(a).all() for a in arrays):
            raise ValueError(
                "Training produced non-finite weights; the input may contain very large "
                "values: scale the features (e.g. StandardScaler) or lower learning_rate_init."
            )

    # ---------------------------------------------------------------- inference
    def _projection_logits(self, bits):
        return nn.forward(bits.astype(self.coefs_[0].dtype), self.coefs_, self.intercepts_)[-1]

    def _validate_predict_input(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )

    def predict_proba(self, X, network="projection"):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        network : {"projection", "trainer"}, default="projection"
            "projection" uses the compact projection network (the model that ships);
            "trainer" uses the trainer network, to compare the two.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        if network not in ("projection", "trainer"):
            raise ValueError(f"network must be 'projection' or 'trainer', got {network!r}.")
        X_raw = X
        X = self._validate_predict_input(X)
        if network == "trainer" and self.trainer_ is not None:
            return self._teacher_proba(X_raw)
        return nn.softmax(self._logits(X, network).astype(np.float64, copy=False))

    def _logits(self, X, network):
        """Output logits of the built-in trainer or of the projection network on validated X."""
        if network == "trainer":
            z = nn.forward(X, self.trainer_coefs_, self.trainer_intercepts_)[-1]
            if not np.isfinite(z).all():
                raise ValueError(
                    "The trainer network's output overflowed to a non-finite value on this "
                    "input (values too large for float arithmetic); scale the features. The "
                    "projection network, which only uses signs, is not affected."
                )
            return z
        z = self.projection_._first_layer(X, self.coefs_[0], self.intercepts_[0])
        if len(self.coefs_) == 1:
            return z
        np.maximum(z, 0, out=z)
        return nn.forward(z, self.coefs_[1:], self.intercepts_[1:])[-1]

    def predict_log_proba(self, X, network="projection"):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, network=network))

    def predict(self, X, network="projection"):
        """Predicted classes (of the projection network by default).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        network : {"projection", "trainer"}, default="projection"

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        if network == "projection" or self.trainer_ is None:
            if network not in ("projection", "trainer"):
                raise ValueError(f"network must be 'projection' or 'trainer', got {network!r}.")
            scores = self._logits(self._validate_predict_input(X), network)
        else:
            scores = self.predict_proba(X, network=network)
        return self.classes_[np.argmax(scores, axis=1)]

    def to_compact(self, dtype="float32"):
        """The deployable projection network alone, as a :class:`CompactProjectionClassifier`.

        Parameters
        ----------
        dtype : {"float32", "float16", "int8"}, default="float32"
            Storage type of the weights; "float32" predicts exactly as this classifier.

        Returns
        -------
        compact : CompactProjectionClassifier
        """
        from ._compact import CompactProjectionClassifier

        return CompactProjectionClassifier.from_classifier(self, dtype=dtype)

    def __sklearn_is_fitted__(self):
        # fitted once the networks exist: a fit that failed validation part-way (after
        # n_features_in_ was recorded) leaves the estimator unfitted
        return hasattr(self, "coefs_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
