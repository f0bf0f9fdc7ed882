"""LSHProjection and the hashing kernels: definition, dense/sparse identity, threads, LSH property."""

import pickle

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import get_num_threads, set_num_threads

from sklearn_projection import LSHProjection


@st.composite
def sparse_inputs(draw):
    n = draw(st.integers(1, 30))
    f = draw(st.integers(1, 40))
    density = draw(st.floats(0.0, 1.0))
    seed = draw(st.integers(0, 2**32 - 1))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    rng = np.random.RandomState(seed % 2**31)
    X = rng.randn(n, f) * (rng.rand(n, f) < density)
    return X.astype(dtype), seed


@settings(max_examples=60, deadline=None)
@given(sparse_inputs(), st.sampled_from(["csr", "csc", "coo"]), st.booleans())
def test_dense_and_sparse_input_give_identical_bits(data, fmt, packed):
    X, seed = data
    proj = LSHProjection(n_projections=7, n_bits=11, packed=packed, random_state=seed).fit(X)
    dense = proj.transform(X)
    sparse = proj.transform(sp.csr_matrix(X).asformat(fmt))
    np.testing.assert_array_equal(dense, sparse)


def test_unsorted_and_duplicate_sparse_indices_are_summed_like_dense():
    X = sp.csr_matrix(
        (np.array([1.0, 2.0, -0.5, 3.0]), np.array([3, 1, 3, 0]), np.array([0, 3, 4])),
        shape=(2, 5),
    )
    assert not X.has_canonical_format
    proj = LSHProjection(n_projections=4, n_bits=16, density=1.0, random_state=0).fit(X.toarray())
    dense = np.array([[0.0, 2.0, 0.0, 0.5, 0.0], [3.0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(proj.transform(X), proj.transform(dense))
    assert X.indices.tolist() == [3, 1, 3, 0]  # the caller's matrix is left untouched


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 600), st.integers(0, 2**31 - 1), st.booleans())
def test_bits_identical_across_thread_counts(n, seed, sparse):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 30) * (rng.rand(n, 30) < 0.4)
    X = sp.csr_matrix(X) if sparse else X
    proj = LSHProjection(n_projections=10, n_bits=10, random_state=seed).fit(X)
    before = get_num_threads()
    try:
        results = []
        for threads in sorted({1, before}):
            set_num_threads(threads)
            results.append(proj.transform(X))
    finally:
        set_num_threads(before)
    for r in results[1:]:
        np.testing.assert_array_equal(results[0], r)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.05, np.pi - 0.05), st.integers(0, 2**31 - 1))
def test_bit_agreement_tracks_the_angle(theta, seed):
    """Charikar's LSH: P[bit equal] = 1 - theta/pi, checked on 4096 bits."""
    rng = np.random.RandomState(seed)
    n_features = 300
    x = rng.randn(n_features)
    u = rng.randn(n_features)
    u -= (u @ x) / (x @ x) * x
    x_prime = np.cos(theta) * x / np.linalg.norm(x) + np.sin(theta) * u / np.linalg.norm(u)
    X = np.vstack([x, x_prime])
    bits = LSHProjection(n_projections=64, n_bits=64, density=1.0, random_state=seed).fit_transform(X)
    agreement = np.mean(bits[0] == bits[1])
    expected = 1 - theta / np.pi
    # binomial standard error over 4096 bits is <= 0.0079; 5 SE plus a small CLT allowance
    assert abs(agreement - expected) < 0.045, (theta, agreement, expected)


def test_lsh_property_with_sparse_auto_density_on_average():
    rng = np.random.RandomState(1)
    thetas, agreements = [], []
    for _ in range(40):
        theta = rng.uniform(0.1, 3.0)
        x = rng.randn(400)
        u = rng.randn(400)
        u -= (u @ x) / (x @ x) * x
        y = np.cos(theta) * x / np.linalg.norm(x) + np.sin(theta) * u / np.linalg.norm(u)
        bits = LSHProjection(n_projections=32, n_bits=32, random_state=rng).fit_transform(np.vstack([x, y]))
        thetas.append(theta)
        agreements.append(np.mean(bits[0] == bits[1]))
    errors = np.array(agreements) - (1 - np.array(thetas) / np.pi)
    assert abs(errors.mean()) < 0.02
    assert np.abs(errors).max() < 0.08


