"""Hostile and broken input: explicit cases, then a hypothesis fuzz of both estimators.

The fuzz asserts, for every generated case, either a ValueError/TypeError whose message
names one of the defects that were injected into that case, or a correct result: bits
equal to an independent pure-Python evaluation of the documented definition (hash,
float64 sum in feature order, rows with max|x| > 2**960 scaled by 2**-1000), and
classifier outputs of the right shape and dtype, labels among ``classes_``, finite
probabilities summing to one. Counts of cases, errors and results are printed by
``test_fuzz_counts`` (run with ``-s``) and reported to hypothesis as events.
"""

import collections
import os
import re
import tracemalloc
import warnings

import numba.core.errors
import numpy as np
import pytest
import scipy.sparse as sp
from _reference import projection_matrix
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_projection import LSHProjection, ProjectionNetClassifier

BIG, SHRINK = 2.0**960, 2.0**-1000
COUNTS = collections.Counter()


# ------------------------------------------------------------------ reference
def reference_bits(X, seed, n_bits_total, density):
    """The documented definition in pure Python, on a dense float64 array."""
    n, d = X.shape
    P = projection_matrix(seed, n_bits_total, d, density)
    bits = np.zeros((n, n_bits_total), dtype=np.uint8)
    for i in range(n):
        row = X[i]
        scale = SHRINK if np.abs(row).max(initial=0.0) > BIG else 1.0
        for b in range(n_bits_total):
            acc = 0.0
            for f in range(d):
                x = float(row[f]) * scale
                if x != 0.0:
                    acc += x * P[b, f]
            bits[i, b] = acc > 0.0
    return bits


