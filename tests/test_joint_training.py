"""Fitting (_joint_training.py): loss curve, early stopping, partial_fit, warm_start, sample weights, failures."""


import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from sklearn_projection import ProjectionNetClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ALONE = dict(trainer_weight=0.0, distill_weight=0.0)


def test_hidden_layer_and_loss_curve(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = ProjectionNetClassifier(
        projection_hidden_layer_sizes=(32,), max_iter=30, random_state=0
    ).fit(X_train, y_train)
    assert [c.shape for c in clf.coefs_] == [(600, 32), (32, 10)]
    assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
    assert len(clf.loss_curve_) == clf.n_iter_ == 30
    # with alpha=0.3 (the default since 0.3's defaults change) the L2 term keeps the joint
    # loss higher: measured 7.21 -> 2.57 over the 30 epochs (6.84 -> 1.86 at alpha=1e-4)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 2
    assert clf.score(X_test, y_test) > 0.93


def test_early_stopping_keeps_the_best_validation_weights(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = ProjectionNetClassifier(early_stopping=True, max_iter=200, random_state=0)
    clf.fit(X_train, y_train)
    # measured: stops after 50 epochs at 0.959 test accuracy (best validation 0.968)
    assert len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    assert clf.score(X_test, y_test) > 0.93
    with pytest.raises(ValueError, match="early_stopping"):
        clf.partial_fit(X_train, y_train)


def test_partial_fit_streams_to_the_accuracy_of_fit(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    classes = np.unique(y_train)
    clf = ProjectionNetClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X_train[:50], y_train[:50])
    chunks = np.array_split(np.arange(len(X_train)), 5)
    for epoch in range(30):
        for idx in chunks:
            clf.partial_fit(X_train[idx], y_train[idx], classes=classes if epoch == 0 else None)
    assert clf.n_iter_ == 150
    assert clf.score(X_test, y_test) >= 0.95
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X_train[:5], np.full(5, 42))


def test_warm_start_continues_training(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = ProjectionNetClassifier(max_iter=3, warm_start=True, random_state=0).fit(X_train, y_train)
    seed, first = clf.projection_.seed_, clf.loss_curve_[-1]
    clf.fit(X_train, y_train)
    assert clf.n_iter_ == 6 and clf.projection_.seed_ == seed
    assert clf.loss_curve_[-1] < first
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X_train[y_train < 5], y_train[y_train < 5])


def test_sample_weight_zero_drops_rows():
    X, y = load_iris(return_X_y=True)
    sw = np.ones(len(y))
    sw[::3] = 0
    kw = dict(n_projections=16, n_bits=8, trainer_hidden_layer_sizes=(16,), batch_size=len(y),
              max_iter=40, shuffle=False, random_state=0)
    weighted = ProjectionNetClassifier(**kw).fit(X, y, sample_weight=sw)
    kw["batch_size"] = int(sw.sum())
    dropped = ProjectionNetClassifier(**kw).fit(X[sw > 0], y[sw > 0])
    np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), rtol=1e-5)


def test_convergence_warning_when_max_iter_is_reached():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        ProjectionNetClassifier(max_iter=2, random_state=0).fit(X, y)


def test_fit_time_overhead_is_small_against_the_same_mlp_in_epochs(digits_split):
    """Sanity (not timing): the trainer is the same size as MLPClassifier's network."""
    X_train, _, y_train, _ = digits_split
    clf = ProjectionNetClassifier(max_iter=2, random_state=0).fit(X_train, y_train)
    mlp = MLPClassifier((256, 256), max_iter=2, random_state=0).fit(X_train, y_train)
    assert clf.trainer_size_bytes_ == sum(a.nbytes for a in mlp.coefs_ + mlp.intercepts_)


def test_partial_fit_and_sample_weight_edge_cases():
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, random_state=0)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="sums to zero|at least one non-zero"):
        ProjectionNetClassifier().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="[Nn]egative"):
        ProjectionNetClassifier().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="needs a fitted trainer"):
        ProjectionNetClassifier(trainer=LogisticRegression()).partial_fit(X, y, classes=[0, 1, 2])
    # zero-weight minibatches are skipped, not turned into NaN weights
    sw = np.r_[np.zeros(100), np.ones(50)]
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, batch_size=50, shuffle=False,
                                  max_iter=5, random_state=0).fit(X, y, sample_weight=sw)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_failed_first_partial_fit_leaves_the_estimator_unfitted():
    from sklearn.exceptions import NotFittedError

    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, random_state=0)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2]


