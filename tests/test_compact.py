"""CompactProjectionClassifier: equality with the full model, dtypes, pipelines, persistence, bad files."""

import copy
import pickle
import struct
import zlib

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
from sklearn_projection._format import MAGIC
from sklearn_projection._inference import gather_first_layer
from sklearn_projection._hashing import pack_bits

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
DTYPES = ("float32", "float16", "int8")


@pytest.fixture(scope="module")
def digits_model(digits_split):
    X_train, _, y_train, _ = digits_split
    return ProjectionNetClassifier(
        n_projections=60, n_bits=10, projection_hidden_layer_sizes=(32,),
        trainer_hidden_layer_sizes=(64,), max_iter=40, random_state=0,
    ).fit(X_train, y_train)


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
    scalars = 8 + 8 + 4 * (3 + 2 + 1)
    assert sizes["float32"].size_bytes == 4 * n_w + 4 * n_b + scalars
    assert sizes["float16"].size_bytes == 2 * n_w + 4 * n_b + scalars
    assert sizes["int8"].size_bytes == n_w + 8 * n_b + scalars
    assert sizes["float32"].size_bytes == digits_model.projection_size_bytes_ + 8 + 4 * 6
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


def test_gather_kernel_matches_dense_product():
    rng = np.random.default_rng(0)
    for n_bits in (1, 63, 64, 65, 130):
        bits = (rng.random((9, n_bits)) < 0.5).astype(np.uint8)
        bits[0] = 0
        bits[1] = 1  # every bit set, including bit 63 of each word
        W = rng.integers(-127, 128, (n_bits, 5)).astype(np.int8)
        out = gather_first_layer(pack_bits(bits), W, np.zeros((9, 5), dtype=np.int32))
        np.testing.assert_array_equal(out, bits.astype(np.int32) @ W.astype(np.int32))
        Wf = rng.standard_normal((n_bits, 5)).astype(np.float32)
        outf = gather_first_layer(pack_bits(bits), Wf, np.ones((9, 5), dtype=np.float32))
        np.testing.assert_allclose(outf, bits @ Wf.astype(np.float64) + 1, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- sklearn behaviour
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


# ---------------------------------------------------------------- persistence
def _assert_same_model(a, b):
    assert a.dtype_ == b.dtype_ and a.seed_ == b.seed_
    assert (a.n_projections_, a.n_bits_, a.density_, a.n_features_in_) == (
        b.n_projections_, b.n_bits_, b.density_, b.n_features_in_)
    assert a.classes_.dtype == b.classes_.dtype
    np.testing.assert_array_equal(a.classes_, b.classes_)
    for x, y in zip(a.coefs_ + a.intercepts_ + (a.scales_ or []), b.coefs_ + b.intercepts_ + (b.scales_ or [])):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_save_load_pickle_deepcopy_round_trips_are_exact(digits_model, digits_split, dtype, tmp_path):
    _, X_test, _, _ = digits_split
    compact = digits_model.to_compact(dtype)
    path = tmp_path / "model.pnc"
    n = compact.save(path)
    assert n == path.stat().st_size and path.read_bytes()[:8] == MAGIC
    for other in (
        CompactProjectionClassifier.load(path),
        pickle.loads(pickle.dumps(compact)),
        copy.deepcopy(compact),
    ):
        _assert_same_model(compact, other)
        np.testing.assert_array_equal(other.predict_proba(X_test), compact.predict_proba(X_test))
    assert CompactProjectionClassifier.load(path).to_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    "labels",
    [np.array(["no", "yes", "maybe"]), np.array([-3, 7, 11], dtype=np.int32),
     np.array([-1.0, 0.0, 2.0]), np.array(["ü", "b", "a"], dtype=object)],
    ids=["unicode", "int32", "float", "object-str"],
)
def test_class_label_types_round_trip(labels, digits_split):
    X_train, X_test, y_train, _ = digits_split
    y = labels[y_train % 3]
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, max_iter=3, random_state=0).fit(X_train, y)
    compact = clf.to_compact("float16")
    back = CompactProjectionClassifier.from_bytes(compact.to_bytes())
    _assert_same_model(compact, back)
    np.testing.assert_array_equal(back.predict(X_test), compact.predict(X_test))
    assert set(back.predict(X_test)) <= set(labels)
    back32 = CompactProjectionClassifier.from_bytes(clf.to_compact().to_bytes())
    np.testing.assert_array_equal(back32.predict(X_test), clf.predict(X_test))


def test_unsavable_labels_raise_value_error(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, max_iter=2, random_state=0)
    clf.fit(X_train, y_train % 2)
    clf.classes_ = np.array([None, "b"], dtype=object)  # labels neither numbers nor strings
    with pytest.raises(ValueError, match="cannot be saved"):
        clf.to_compact().to_bytes()


