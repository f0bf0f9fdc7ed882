"""The hashing kernels (_hashing.py): the documented hash, pinned bits, column structure, packing."""


import hashlib

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import pack_planes, projection_matrix, quinary_threshold, read_sums
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_projection import LSHProjection, _hashing
from sklearn_projection._projection import lsh_bits

PINNED_SEED = 6909045637428952499  # drawn by RandomState(42): stable across numpy versions


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


def test_bits_are_pinned_across_versions_and_machines():
    # Integer hashing only: these bits are the same everywhere. If this changes, models
    # saved by an earlier version would silently give other predictions.
    X = np.arange(60, dtype=np.float64).reshape(6, 10) % 7 - 3
    bits = LSHProjection(n_projections=8, n_bits=8, random_state=42).fit(X).transform(X)
    assert LSHProjection(random_state=42).fit(X).seed_ == PINNED_SEED
    digest = hashlib.sha256(bits.tobytes()).hexdigest()
    # hash version 3; the digest of tests/_reference.py's bits (X @ P.T > 0) of this X, seed and density
    assert digest == "d46ffa86167efbb0cdba8161bd202c2f29094b65ae678996accb1d64094b0290", digest


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


@settings(max_examples=40, deadline=None)
@given(
    n_bits_total=st.integers(1, 130),
    density=st.floats(1e-3, 1.0),
    seed=st.integers(0, 2**64 - 1),
    n_features=st.integers(2, 12),
    reading=st.sampled_from(["binary", "ternary"]),
)
def test_kernels_match_the_documented_hash_for_any_budget_and_density(
        n_bits_total, density, seed, n_features, reading):
    # edges: no non-zero per column (B * density < 1), every bit non-zero (density 1), blocks of one bit
    X = np.random.RandomState(seed % 2**31).randn(5, n_features)
    X[np.arange(5), np.arange(5) % n_features] = 0.0  # each row alone has fewer non-zeros than features
    P = projection_matrix(seed, n_bits_total, n_features, density)
    expected = read_sums(X @ P.T, reading)
    one_by_one = np.vstack([lsh_bits(X[i : i + 1], seed, n_bits_total, density, reading=reading)
                            for i in range(5)])
    np.testing.assert_array_equal(one_by_one, expected)  # each non-zero's column hashed where used
    assert one_by_one.dtype == expected.dtype
    many = lsh_bits(np.vstack([X] * 60), seed, n_bits_total, density, reading=reading)  # every column regenerated once
    np.testing.assert_array_equal(many[:5], expected)
    packed = lsh_bits(X, seed, n_bits_total, density, packed=True, reading=reading)
    pack = _hashing.pack_ternary if reading == "ternary" else _hashing.pack_bits
    np.testing.assert_array_equal(packed, pack(expected))


@pytest.mark.parametrize("n_bits_total, density, per_hash", [
    (128, 1 / 128, 4),      # largest block 128 bits: 4 entries of 16 bits per hash
    (129, 1 / 200, 3),      # no full entry (k0 = 0): the block is all 129 bits, 3 of 21 bits
    (300, 0.3, 4),          # 90 entries: 23 hashes, the last one with 2 entries
    (4096, 1 / 4096, 3),    # blocks of 4096 bits
    (4097, 1.5 / 4097, 2),  # k0 = 1: a block of 4097 bits, 2 entries of 32 bits
    (20000, 0.0002, 2),     # 4 entries in blocks of 5000 bits: 2 per hash
])
def test_entries_per_hash_follow_the_largest_block(n_bits_total, density, per_hash):
    """m = 4, 3, 2 entries per 64-bit hash as the largest block of bits ceil(B / max(k0, 1))
    passes 128 and 4096 bits: the kernels, hashed per non-zero and regenerated, are the
    reference's columns with each field width."""
    spec = _hashing.projection_spec(31, n_bits_total, density)
    assert (int(spec[4]), int(spec[5]), int(spec[6])) == (per_hash, 64 // per_hash, 64 // per_hash - 1)
    n_features = 40
    P = projection_matrix(31, n_bits_total, n_features, density)
    bit_index, value = _hashing.projection_columns(n_features, *spec)
    Q = np.zeros_like(P)
    for f in range(n_features):
        np.add.at(Q[:, f], bit_index[f].astype(np.int64), value[f])
    np.testing.assert_array_equal(Q, P)
    X = np.random.RandomState(2).randn(3, n_features) * (np.random.RandomState(3).rand(3, n_features) < 0.2)
    expected = read_sums(X @ P.T, "ternary")
    np.testing.assert_array_equal(lsh_bits(sp.csr_matrix(X), 31, n_bits_total, density, reading="ternary"), expected)


# ---------------------------------------------------------------- the ternary reading
def _sparse_rows(seed=0, n=300, n_features=40, share=0.1):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features) * (rng.rand(n, n_features) < share)
    X[:3] = 0.0  # all-zero rows: every sum is 0
    X[3, :] = 0.0
    X[3, 5] = 2.0**1000  # rescaled row (largest |x| above 2**960)
    return X