# ------------------------------------------------------------ issue 14: failed fits, warm_start
def test_to_compact_refuses_non_finite_weights():
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=3,
                                  random_state=0).fit(X, y)
    clf.coefs_[0][3, 1] = np.nan  # as a failed fit used to leave them
    for dtype in ("float32", "float16", "int8"):
        with pytest.raises(ValueError, match="non-finite"):
            clf.to_compact(dtype)


def test_numpy_integer_sizes_do_not_wrap():
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=np.int32(65536), n_bits=np.int32(65536), max_iter=2)
    with pytest.raises(ValueError, match=r"= 4294967296 bits is too large"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="n_bits must be an int"):
        ProjectionNetClassifier(n_bits=True).fit(X, y)
    clf = ProjectionNetClassifier(n_projections=np.int32(4), n_bits=np.uint8(200), max_iter=2,
                                  batch_size=np.int64(50), random_state=0).fit(X, y)
    assert clf.coefs_[0].shape == (800, 3)


def test_an_unused_trainer_is_initialised_when_a_continued_fit_uses_it():
    from sklearn.exceptions import NotFittedError

    from sklearn_projection._trainer import BuiltinTrainer

    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=2,
                                  warm_start=True, random_state=0, **ALONE).fit(X, y)
    assert isinstance(clf.trainer_, BuiltinTrainer) and clf.trainer_size_bytes_ == 0
    with pytest.raises(NotFittedError, match="never trained"):
        clf.trainer_.predict_proba(X)
    clf.set_params(trainer_weight=1.0, distill_weight=1.0).fit(X, y)
    assert [W.shape for W in clf.trainer_.coefs_] == [(4, 8), (8, 3)]
    assert clf.trainer_size_bytes_ == clf.trainer_.size_bytes > 0
    assert clf.trainer_.predict(X).shape == (150,) and clf.n_iter_ == 4


def _record_training_input_range(monkeypatch):
    """A list that collects (min, max) of the projection network's inputs of every
    minibatch, as the joint objective receives them."""
    from sklearn_projection import _network

    seen = []
    original = _network.joint_objective

    def spy(bits_b, *args, **kwargs):
        seen.append((bits_b.min(), bits_b.max()))
        return original(bits_b, *args, **kwargs)

    monkeypatch.setattr(_network, "joint_objective", spy)
    return seen


def test_ternary_reading_trains_on_signed_inputs_and_predicts_as_its_compact_model(digits_split, monkeypatch):
    """The projection network is trained on the {-1, 0, +1} signs (the same values the
    inference path reads), and the float32 compact model predicts bit-identically."""
    X_train, X_test, y_train, _ = digits_split
    seen = _record_training_input_range(monkeypatch)
    clf = ProjectionNetClassifier(n_projections=20, n_bits=10, reading="ternary", projection_hidden_layer_sizes=(8,),
                                  trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X_train, y_train)
    assert seen and min(lo for lo, _ in seen) == -1 and max(hi for _, hi in seen) == 1
    assert clf.projection_.reading == "ternary"
    np.testing.assert_array_equal(clf.to_compact().predict_proba(X_test), clf.predict_proba(X_test))
    # the network computes over the signs: its first layer, densely, gives the same classes
    signs = clf.projection_.transform(X_test).astype(np.float64)
    z = np.maximum(signs @ clf.coefs_[0] + clf.intercepts_[0], 0) @ clf.coefs_[1] + clf.intercepts_[1]
    assert (np.argmax(z, axis=1) == np.searchsorted(clf.classes_, clf.predict(X_test))).mean() > 0.99
    # binary, same seed: another model
    binary = ProjectionNetClassifier(n_projections=20, n_bits=10, projection_hidden_layer_sizes=(8,), reading="binary",
                                     trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X_train, y_train)
    assert binary.projection_.seed_ == clf.projection_.seed_
    assert not np.array_equal(binary.predict_proba(X_test), clf.predict_proba(X_test))


