"""Continued fits (_fit_state.py): a failed call rolls back, a changed structure is refused."""



import copy

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from sklearn_projection import ProjectionNetClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ALONE = dict(trainer_weight=0.0, distill_weight=0.0)


def _fitted_state(clf):
    """Everything a fit may set, as comparable plain values."""
    state = {}
    for key, value in vars(clf).items():
        if key in clf.get_params(deep=False):
            continue
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            value = [a.copy() for a in value]
        elif key == "trainer_":
            value = [a.copy() for a in value.coefs_ + value.intercepts_]
        elif key == "projection_":
            value = value.seed_
        elif key == "_optimizer":
            value = [a.copy() for a in value.ms + value.vs] + [value.t]
        elif key != "_trainer_param":
            value = copy.deepcopy(value)
        state[key] = value
    return state


def _assert_same_state(before, after):
    assert sorted(before) == sorted(after)
    for key in before:
        a, b = before[key], after[key]
        if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
            assert len(a) == len(b), key
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y, err_msg=key)
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=key)
        else:
            assert a == b or (a != a and b != b), key


def _overflowing_weights(n):
    return np.full(n, 1e308)  # every loss term times 1e308: the weights become non-finite
def _continue_beside_a_twin(clf, X, y, how):
    """Continue ``clf`` once more (``how``: "warm_start" or "partial_fit") beside a fresh twin
    fitted twice, and check they predict the same: a failed call in between left no trace.
    Returns the twin."""
    twin = ProjectionNetClassifier(**clf.get_params())
    if how == "warm_start":
        twin.fit(X, y)
        clf.fit(X, y)
        twin.fit(X, y)
    else:
        twin.partial_fit(X, y, classes=[0, 1, 2])
        clf.partial_fit(X, y)
        twin.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), twin.predict_proba(X))
    return twin


def test_a_failed_fit_leaves_the_estimator_unfitted():
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=3,
                                  random_state=0)
    with pytest.raises(ValueError, match="non-finite weights"):
        clf.fit(X, y, sample_weight=_overflowing_weights(len(y)))
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [k for k in vars(clf) if k.endswith("_") and k not in clf.get_params()]
    # a refit without warm_start that fails does not leave the earlier model behind either
    clf.fit(X, y)
    with pytest.raises(ValueError, match="non-finite weights"):
        clf.fit(X, y, sample_weight=_overflowing_weights(len(y)))
    with pytest.raises(NotFittedError):
        clf.predict(X)
    # the first call of partial_fit likewise
    with pytest.raises(ValueError, match="non-finite weights"):
        clf.partial_fit(X, y, classes=[0, 1, 2], sample_weight=_overflowing_weights(len(y)))
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_failed_continued_fit_keeps_the_previous_state(how):
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=3,
                                  warm_start=how == "warm_start", random_state=0)
    if how == "warm_start":
        clf.fit(X, y)
    else:
        clf.partial_fit(X, y, classes=[0, 1, 2])
    before, proba = _fitted_state(clf), clf.predict_proba(X)
    with pytest.raises(ValueError, match="non-finite weights"):
        if how == "warm_start":
            clf.fit(X, y, sample_weight=_overflowing_weights(len(y)))
        else:
            clf.partial_fit(X, y, sample_weight=_overflowing_weights(len(y)))
    _assert_same_state(before, _fitted_state(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    # and it goes on from there as if the failed call had not happened
    _continue_beside_a_twin(clf, X, y, how)


@pytest.mark.parametrize(
    "change",
    [
        {"n_projections": 16, "n_bits": 4},  # the same 64 bits, split otherwise
        {"n_projections": 4},
        {"projection_hidden_layer_sizes": (5,)},
        {"trainer_hidden_layer_sizes": (7,)},
        {"density": 0.25},  # "auto" is 0.5 on 4 features
        {"reading": "ternary"},
        {"trainer": "external"},
    ],
)
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_continuing_with_a_changed_structure_is_refused(change, how):
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=2,
                                  warm_start=True, random_state=0)
    if how == "warm_start":
        clf.fit(X, y)
    else:
        clf.partial_fit(X, y, classes=[0, 1, 2])
    before = _fitted_state(clf)
    if change == {"trainer": "external"}:
        from sklearn.frozen import FrozenEstimator

        change = {"trainer": FrozenEstimator(LogisticRegression(max_iter=500).fit(X, y))}
    clf.set_params(**change)
    name = sorted(change)[-1] if "n_bits" not in change else "n_bits"
    with pytest.raises(ValueError, match=rf"{name} changed .*warm_start=False"):
        clf.fit(X, y) if how == "warm_start" else clf.partial_fit(X, y)
    _assert_same_state(before, _fitted_state(clf))
    # with warm_start=False, fit starts again from scratch with the new structure
    clf.set_params(warm_start=False).fit(X, y)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_auto_density_is_decided_once_from_the_first_data(how):
    # "auto" depends on the data; continuing on other data keeps the density (and bits)
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=2,
                                  warm_start=True, random_state=0)
    clf.fit(X, y) if how == "warm_start" else clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.projection_.density_ == 0.5  # 1/sqrt(4 columns used), 4 non-zeros per row
    sparser = X * (np.arange(4) < 2)  # would be 1/sqrt(2) if it were decided again
    clf.fit(sparser, y) if how == "warm_start" else clf.partial_fit(sparser, y)
    assert clf.projection_.density_ == 0.5
    # the number "auto" chose is not "auto": the parameter changed
    clf.set_params(density=0.5)
    with pytest.raises(ValueError, match=r"density changed from 'auto' to 0.5"):
        clf.fit(X, y) if how == "warm_start" else clf.partial_fit(X, y)