@pytest.mark.parametrize("density", [1.0, 0.1, "auto", 0.001])
def test_ternary_reading_is_the_sign_of_the_documented_sums(density):
    X = _sparse_rows()
    proj = LSHProjection(n_projections=7, n_bits=11, density=density, reading="ternary", random_state=4).fit(X)
    P = projection_matrix(proj.seed_, 77, 40, proj.density_)
    expected = read_sums(X @ P.T, "ternary")
    signs = proj.transform(X)
    assert signs.dtype == np.int8 and signs.shape == (300, 77)
    np.testing.assert_array_equal(signs, expected)
    assert (signs == 0).any() and (signs == 1).any() and (signs == -1).any()
    np.testing.assert_array_equal(proj.transform(sp.csr_matrix(X)), expected)  # sparse == dense
    X32 = X[4:].astype(np.float32)  # without the row beyond the float32 range
    np.testing.assert_array_equal(proj.transform(X32), read_sums(X32.astype(np.float64) @ P.T, "ternary"))
    # one row at a time (columns hashed per non-zero) == whole batch (columns regenerated)
    np.testing.assert_array_equal(np.vstack([proj.transform(sp.csr_matrix(X[i : i + 1])) for i in range(40)]),
                                  expected[:40])
    # its positive part is the binary reading of the same projection
    binary = LSHProjection(n_projections=7, n_bits=11, density=density, random_state=4).fit_transform(X)
    np.testing.assert_array_equal(binary, (signs > 0).astype(np.uint8))


def test_ternary_packed_output_is_two_planes():
    X = _sparse_rows(1, n_features=20, share=0.3)
    signs = LSHProjection(n_projections=10, n_bits=13, reading="ternary", random_state=0).fit_transform(X)
    proj = LSHProjection(n_projections=10, n_bits=13, reading="ternary", packed=True, random_state=0)
    words = proj.fit_transform(X)
    assert words.dtype == np.uint64 and words.shape == (300, 6)  # 2 planes x ceil(130 / 64)
    assert proj.get_feature_names_out().shape == (6,)
    np.testing.assert_array_equal(words[:, :3], _hashing.pack_bits((signs > 0).view(np.uint8)))
    np.testing.assert_array_equal(words[:, 3:], _hashing.pack_bits((signs < 0).view(np.uint8)))
    np.testing.assert_array_equal(_hashing.unpack_ternary(words, 130), signs)
    assert not (words[:, :3] & words[:, 3:]).any()  # a bit is never both positive and negative


def test_reading_is_validated():
    X = np.ones((3, 4))
    with pytest.raises(ValueError, match="reading"):
        LSHProjection(reading="two-bit").fit(X)
    with pytest.raises(ValueError, match="reading must be one of"):
        lsh_bits(X, 1, 8, 1.0, reading="sign")


