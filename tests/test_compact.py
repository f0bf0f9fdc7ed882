"""CompactProjectionClassifier: equality with the full model, dtypes, pipelines, persistence, bad files."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from sklearn_projection import CompactProjectionClassifier, ProjectionNetClassifier
from sklearn_projection._compact import compact_pipeline

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
DTYPES = ("float32", "float16", "int8")


@pytest.fixture(scope="module")
def text_pipeline(trec6_split):
    texts_train, _, y_train, _ = trec6_split
    return make_pipeline(
        CountVectorizer(),
        ProjectionNetClassifier(
            n_projections=40, n_bits=8, trainer_hidden_layer_sizes=(64,), max_iter=10,
            random_state=0,
        ),
    ).fit(texts_train, y_train)


# ---------------------------------------------------------------- equality / accuracy
def test_float32_compact_is_identical_to_full_classifier(digits_model, digits_split):
    _, X_test, _, y_test = digits_split
    compact = digits_model.to_compact()
    assert isinstance(compact, CompactProjectionClassifier) and compact.dtype_ == "float32"
    for X in (X_test, X_test[:7], X_test.astype(np.float32), sp.csr_matrix(X_test)):
        np.testing.assert_array_equal(compact.predict(X), digits_model.predict(X))
        np.testing.assert_array_equal(compact.predict_proba(X), digits_model.predict_proba(X))
    assert compact.score(X_test, y_test) == digits_model.score(X_test, y_test)
    np.testing.assert_allclose(
        np.exp(compact.predict_log_proba(X_test)), compact.predict_proba(X_test), rtol=1e-12
    )


@pytest.mark.parametrize("dtype", ["float16", "int8"])
def test_reduced_precision_keeps_accuracy(digits_model, digits_split, dtype):
    _, X_test, _, y_test = digits_split
    full = digits_model.score(X_test, y_test)
    compact = digits_model.to_compact(dtype)
    # measured: float16 +0.000, int8 -0.002 against float32 (0.961) on this split
    assert abs(compact.score(X_test, y_test) - full) <= 0.015
    assert np.mean(compact.predict(X_test) == digits_model.predict(X_test)) >= 0.98
    proba = compact.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, digits_model.predict_proba(X_test), atol=0.2)


def test_int8_quantisation_is_symmetric_per_output_column(digits_model):
    compact = digits_model.to_compact("int8")
    for W, q, s in zip(digits_model.coefs_, compact.coefs_, compact.scales_):
        assert q.dtype == np.int8 and s.dtype == np.float32 and s.shape == (W.shape[1],)
        assert np.abs(q).max(axis=0).tolist() == [127] * W.shape[1]
        np.testing.assert_allclose(q * s, W, atol=float(s.max()) / 2 * 1.0001)


def test_size_bytes_counts_the_inference_footprint(digits_model):
    sizes = {dt: digits_model.to_compact(dt) for dt in DTYPES}
    # 600 x 32 + 32 x 10 weights; biases (float32); int8 adds one float32 scale per column
    n_w, n_b = 600 * 32 + 32 * 10, 32 + 10
    # "auto" reads digits' sums in five levels with a hidden layer: tau (a float64) ships too
    assert digits_model.projection_.reading == "quinary"
    scalars = 8 + 8 + 4 * (3 + 2 + 1) + 8
    assert sizes["float32"].size_bytes == 4 * n_w + 4 * n_b + scalars
    assert sizes["float16"].size_bytes == 2 * n_w + 4 * n_b + scalars
    assert sizes["int8"].size_bytes == n_w + 8 * n_b + scalars
    assert sizes["float32"].size_bytes == digits_model.size_bytes
    with pytest.warns(FutureWarning):
        assert sizes["float32"].size_bytes == digits_model.projection_size_bytes_ + 8 + 4 * 6 + 8
    for compact in sizes.values():
        assert 0 <= len(pickle.dumps(compact)) - compact.size_bytes < 400


def test_text_pipeline_sparse_rows(text_pipeline, trec6_split):
    _, texts_test, _, y_test = trec6_split
    compact = compact_pipeline(text_pipeline, "float32")
    assert type(compact[-1]) is CompactProjectionClassifier
    assert compact[0] is not text_pipeline[0]
    np.testing.assert_array_equal(compact.predict(texts_test), text_pipeline.predict(texts_test))
    np.testing.assert_array_equal(
        compact.predict_proba(texts_test), text_pipeline.predict_proba(texts_test)
    )
    assert compact.score(texts_test, y_test) > 0.5  # measured 0.598; majority class 0.23
    int8 = compact_pipeline(text_pipeline, "int8")
    assert abs(int8.score(texts_test, y_test) - compact.score(texts_test, y_test)) <= 0.015


def test_sparse_duplicates_unsorted_and_dense_agree(digits_model, digits_split):
    _, X_test, _, _ = digits_split
    compact = digits_model.to_compact("int8")
    X = X_test[:20]
    coo = sp.coo_matrix(X)
    # split every value in two duplicate entries, in reversed order
    rows = np.concatenate([coo.row, coo.row])[::-1]
    cols = np.concatenate([coo.col, coo.col])[::-1]
    vals = np.concatenate([coo.data / 2, coo.data / 2])[::-1]
    messy = sp.csr_matrix((vals, (rows, cols)), shape=X.shape)
    np.testing.assert_array_equal(compact.predict_proba(messy), compact.predict_proba(X))
    np.testing.assert_array_equal(compact.predict_proba(sp.csc_matrix(X)), compact.predict_proba(X))


def test_errors_on_bad_input_and_unfitted(digits_model, digits_split):
    _, X_test, _, _ = digits_split
    compact = digits_model.to_compact("int8")
    with pytest.raises(ValueError, match="features"):
        compact.predict(X_test[:, :10])
    with pytest.raises(ValueError, match="features"):
        compact.predict_proba(sp.csr_matrix(np.ones((2, 65))))
    bad = X_test[:3].copy()
    bad[1, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        compact.predict(bad)
    bad[1, 5] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        compact.predict_proba(bad)
    with pytest.raises(TypeError, match="not trained"):
        compact.fit(X_test, np.zeros(len(X_test)))
    with pytest.raises(ValueError, match="dtype must be one of"):
        digits_model.to_compact("int4")
    with pytest.raises(NotFittedError):
        ProjectionNetClassifier().to_compact()
    empty = clone(compact)
    assert empty.get_params() == {} and repr(empty) == "CompactProjectionClassifier()"
    with pytest.raises(NotFittedError):
        empty.predict(X_test)
    with pytest.raises(NotFittedError):
        empty.save("unused.bin")
    with pytest.raises(TypeError, match="Pipeline"):
        compact_pipeline(digits_model)
    with pytest.raises(TypeError, match="not a ProjectionNetClassifier"):
        compact_pipeline(make_pipeline(MaxAbsScaler()).fit(X_test))


def test_feature_names_are_kept_and_checked(digits_split):
    pd = pytest.importorskip("pandas")
    X_train, X_test, y_train, _ = digits_split
    cols = [f"px{i}" for i in range(64)]
    clf = ProjectionNetClassifier(n_projections=10, n_bits=8, max_iter=5, random_state=0)
    clf.fit(pd.DataFrame(X_train, columns=cols), y_train)
    compact = CompactProjectionClassifier.from_bytes(clf.to_compact().to_bytes())
    assert list(compact.feature_names_in_) == cols
    df = pd.DataFrame(X_test, columns=cols)
    np.testing.assert_array_equal(compact.predict(df), clf.predict(df))
    with pytest.raises(ValueError, match="feature names"):
        compact.predict(df[cols[::-1]])


def test_frozen_compact_in_a_pipeline_survives_clone_and_fit(digits_model, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipe = make_pipeline(MaxAbsScaler(), FrozenEstimator(digits_model.to_compact()))
    pipe = clone(pipe).fit(X_train, y_train)
    # MaxAbsScaler of pixels/16 is close to identity: most classes agree
    assert np.mean(pipe.predict(X_test) == digits_model.predict(X_test)) > 0.8