@pytest.fixture(scope="module")
def saved_bytes(digits_model):
    return digits_model.to_compact("int8").to_bytes()


def test_truncated_files_raise_value_error(saved_bytes, tmp_path):
    path = tmp_path / "cut.pnc"
    for cut in range(0, len(saved_bytes), 97):
        path.write_bytes(saved_bytes[:cut])
        with pytest.raises(ValueError):
            CompactProjectionClassifier.load(path)
    with pytest.raises(ValueError, match="announces"):
        CompactProjectionClassifier.from_bytes(saved_bytes + b"\0")


def test_flipped_bytes_raise_value_error(saved_bytes):
    data = bytearray(saved_bytes)
    for i in list(range(0, len(data), 53)) + [len(data) - 1]:
        for mask in (0x01, 0x80):
            data[i] ^= mask
            with pytest.raises(ValueError):
                CompactProjectionClassifier.from_bytes(bytes(data))
            data[i] ^= mask
    CompactProjectionClassifier.from_bytes(bytes(data))  # restored: loads again


def _with_body(body, version=2, magic=MAGIC):
    head = magic + struct.pack("<IQ", version, len(body)) + body
    return head + struct.pack("<I", zlib.crc32(head))


def _body_of(data):
    return data[20:-4]


def test_wrong_magic_version_and_not_a_model(saved_bytes, tmp_path):
    body = _body_of(saved_bytes)
    with pytest.raises(ValueError, match="magic"):
        CompactProjectionClassifier.from_bytes(_with_body(body, magic=b"NOTMODEL"))
    with pytest.raises(ValueError, match="version 3"):
        CompactProjectionClassifier.from_bytes(_with_body(body, version=3))
    with pytest.raises(ValueError, match="saved by sklearn-projection 0.1.*Refit"):
        CompactProjectionClassifier.from_bytes(_with_body(body, version=1))
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(ValueError, match="magic"):
        CompactProjectionClassifier.load(pickled)
    with pytest.raises(ValueError, match="magic"):
        CompactProjectionClassifier.from_bytes(b"")
    with pytest.raises(ValueError, match="minimum"):
        CompactProjectionClassifier.from_bytes(MAGIC + b"\1\0")


def _hostile_body(widths, T=60, d=10, n_features=64, n_layers=None, dtype=2):
    n_layers = len(widths) - 1 if n_layers is None else n_layers
    body = struct.pack("<BI", dtype, n_layers)
    body += struct.pack("<QIIdQ", 1, T, d, 0.125, n_features)
    body += struct.pack(f"<{len(widths)}I", *widths)
    return body


def test_hostile_files_with_valid_checksums_are_rejected_before_allocating():
    huge = [600, 2**32 - 1, 2**32 - 1, 10]  # ~18 EB of weights claimed in a 100-byte file
    with pytest.raises(ValueError, match="need .* bytes of weights"):
        CompactProjectionClassifier.from_bytes(_with_body(_hostile_body(huge)))
    with pytest.raises(ValueError, match="layers"):
        CompactProjectionClassifier.from_bytes(_with_body(_hostile_body([600, 10], n_layers=2**31)))
    with pytest.raises(ValueError, match="n_projections"):
        CompactProjectionClassifier.from_bytes(_with_body(_hostile_body([600, 10], T=2**32 - 1, d=2**32 - 1)))
    with pytest.raises(ValueError, match="widths"):
        CompactProjectionClassifier.from_bytes(_with_body(_hostile_body([5, 10])))
    with pytest.raises(ValueError, match="dtype code"):
        CompactProjectionClassifier.from_bytes(_with_body(_hostile_body([600, 10], dtype=9)))
    # consistent sizes, then a class-label block claiming 4 GB strings
    body = _hostile_body([600, 2]) + struct.pack("<BI", 2, 2) + struct.pack("<I", 2**32 - 1)
    body += bytes(600 * 2 + 16)
    with pytest.raises(ValueError, match="string"):
        CompactProjectionClassifier.from_bytes(_with_body(body))
    # a numeric class dtype that would unpickle objects is refused
    body = _hostile_body([600, 2]) + struct.pack("<BIB", 0, 2, 2) + b"|O" + bytes(16 + 4 + 600 * 2 + 16)
    with pytest.raises(ValueError, match="not numeric"):
        CompactProjectionClassifier.from_bytes(_with_body(body))


def test_skops_round_trip(digits_model, digits_split, tmp_path):
    sio = pytest.importorskip("skops.io")
    _, X_test, _, _ = digits_split
    compact = digits_model.to_compact("int8")
    path = tmp_path / "model.skops"
    sio.dump(compact, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["sklearn_projection._compact.CompactProjectionClassifier"]
    back = sio.load(path, trusted=untrusted)
    _assert_same_model(compact, back)
    np.testing.assert_array_equal(back.predict_proba(X_test), compact.predict_proba(X_test))
