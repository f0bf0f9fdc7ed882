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