def test_pickles_carry_the_reading_and_old_pickles_read_binary():
    import pickle

    X = _sparse_rows(2)
    proj = LSHProjection(n_projections=4, n_bits=16, reading="ternary", random_state=0).fit(X)
    back = pickle.loads(pickle.dumps(proj))
    assert back.reading == "ternary"
    np.testing.assert_array_equal(back.transform(X), proj.transform(X))
    # a pickle from before the option: its state has no "reading"
    state = dict(proj.__getstate__())
    del state["reading"]
    old = LSHProjection.__new__(LSHProjection)
    old.__setstate__(state)
    assert old.reading == "binary" and old.get_params()["reading"] == "binary"
    np.testing.assert_array_equal(old.transform(X), (proj.transform(X) > 0).astype(np.uint8))


# ---------------------------------------------------------------- kernel layout (speed work, same bits)
@pytest.mark.parametrize("n_bits_total, density", [(600, 1 / 28), (600, 1 / 81), (64, 1 / 300), (37, 1.0)])
def test_regenerated_column_tables_are_the_documented_columns_padded_with_zeros(n_bits_total, density):
    n_features = 90
    spec = _hashing.projection_spec(777, n_bits_total, density)
    bit_index, value = _hashing.projection_columns(n_features, *spec)
    K = int(np.ceil(n_bits_total * density - 1e-9))
    assert bit_index.shape == value.shape == (n_features, K)
    assert bit_index.dtype == np.uint32 and value.dtype == np.float64
    assert set(np.unique(value).tolist()) <= {-1.0, 0.0, 1.0}
    P = np.zeros((n_bits_total, n_features))
    for f in range(n_features):
        np.add.at(P[:, f], bit_index[f].astype(np.int64), value[f])
        # padding (value 0.0) only after the column's own entries, at most one of it
        assert (value[f] == 0.0).sum() <= 1 and (value[f, :-1] != 0.0).all()
    np.testing.assert_array_equal(P, projection_matrix(777, n_bits_total, n_features, density))
    assert _hashing.columns_nbytes(n_features, n_bits_total, density) == bit_index.nbytes + value.nbytes


@pytest.mark.parametrize("reading", ["binary", "ternary"])
@pytest.mark.parametrize("n_features", [64, 150, 200])
def test_dense_rows_wider_than_a_mask_word_follow_the_documented_hash(n_features, reading):
    """Dense rows are scanned 64 features at a time (then a tail): non-zeros at the edges
    of each word, all-zero words, float32, and a row rescaled for its huge value."""
    rng = np.random.RandomState(n_features)
    X = rng.randn(80, n_features) * (rng.rand(80, n_features) < 0.3)
    edges = [f for f in (0, 63, 64, 127, 128, 191, 192, n_features - 1) if f < n_features]
    X[0] = 0.0
    X[1] = 0.0
    X[1, edges] = rng.randn(len(edges))
    X[2, :64] = 0.0  # an all-zero first word
    X[3] = 0.0
    X[3, n_features - 1] = 2.0**1000  # largest |x| above 2**960: summed again, scaled
    X[3, 0] = -1.0
    for density in (1 / 9, 0.5):
        P = projection_matrix(99, 130, n_features, density)
        expected = read_sums(X @ P.T, reading)
        np.testing.assert_array_equal(lsh_bits(X, 99, 130, density, reading=reading), expected)  # regenerated
        np.testing.assert_array_equal(  # per-entry hashing (fewer non-zeros than features)
            np.vstack([lsh_bits(X[i : i + 1], 99, 130, density, reading=reading) for i in range(8)]), expected[:8])
        X32 = X[4:].astype(np.float32)
        np.testing.assert_array_equal(lsh_bits(X32, 99, 130, density, reading=reading),
                                      read_sums(X32.astype(np.float64) @ P.T, reading))


