"""The one forward path (_inference.py): gather kernel, first layer per weight type, batching, shared by both classifiers."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_projection import _inference
from sklearn_projection._hashing import pack_bits, pack_ternary
from sklearn_projection._inference import first_layer, gather_first_layer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
DTYPES = ("float32", "float16", "int8")


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




def _documented_float32_first_layer(values, W, bias):
    """The documented float32 first layer, step by step: bias, then + W[b] over the bits
    with value > 0, - W[b] over those < 0, + W[b] over those > 1 and - W[b] over those
    < -1 (the four planes; binary and ternary values leave the last two empty), each plane
    in increasing b, each step rounded to float32."""
    out = np.empty((len(values), W.shape[1]), dtype=np.float32)
    for i, row in enumerate(values):
        acc = bias.copy()
        for mask, sign in ((row > 0, 1), (row < 0, -1), (row > 1, 1), (row < -1, -1)):
            for b in np.flatnonzero(mask):
                acc = (acc + W[b] if sign > 0 else acc - W[b]).astype(np.float32)
        out[i] = acc
    return out


def _signs(rng, n, n_bits):
    signs = rng.integers(-1, 2, (n, n_bits)).astype(np.int8)
    signs[0] = 0
    signs[1] = 1
    signs[2] = -1  # every bit of one plane set, including bit 63 of each word
    return signs


def test_ternary_gather_adds_the_positive_rows_and_subtracts_the_negative_ones():
    rng = np.random.default_rng(1)
    for n_bits in (1, 63, 64, 65, 130):
        signs = _signs(rng, 9, n_bits)
        words = pack_ternary(signs)
        assert words.shape == (9, 2 * ((n_bits + 63) // 64))
        W = rng.integers(-127, 128, (n_bits, 5)).astype(np.int8)
        out = gather_first_layer(words, W, np.zeros((9, 5), dtype=np.int32), ternary=True)
        np.testing.assert_array_equal(out, signs.astype(np.int32) @ W.astype(np.int32))
        # the binary gather of the same words reads both planes as positive bits
        binary = gather_first_layer(words[:, : words.shape[1] // 2], W, np.zeros((9, 5), dtype=np.int32))
        np.testing.assert_array_equal(binary, (signs > 0).astype(np.int32) @ W.astype(np.int32))
    with pytest.raises(ValueError, match="two planes"):
        gather_first_layer(np.zeros((2, 3), np.uint64), W, np.zeros((2, 5), np.int32), ternary=True)


def test_ternary_float32_first_layer_follows_the_documented_order_exactly():
    """bias, + W[b] for the positive bits in increasing b, then - W[b] for the negative
    bits in increasing b, each step rounded to float32."""
    rng = np.random.default_rng(2)
    signs = _signs(rng, 6, 150)
    W = rng.normal(size=(150, 4)).astype(np.float32) * np.float32(1e3) ** rng.integers(-2, 3, (150, 1))
    W = W.astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    z = first_layer(pack_ternary(signs), W, bias, ternary=True)
    np.testing.assert_array_equal(z, _documented_float32_first_layer(signs, W, bias))


@pytest.mark.parametrize("reading", ["binary", "ternary"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_first_layer_equals_the_dense_product_for_every_weight_type(dtype, reading):
    rng = np.random.default_rng(0)
    if reading == "binary":
        values = (rng.random((13, 150)) < 0.4).astype(np.uint8)
        words = pack_bits(values)
    else:
        values = _signs(rng, 13, 150)
        words = pack_ternary(values)
    W = rng.normal(size=(150, 7)).astype(np.float32)
    b = rng.normal(size=7).astype(np.float32)
    scale = None
    if dtype == "float16":
        W = W.astype(np.float16)
    elif dtype == "int8":
        W = rng.integers(-127, 128, size=(150, 7)).astype(np.int8)
        scale = rng.random(7).astype(np.float32)
    z = first_layer(words, W, b, scale, ternary=reading == "ternary")
    assert z.dtype == np.float32 and z.shape == (13, 7)
    expected = values.astype(np.float64) @ W.astype(np.float64)
    if scale is not None:
        expected *= scale
    np.testing.assert_allclose(z, expected + b, rtol=1e-5, atol=1e-4)


def test_logits_are_the_same_in_batches(digits_model, digits_split, monkeypatch):
    """Rows beyond BATCH_ROWS go through the same path in several calls, with the same result."""
    _, X_test, _, _ = digits_split
    proj = digits_model.projection_
    args = (proj.seed_, proj.n_bits_total_, proj.density_, digits_model.coefs_, digits_model.intercepts_)
    whole = _inference.logits(X_test, *args)
    monkeypatch.setattr(_inference, "BATCH_ROWS", 7)
    np.testing.assert_array_equal(_inference.logits(X_test, *args), whole)
    assert _inference.logits(X_test[:0], *args).shape == (0, 10)


def test_both_classifiers_predict_through_the_one_path(digits_model, digits_split, monkeypatch):
    """ProjectionNetClassifier and its compact models call _inference.logits, nothing else."""
    _, X_test, _, _ = digits_split
    calls = []
    original = _inference.logits

    def spy(X, *args):
        calls.append(len(args[3]))
        return original(X, *args)

    monkeypatch.setattr(_inference, "logits", spy)
    digits_model.predict(X_test)
    digits_model.predict_proba(X_test)
    digits_model.decision_function(X_test)
    for dtype in ("float32", "float16", "int8"):
        digits_model.to_compact(dtype).predict(X_test)
    assert calls == [2] * 6


def test_footprint_counts_weights_biases_scales_and_scalars():
    W = [np.zeros((600, 32), np.int8), np.zeros((32, 10), np.int8)]
    b = [np.zeros(32, np.float32), np.zeros(10, np.float32)]
    s = [np.zeros(32, np.float32), np.zeros(10, np.float32)]
    assert _inference.footprint_bytes(W, b, s) == 600 * 32 + 320 + 4 * 42 * 2 + 16 + 4 * 6


def test_fast_input_check_gives_what_validate_data_gives(digits_model, digits_split, monkeypatch):
    """The few-microsecond check of a plain float row accepts only what validate_data
    accepts, and everything else gets validate_data's own answer and errors."""
    from sklearn_projection import _inference as inference_module

    _, X_test, _, _ = digits_split
    compact = digits_model.to_compact("int8")
    rows = {
        "one row": X_test[:1],
        "float32": X_test[:3].astype(np.float32),
        "fortran": np.asfortranarray(X_test[:5]),
        "ints": (X_test[:4] * 16).astype(np.int64) / 16,
        "huge finite": X_test[:2] * 1e308,  # the sum overflows: the full check takes it
        "list": X_test[:2].tolist(),
    }
    calls = []
    original = inference_module.validate_data
    monkeypatch.setattr(inference_module, "validate_data", lambda *a, **k: calls.append(1) or original(*a, **k))
    fast = {name: (compact.predict_proba(X), digits_model.predict_proba(X)) for name, X in rows.items()}
    # fortran and list went through validate_data, and the huge finite rows (whose sum
    # overflows) too unless the model's bit kernel checks for NaN/inf itself
    checked_first = sum(not model._logits_refuses_not_finite for model in (compact, digits_model))
    assert len(calls) == 2 * 2 + checked_first
    monkeypatch.undo()
    # the same rows through the full check (sparse input always takes it) give the same answers
    for name, X in rows.items():
        expected = original(compact, X, accept_sparse=["csr"], dtype=(np.float64, np.float32), reset=False)
        np.testing.assert_array_equal(fast[name][0], compact.predict_proba(sp.csr_matrix(expected)), err_msg=name)
    for bad, match in ((np.nan, "NaN"), (np.inf, "infinity")):
        X = X_test[:1].copy()
        X[0, 3] = bad
        for model in (compact, digits_model):
            with pytest.raises(ValueError, match=match):
                model.predict(X)
    with pytest.raises(ValueError, match="features, but"):
        compact.predict(X_test[:1, :10])