def test_fitted_transformer_stores_nothing_that_grows_with_features():
    small = LSHProjection(random_state=0).fit(sp.random(3, 10, density=0.5, format="csr", random_state=0))
    large = LSHProjection(random_state=0).fit(sp.random(3, 1_000_000, density=1e-5, format="csr", random_state=0))
    assert abs(len(pickle.dumps(large)) - len(pickle.dumps(small))) < 64
    assert len(pickle.dumps(large)) < 1024


def test_zero_rows_give_zero_bits_and_huge_values_keep_their_bits():
    X = np.random.RandomState(0).randn(5, 30)
    proj = LSHProjection(random_state=0).fit(X)
    np.testing.assert_array_equal(proj.transform(np.zeros((2, 30))), 0)
    # bits are the signs of dot products: invariant to positive scaling, also near overflow
    for scale in (1e-300, 1e300, np.finfo(np.float64).max / 4):
        np.testing.assert_array_equal(proj.transform(X * scale), proj.transform(X), err_msg=str(scale))
        np.testing.assert_array_equal(
            proj.transform(sp.csr_matrix(X * scale)), proj.transform(X), err_msg=str(scale)
        )


def test_get_feature_names_out():
    X = np.random.RandomState(0).randn(5, 3)
    names = LSHProjection(n_projections=2, n_bits=3).fit(X).get_feature_names_out()
    assert list(names) == [f"lshprojection{i}" for i in range(6)]
    assert len(LSHProjection(n_projections=2, n_bits=40, packed=True).fit(X).get_feature_names_out()) == 2


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_projections": 0}, "n_projections"),
        ({"n_bits": -1}, "n_bits"),
        ({"density": 0.0}, "density"),
        ({"density": 1.5}, "density"),
        ({"n_projections": 2**20, "n_bits": 2**12}, "too large"),
    ],
)
def test_bad_parameters_are_rejected(params, match):
    with pytest.raises(ValueError, match=match):
        LSHProjection(**params).fit(np.ones((2, 3)))


def test_output_too_large_for_memory_is_refused_before_allocating(monkeypatch):
    from sklearn_projection import _projection

    # pretend an 8 GiB machine, so that nothing this test refuses could be allocated anywhere
    monkeypatch.setattr(_projection, "_physical_memory_bytes", lambda: 8 * 2**30)
    proj = LSHProjection(n_projections=2**16, n_bits=2**14, random_state=0).fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"100 rows x 1073741824 bits.*100\.0 GiB.*8\.0 GiB"):
        proj.transform(np.ones((100, 3)))


def test_bad_input_is_rejected():
    proj = LSHProjection().fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        proj.transform(np.array([[np.nan, 0, 0, 0]]))
    with pytest.raises(ValueError, match="infinity"):
        proj.transform(np.array([[np.inf, 0, 0, 0]]))
    with pytest.raises(ValueError, match="4 features"):
        proj.transform(np.ones((2, 5)))
    with pytest.raises(ValueError, match="0 sample"):
        LSHProjection().fit(np.ones((0, 4)))
    with pytest.raises(ValueError, match="could not convert|numeric"):
        proj.transform(np.array([["a", "b", "c", "d"]], dtype=object))