def test_warm_start_may_change_what_does_not_shape_the_network():
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=2,
                                  warm_start=True, random_state=0).fit(X, y)
    seed = clf.projection_.seed_
    clf.set_params(learning_rate_init=1e-2, temperature=2.0, alpha=1e-3, max_iter=3, random_state=5,
                   n_projections=np.int64(8), trainer_hidden_layer_sizes=[8])
    clf.fit(X, y)
    assert clf.n_iter_ == 5 and clf.projection_.seed_ == seed


# --------------------------------------------------------------------------------------
# The hashed table of the trainer over sparse wide input: shared, touched rows saved
# --------------------------------------------------------------------------------------


def _wide_sparse(n=90, seed=0):
    import scipy.sparse as sp

    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    words = rng.randint(0, 2**30, size=(3, 20)) * 4  # 2**32 columns (choice without replacement permutes 2**30)
    cols = [np.unique(rng.choice(words[c], 4)) for c in y]
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in cols])])
    X = sp.csr_matrix((np.ones(indptr[-1]), np.concatenate(cols), indptr), shape=(n, 2**32))
    return X, y


@pytest.fixture
def small_table(monkeypatch):
    from sklearn_projection import _embedding

    monkeypatch.setattr(_embedding, "TABLE_ROWS", 128)


@pytest.mark.parametrize("failure", ["non_finite", "interrupted"])
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_failed_continued_fit_restores_the_rows_of_a_hashed_table(how, failure, small_table, monkeypatch):
    """The table and its moments are shared with the saved state, not copied: a failed
    call (non-finite weights at the end, or an exception after some minibatch steps)
    writes the saved rows back, and training goes on as if it had not happened."""
    from sklearn_projection import _network as nn

    real = nn.joint_objective
    X, y = _wide_sparse()
    X_other, _ = _wide_sparse(seed=1)  # other words: other rows of the table
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, density=0.1, trainer_hidden_layer_sizes=(8,),
                                  max_iter=3, batch_size=30, warm_start=how == "warm_start", random_state=0)
    if how == "warm_start":
        clf.fit(X, y)
    else:
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.trainer_.table_rows_ == 128
    table = clf.trainer_.coefs_[0]
    before, proba = _fitted_state(clf), clf.predict_proba(X)
    with pytest.raises((ValueError, KeyboardInterrupt)):
        if failure == "non_finite":
            kw = dict(sample_weight=_overflowing_weights(len(y)))
        else:
            calls = []

            def interrupted(*a, **k):
                calls.append(1)
                if len(calls) == 3:  # two minibatch steps done, the third interrupted
                    raise KeyboardInterrupt
                return real(*a, **k)

            monkeypatch.setattr(nn, "joint_objective", interrupted)
            kw = {}
        Xc = X + X_other  # rows it touches that the first call did not
        if how == "warm_start":
            clf.fit(Xc, y, **kw)
        else:
            clf.partial_fit(Xc, y, **kw)
    monkeypatch.setattr(nn, "joint_objective", real)
    assert clf.trainer_.coefs_[0] is table  # shared, not replaced
    assert "_table_undo" not in vars(clf)
    _assert_same_state(before, _fitted_state(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    twin = _continue_beside_a_twin(clf, X, y, how)
    np.testing.assert_array_equal(clf.trainer_.predict_proba(X), twin.trainer_.predict_proba(X))


def test_a_continued_call_saves_only_the_rows_it_touches(small_table, monkeypatch):
    X, y = _wide_sparse()
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, density=0.1, trainer_hidden_layer_sizes=(8,),
                                  random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    saved = []
    real = type(clf)._save_table_rows
    monkeypatch.setattr(type(clf), "_save_table_rows", lambda self, rows: (saved.append(rows), real(self, rows)))
    clf.partial_fit(X[:10], y[:10])
    from sklearn_projection._embedding import feature_rows

    np.testing.assert_array_equal(saved[0], np.unique(feature_rows(X[:10].indices, 128)))
    assert len(saved[0]) < 128 / 2