def test_quinary_reading_trains_on_five_levels_and_predicts_as_its_compact_models(digits_split, monkeypatch):
    """The projection network is trained on the {-2 .. 2} levels with the threshold set at
    the first fit; the float32 compact model predicts bit-identically, the int8 one as
    its own first layer says; warm_start and partial_fit keep the threshold."""
    X_train, X_test, y_train, _ = digits_split
    seen = _record_training_input_range(monkeypatch)
    kw = dict(n_projections=20, n_bits=10, projection_hidden_layer_sizes=(8,), trainer_hidden_layer_sizes=(16,),
              max_iter=3, random_state=0)
    clf = ProjectionNetClassifier(reading="quinary", **kw).fit(X_train, y_train)
    assert seen and min(lo for lo, _ in seen) == -2 and max(hi for _, hi in seen) == 2
    proj = clf.projection_
    assert proj.reading == "quinary" and proj.threshold_ > 0
    # the threshold is the median |s| over the training rows the network saw
    from sklearn_projection._projection import quinary_threshold

    assert proj.threshold_ == quinary_threshold(X_train, proj.seed_, proj.n_bits_total_, proj.density_)
    compact = clf.to_compact()
    assert compact.reading_ == "quinary" and compact.threshold_ == proj.threshold_
    np.testing.assert_array_equal(compact.predict_proba(X_test), clf.predict_proba(X_test))
    assert compact.size_bytes == clf.size_bytes
    int8 = clf.to_compact("int8")
    assert (int8.predict(X_test) == clf.predict(X_test)).mean() > 0.95
    # the network computes over the levels: its first layer, densely, gives the same classes
    levels = proj.transform(X_test).astype(np.float64)
    z = np.maximum(levels @ clf.coefs_[0] + clf.intercepts_[0], 0) @ clf.coefs_[1] + clf.intercepts_[1]
    assert (np.argmax(z, axis=1) == np.searchsorted(clf.classes_, clf.predict(X_test))).mean() > 0.99
    # ternary, same seed: the same projection read otherwise, another model
    ternary = ProjectionNetClassifier(reading="ternary", **kw).fit(X_train, y_train)
    assert ternary.projection_.seed_ == proj.seed_ and ternary.projection_.threshold_ == 0.0
    assert not np.array_equal(ternary.predict_proba(X_test), clf.predict_proba(X_test))
    # warm_start and partial_fit continue with the threshold of the first fit (on other rows)
    tau, seed = proj.threshold_, proj.seed_
    clf.set_params(warm_start=True).fit(X_train[::2] * 3.0, y_train[::2])
    assert clf.projection_.threshold_ == tau and clf.projection_.seed_ == seed
    clf.partial_fit(X_train[:50] * 5.0, y_train[:50])
    assert clf.projection_.threshold_ == tau
    np.testing.assert_array_equal(clf.to_compact().predict_proba(X_test), clf.predict_proba(X_test))


def test_a_classifier_pickled_before_the_quinary_reading_loads(digits_split):
    """A fitted ternary classifier pickled before threshold_ existed (its projection has
    none) loads, predicts and makes compact models and C as before."""
    import pickle

    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, reading="ternary", projection_hidden_layer_sizes=(4,),
                                  max_iter=2, random_state=0).fit(X_train, y_train)
    old = pickle.loads(pickle.dumps(clf))
    del old.projection_.__dict__["threshold_"]
    back = pickle.loads(pickle.dumps(old))
    assert not hasattr(back.projection_, "threshold_")
    np.testing.assert_array_equal(back.predict_proba(X_test), clf.predict_proba(X_test))
    compact = back.to_compact("int8")
    assert compact.reading_ == "ternary" and compact.threshold_ == 0.0
    np.testing.assert_array_equal(compact.predict_proba(X_test), clf.to_compact("int8").predict_proba(X_test))
    assert back.size_bytes == clf.size_bytes
    back.set_params(warm_start=True).fit(X_train, y_train)  # continues


def test_reading_is_validated_and_old_pickles_read_binary(digits_split):
    import pickle

    X_train, X_test, y_train, _ = digits_split
    with pytest.raises(ValueError, match="reading"):
        ProjectionNetClassifier(reading="two-bit").fit(X_train, y_train)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, max_iter=2, random_state=0).fit(X_train, y_train)
    # a classifier pickled before the option existed: neither it nor its projection has "reading"
    old = pickle.loads(pickle.dumps(clf))
    del old.__dict__["reading"], old.projection_.__dict__["reading"]
    back = pickle.loads(pickle.dumps(old))
    assert back.reading == "binary" and back.projection_.reading == "binary"
    assert back.to_compact().reading_ == "binary"
    np.testing.assert_array_equal(back.predict_proba(X_test), clf.predict_proba(X_test))
    back.set_params(warm_start=True).fit(X_train, y_train)  # continues: the reading did not change


@pytest.mark.parametrize("first", [True, False])
def test_warm_start_may_switch_early_stopping(first):
    """Switching early_stopping between warm_start fits used to fail (best_loss_ or
    validation_scores_ was None: what the first fit had not needed)."""
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=3,
                                  warm_start=True, early_stopping=first, random_state=0).fit(X, y)
    clf.set_params(early_stopping=not first).fit(X, y)
    assert clf.n_iter_ == 6
    if first:
        assert np.isfinite(clf.best_loss_)
    else:
        assert len(clf.validation_scores_) == 3 and clf.best_validation_score_ > 0