def test_a_pickle_from_the_earlier_hash_is_refused_not_silently_misread():
    X = np.random.RandomState(0).randn(20, 6)
    proj = LSHProjection(random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(proj))
    np.testing.assert_array_equal(restored.transform(X), proj.transform(X))
    assert "_hash_version" not in vars(restored)
    state = proj.__getstate__()
    del state["_hash_version"]  # what 0.1 pickled
    with pytest.raises(ValueError, match=r"hash version 1 \(sklearn-projection 0.1\).*Refit"):
        LSHProjection().__setstate__(state)
    # hash version 2: one 64-bit hash per non-zero, before version 3 drew several from each
    with pytest.raises(ValueError, match=r"hash version 2 \(sklearn-projection 0.2, before hash version 3\)"
                                         r".*hash version 3.*Refit"):
        LSHProjection().__setstate__({**state, "_hash_version": 2})
    with pytest.raises(ValueError, match="hash version 4.*hash version 3"):
        LSHProjection().__setstate__({**state, "_hash_version": 4})
    unfitted = pickle.loads(pickle.dumps(LSHProjection(n_bits=3)))  # nothing to misread
    assert unfitted.n_bits == 3


def test_only_the_product_of_n_projections_and_n_bits_matters():
    # documented in docs/method.md: the split of T*d into T and d changes no bit
    X = np.random.RandomState(3).randn(50, 30)
    splits = [(60, 10), (40, 15), (600, 1), (1, 600)]
    bits = [LSHProjection(T, d, random_state=7).fit(X).transform(X) for T, d in splits]
    for other in bits[1:]:
        np.testing.assert_array_equal(bits[0], other)


def _short_rows(n_rows, n_features, per_row, seed=0):
    """CSR rows of ``per_row`` non-zeros each among ``n_features`` columns (like short texts)."""
    rng = np.random.RandomState(seed)
    rows = np.repeat(np.arange(n_rows), per_row)
    cols = rng.randint(0, n_features, size=n_rows * per_row)
    return sp.csr_matrix((rng.randn(n_rows * per_row), (rows, cols)), shape=(n_rows, n_features))


@pytest.mark.parametrize(
    "n_features, density",
    [(2**31 - 1, 2**-15.5), (30, 1e-12), (2**20, 1e-5)],
)
def test_a_projection_that_cannot_set_bits_is_reported(n_features, density):
    # issue 14 item 5: 20 non-zeros per row and density 2.2e-5 (1/sqrt(2**31-1), the "auto"
    # before 0.3) give 4e-4 expected non-zeros per bit: nearly every bit of every row is 0
    X = _short_rows(50, n_features, 20)
    proj = LSHProjection(density=density, random_state=0)
    with pytest.warns(UserWarning, match=r"non-zeros per bit.*mean [\d.]+ non-zeros per row.*raise density"):
        proj.fit(X)
    assert proj.transform(X).mean() < 0.01  # what the warning is about


def test_auto_density_is_decided_from_the_columns_the_data_uses():
    # the same texts hashed into 2**10 or 2**31 - 1 columns: "auto" depends on the columns
    # the rows use (s) and their non-zeros per row (m), not on the empty columns
    narrow = _short_rows(200, 2**10, 20)
    wide = narrow.copy()
    wide.indices = (wide.indices.astype(np.int64) * 2_000_003 + 7).astype(np.int32)  # < 2**31 - 1
    wide = sp.csr_matrix((wide.data, wide.indices, wide.indptr), shape=(200, 2**31 - 1))
    wide.sort_indices()
    s, m = np.unique(narrow.indices).size, narrow.count_nonzero() / 200
    assert m > 16  # duplicates summed: a few rows have 19 non-zeros
    expected = 4 / np.sqrt(s * m)
    for X in (narrow, wide, narrow.tocsc(), narrow.toarray()):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing to warn about at full width either
            proj = LSHProjection(random_state=0).fit(X)
        assert proj.density_ == pytest.approx(expected, rel=1e-12), type(X)
    bits = LSHProjection(random_state=0).fit(wide).transform(wide)
    # 4 * sqrt(m / s) ~ 0.6 non-zero inputs per bit: a healthy share of bits is set
    assert 0.2 < bits.mean() < 0.5
    # explicit zeros and columns that are never non-zero are not counted
    padded = sp.csr_matrix(narrow.toarray())
    padded.data[:5] = 0.0
    assert LSHProjection().fit(padded).density_ == pytest.approx(
        4 / np.sqrt(np.unique(padded.indices[padded.data != 0]).size * (padded.count_nonzero() / 200))
    )
    # dense, 32 of 40 columns used, 32 non-zeros per row: 4 / sqrt(32 * 32); in as many
    # chunks of rows as it takes
    dense = np.random.RandomState(0).rand(9000, 40) * (np.arange(40) < 32)
    assert LSHProjection().fit(dense).density_ == pytest.approx(4 / 32)
    # 16 or fewer non-zeros per row: 1/sqrt(s) (9 columns used of 12)
    assert LSHProjection().fit(dense[:, 23:35]).density_ == pytest.approx(1 / 3)
    assert LSHProjection().fit(np.eye(3)).density_ == pytest.approx(1 / np.sqrt(3))
    # all-zero data falls back to 1/sqrt(n_features)
    assert LSHProjection().fit(np.zeros((4, 25))).density_ == pytest.approx(0.2)


