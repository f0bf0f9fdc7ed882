"""ProjectionNetClassifier on real data, in scikit-learn tooling, and on bad input."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_projection import ProjectionNetClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ALONE = dict(trainer_weight=0.0, distill_weight=0.0)


def test_digits_projection_network_is_accurate_and_ten_times_smaller(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = ProjectionNetClassifier(n_projections=60, n_bits=10, random_state=0).fit(X_train, y_train)
    # measured 0.980 (trainer 0.978); 0.95 is the acceptance bar
    assert clf.score(X_test, y_test) >= 0.95
    assert clf.trainer_.score(X_test, y_test) >= 0.95
    assert clf.size_bytes <= clf.trainer_size_bytes_ / 10
    # 600 x 10 float32 weights + 10 biases + the 8-byte seed
    assert clf.size_bytes == (600 * 10 + 10) * 4 + 8 + 8 + 4 * 5
    with pytest.warns(FutureWarning, match="projection_size_bytes_ is deprecated"):
        assert clf.projection_size_bytes_ == (600 * 10 + 10) * 4 + 8


def test_joint_training_beats_the_projection_network_alone_on_real_text(trec6_split):
    """TREC-6, TF-IDF 1-2-grams, 600 bits, linear head, 10 epochs, seeds 0-2, measured:
    alone 0.6838 0.6970 0.6992, joint 0.6992 0.7131 0.7205 (+1.8 points on average).

    On digits the projection network alone is already at ~0.978 with a linear head over 600
    bits and joint training does not add to it (docs/benchmarks.md); on short texts, where
    the bits carry less, the trainer's soft output does.
    """
    texts_train, texts_test, y_train, y_test = trec6_split
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=4000, sublinear_tf=True)
    X_train, X_test = vec.fit_transform(texts_train), vec.transform(texts_test)
    alone, joint = [], []
    for seed in range(3):
        a = ProjectionNetClassifier(max_iter=10, random_state=seed, **ALONE).fit(X_train, y_train)
        j = ProjectionNetClassifier(max_iter=10, random_state=seed).fit(X_train, y_train)
        assert j.size_bytes == a.size_bytes
        alone.append(a.score(X_test, y_test))
        joint.append(j.score(X_test, y_test))
    assert min(alone) >= 0.65
    assert all(j > a for j, a in zip(joint, alone)), (joint, alone)
    assert np.mean(joint) - np.mean(alone) > 0.01, (joint, alone)


def test_predict_proba_of_both_networks(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(max_iter=20, random_state=0).fit(X_train, y_train)
    for model in (clf, clf.trainer_):
        proba = model.predict_proba(X_test)
        assert proba.shape == (len(X_test), 10) and proba.dtype == np.float64
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], model.predict(X_test))
        np.testing.assert_allclose(np.exp(model.predict_log_proba(X_test)), proba, rtol=1e-12)
    assert not np.array_equal(clf.predict_proba(X_test), clf.trainer_.predict_proba(X_test))


def test_count_vectorizer_pipeline_on_real_text(trec6_split):
    X_train, X_test, y_train, y_test = trec6_split
    pipe = make_pipeline(
        CountVectorizer(),
        ProjectionNetClassifier(
            trainer_hidden_layer_sizes=(64,), projection_hidden_layer_sizes=(64,),
            max_iter=10, random_state=0,
        ),
    )
    pipe.fit(X_train, y_train)
    # measured 0.735 (trainer 0.822; TF-IDF + LogisticRegression ~0.86; 6 classes, the
    # largest holds 23%): short questions set few of the 600 bits at the default density
    assert pipe.score(X_test, y_test) >= 0.70
    assert set(pipe.predict(X_test)) <= set(y_train)


def test_sparse_input_trains_and_predicts(sms_split):
    X_train, X_test, y_train, y_test = sms_split
    vec = CountVectorizer().fit(X_train)
    A_train, A_test = vec.transform(X_train), vec.transform(X_test)
    assert sp.issparse(A_train)
    clf = ProjectionNetClassifier(trainer_hidden_layer_sizes=(64,), max_iter=10, random_state=0)
    clf.fit(A_train, y_train)
    # measured 0.948 (trainer 0.981); predicting "ham" everywhere scores 0.866
    assert clf.score(A_test, y_test) >= 0.93
    np.testing.assert_array_equal(clf.predict(A_test), clf.predict(A_test.toarray()))


def test_standard_scaler_pipeline_on_images(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipe = make_pipeline(StandardScaler(), ProjectionNetClassifier(max_iter=50, random_state=0))
    assert pipe.fit(X_train, y_train).score(X_test, y_test) >= 0.93


def test_grid_search_over_bit_budgets(digits_split):
    X_train, _, y_train, _ = digits_split
    base = ProjectionNetClassifier(trainer_hidden_layer_sizes=(64,), max_iter=15, random_state=0)
    grid = {"n_projections": [8, 40], "n_bits": [4, 10]}
    serial = GridSearchCV(base, grid, cv=2).fit(X_train, y_train)
    parallel = GridSearchCV(base, grid, cv=2, n_jobs=2).fit(X_train, y_train)
    np.testing.assert_allclose(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert serial.best_params_ == {"n_projections": 40, "n_bits": 10}
    scores = dict(zip(map(str, serial.cv_results_["params"]), serial.cv_results_["mean_test_score"]))
    assert scores[str({"n_bits": 4, "n_projections": 8})] < scores[str({"n_bits": 10, "n_projections": 40})]


def test_clone_and_pickle_round_trip(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(max_iter=10, random_state=0).fit(X_train, y_train)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(
        restored.trainer_.predict_proba(X_test), clf.trainer_.predict_proba(X_test)
    )
    fresh = clone(clf)
    assert not hasattr(fresh, "coefs_") and fresh.get_params() == clf.get_params()


def test_same_random_state_gives_the_same_model(digits_split):
    X_train, X_test, y_train, _ = digits_split
    a = ProjectionNetClassifier(max_iter=5, random_state=7).fit(X_train, y_train)
    b = ProjectionNetClassifier(max_iter=5, random_state=7).fit(X_train, y_train)
    c = ProjectionNetClassifier(max_iter=5, random_state=8).fit(X_train, y_train)
    assert a.projection_.seed_ == b.projection_.seed_ != c.projection_.seed_
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_binary_string_labels_and_float32_input():
    X, y = load_iris(return_X_y=True)
    labels = np.where(y == 0, "setosa", "other")
    clf = ProjectionNetClassifier(n_projections=20, n_bits=8, max_iter=100, random_state=0)
    clf.fit(X.astype(np.float32), labels)
    assert list(clf.classes_) == ["other", "setosa"]
    assert clf.score(X.astype(np.float32), labels) > 0.95
    assert clf.trainer_.coefs_[0].dtype == np.float32


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_projections": 0}, "n_projections"),
        ({"n_bits": 0}, "n_bits"),
        ({"n_projections": -3}, "n_projections"),
        ({"n_projections": 2**20, "n_bits": 2**12}, "too large"),
        ({"temperature": 0}, "temperature"),
        ({"distill_weight": 0, "projection_weight": 0}, "learn nothing"),
        ({"trainer_weight": 0}, "never learns"),
        ({"projection_hidden_layer_sizes": (10, 0)}, "positive"),
        ({"trainer": "mlp"}, "trainer"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_parameters_get_clear_errors(params, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        ProjectionNetClassifier(**params).fit(X, y)


def test_bad_input_gets_clear_errors():
    X, y = load_iris(return_X_y=True)
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, max_iter=5, random_state=0)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y)
    with pytest.raises(ValueError, match="infinity"):
        clf.fit(np.where(X > 7, np.inf, X), y)
    with pytest.raises(ValueError, match="0 sample"):
        clf.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X[:40], y[:40])
    with pytest.raises(ValueError, match="could not convert|numeric"):
        clf.fit(np.array([["a", "b"]] * 10, dtype=object), np.arange(10) % 2)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, y[:-1])
    clf.fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_nan)
    with pytest.raises(ValueError, match="Unknown label type"):
        ProjectionNetClassifier().fit(X, y + 0.5)


def test_decision_function_is_the_projection_network_logits(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=20, n_bits=10, max_iter=5, random_state=0)
    clf.fit(X_train, y_train)
    scores = clf.decision_function(X_test)
    assert scores.shape == (len(X_test), 10) and scores.dtype == np.float32
    np.testing.assert_array_equal(clf.classes_[scores.argmax(axis=1)], clf.predict(X_test))
    np.testing.assert_array_equal(scores, clf.to_compact().decision_function(X_test))
    # two classes: one column, positive for classes_[1], as scikit-learn's classifiers
    binary = ProjectionNetClassifier(n_projections=20, n_bits=10, max_iter=5, random_state=0)
    binary.fit(X_train, y_train % 2)
    d = binary.decision_function(X_test)
    assert d.shape == (len(X_test),)
    np.testing.assert_array_equal(binary.classes_[(d > 0).astype(int)], binary.predict(X_test))
    np.testing.assert_array_equal(d, binary.to_compact().decision_function(X_test))
