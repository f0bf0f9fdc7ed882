"""ProjectionNetClassifier: a trainer network and a compact projection network trained jointly."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _inference
from ._deprecated import DeprecatedAttributesMixin, ExternalTrainerView
from ._inference import LogitsClassifierMixin
from ._joint_training import JointTrainingMixin
from ._projection import READINGS
from ._trainer import BuiltinTrainer

# default of the deprecated ``network=`` argument of the predict methods
_NO_NETWORK = "deprecated"


class ProjectionNetClassifier(
    JointTrainingMixin, DeprecatedAttributesMixin, LogitsClassifierMixin, ClassifierMixin, BaseEstimator
):
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
    compact model; ``clf.trainer_.predict_proba(X)`` gives the trainer's output.
    Setting ``trainer_weight=0, distill_weight=0`` trains the projection network alone.

    Parameters
    ----------
    n_projections : int, default=60
        Number T of LSH projection functions.
    n_bits : int, default=10
        Bits d per projection function; the projection network sees ``T * d`` bits.
    density : "auto" or float in (0, 1], default="auto"
        Share of non-zero entries of each random vector. "auto" decides it from the
        training data (``min(1/sqrt(s), 4/sqrt(s * m))`` for ``s`` columns the data uses
        and ``m`` non-zeros per row; :class:`LSHProjection`), recorded in
        ``projection_.density_``: about a third of ``1/sqrt(n_features)`` on MNIST,
        where that is more accurate and 3x cheaper, about ``1/sqrt(n_features)`` on
        short texts, and a usable value for texts hashed into 2**20 or more columns. Lower
        is cheaper. ``fit`` warns when the density leaves fewer than 0.01 expected
        non-zeros per bit of a row.
    reading : {"auto", "binary", "ternary", "quinary"}, default="auto"
        How the projection network reads each random projection's sum ``s``: "binary"
        is ``s > 0`` (inputs {0, 1}); "ternary" its sign (inputs {-1, 0, +1}), so a sum
        of exactly 0 (most sums of a short text) differs from a negative one; "quinary"
        five levels (inputs {-2, -1, 0, +1, +2}): the sign, doubled where ``|s|``
        exceeds one global threshold ``tau``, the median of ``|s|`` over the first 4096
        training rows (``projection_.threshold_``, set at the first ``fit``). Same
        number of weights and bytes for all three (quinary adds one float64, ``tau``).
        "auto" (the default) is decided at the first ``fit``: "quinary" when the
        projection network has a hidden layer, unless over half of the training sums are
        exactly 0 (``tau`` = 0: short texts), where five levels would only double the
        signs and it is "ternary"; "binary" for a linear head. That is what the
        measurements chose (docs/method.md, "Bit reading"): with a hidden layer quinary
        gained 0.5-0.7 point over ternary on MNIST (60 000 rows, h32 and h64, int8) and
        0.8 on digits (h32, 3 seeds), ternary gained 1.0-1.05 over binary on MNIST and
        was within noise on TREC-6 and SMS spam; with a linear head ternary lost 1.1
        points on MNIST and 0.7 on TREC-6 over 4 800 bits. Quinary costs about 1.7x
        the ternary first layer's additions at inference. The reading in use is
        ``projection_.reading``;
        the compact model, its file and the C export carry it.
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
    alpha : "auto" or float >= 0, default="auto"
        L2 penalty on the weights of both networks (per minibatch, scaled like
        MLPClassifier's ``alpha``). "auto" (new in 0.3; 1e-4 before) is 0.3 for a training
        set of up to 4 096 rows and ``0.3 * 4096 / n`` for ``n`` rows beyond (the total
        sample weight if given), recorded in ``alpha_``: a penalty per minibatch is a prior
        that grows with the data, and scaled by ``1/n`` it stays the one of 4 096 rows (as
        LogisticRegression keeps its ``C``). 0.3 is what the measurements chose on TREC-6
        and SMS spam: with 1e-4 the projection network over-fits its bits as the epochs run
        (its test accuracy peaks and then falls 1-1.5 points) and a linear head ended 1
        point below LogisticRegression with cross-validated C on the same bits; 0.3 closes
        that gap, stops by ``tol`` 2x sooner, and adds 0.3-1.8 points to joint training. On
        MNIST's 60 000 rows the scaled 0.02 gained 0.65 point over 0.3 for a hidden-64 head
        (docs/method.md, "Training defaults"). ``warm_start`` and ``partial_fit`` keep the
        ``alpha_`` of the first call (a first ``partial_fit`` batch of 4 096 rows or fewer
        gets 0.3).
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
        Reuse the previous solution (weights and projection seed) in ``fit``. The
        parameters that define the networks (``n_projections``, ``n_bits``, ``density``,
        ``reading``, both hidden layer sizes, ``trainer``) must then be unchanged: ``fit`` (and
        ``partial_fit``, which always continues) refuses a change with a ValueError
        naming it.
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
    alpha_ : float
        The L2 penalty in use: ``alpha``, or the value "auto" chose from the first call's
        training set.
    trainer_ : classifier
        The fitted trainer, with ``predict`` and ``predict_proba``: a
        :class:`~sklearn_projection._trainer.BuiltinTrainer` (weights in its ``coefs_``,
        ``intercepts_``) or the external teacher. (``trainer_coefs_`` and
        ``trainer_intercepts_`` are deprecated aliases of the built-in trainer's.)
    size_bytes : int
        Bytes the projection network needs at inference, as ``to_compact().size_bytes``
        (``projection_size_bytes_`` is deprecated).
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
    >>> clf.size_bytes < clf.trainer_size_bytes_ / 10
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
        "reading": [StrOptions({"auto", *READINGS})],
        "projection_hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "trainer_hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "trainer": [None, HasMethods(["fit", "predict_proba"])],
        "trainer_weight": [Interval(Real, 0, None, closed="left")],
        "distill_weight": [Interval(Real, 0, None, closed="left")],
        "projection_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
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
        alpha="auto",
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
        reading="auto",  # last: inserting it earlier would shift positional arguments
    ):
        self.n_projections = n_projections
        self.n_bits = n_bits
        self.density = density
        self.reading = reading
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

        A ``fit`` that raises leaves the estimator unfitted, or, with ``warm_start``
        continuing an earlier fit, exactly as it was.

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

        A call that raises leaves the estimator as it was before the call (unfitted
        after a failed first call).

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

    def _reading_for(self, proj_hidden, fitted=None):
        """The bit reading a projection network with hidden layers ``proj_hidden`` uses:
        "auto" is "quinary" with a hidden layer, "binary" without; a quinary threshold of 0
        (decided at ``fit``, ``fitted`` the reading it recorded) makes it "ternary"."""
        if self.reading == "auto":
            if not len(proj_hidden):
                return "binary"
            return "ternary" if fitted == "ternary" else "quinary"
        return self.reading

    # ---------------------------------------------------------------- inference
    # decision_function, predict_proba, predict_log_proba and predict come from
    # LogitsClassifierMixin over _validate and _logits; the latter three also take the
    # deprecated network= argument here. The bit kernel refuses NaN and infinities in its
    # own pass over a dense X: a plain float array skips the separate finite check.
    _logits_refuses_not_finite = True
    def _logits(self, X):
        """Projection network logits of validated ``X``: the float32 compact model's path."""
        proj = self.projection_
        return _inference.logits(
            X, proj.seed_, proj.n_bits_total_, proj.density_, self.coefs_, self.intercepts_,
            None, proj.reading, getattr(proj, "threshold_", 0.0),
        )

    def _predictor(self, network):
        """The model that answers: ``trainer_`` for the deprecated ``network="trainer"``."""
        if network is _NO_NETWORK:
            return super()
        if network not in ("projection", "trainer"):
            raise ValueError(f"network must be 'projection' or 'trainer', got {network!r}.")
        warnings.warn(
            "the network= argument is deprecated since 0.3 and will be removed in 0.4: "
            "predict methods use the projection network; use clf.trainer_.predict(X) "
            "(or predict_proba) for the trainer.",
            FutureWarning,
            stacklevel=3,
        )
        if network == "projection":
            return super()
        if isinstance(self.trainer_, BuiltinTrainer):
            return self.trainer_
        return ExternalTrainerView(self)

    def predict_proba(self, X, network=_NO_NETWORK):
        """Class probabilities of the projection network: softmax of its logits, in float64.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        network : {"projection", "trainer"}
            Deprecated: use ``clf.trainer_.predict_proba(X)`` for the trainer.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._predictor(network).predict_proba(X)

    def predict_log_proba(self, X, network=_NO_NETWORK):
        """Logarithm of :meth:`predict_proba` (``network`` is deprecated)."""
        return self._predictor(network).predict_log_proba(X)

    def predict(self, X, network=_NO_NETWORK):
        """Predicted classes of the projection network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        network : {"projection", "trainer"}
            Deprecated: use ``clf.trainer_.predict(X)`` for the trainer.

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        return self._predictor(network).predict(X)

    @property
    def size_bytes(self):
        """Inference footprint in bytes: that of ``to_compact("float32")``.

        The float32 weights and biases plus the scalars the projections are regenerated
        from (see :attr:`CompactProjectionClassifier.size_bytes`).
        """
        check_is_fitted(self)
        return _inference.footprint_bytes(self.coefs_, self.intercepts_, reading=self.projection_.reading)

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

        check_is_fitted(self)
        if not all(np.isfinite(a).all() for a in self.coefs_ + self.intercepts_):
            # int8 quantisation would turn NaN weights into finite-looking ones
            raise ValueError(
                "The projection network has non-finite weights (NaN or infinity): there is "
                "no model to make compact. Refit it (scale the features, or lower "
                "learning_rate_init if training diverged)."
            )
        return CompactProjectionClassifier.from_classifier(self, dtype=dtype)

    def __setstate__(self, state):
        # pickled before the reading option existed: those models read binary bits
        state = dict(state)
        state.setdefault("reading", "binary")
        super().__setstate__(state)

    def __sklearn_is_fitted__(self):
        # fitted once the networks exist: a fit that failed validation part-way (after
        # n_features_in_ was recorded) leaves the estimator unfitted
        return hasattr(self, "coefs_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