@pytest.mark.parametrize("n_features, density", [(2**14, "auto"), (2**31 - 1, "auto"), (30, "auto"), (30, 0.05)])
def test_projections_that_set_bits_do_not_warn(n_features, density):
    import warnings

    X = _short_rows(50, n_features, 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSHProjection(density=density, random_state=0).fit(X)
        LSHProjection(random_state=0).fit(sp.csr_matrix((5, n_features)))  # all-zero data: nothing to say


@pytest.mark.parametrize("T, d", [(np.int32(65536), np.int32(65536)), (np.int64(2**40), np.uint8(1)), (2**31, 1)])
def test_integer_parameters_are_multiplied_as_python_ints(T, d):
    # np.int32(65536) * np.int32(65536) wraps to 0 bits in int32
    with pytest.raises(ValueError, match=rf"= {int(T) * int(d)} bits is too large: at most 2147483647"):
        LSHProjection(n_projections=T, n_bits=d).fit(np.ones((2, 3)))
    proj = LSHProjection(n_projections=np.int32(3), n_bits=np.uint8(200), random_state=0).fit(np.ones((2, 3)))
    assert proj.n_bits_total_ == 600 and type(proj.n_bits_total_) is int
    assert proj.transform(np.ones((2, 3))).shape == (2, 600)


@pytest.mark.parametrize("name", ["n_projections", "n_bits"])
def test_boolean_sizes_are_refused(name):
    with pytest.raises(ValueError, match=rf"{name} must be an int"):
        LSHProjection(**{name: True}).fit(np.ones((2, 3)))


def test_quinary_threshold_costs_nothing_per_unused_column():
    """The threshold's sums hash each non-zero's column where it is used: fitting the
    quinary reading over 2**31 - 1 (hashed text) columns allocates for the sample's rows and
    bits only, and gives the bit kernels' own sums (those of transform)."""
    import tracemalloc

    rng = np.random.RandomState(0)
    n_features = 2**31 - 1
    cols = rng.randint(0, n_features, size=(50, 6))
    X = sp.csr_matrix((rng.rand(300) + 0.5, (np.repeat(np.arange(50), 6), cols.ravel())), shape=(50, n_features))
    proj = LSHProjection(n_projections=4, n_bits=16, density=0.2, reading="quinary", random_state=0)
    proj.fit(X[:, :1000])  # compiles the kernels first (compilation allocates too)
    tracemalloc.start()
    try:
        proj.fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # regenerating every column would take 2**31 x 13 entries x 12 bytes (over 300 GB)
    assert peak < 64 * 2**20, peak
    assert proj.threshold_ > 0
    levels = proj.transform(X)
    # tau is the median |sum|: as many sums above it as at or below it (ties aside)
    assert abs(np.mean(np.abs(levels) == 2) - 0.5) < 0.1
