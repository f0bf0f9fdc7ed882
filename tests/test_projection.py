"""LSHProjection and the hashing kernels: definition, dense/sparse identity, threads, LSH property."""

import hashlib
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import get_num_threads, set_num_threads

from sklearn_projection import LSHProjection
from sklearn_projection import _hashing
from sklearn_projection._projection import lsh_bits

from _reference import projection_matrix

@pytest.mark.parametrize("density", [1.0, 0.3, "auto"])
def test_bits_follow_the_documented_hash(density):
    rng = np.random.RandomState(0)
    X = rng.randn(40, 13)
    proj = LSHProjection(n_projections=5, n_bits=7, density=density, random_state=3).fit(X)
    P = projection_matrix(proj.seed_, 35, 13, proj.density_)
    expected = (X @ P.T > 0).astype(np.uint8)
    np.testing.assert_array_equal(proj.transform(X), expected)


def test_density_controls_the_share_of_nonzero_entries():
    P = projection_matrix(12345, 200, 50, 0.1)
    assert 0.08 < np.mean(P != 0) < 0.12
    assert abs(np.mean(P[P != 0] > 0) - 0.5) < 0.05


PINNED_SEED = 6909045637428952499  # drawn by RandomState(42): stable across numpy versions


def test_bits_are_pinned_across_versions_and_machines():
    # Integer hashing only: these bits are the same everywhere. If this changes, models
    # saved by an earlier version would silently give other predictions.
    X = np.arange(60, dtype=np.float64).reshape(6, 10) % 7 - 3
    bits = LSHProjection(n_projections=8, n_bits=8, random_state=42).fit(X).transform(X)
    assert LSHProjection(random_state=42).fit(X).seed_ == PINNED_SEED
    digest = hashlib.sha256(bits.tobytes()).hexdigest()
    assert digest == "35bf93be5614ccb8b5de37093f44699414c2b584088051bea521e7ac7cc10236", digest


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


def test_packed_output_is_the_packed_bits():
    X = np.random.RandomState(0).randn(50, 20)
    bits = LSHProjection(n_projections=10, n_bits=13, random_state=0).fit_transform(X)
    words = LSHProjection(n_projections=10, n_bits=13, packed=True, random_state=0).fit_transform(X)
    assert words.dtype == np.uint64 and words.shape == (50, 3)
    np.testing.assert_array_equal(words, _hashing.pack_bits(bits))
    np.testing.assert_array_equal(_hashing.unpack_bits(words, 130), bits)
    # bit b lives in word b // 64 at position b % 64
    for b in (0, 63, 64, 129):
        np.testing.assert_array_equal((words[:, b // 64] >> np.uint64(b % 64)) & np.uint64(1), bits[:, b])


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


@pytest.mark.parametrize("density", [1.0, 0.05, 0.001])
def test_regenerated_columns_and_per_entry_hashing_give_identical_bits(density):
    # lsh_bits regenerates every column up front when X has at least as many non-zeros as
    # features and hashes each non-zero's column where it is used otherwise; both must
    # give the same bits (here: the same rows transformed whole, then one at a time).
    rng = np.random.RandomState(1)
    X = rng.randn(300, 40) * (rng.rand(300, 40) < 0.05)
    proj = LSHProjection(n_projections=10, n_bits=30, density=density, random_state=5).fit(X)
    whole_dense, whole_sparse = proj.transform(X), proj.transform(sp.csr_matrix(X))
    assert np.count_nonzero(X) >= 40 and all(np.count_nonzero(row) < 40 for row in X)
    one_by_one = np.vstack([proj.transform(sp.csr_matrix(X[i : i + 1])) for i in range(len(X))])
    np.testing.assert_array_equal(whole_dense, whole_sparse)
    np.testing.assert_array_equal(whole_dense, one_by_one)
    np.testing.assert_array_equal(whole_dense[:7], proj.transform(X[:7]))


@pytest.mark.parametrize("n_bits_total, density", [(600, 1 / 28), (64, 1 / 300), (37, 0.5), (10, 1.0)])
def test_every_column_has_floor_or_ceil_of_the_expected_non_zeros(n_bits_total, density):
    P = projection_matrix(2024, n_bits_total, 400, density)
    per_column = (P != 0).sum(axis=0)
    expected = n_bits_total * density
    assert set(per_column.tolist()) <= {int(np.floor(expected)), int(np.ceil(expected))}
    assert abs(per_column.mean() - expected) < 0.1 + 0.05 * expected
    # each bit draws its non-zeros from every feature alike: no bit is left empty at density >= 1/B
    if expected >= 1:
        assert (P != 0).any(axis=1).all()


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
    with pytest.raises(ValueError, match="hash version 3"):
        LSHProjection().__setstate__({**state, "_hash_version": 3})
    unfitted = pickle.loads(pickle.dumps(LSHProjection(n_bits=3)))  # nothing to misread
    assert unfitted.n_bits == 3


def test_only_the_product_of_n_projections_and_n_bits_matters():
    # documented in docs/method.md: the split of T*d into T and d changes no bit
    X = np.random.RandomState(3).randn(50, 30)
    splits = [(60, 10), (40, 15), (600, 1), (1, 600)]
    bits = [LSHProjection(T, d, random_state=7).fit(X).transform(X) for T, d in splits]
    for other in bits[1:]:
        np.testing.assert_array_equal(bits[0], other)


@settings(max_examples=40, deadline=None)
@given(
    n_bits_total=st.integers(1, 130),
    density=st.floats(1e-3, 1.0),
    seed=st.integers(0, 2**64 - 1),
    n_features=st.integers(2, 12),
)
def test_kernels_match_the_documented_hash_for_any_budget_and_density(n_bits_total, density, seed, n_features):
    # edges: no non-zero per column (B * density < 1), every bit non-zero (density 1), blocks of one bit
    X = np.random.RandomState(seed % 2**31).randn(5, n_features)
    X[np.arange(5), np.arange(5) % n_features] = 0.0  # each row alone has fewer non-zeros than features
    P = projection_matrix(seed, n_bits_total, n_features, density)
    expected = (X @ P.T > 0).astype(np.uint8)
    one_by_one = np.vstack([lsh_bits(X[i : i + 1], seed, n_bits_total, density) for i in range(5)])
    np.testing.assert_array_equal(one_by_one, expected)  # each non-zero's column hashed where used
    many = lsh_bits(np.vstack([X] * 60), seed, n_bits_total, density)  # every column regenerated once
    np.testing.assert_array_equal(many[:5], expected)