def reference_packed(bits):
    n, B = bits.shape
    words = np.zeros((n, (B + 63) // 64), dtype=np.uint64)
    for i in range(n):
        for b in range(B):
            if bits[i, b]:
                words[i, b // 64] |= np.uint64(1) << np.uint64(b % 64)
    return words


# ------------------------------------------------------------------ explicit cases
def _data(n=40, d=12, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d) * (rng.rand(n, d) < 0.6)
    y = np.arange(n) % 3
    return X, y


def _small_clf(**kw):
    params = dict(n_projections=4, n_bits=8, trainer_hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    params.update(kw)
    return ProjectionNetClassifier(**params)


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("sparse", [False, True])
def test_huge_values_keep_the_bits_of_the_scaled_row(sparse):
    """Definition: bits are signs of dot products, so scaling a row by c > 0 keeps them.

    Sums are float64; a row whose largest |x| exceeds 2**960 is summed after an exact
    scaling by 2**-1000, so 1e300 ... 1.79e308 never overflow to +-inf (a wrong bit).
    """
    X, _ = _data()
    proj = LSHProjection(n_projections=8, n_bits=16, random_state=0).fit(X)
    expected = proj.transform(X)
    m = np.abs(X).max()
    for c in (1e-300, 1e200, 1e300, 1e308 / m, np.finfo(np.float64).max / m):
        Xc = X * c
        assert np.isfinite(Xc).all()
        got = proj.transform(sp.csr_matrix(Xc) if sparse else Xc)
        np.testing.assert_array_equal(got, expected, err_msg=f"scale {c}")
    # rows mixing float64 extremes: values below 2**-1000 * 2**-74 of the largest vanish,
    # exactly as the documented rule says (the reference implements that rule)
    mixed = np.array([[1e308, -1e308, 1e-300, 0, 5e307] + [0] * 7, [-1.7e308, 1e308, 1e308, 0, 0] + [0] * 7])
    got = proj.transform(sp.csr_matrix(mixed) if sparse else mixed)
    np.testing.assert_array_equal(got, reference_bits(mixed, proj.seed_, 128, proj.density_))


def test_float32_extremes_are_summed_in_float64():
    X, _ = _data()
    X32 = X.astype(np.float32)
    proj = LSHProjection(n_projections=8, n_bits=16, random_state=0).fit(X32)
    huge = (X32.astype(np.float64) * (3e38 / np.abs(X32).max())).astype(np.float32)
    assert np.isfinite(huge).all()
    np.testing.assert_array_equal(proj.transform(huge), proj.transform(X32))


def test_classifier_projection_network_is_scale_invariant_and_trainer_overflow_is_reported():
    X, y = _data()
    X /= np.abs(X).max()
    clf = _small_clf().fit(X, y)
    for c in (1e300, 1e308):
        np.testing.assert_array_equal(clf.predict(X * c), clf.predict(X))
        np.testing.assert_array_equal(clf.predict_proba(X * c), clf.predict_proba(X))
    # the full-precision trainer is not scale invariant: on a (finite) row aligned with a
    # hidden unit's weights its activations overflow, which used to give NaN
    # probabilities silently
    W = clf.trainer_.coefs_[0]
    j = np.abs(W).sum(axis=0).argmax()
    assert np.abs(W[:, j]).sum() > 1
    x = (np.finfo(np.float64).max * np.sign(W[:, j]))[None, :]
    with pytest.raises(ValueError, match="trainer network's output overflowed"):
        clf.trainer_.predict_proba(x)
    with pytest.raises(ValueError, match="trainer network's output overflowed"):
        clf.trainer_.predict(x)
    P = clf.predict_proba(x)  # the projection network answers
    assert np.isfinite(P).all()


def test_empty_and_all_zero_sparse_rows():
    X, y = _data()
    X[::5] = 0.0
    Xs = sp.csr_matrix(X)
    assert np.diff(Xs.indptr)[::5].max() == 0  # rows without stored entries
    proj = LSHProjection(n_projections=4, n_bits=16, random_state=0).fit(X)
    np.testing.assert_array_equal(proj.transform(Xs)[::5], 0)
    # explicitly stored zeros are the same as no entries
    Xz = Xs.copy()
    Xz.data[:] = 0.0
    np.testing.assert_array_equal(proj.transform(Xz), 0)
    clf = _small_clf().fit(Xs, y)
    P = clf.predict_proba(sp.csr_matrix(X.shape))
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1)
    np.testing.assert_allclose(P, P[:1].repeat(len(P), axis=0))  # all rows: softmax(bias path)


def test_unsorted_duplicate_and_int64_csr_indices():
    X, y = _data(n=6, d=5)
    dense = np.zeros((2, 5))
    dense[0, [4, 1]] = [2.0, -1.5]
    dense[1, 0] = 3.0
    # row 0: columns 4, 1, 4 (duplicate, unsorted: 4 -> 1.5 + 0.5); row 1: 0 and an explicit 0 at 2
    data = np.array([1.5, -1.5, 0.5, 3.0, 0.0])
    indices = np.array([4, 1, 4, 0, 2], dtype=np.int64)
    indptr = np.array([0, 3, 5], dtype=np.int64)
    A = sp.csr_matrix((data, indices, indptr), shape=(2, 5))
    A.indices, A.indptr = indices, indptr  # scipy downcasts small index arrays to int32
    assert A.indices.dtype == np.int64 and not A.has_canonical_format
    proj = LSHProjection(n_projections=4, n_bits=16, density=1.0, random_state=0).fit(X)
    np.testing.assert_array_equal(proj.transform(A), proj.transform(dense))
    np.testing.assert_array_equal(proj.transform(A), reference_bits(dense, proj.seed_, 64, 1.0))
    assert A.indices.tolist() == [4, 1, 4, 0, 2]  # caller's matrix untouched
    clf = _small_clf(n_projections=4, n_bits=16, density=1.0).fit(X, y[:6])
    np.testing.assert_array_equal(clf.predict_proba(A), clf.predict_proba(dense))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int8, np.int64, np.uint8, bool, object])
def test_other_dtypes_give_the_bits_of_their_float64_values(dtype):
    X, y = _data(n=20, d=6)
    Xd = (X * 4).round().astype(dtype)
    X64 = np.asarray(Xd, dtype=np.float64)
    proj = LSHProjection(n_projections=4, n_bits=8, random_state=0).fit(Xd)
    np.testing.assert_array_equal(proj.transform(Xd), reference_bits(X64, proj.seed_, 32, proj.density_))
    clf = _small_clf().fit(Xd, y[:20])
    np.testing.assert_array_equal(clf.predict(Xd), clf.predict(X64))


def test_bad_shapes_and_objects_get_named_errors():
    X, y = _data()
    proj = LSHProjection(n_projections=4, n_bits=8, random_state=0).fit(X)
    clf = _small_clf().fit(X, y)
    for est, call in ((proj, proj.transform), (clf, clf.predict), (clf, clf.predict_proba)):
        with pytest.raises(ValueError, match="Expected 2D array"):
            call(X[0])
        with pytest.raises(ValueError, match="dim 3"):
            call(X[None])
        with pytest.raises(ValueError, match="12 features"):
            call(X[:, :5])
        with pytest.raises(ValueError, match="could not convert|numeric"):
            call(np.array([["a"] * 12], dtype=object))
        with pytest.raises(ValueError, match="Complex data not supported"):
            call(X.astype(complex))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _small_clf().fit(X, y[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _small_clf().partial_fit(X[:-1], y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        _small_clf().fit(X, y, sample_weight=-np.ones(len(y)))


def test_unseen_labels_in_partial_fit_are_named():
    X, y = _data()
    # first call: y holds a label missing from `classes` (was an IndexError)
    with pytest.raises(ValueError, match=r"labels array\(\[2\]\) not in classes_"):
        _small_clf().partial_fit(X, y, classes=[0, 1])
    clf = _small_clf().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"labels array\(\[7\]\) not in classes_"):
        clf.partial_fit(X[:3], np.array([0, 7, 1]))
    with pytest.raises(ValueError, match="classes must be passed"):
        _small_clf().partial_fit(X, y)
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])


def _pretend_memory(monkeypatch, gib):
    """Make the memory checks see a machine with ``gib`` GiB, whatever this one has, so
    that no case below can ever start allocating for real."""
    import sklearn_projection._joint_training as classifier_module
    import sklearn_projection._projection as projection_module

    for module in (classifier_module, projection_module):
        monkeypatch.setattr(module, "_physical_memory_bytes", lambda: gib * 2**30)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_projections": 2**15, "n_bits": 2**15}, r"Training would need .* GiB.*n_projections \* n_bits = 1073741824"),
        # 67M bits: the weights fit in 8 GiB, the float bits of a 40-row minibatch do not
        ({"n_projections": 2**13, "n_bits": 2**13}, r"Training would need .* GiB"),
        ({"trainer_hidden_layer_sizes": (10**9,)}, r"trainer layers \[12, 1000000000, 3\]"),
        ({"projection_hidden_layer_sizes": (10**12,)}, r"projection network layers \[32, 1000000000000, 3\]"),
    ],
)
def test_networks_beyond_memory_are_refused_before_allocating(params, match, monkeypatch):
    """Used to be a numpy MemoryError after starting to allocate, or an OOM on overcommit."""
    _pretend_memory(monkeypatch, 8)
    X, y = _data()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match):
            _small_clf(**params).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak


def test_transform_beyond_memory_is_refused_before_allocating(monkeypatch):
    _pretend_memory(monkeypatch, 8)
    X, _ = _data()
    proj = LSHProjection(n_projections=2**15, n_bits=2**15, random_state=0).fit(X)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"GiB, more than this machine"):
            proj.transform(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak


@pytest.mark.parametrize(
    "params",
    [
        {"temperature": 1e-300},
        {"temperature": 1e300},
        {"alpha": 1e300},
        {"trainer_weight": 1e300, "distill_weight": 1e300, "projection_weight": 1e300},
        {"epsilon": 1e-320},
        {"batch_size": 10**12},
        {"density": 1e-300},
        {"learning_rate_init": 1e300},
    ],
)
def test_absurd_hyper_parameters_give_a_named_error_or_a_finite_model(params):
    X, y = _data()
    clf = _small_clf(**params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow inside a diverging fit
            warnings.simplefilter("ignore", UserWarning)  # batch_size larger than n
            clf.fit(X, y)
    except ValueError as exc:
        assert "non-finite weights" in str(exc)
        return
    P = clf.predict_proba(X)
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1)
    assert set(clf.predict(X)) <= set(clf.classes_)


# ------------------------------------------------------------------ fuzz
# each defect that may be injected, and what an error about it must say
DEFECT_MESSAGES = {
    "nan": r"NaN",
    "inf": r"infinity",
    "no_rows": r"0 sample",
    "no_features": r"0 feature",
    "one_d": r"Expected 2D array",
    "strings": r"could not convert|numeric",
    "width": r"features, but .* is expecting",
    "y_length": r"inconsistent numbers of samples",
    "one_class": r"only one class",
    "unseen": r"not in classes_",
    "overflow": r"non-finite weights|overflowed",
}
DTYPES = ["float64", "float32", "float16", "int32", "int64", "uint8", "bool", "object"]
FORMATS = ["dense", "list", "csr", "csc", "coo", "csr_dup_int64"]


@st.composite
def matrices(draw, n_rows=None, n_cols=None):
    rarely = st.sampled_from([True] + [False] * 11)
    n = (0 if draw(rarely) else draw(st.integers(1, 9))) if n_rows is None else n_rows
    d = (0 if draw(rarely) else draw(st.integers(1, 7))) if n_cols is None else n_cols
    dtype = draw(st.sampled_from(DTYPES))
    fmt = draw(st.sampled_from(FORMATS))
    keep = draw(st.floats(0.0, 1.0))
    scale = draw(st.sampled_from([1.0] * 6 + [1e-300, 1e300, 1.7e308]))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.RandomState(seed)
    values = rng.randint(-3, 4, size=(n, d)) * (rng.rand(n, d) < keep)
    X = values * scale if dtype in ("float64", "float32", "float16", "object") else values
    if draw(st.booleans()) and n:  # empty rows
        X[rng.rand(n) < 0.3] = 0
    poison = draw(st.sampled_from([None] * 12 + [np.nan, np.inf, -np.inf, "a"]))
    if poison is not None and n and d:
        if isinstance(poison, str):
            dtype = "object"
        elif dtype not in ("float64", "float32", "float16", "object"):
            dtype = "float64"
        X = X.astype(object if dtype == "object" else np.float64)
        X[rng.randint(n), rng.randint(d)] = poison
    X = X.astype(dtype) if dtype != "bool" else X != 0
    if n == 0 or d == 0 or (fmt != "list" and dtype in ("object", "float16")):
        fmt = "dense"  # scipy.sparse holds neither object nor float16; [] is not 2-D
    if fmt == "list":
        X = X.tolist()
    elif fmt in ("csr", "csc", "coo"):
        X = sp.csr_matrix(X).asformat(fmt)
    elif fmt == "csr_dup_int64":
        A = sp.coo_matrix(X)
        order = rng.permutation(A.nnz)
        # every entry also stored as an explicit zero duplicate, unsorted, int64 indices
        rows = np.concatenate([A.row, A.row])[np.concatenate([order, order])]
        cols = np.concatenate([A.col, A.col])[np.concatenate([order, order])]
        vals = np.concatenate([A.data, np.zeros_like(A.data)])[np.concatenate([order, order + A.nnz])]
        srt = np.argsort(rows, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        X = sp.csr_matrix((vals[srt], cols[srt], indptr), shape=(n, d))
        X.indices, X.indptr = cols[srt].astype(np.int64), indptr  # keep int64 (scipy downcasts)
        X.has_canonical_format = False
    return X, fmt


def defects_of(X, one_d=False):
    """The defects a correct implementation must report, judged from the data alone."""
    found = set()
    if one_d:
        # a 1-D array of strings may fail its conversion to float before its shape is checked
        strings = any(isinstance(v, str) for v in np.asarray(X, dtype=object).ravel())
        return {"one_d"} | ({"strings"} if strings else set())
    if sp.issparse(X):
        vals, shape = np.asarray(X.data, dtype=np.float64), X.shape
    else:
        arr = np.asarray(X, dtype=object)
        shape = arr.shape
        if any(isinstance(v, str) for v in arr.ravel()):
            return {"strings"} | ({"no_rows"} if shape[0] == 0 else set())
        vals = np.asarray(arr, dtype=np.float64).ravel() if arr.size else np.zeros(0)
    if shape[0] == 0:
        found.add("no_rows")
    if len(shape) == 2 and shape[1] == 0:
        found.add("no_features")
    if np.isnan(vals).any():
        found.add("nan")
    if np.isinf(vals).any():
        found.add("inf")
    return found


def as_float64(X):
    return X.toarray().astype(np.float64) if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def run_case(name, expected_defects, action):
    """Run ``action``: a ValueError/TypeError must name an injected defect, else check."""
    COUNTS[f"{name}: cases"] += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            check = action()
    except (ValueError, TypeError) as exc:
        assert not isinstance(exc, numba.core.errors.NumbaError), repr(exc)
        patterns = [DEFECT_MESSAGES[d] for d in expected_defects]
        assert patterns, f"error on a valid case: {exc!r}"
        assert any(re.search(p, str(exc)) for p in patterns), (expected_defects, str(exc))
        COUNTS[f"{name}: clear errors"] += 1
        event(f"{name}: clear error ({'/'.join(sorted(expected_defects))})")
        return False
    hard = expected_defects - {"overflow"}
    assert not hard, f"no error although the input has {hard}"
    if check is not None:
        check()
    COUNTS[f"{name}: results"] += 1
    event(f"{name}: result")
    return True


N_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=N_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)


def shape_of(X):
    return X.shape if hasattr(X, "shape") else np.asarray(X, dtype=object).shape


@FUZZ
@given(
    train=matrices(),
    other=st.data(),
    packed=st.booleans(),
    n_bits=st.integers(1, 70),
    density=st.sampled_from(["auto", 1.0, 0.3]),
    one_d=st.sampled_from([False] * 9 + [True]),
)
def test_fuzz_lsh_projection(train, other, packed, n_bits, density, one_d):
    X, fmt = train
    event(f"format {fmt}")
    proj = LSHProjection(n_projections=1, n_bits=n_bits, density=density, packed=packed, random_state=0)
    if one_d and not sp.issparse(X) and np.ndim(X) == 2 and len(X):
        X = np.asarray(X)[0]
    fitted = run_case("LSHProjection.fit", defects_of(X, one_d=np.ndim(X) == 1), lambda: proj.fit(X) and None)
    if not fitted:
        return
    d = proj.n_features_in_
    width = other.draw(st.sampled_from([d] * 8 + [d + 1, max(d - 1, 0)]), label="width")
    X2, _ = other.draw(matrices(n_cols=width), label="X2")
    defects = defects_of(X2)
    if width != d and shape_of(X2)[0] and width:
        defects.add("width")

    def action():
        out = proj.transform(X2)

        def check():
            ref = reference_bits(as_float64(X2), proj.seed_, n_bits, proj.density_)
            if packed:
                assert out.dtype == np.uint64 and out.shape == (shape_of(X2)[0], (n_bits + 63) // 64)
                np.testing.assert_array_equal(out, reference_packed(ref))
            else:
                assert out.dtype == np.uint8 and out.shape == (shape_of(X2)[0], n_bits)
                assert set(np.unique(out)) <= {0, 1}
                np.testing.assert_array_equal(out, ref)

        return check

    run_case("LSHProjection.transform", defects, action)


@FUZZ
@given(
    train=matrices(),
    other=st.data(),
    n_classes=st.sampled_from([1, 2, 2, 3, 3, 4, 4]),
    string_labels=st.booleans(),
    y_off=st.sampled_from([0] * 10 + [1, -1]),
    hidden=st.sampled_from([(), (3,)]),
    incremental=st.booleans(),
)
def test_fuzz_classifier(train, other, n_classes, string_labels, y_off, hidden, incremental):
    X, fmt = train
    n = shape_of(X)[0]
    rng = np.random.RandomState(n)
    y = rng.randint(n_classes, size=max(n + y_off, 0))
    labels = np.array(["ham", "spam", "eggs", "x"])[y] if string_labels else y
    clf = ProjectionNetClassifier(
        n_projections=2, n_bits=8, projection_hidden_layer_sizes=hidden, trainer_hidden_layer_sizes=(3,),
        max_iter=2, batch_size=4, random_state=0,
    )
    defects = defects_of(X)
    if y_off:
        defects.add("y_length")
    if len(np.unique(labels)) < 2 and not incremental:
        defects.add("one_class")
    classes = np.unique(labels)
    if incremental and other.draw(st.sampled_from([False] * 5 + [True]), label="drop a class") and len(classes) > 1:
        classes = classes[1:]
        defects.add("unseen")
    if incremental and len(classes) < 2:
        defects.add("one_class")
    values = as_float64_safe(X.data) if sp.issparse(X) else as_float64_safe(X)
    if np.abs(values).max(initial=0) > 1e200:
        defects.add("overflow")  # the full-precision trainer may diverge on 1e300 inputs, sparse or dense
    if incremental:
        fitted = run_case("Classifier.partial_fit", defects, lambda: clf.partial_fit(X, labels, classes=classes) and None)
    else:
        fitted = run_case("Classifier.fit", defects, lambda: clf.fit(X, labels) and None)
    if not fitted:
        return
    assert set(clf.classes_) == set(classes)
    d = clf.n_features_in_
    width = other.draw(st.sampled_from([d] * 8 + [d + 1]), label="width")
    X2, _ = other.draw(matrices(n_cols=width), label="X2")
    defects2 = defects_of(X2)
    if width != d and shape_of(X2)[0]:
        defects2.add("width")

    def action():
        proba = clf.predict_proba(X2)
        pred = clf.predict(X2)

        def check():
            m = shape_of(X2)[0]
            assert proba.shape == (m, len(clf.classes_)) and proba.dtype == np.float64
            assert np.isfinite(proba).all(), "silent NaN/inf probabilities"
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
            assert pred.shape == (m,) and set(pred) <= set(clf.classes_)
            clear = np.sort(proba, axis=1)[:, -1] - np.sort(proba, axis=1)[:, -2] > 1e-5 if proba.shape[1] > 1 else []
            np.testing.assert_array_equal(pred[clear], clf.classes_[proba.argmax(axis=1)][clear])

        return check

    run_case("Classifier.predict", defects2, action)


def as_float64_safe(X):
    try:
        return np.asarray(X, dtype=np.float64)
    except (ValueError, TypeError):
        return np.zeros(0)


def test_fuzz_counts():
    """Print the fuzz tallies (``pytest -s``); the fuzz must have hit both outcomes."""
    if not COUNTS:
        pytest.skip("run together with the fuzz tests")
    total = sum(v for k, v in COUNTS.items() if k.endswith("cases"))
    errors = sum(v for k, v in COUNTS.items() if k.endswith("clear errors"))
    results = sum(v for k, v in COUNTS.items() if k.endswith("results"))
    print("\nfuzz tallies:")
    for k in sorted(COUNTS):
        print(f"  {k}: {COUNTS[k]}")
    print(f"  TOTAL: {total} cases, {errors} clear errors, {results} correct results, 0 crashes")
    assert total == errors + results
    assert errors > 0 and results > 0


# ------------------------------------------------------------------ issue 14: allocation, scratch, fork
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Computes the right answers with no limit, then limits the address space to what is in use
# plus MARGIN (enough for the outputs, not for the kernels' 8 bytes per bit of scratch) and
# asks again: every answer must then be an error or the right one.
ALLOCATION_SCRIPT = r"""
import hashlib, json, resource, sys
import numpy as np, scipy.sparse as sp
def digest(a):  # compares without allocating a copy
    a = np.ascontiguousarray(a)
    return a.shape, a.dtype.str, hashlib.sha256(memoryview(a).cast("B")).hexdigest()
sys.path.insert(0, sys.argv[1])
from sklearn_projection import LSHProjection, _hashing, _inference
B = 2**25                              # 256 MiB of float64 sums per row being summed
rng = np.random.RandomState(0)
X = sp.random(3, 1000, density=0.003, format="csr", random_state=0)
X.data[:] = rng.randn(X.nnz)
proj = LSHProjection(n_projections=B // 64, n_bits=64, density=0.01, random_state=0).fit(X)
W = rng.randn(B, 2).astype(np.float32)  # a first layer over the 2**25 bits, 2 classes
b = np.zeros(2, dtype=np.float32)
calls = {
    "packed": lambda: proj._transform(X, packed=True),
    "dense_packed": lambda: proj._transform(X.toarray(), packed=True),
    "logits": lambda: _inference.logits(X, proj.seed_, B, proj.density_, [W], [b]),
}
expected = {name: call() for name, call in calls.items()}
calls["unpack_bits"] = lambda: _hashing.unpack_bits(expected["packed"], B)  # 96 MiB out of 12 MiB
expected["unpack_bits"] = calls["unpack_bits"]()
assert all(np.asarray(v).any() for v in expected.values())
in_use = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
margin = int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (in_use + margin, resource.getrlimit(resource.RLIMIT_AS)[1]))
report = {}
for name, call in calls.items():
    try:
        got = call()
    except (MemoryError, ValueError) as exc:
        report[name] = type(exc).__name__
    except BaseException as exc:
        report[name] = "unexpected " + repr(exc)
    else:
        report[name] = "right" if digest(got) == digest(expected[name]) else "WRONG"
print(json.dumps(report))
"""


@pytest.mark.parametrize("layer", ["default", "workqueue"])
@pytest.mark.parametrize("margin_mib", [64, 160])
def test_a_failed_allocation_raises_and_never_gives_a_wrong_answer(layer, margin_mib):
    """Issue 14 item 3: numba does not propagate an exception raised inside a parallel
    region (the workqueue layer loses it, OpenMP reports a SystemError at best), so a
    failed allocation of scratch inside a kernel used to return all-zero bits. Kernels
    now allocate nothing: the caller allocates outputs and scratch, and numpy raises."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_THREADING_LAYER": layer, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", ALLOCATION_SCRIPT, ROOT, str(margin_mib)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(report.values()) <= {"right", "MemoryError", "ValueError"}, report
    assert "MemoryError" in report.values(), report  # the limit did bite


def test_memory_checks_count_the_kernels_scratch(monkeypatch):
    """Issue 14 item 9: 2**26 packed bits of one row are 8 MiB of output, but summing
    them takes 8 bytes per bit (512 MiB) per thread: refused on a 0.5 GiB machine."""
    _pretend_memory(monkeypatch, 0.5)
    X, _ = _data()
    proj = LSHProjection(n_projections=2**20, n_bits=64, packed=True, random_state=0).fit(X)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"1 rows x 67108864 bits.*scratch.*8 bytes per bit.*1 thread"):
            proj.transform(X[:1])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak


def test_an_unused_builtin_trainer_is_neither_sized_nor_refused(monkeypatch):
    """Issue 14 item 9: trainer_weight=0 and distill_weight=0 never train the built-in
    trainer; its (here absurd) size used to be allocated, or refused."""
    _pretend_memory(monkeypatch, 0.5)
    X, y = _data()
    # (12 x 10**7 + 10**7 x 3 weights, 4 float64 copies: 4.5 GiB, refused as unused before)
    tracemalloc.start()
    try:
        clf = _small_clf(trainer_hidden_layer_sizes=(10**7,), trainer_weight=0, distill_weight=0).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak
    assert clf.trainer_size_bytes_ == 0
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="trainer_weight=0"):
        clf.trainer_.predict(X)
    with pytest.raises(ValueError, match=r"trainer layers \[12, 10000000, 3\]"):
        _small_clf(trainer_hidden_layer_sizes=(10**7,), distill_weight=0).fit(X, y)


FORK_SCRIPT = r"""
import multiprocessing, sys, warnings
import numpy as np, scipy.sparse as sp
sys.path.insert(0, sys.argv[1])
import numba
from sklearn.exceptions import ConvergenceWarning
from sklearn_projection import LSHProjection, ProjectionNetClassifier
warnings.simplefilter("ignore", ConvergenceWarning)
rng = np.random.RandomState(0)
X = rng.randn(300, 20)
y = (X[:, 0] > 0).astype(int)
clf = ProjectionNetClassifier(n_projections=8, n_bits=16, trainer_hidden_layer_sizes=(8,), max_iter=3,
                              random_state=0).fit(X, y)
proj = LSHProjection(n_projections=8, n_bits=16, random_state=0).fit(X)
def answers(_=None):
    return [clf.predict_proba(X), clf.to_compact("int8").predict_proba(sp.csr_matrix(X)), proj.transform(X)]
parent = answers()  # parallel kernels ran in this process before the fork
print("layer", numba.threading_layer(), flush=True)
def in_forked_child(func):
    import os, pickle
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, pickle.dumps(func()))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)
def grandchild(_):  # a fork of a forked Pool worker (which may not start processes itself)
    answers()
    return in_forked_child(answers)
with multiprocessing.get_context("fork").Pool(2) as pool:
    results = pool.map(answers, range(2)) + pool.map(grandchild, [0])
for got in results:
    assert all(np.array_equal(a, b) for a, b in zip(got, parent))
print("ok", flush=True)
"""


@pytest.mark.parametrize("layer", ["default", "workqueue"])
def test_fork_after_predict_neither_hangs_nor_dies(layer):
    """Issue 14 item 10: with GNU OpenMP (numba's omp layer on Linux), a child forked after
    a parallel kernel ran used to be killed at its first kernel (and a multiprocessing
    Pool then waited forever). Forked children now run the kernels serially."""
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_THREADING_LAYER": layer, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", FORK_SCRIPT, ROOT], env=env, capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"fork after predict hung ({layer} layer): {exc.stderr!r}")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok"), out.stdout
