"""The trainer side (_trainer.py): the built-in trainer as a fitted classifier, external teachers."""



import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from sklearn_projection import ProjectionNetClassifier
from sklearn_projection._trainer import BuiltinTrainer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ALONE = dict(trainer_weight=0.0, distill_weight=0.0)


def test_builtin_trainer_is_a_fitted_classifier(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = ProjectionNetClassifier(trainer_hidden_layer_sizes=(32,), max_iter=20, random_state=0)
    clf.fit(X_train, y_train)
    trainer = clf.trainer_
    assert isinstance(trainer, BuiltinTrainer) and trainer.hidden_layer_sizes == (32,)
    assert [W.shape for W in trainer.coefs_] == [(64, 32), (32, 10)]
    assert trainer.n_features_in_ == 64
    np.testing.assert_array_equal(trainer.classes_, clf.classes_)
    proba = trainer.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(trainer.predict(X_test), clf.classes_[proba.argmax(axis=1)])
    assert trainer.score(X_test, y_test) > 0.8  # measured 0.889 after 20 epochs
    assert clf.trainer_size_bytes_ == trainer.size_bytes == sum(a.nbytes for a in trainer.coefs_ + trainer.intercepts_)
    with pytest.raises(ValueError, match="features"):
        trainer.predict(X_test[:, :10])
    with pytest.raises(TypeError, match="trained jointly"):
        trainer.fit(X_train, y_train)
    # the trainer trained alone is still a fitted estimator (it just is not used)
    alone = ProjectionNetClassifier(trainer_weight=0, distill_weight=0, max_iter=2).fit(X_train, y_train)
    assert isinstance(alone.trainer_, BuiltinTrainer)


def test_builtin_trainer_checks_feature_names(digits_split):
    pd = pytest.importorskip("pandas")
    X_train, X_test, y_train, _ = digits_split
    columns = [f"px{i}" for i in range(64)]
    clf = ProjectionNetClassifier(trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    clf.fit(pd.DataFrame(X_train, columns=columns), y_train)
    np.testing.assert_array_equal(clf.trainer_.feature_names_in_, columns)
    with pytest.raises(ValueError, match="feature names"):
        clf.trainer_.predict(pd.DataFrame(X_test, columns=columns[::-1]))


def test_external_fitted_teacher_is_distilled(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    # one OpenMP thread: HistGradientBoosting's threads spinning against numba's on a busy
    # 2-core machine made this fit take minutes instead of a second
    with threadpool_limits(limits=1, user_api="openmp"):
        teacher = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(X_train, y_train)
    clf = ProjectionNetClassifier(trainer=FrozenEstimator(teacher), random_state=0)
    clf.fit(X_train, y_train)
    assert clf.trainer_ is not None and not isinstance(clf.trainer_, BuiltinTrainer)
    with pytest.warns(FutureWarning):
        assert clf.trainer_coefs_ is None
    assert clf.score(X_test, y_test) >= 0.95
    np.testing.assert_allclose(
        clf.trainer_.predict_proba(X_test), teacher.predict_proba(X_test)
    )
    # FrozenEstimator keeps the teacher fitted through clone (and so GridSearchCV)
    cloned = clone(clf).fit(X_train, y_train)
    np.testing.assert_array_equal(cloned.predict(X_test), clf.predict(X_test))
    assert clf.trainer_size_bytes_ > clf.size_bytes


def test_unfitted_teacher_is_fitted_on_the_training_data(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    teacher = LogisticRegression(max_iter=500)
    clf = ProjectionNetClassifier(trainer=teacher, max_iter=50, random_state=0).fit(X_train, y_train)
    assert not hasattr(teacher, "coef_")  # the user's estimator is not modified
    assert hasattr(clf.trainer_, "coef_")
    assert clf.score(X_test, y_test) > 0.9


def test_teacher_with_string_labels_in_another_order():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    teacher = LogisticRegression(max_iter=1000).fit(X, names)
    clf = ProjectionNetClassifier(
        trainer=teacher, n_projections=20, n_bits=8, max_iter=200, temperature=2.0, random_state=0
    ).fit(X, names)
    assert set(clf.predict(X)) <= set(names)
    assert clf.score(X, names) > 0.85


def test_teacher_missing_a_class_is_rejected():
    X, y = load_iris(return_X_y=True)
    teacher = LogisticRegression().fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="without the classes"):
        ProjectionNetClassifier(trainer=teacher).fit(X, y)


def test_teacher_returning_nan_probabilities_is_refused():
    X, y = load_iris(return_X_y=True)
    teacher = _NaNTeacher(max_iter=500).fit(X, y)
    with pytest.raises(ValueError, match="NaN or infinite probabilities"):
        ProjectionNetClassifier(trainer=teacher, max_iter=2).fit(X, y)


class _NaNTeacher(LogisticRegression):
    def predict_proba(self, X):
        proba = super().predict_proba(X)
        proba[0, 0] = np.nan
        return proba


# --------------------------------------------------------------------------------------
# The hashed first layer over sparse wide input (sklearn_projection._embedding)
# --------------------------------------------------------------------------------------

import pickle  # noqa: E402

import scipy.sparse as sp  # noqa: E402

from sklearn_projection import _embedding  # noqa: E402
from sklearn_projection import _network as nn  # noqa: E402

SMALL_TABLE = 256  # TABLE_ROWS in these tests (90 words: few collisions), so that they run in a second


@pytest.fixture
def small_table(monkeypatch):
    monkeypatch.setattr(_embedding, "TABLE_ROWS", SMALL_TABLE)


def wide_problem(n=240, width=2**31, n_classes=3, seed=0, vocab=None):
    """Sparse rows of ``width`` columns: each class has its own 30 'words' (scattered
    column indices), a row holds 4 words of its class and 2 of any class."""
    rng = np.random.RandomState(seed)
    # (not choice(replace=False): that permutes all 2**30 candidates)
    words = rng.randint(0, 2**30, size=(n_classes, 30)) * (width // 2**30)
    y = rng.randint(n_classes, size=n)
    rows = []
    for c in y:
        own = rng.choice(words[c], 4, replace=False) if vocab is None else rng.choice(words[c][vocab], 4)
        other = words[rng.randint(n_classes, size=2), rng.randint(30, size=2)]
        rows.append(np.unique(np.concatenate([own, other])))
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    X = sp.csr_matrix((np.ones(indptr[-1]), np.concatenate(rows), indptr), shape=(n, width))
    X.indices = X.indices.astype(np.int64)
    return X, y


def test_sparse_wide_input_gets_a_hashed_table_and_narrow_input_does_not(small_table):
    X, y = wide_problem()
    kw = dict(n_projections=10, n_bits=8, density=0.05, trainer_hidden_layer_sizes=(16,), max_iter=30,
              random_state=0)
    clf = ProjectionNetClassifier(**kw).fit(X, y)
    trainer = clf.trainer_
    assert trainer.table_rows_ == SMALL_TABLE
    assert [W.shape for W in trainer.coefs_] == [(SMALL_TABLE, 16), (16, 3)]
    assert trainer.n_features_in_ == 2**31
    assert clf.trainer_size_bytes_ == trainer.size_bytes == sum(a.nbytes for a in trainer.coefs_ + trainer.intercepts_)
    assert trainer.score(X, y) > 0.9  # the table learns the words (collisions and all)
    # predictions are those of a dense first layer whose row j is the table's row of j
    rows_of = _embedding.feature_rows(X.indices, SMALL_TABLE)
    X_rows = sp.csr_matrix((X.data, rows_of, X.indptr), shape=(X.shape[0], SMALL_TABLE))
    z = nn.forward(X_rows, trainer.coefs_, trainer.intercepts_)[-1]
    np.testing.assert_allclose(trainer.predict_proba(X), nn.softmax(z), rtol=1e-12)
    # a table survives pickling
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(trainer)).predict_proba(X), trainer.predict_proba(X))

    # narrow sparse (<= TABLE_ROWS columns) and dense input keep the dense layer
    X_narrow = sp.random(60, SMALL_TABLE, density=0.1, format="csr", random_state=0)
    y_narrow = np.arange(60) % 3
    for Xn in (X_narrow, X_narrow.toarray()):
        dense = ProjectionNetClassifier(**kw).fit(Xn, y_narrow)
        assert dense.trainer_.table_rows_ is None
        assert dense.trainer_.coefs_[0].shape == (SMALL_TABLE, 16)
    assert _embedding.table_rows_for(sp.csr_matrix((2, SMALL_TABLE + 1))) == SMALL_TABLE
    assert _embedding.table_rows_for(np.zeros((2, SMALL_TABLE + 1))) is None


def test_hashed_table_is_deterministic_and_the_alone_fit_has_the_same_minibatches(small_table):
    """Same random_state: the same table. Trained alone (the trainer never initialised) or
    with the trainer trained but not distilled (it then cannot affect the projection
    network), the projection network is the same to the bit: the unused trainer's table
    is skipped in the random stream exactly as it is drawn when used."""
    X, y = wide_problem()
    kw = dict(n_projections=10, n_bits=8, density=0.05, trainer_hidden_layer_sizes=(16,), max_iter=5,
              random_state=3)
    a = ProjectionNetClassifier(**kw).fit(X, y)
    b = ProjectionNetClassifier(**kw).fit(X, y)
    for u, v in zip(a.trainer_.coefs_ + a.coefs_, b.trainer_.coefs_ + b.coefs_):
        np.testing.assert_array_equal(u, v)
    alone = ProjectionNetClassifier(trainer_weight=0, distill_weight=0, **kw).fit(X, y)
    assert alone.trainer_.table_rows_ == SMALL_TABLE and alone.trainer_size_bytes_ == 0
    taught_not = ProjectionNetClassifier(trainer_weight=1, distill_weight=0, **kw).fit(X, y)
    assert taught_not.trainer_.table_rows_ == SMALL_TABLE
    for u, v in zip(alone.coefs_ + alone.intercepts_, taught_not.coefs_ + taught_not.intercepts_):
        np.testing.assert_array_equal(u, v)


def test_partial_fit_learns_features_that_appear_later_in_the_stream(small_table):
    """Rows of the table move only when a feature reading them appears: the second half
    of the stream brings words the first half never had, which then get learned."""
    kw = dict(n_projections=10, n_bits=8, density=0.05, trainer_hidden_layer_sizes=(16,), learning_rate_init=0.01,
              random_state=0)
    X_early, y_early = wide_problem(seed=0, vocab=slice(0, 15))  # words 0-14 of each class
    X_late, y_late = wide_problem(seed=0, vocab=slice(15, 30))  # words 15-29: new features
    clf = ProjectionNetClassifier(**kw)
    for _ in range(15):
        clf.partial_fit(X_early, y_early, classes=[0, 1, 2])
    table = clf.trainer_.coefs_[0].copy()
    late_only = np.setdiff1d(_embedding.feature_rows(X_late.indices, SMALL_TABLE),
                             _embedding.feature_rows(X_early.indices, SMALL_TABLE))
    never = np.setdiff1d(np.arange(SMALL_TABLE), _embedding.feature_rows(
        np.concatenate([X_early.indices, X_late.indices]), SMALL_TABLE))
    assert len(late_only) and len(never)
    before = clf.trainer_.score(X_late, y_late)
    for _ in range(15):
        clf.partial_fit(X_late, y_late)
    after = clf.trainer_.coefs_[0]
    assert not np.array_equal(after[late_only], table[late_only])  # the new features' rows learned
    np.testing.assert_array_equal(after[never], table[never])  # untouched rows never move
    assert clf.trainer_.score(X_late, y_late) > max(0.9, before)
    assert clf.score(X_late, y_late) > 0.8


def test_memory_check_counts_the_table_not_the_input_width(small_table, monkeypatch):
    import sklearn_projection._joint_training as jt

    seen = []
    monkeypatch.setattr(jt, "_check_networks_fit_in_memory",
                        lambda n, b, proj, trainer: seen.append(list(trainer)))
    X, y = wide_problem(n=30)
    ProjectionNetClassifier(n_projections=4, n_bits=8, density=0.05, trainer_hidden_layer_sizes=(8,),
                            max_iter=1).fit(X, y)
    assert seen == [[SMALL_TABLE, 8, 3]]