@pytest.mark.parametrize("n_bits", [129, 600])
def test_int8_gather_is_exact_at_the_extremes_of_int8(n_bits):
    """int8 rows are summed in int16 blocks of at most 128 bits: every bit set, in both
    planes, with weights -128 and 127 (the int16 bound holds for any int8); ternary
    batches summed through the column sums give the same."""
    W = np.where(np.arange(n_bits)[:, None] % 3 == 0, np.int8(-128), np.int8(127)) * np.ones((1, 5), np.int8)
    W[:, 1] = -128
    W[:, 2] = 127
    signs = np.ones((4, n_bits), np.int8)
    signs[1] = -1
    signs[2, ::2] = -1
    signs[3, : n_bits // 2] = 0
    expected = signs.astype(np.int64) @ W.astype(np.int64)
    out = gather_first_layer(pack_ternary(signs), W, np.zeros((4, 5), np.int32), ternary=True)
    np.testing.assert_array_equal(out, expected)
    # from 8 rows on, ternary sums come from the weights' column sums: same result
    many = np.vstack([signs] * 3)
    out = gather_first_layer(pack_ternary(many), W, np.zeros((12, 5), np.int32), ternary=True)
    np.testing.assert_array_equal(out, np.vstack([expected] * 3))
    out = gather_first_layer(pack_bits((signs > 0).view(np.uint8)), W, np.zeros((4, 5), np.int32))
    np.testing.assert_array_equal(out, (signs > 0).astype(np.int64) @ W.astype(np.int64))


def test_binary_float32_first_layer_follows_the_documented_order_exactly():
    """bias, + W[b] for the set bits in increasing b, each step rounded to float32 (the
    kernel adds four rows per pass; the order, and so every rounding, is the same)."""
    rng = np.random.default_rng(3)
    bits = (rng.random((7, 203)) < 0.6).astype(np.uint8)
    bits[0] = 1
    W = (rng.normal(size=(203, 6)) * 1e3 ** rng.integers(-2, 3, (203, 1))).astype(np.float32)
    bias = rng.normal(size=6).astype(np.float32)
    z = first_layer(pack_bits(bits), W, bias)
    np.testing.assert_array_equal(z, _documented_float32_first_layer(bits, W, bias))


def test_logits_that_refuse_non_finite_input_skip_the_separate_check(digits_model, digits_split, monkeypatch):
    """With ``_logits_refuses_not_finite`` (the bit kernel finds NaN and infinities in its
    own pass), a plain float array is not checked first: the same answers for finite
    input, scikit-learn's own errors for NaN and infinity."""
    from sklearn_projection import CompactProjectionClassifier, ProjectionNetClassifier
    from sklearn_projection import _inference as inference_module

    _, X_test, _, _ = digits_split
    compact = digits_model.to_compact("int8")
    rows = {"batch": np.ascontiguousarray(X_test[:40]), "one row": X_test[:1].copy(),
            "float32": X_test[:3].astype(np.float32), "huge finite": X_test[:2] * 1e308}
    expected = {name: (compact.predict_proba(X), digits_model.predict_proba(X)) for name, X in rows.items()}
    for cls in (CompactProjectionClassifier, ProjectionNetClassifier):
        monkeypatch.setattr(cls, "_logits_refuses_not_finite", True, raising=False)
    calls = []
    original = inference_module.validate_data
    monkeypatch.setattr(inference_module, "validate_data", lambda *a, **k: calls.append(1) or original(*a, **k))
    for name, X in rows.items():
        np.testing.assert_array_equal(compact.predict_proba(X), expected[name][0], err_msg=name)
        np.testing.assert_array_equal(digits_model.predict_proba(X), expected[name][1], err_msg=name)
        np.testing.assert_array_equal(compact.predict(X), compact.classes_[np.argmax(expected[name][0], axis=1)])
    assert calls == []  # not even the huge finite rows, whose sum overflows
    for bad, match in ((np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")):
        X = X_test[:5].copy()  # X_test[:5] is already contiguous: ascontiguousarray would be a view
        X[3, 7] = bad
        for model in (compact, digits_model):
            with pytest.raises(ValueError, match=match):
                model.predict(X)
            with pytest.raises(ValueError, match=match):
                model.decision_function(X)
    assert len(calls) == 3 * 2 * 2  # each refused input went through validate_data


@pytest.mark.parametrize("reading", ["binary", "ternary"])
def test_int8_first_layer_scaled_in_the_kernel_equals_numpy_exactly(reading):
    """The int8 first layer is scaled and biased in the kernel: bit for bit numpy's
    ``float32(sums) * scale + bias`` over the exact int32 sums."""
    rng = np.random.default_rng(4)
    values = _signs(rng, 11, 300) if reading == "ternary" else (rng.random((11, 300)) < 0.5).astype(np.uint8)
    words = pack_ternary(values) if reading == "ternary" else pack_bits(values)
    W = rng.integers(-128, 128, size=(300, 9)).astype(np.int8)
    scale = (rng.random(9) * 10.0 ** rng.integers(-4, 2, 9)).astype(np.float32)
    bias = rng.normal(size=9).astype(np.float32)
    sums = gather_first_layer(words, W, np.zeros((11, 9), np.int32), ternary=reading == "ternary")
    np.testing.assert_array_equal(sums, values.astype(np.int64) @ W.astype(np.int64))
    expected = sums.astype(np.float32)
    expected *= scale
    expected += bias
    z = first_layer(words, W, bias, scale, ternary=reading == "ternary")
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z, expected)


@pytest.mark.parametrize("width", [3, 10, 16, 21, 32, 48, 64, 100, 130])
def test_int8_word_kernel_equals_the_dense_product_and_the_row_kernel(width, monkeypatch):
    """int8 first layers are summed word by word in vector registers (64, 32 and 16
    columns at a time, the weights padded with zero columns to a multiple of 16): exact
    at the extremes of int8 with every bit of a word set, for both readings, with and
    without the weights' column sums, and bit for bit what the row kernel (pure
    Python's) gives."""
    rng = np.random.default_rng(width)
    for n_bits in (64, 65, 190):
        W = rng.choice(np.array([-128, -127, -1, 0, 1, 126, 127], np.int8), size=(n_bits, width))
        W[: n_bits // 2, 0] = -128  # one column at the int16 bound of a full word
        scale = (rng.random(width) * 10.0 ** rng.integers(-4, 2, width)).astype(np.float32)
        bias = rng.normal(size=width).astype(np.float32)
        signs = np.vstack([_signs(rng, 9, n_bits), np.full((1, n_bits), -1, np.int8)])
        bits = (signs > 0).view(np.uint8)
        cases = [(pack_ternary(signs), True, signs), (pack_bits(bits), False, bits)]
        for words, ternary, values in cases:
            expected = values.astype(np.int64) @ W.astype(np.int64)
            for rows in (slice(0, 3), slice(None)):  # fewer rows than _TOTAL_MIN_ROWS, and more
                out = gather_first_layer(words[rows], W, np.zeros((len(values[rows]), width), np.int32), ternary)
                np.testing.assert_array_equal(out, expected[rows])
                z = first_layer(words[rows], W, bias, scale, ternary=ternary)
                monkeypatch.setattr(_inference, "_WORD_KERNEL", False)
                np.testing.assert_array_equal(z, first_layer(words[rows], W, bias, scale, ternary=ternary))
                monkeypatch.undo()


@pytest.mark.parametrize("width", [5, 16, 21, 64, 100])
@pytest.mark.parametrize("reading", ["binary", "ternary"])
def test_float32_word_kernel_follows_the_documented_order_exactly(width, reading, monkeypatch):
    """float32 weight rows are added word by word in vector registers (one column per
    lane, the weights padded with zero columns to a multiple of 16): still bias, + W[b]
    over the positive bits in increasing b, then - W[b] over the negative bits, each
    step rounded to float32, as the row kernel (pure Python's) does it."""
    rng = np.random.default_rng(width)
    n_bits = 130
    values = _signs(rng, 5, n_bits) if reading == "ternary" else (rng.random((5, n_bits)) < 0.5).astype(np.uint8)
    words = pack_ternary(values) if reading == "ternary" else pack_bits(values)
    W = (rng.normal(size=(n_bits, width)) * 1e3 ** rng.integers(-2, 3, (n_bits, 1))).astype(np.float32)
    bias = rng.normal(size=width).astype(np.float32)
    z = first_layer(words, W, bias, ternary=reading == "ternary")
    np.testing.assert_array_equal(z, _documented_float32_first_layer(values, W, bias))
    monkeypatch.setattr(_inference, "_WORD_KERNEL", False)
    np.testing.assert_array_equal(first_layer(words, W, bias, ternary=reading == "ternary"), z)


# ---------------------------------------------------------------- the quinary reading: four planes
def _levels(rng, n, n_bits):
    values = rng.integers(-2, 3, (n, n_bits)).astype(np.int8)
    values[0] = 0
    values[1] = 2
    values[2] = -2  # every bit of planes 0 and 2 (1 and 3), including bit 63 of each word
    values[3] = 1
    values[4] = -1  # rows 0-4: each level in turn the most populated (the one left out)
    values[5, : n_bits // 2] = 2  # a tie between two levels
    values[5, n_bits // 2 :] = -1
    return values


@pytest.mark.parametrize("width", [3, 16, 21, 64, 100])
def test_quinary_int8_first_layer_is_the_exact_product_with_the_levels(width, monkeypatch):
    """Four planes (s > 0, s < 0, s > tau, s < -tau): S0 - S1 + S2 - S3 is ``values @ W``
    exactly (the word kernel sums the levels but the row's most populated one, each level
    in turn), at the extremes of int8, with and without the weights' column sums (fewer
    rows than _TOTAL_MIN_ROWS, and more), in the word kernel and the row kernel, on 1 and
    2 threads; scaled in the kernel bit for bit as numpy does it."""
    import numba

    from sklearn_projection._hashing import pack_quinary

    rng = np.random.default_rng(width)
    old = numba.get_num_threads()
    try:
        for n_bits in (1, 64, 65, 190):
            W = rng.choice(np.array([-128, -127, -1, 0, 1, 126, 127], np.int8), size=(n_bits, width))
            W[: n_bits // 2, 0] = -128
            scale = (rng.random(width) * 10.0 ** rng.integers(-4, 2, width)).astype(np.float32)
            bias = rng.normal(size=width).astype(np.float32)
            values = _levels(rng, 12, n_bits)
            words = pack_quinary(values)
            assert words.shape == (12, 4 * ((n_bits + 63) // 64))
            expected = values.astype(np.int64) @ W.astype(np.int64)
            scaled = expected.astype(np.float32)
            scaled *= scale
            scaled += bias
            for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
                numba.set_num_threads(threads)
                for word_kernel in (True, False):
                    monkeypatch.setattr(_inference, "_WORD_KERNEL", word_kernel)
                    for rows in (slice(0, 3), slice(None)):
                        out = gather_first_layer(words[rows], W, np.zeros((len(values[rows]), width), np.int32),
                                                 planes=4)
                        np.testing.assert_array_equal(out, expected[rows])
                        np.testing.assert_array_equal(first_layer(words[rows], W, bias, scale, planes=4),
                                                      scaled[rows])
                    monkeypatch.undo()
    finally:
        numba.set_num_threads(old)
    with pytest.raises(ValueError, match="four planes"):
        gather_first_layer(np.zeros((2, 6), np.uint64), W, np.zeros((2, width), np.int32), planes=4)


@pytest.mark.parametrize("width", [5, 16, 21, 64, 100])
def test_quinary_float32_first_layer_follows_the_documented_order_exactly(width, monkeypatch):
    """bias, + W[b] over plane 0 (s > 0) in increasing b, - W[b] over plane 1 (s < 0),
    + W[b] over plane 2 (s > tau), - W[b] over plane 3 (s < -tau), each step rounded to
    float32: the word kernel, the row kernel and float16 weights (widened exactly)."""
    from sklearn_projection._hashing import pack_quinary

    rng = np.random.default_rng(width)
    n_bits = 130
    values = _levels(rng, 6, n_bits)
    words = pack_quinary(values)
    W = (rng.normal(size=(n_bits, width)) * 1e3 ** rng.integers(-2, 3, (n_bits, 1))).astype(np.float32)
    bias = rng.normal(size=width).astype(np.float32)
    z = first_layer(words, W, bias, planes=4)
    np.testing.assert_array_equal(z, _documented_float32_first_layer(values, W, bias))
    np.testing.assert_allclose(z, values @ W.astype(np.float64) + bias, rtol=1e-4, atol=1e-2 * np.abs(W).max())
    monkeypatch.setattr(_inference, "_WORD_KERNEL", False)
    np.testing.assert_array_equal(first_layer(words, W, bias, planes=4), z)
    W16 = np.clip(W, -60000, 60000).astype(np.float16)
    np.testing.assert_array_equal(first_layer(words, W16, bias, planes=4),
                                  first_layer(words, W16.astype(np.float32), bias, planes=4))


def test_quinary_logits_are_the_reference_levels_through_the_network():
    """_inference.logits with the quinary reading: the float32 first layer over the
    reference's five levels, then the remaining layers."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _reference import projection_matrix, read_sums

    rng = np.random.default_rng(3)
    X = np.round(rng.normal(size=(40, 12)) * 3)  # integers: exact sums
    P = projection_matrix(11, 70, 12, 0.2)
    tau = 2.0
    values = read_sums(X @ P.T, "quinary", tau)
    assert set(np.unique(values).tolist()) == {-2, -1, 0, 1, 2}
    coefs = [rng.normal(size=(70, 8)).astype(np.float32), rng.normal(size=(8, 3)).astype(np.float32)]
    intercepts = [rng.normal(size=8).astype(np.float32), rng.normal(size=3).astype(np.float32)]
    z = _inference.logits(X, 11, 70, 0.2, coefs, intercepts, reading="quinary", threshold=tau)
    from sklearn_projection._hashing import pack_quinary

    hidden = first_layer(pack_quinary(values), coefs[0], intercepts[0], planes=4)
    np.testing.assert_array_equal(z, _inference.remaining_layers(hidden, coefs, intercepts))
    # another threshold reads other levels
    assert not np.array_equal(
        _inference.logits(X, 11, 70, 0.2, coefs, intercepts, reading="quinary", threshold=0.0), z)