@pytest.mark.parametrize("n_features", [10, 150])
def test_dense_kernel_counts_the_rows_holding_nan_or_infinity(n_features):
    """dense_bits finds non-finite rows in its own pass over X and refuses them (so a
    caller may skip a separate check); huge finite rows are not counted."""
    import numba

    rng = np.random.RandomState(0)
    X = rng.randn(40, n_features) * (rng.rand(40, n_features) < 0.3)
    X[3, n_features // 2] = np.nan
    X[7, -1] = np.inf
    X[8, 0] = -np.inf
    X[9, 1], X[9, 2] = 1e308, np.nan
    X[10, 0] = 1e308  # finite: summed again, scaled
    spec = _hashing.projection_spec(5, 100, 0.1)
    old_threads = numba.get_num_threads()
    try:
        for columns in (_hashing.projection_columns(n_features, *spec), _hashing.NO_COLUMNS):
            for n_workers in sorted({1, numba.config.NUMBA_NUM_THREADS}):
                numba.set_num_threads(n_workers)
                args = (columns, spec, True, False, np.empty((0, 100), np.uint8), np.empty((40, 2), np.uint64),
                        np.empty((n_workers, 100)))
                assert _hashing.dense_bits_count(X, *args) == 4
                assert _hashing.dense_bits_count(np.ascontiguousarray(X[10:]), *args) == 0
                with pytest.raises(_hashing.NotFiniteError, match="NaN or infinity in 4 of its 40 rows"):
                    _hashing.dense_bits(X, *args)
                _hashing.dense_bits(np.ascontiguousarray(X[10:]), *args)
    finally:
        numba.set_num_threads(old_threads)
    with pytest.raises(ValueError, match="NaN or infinity in 4 of its 40 rows"):
        lsh_bits(X, 5, 100, 0.1)


# ---------------------------------------------------------------- the quinary reading
def _threads(n):
    """Context: numba runs its kernels on n threads (at most its configured count)."""
    import contextlib

    import numba

    @contextlib.contextmanager
    def ctx():
        old = numba.get_num_threads()
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        try:
            yield
        finally:
            numba.set_num_threads(old)

    return ctx()


@settings(max_examples=30, deadline=None)
@given(
    n_bits_total=st.integers(1, 150),
    density=st.floats(1e-3, 1.0),
    seed=st.integers(0, 2**64 - 1),
    n_features=st.integers(2, 12),
    threshold=st.sampled_from([0.0, 0.3, 1.0, 2.5, 1e300]),
)
def test_quinary_kernels_match_the_reference_for_any_budget_density_and_threshold(
        n_bits_total, density, seed, n_features, threshold):
    """Dense and sparse, packed and unpacked, columns hashed per non-zero or regenerated,
    on 1 and 2 threads: the five documented levels of the reference's sums. The values are
    integers (exact sums whatever the order), so a sum equal to tau is read as +-1."""
    X = np.round(np.random.RandomState(seed % 2**31).randn(6, n_features) * 2)
    X[np.arange(6), np.arange(6) % n_features] = 0.0
    P = projection_matrix(seed, n_bits_total, n_features, density)
    expected = read_sums(X @ P.T, "quinary", threshold)
    packed_expected = pack_planes(expected, "quinary")
    for threads in (1, 2):
        with _threads(threads):
            for rows in (X, np.vstack([X] * 40)):  # hashed where used / every column regenerated
                for data in (rows, sp.csr_matrix(rows)):
                    values = lsh_bits(data, seed, n_bits_total, density, reading="quinary", threshold=threshold)
                    assert values.dtype == np.int8
                    np.testing.assert_array_equal(values[:6], expected)
                    words = lsh_bits(data, seed, n_bits_total, density, packed=True, reading="quinary",
                                     threshold=threshold)
                    np.testing.assert_array_equal(words[:6], packed_expected)
    np.testing.assert_array_equal(_hashing.pack_quinary(expected), packed_expected)
    np.testing.assert_array_equal(_hashing.unpack_quinary(packed_expected, n_bits_total), expected)


def test_quinary_reading_sets_the_documented_threshold_and_levels():
    rng = np.random.RandomState(7)
    X = np.round(rng.randn(300, 40) * 3) * (rng.rand(300, 40) < 0.3)  # integers: exact sums
    X[:3] = 0.0
    proj = LSHProjection(n_projections=7, n_bits=11, density=0.2, reading="quinary", random_state=4).fit(X)
    P = projection_matrix(proj.seed_, 77, 40, proj.density_)
    S = X @ P.T
    assert isinstance(proj.threshold_, float) and proj.threshold_ == quinary_threshold(S) > 0
    values = proj.transform(X)
    np.testing.assert_array_equal(values, read_sums(S, "quinary", proj.threshold_))
    for level in (-2, -1, 0, 1, 2):
        assert (values == level).any(), level
    assert (S == proj.threshold_).any()  # a sum on the threshold itself is read +-1
    np.testing.assert_array_equal(values[S == proj.threshold_], 1)
    np.testing.assert_array_equal(proj.transform(sp.csr_matrix(X)), values)
    np.testing.assert_array_equal(proj.transform(X.astype(np.float32)), values)
    # the same threshold from sparse (CSR, CSC, COO) or float32 training data
    for data in (sp.csr_matrix(X), sp.csc_matrix(X), sp.coo_matrix(X), X.astype(np.float32)):
        again = LSHProjection(n_projections=7, n_bits=11, density=0.2, reading="quinary", random_state=4).fit(data)
        assert again.threshold_ == proj.threshold_
    # its sign is the ternary reading of the same projection; binary and ternary set tau 0.0
    ternary = LSHProjection(n_projections=7, n_bits=11, density=0.2, reading="ternary", random_state=4).fit(X)
    assert ternary.threshold_ == 0.0
    np.testing.assert_array_equal(np.sign(values), ternary.transform(X))
    # packed: four planes of ceil(77 / 64) = 2 words
    packed = LSHProjection(n_projections=7, n_bits=11, density=0.2, reading="quinary", packed=True,
                           random_state=4).fit(X)
    words = packed.transform(X)
    assert words.shape == (300, 8) and packed.get_feature_names_out().shape == (8,)
    np.testing.assert_array_equal(words, pack_planes(values, "quinary"))


def test_quinary_threshold_uses_the_first_4096_rows_only():
    rng = np.random.RandomState(0)
    X = np.round(rng.randn(4100, 6) * 1000)  # integers: exact sums, few ties
    X[4096:] *= 1000  # rows past the first 4096 would move the median
    proj = LSHProjection(n_projections=2, n_bits=5, density=0.5, reading="quinary", random_state=0).fit(X)
    S = X @ projection_matrix(proj.seed_, 10, 6, proj.density_).T
    assert proj.threshold_ == quinary_threshold(S) != float(np.median(np.abs(S)))


def test_quinary_threshold_zero_reads_every_nonzero_sum_as_two():
    X = np.array([[1.0, 0.0, 0.0, 0.0]] * 3 + [[0.0, 2.0, -1.0, 0.0]])
    P = projection_matrix(3, 40, 4, 0.05)
    S = X @ P.T
    assert quinary_threshold(S) == 0.0  # most sums are 0: the median of |s| is 0
    values = lsh_bits(X, 3, 40, 0.05, reading="quinary", threshold=0.0)
    np.testing.assert_array_equal(values, 2 * np.sign(S).astype(np.int8))
    assert (values != 0).any()
    proj = LSHProjection(n_projections=4, n_bits=10, density=0.05, reading="quinary", random_state=0).fit(X)
    assert proj.threshold_ == 0.0


def test_quinary_threshold_is_validated():
    X = np.ones((3, 4))
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="threshold must be finite and >= 0"):
            lsh_bits(X, 1, 8, 1.0, reading="quinary", threshold=bad)
    # binary and ternary do not read the threshold
    lsh_bits(X, 1, 8, 1.0, reading="ternary", threshold=np.nan)


def test_quinary_pickles_keep_the_threshold_and_pre_quinary_pickles_load():
    import pickle

    X = _sparse_rows(2, share=0.6)
    proj = LSHProjection(n_projections=4, n_bits=16, reading="quinary", random_state=0).fit(X)
    back = pickle.loads(pickle.dumps(proj))
    assert back.reading == "quinary" and back.threshold_ == proj.threshold_ > 0
    np.testing.assert_array_equal(back.transform(X), proj.transform(X))
    # a fitted ternary pickle from before the quinary reading: no threshold_ in its state
    ternary = LSHProjection(n_projections=4, n_bits=16, reading="ternary", random_state=0).fit(X)
    state = dict(ternary.__getstate__())
    del state["threshold_"]
    old = LSHProjection.__new__(LSHProjection)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.transform(X), ternary.transform(X))