def test_alpha_auto_scales_with_the_training_set_and_is_kept_by_continued_fits():
    rng = np.random.RandomState(0)
    X = rng.rand(8192, 5)
    y = (X[:, 0] + 0.1 * rng.rand(8192) > 0.5).astype(int)
    kw = dict(n_projections=4, n_bits=8, trainer_hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    assert ProjectionNetClassifier(**kw).fit(X[:100], y[:100]).alpha_ == 0.3
    assert ProjectionNetClassifier(**kw).fit(X[:4096], y[:4096]).alpha_ == 0.3
    big = ProjectionNetClassifier(warm_start=True, **kw).fit(X, y)
    assert big.alpha_ == 0.15  # 0.3 * 4096 / 8192
    # "auto" reaches the objective as the number it chose
    same = ProjectionNetClassifier(alpha=0.15, **kw).fit(X, y)
    for a, b in zip(big.coefs_, same.coefs_):
        np.testing.assert_array_equal(a, b)
    # the total sample weight counts, so weights of 2 are 4 096 rows repeated twice
    weighted = ProjectionNetClassifier(**kw).fit(X[:4096], y[:4096], sample_weight=np.full(4096, 2.0))
    assert weighted.alpha_ == 0.15
    big.fit(X[:100], y[:100])  # a continued fit keeps the first call's value
    assert big.alpha_ == 0.15
    big.set_params(alpha=0.01).fit(X[:100], y[:100])  # a number is used as given
    assert big.alpha_ == 0.01
    stream = ProjectionNetClassifier(**kw).partial_fit(X[:200], y[:200], classes=[0, 1])
    stream.partial_fit(X, y)
    assert stream.alpha_ == 0.3
    with pytest.raises(ValueError, match="alpha"):
        ProjectionNetClassifier(alpha="large").fit(X[:100], y[:100])


def test_auto_reading_is_decided_from_the_data(digits_split):
    """"auto": quinary with a hidden layer where the quinary threshold is positive (images),
    ternary where over half of the training sums are exactly 0 (short texts: tau = 0),
    binary for a linear head; a continued fit keeps what the first one decided."""
    import scipy.sparse as sp

    X_train, _, y_train, _ = digits_split
    kw = dict(n_projections=10, n_bits=10, trainer_hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    images = ProjectionNetClassifier(projection_hidden_layer_sizes=(8,), warm_start=True, **kw).fit(X_train, y_train)
    assert images.projection_.reading == "quinary" and images.projection_.threshold_ > 0
    assert images.to_compact("int8").reading_ == "quinary"
    images.fit(X_train, y_train)  # continues: "auto" still describes the network
    assert images.n_iter_ == 4
    assert ProjectionNetClassifier(**kw).fit(X_train, y_train).projection_.reading == "binary"
    # rows of 3 non-zeros among 2 000 columns: most sums of a row are exactly 0
    rng = np.random.RandomState(0)
    rows = np.repeat(np.arange(300), 3)
    text = sp.csr_matrix((rng.rand(900), (rows, rng.randint(0, 2000, 900))), shape=(300, 2000))
    y = rng.randint(0, 2, 300)
    words = ProjectionNetClassifier(projection_hidden_layer_sizes=(8,), warm_start=True, **kw).fit(text, y)
    assert words.projection_.reading == "ternary" and words.projection_.threshold_ == 0.0
    words.fit(text, y)  # continues as ternary
    assert words.n_iter_ == 4
    with pytest.raises(ValueError, match="reading changed"):
        words.set_params(reading="quinary").fit(text, y)


def test_quinary_threshold_counts_a_row_of_weight_k_as_k_rows():
    from sklearn_projection import LSHProjection
    from sklearn_projection._projection import weighted_median

    rng = np.random.RandomState(0)
    for _ in range(20):  # the weighted median is np.median of the repeated values
        values, weights = rng.rand(int(rng.randint(1, 9))), rng.randint(0, 4, size=8)
        weights = weights[: values.size]
        if weights.sum():
            assert weighted_median(values, weights.astype(float)) == np.median(np.repeat(values, weights))
    X = rng.rand(30, 6)
    w = rng.randint(0, 4, 30)
    kw = dict(n_projections=4, n_bits=8, reading="quinary", random_state=0)
    weighted = LSHProjection(**kw).fit(X, sample_weight=w)
    repeated = LSHProjection(**kw).fit(np.repeat(X, w, axis=0))
    assert weighted.threshold_ == repeated.threshold_ > 0
    assert LSHProjection(**kw).fit(X, sample_weight=np.ones(30)).threshold_ == LSHProjection(**kw).fit(X).threshold_
    with pytest.raises(ValueError, match="sample_weight"):
        LSHProjection(**kw).fit(X, sample_weight=np.ones(29))
