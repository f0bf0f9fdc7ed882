"""The compact model's file format (_format.py): exact round trips, label types, truncated, corrupted and hostile files."""


import copy
import os
import pickle
import struct
import threading
import tracemalloc
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sklearn_projection import CompactProjectionClassifier, ProjectionNetClassifier
from sklearn_projection._format import FORMAT_VERSION, MAGIC

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
DTYPES = ("float32", "float16", "int8")


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


def test_wrong_magic_version_and_not_a_model(saved_bytes, tmp_path):
    body = _body_of(saved_bytes)
    with pytest.raises(ValueError, match="magic"):
        CompactProjectionClassifier.from_bytes(_with_body(body, magic=b"NOTMODEL"))
    with pytest.raises(ValueError, match="version 6.*versions 2, 3, 4 and 5"):
        CompactProjectionClassifier.from_bytes(_with_body(body, version=6))
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


def _with_body(body, version=2, magic=MAGIC):
    # version 2 by default: the crafted bodies below have its layout (no reading byte)
    head = magic + struct.pack("<IQ", version, len(body)) + body
    return head + struct.pack("<I", zlib.crc32(head))


def _body_of(data):
    return data[20:-4]


def _hostile_body(widths, T=60, d=10, n_features=64, n_layers=None, dtype=2):
    n_layers = len(widths) - 1 if n_layers is None else n_layers
    body = struct.pack("<BI", dtype, n_layers)
    body += struct.pack("<QIIdQ", 1, T, d, 0.125, n_features)
    body += struct.pack(f"<{len(widths)}I", *widths)
    return body


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


# ------------------------------------------------------------------ crafted files
# A serializer of the documented layout written independently of _format.write, so that
# any part (sizes, label blocks, raw weight bytes) can be replaced and the file still
# carries a valid CRC32: these files reach the loader's semantic checks.
def _str_block(s):
    raw = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<I", len(raw)) + raw


def _numeric_labels(values, code):
    code_b = code.encode("ascii") if isinstance(code, str) else code
    values = np.asarray(values)
    return struct.pack("<BIB", 0, len(values), len(code_b)) + code_b + values.tobytes()


def _unicode_labels(strings, width, n=None):
    n = len(strings) if n is None else n
    return struct.pack("<BII", 1, n, width) + b"".join(_str_block(s) for s in strings)


def _object_labels(strings):
    return struct.pack("<BI", 2, len(strings)) + b"".join(_str_block(s) for s in strings)


def _parts_of(compact):
    """The fields of ``compact`` as the crafted-file serializer takes them."""
    layers = []
    for i, (W, b) in enumerate(zip(compact.coefs_, compact.intercepts_)):
        layers += [W.copy(), b.copy()] + ([compact.scales_[i].copy()] if compact.dtype_ == "int8" else [])
    return dict(
        dtype_code=("float32", "float16", "int8").index(compact.dtype_),
        reading_code=("binary", "ternary", "quinary").index(compact.reading_), n_layers=len(compact.coefs_),
        tau=compact.threshold_,
        seed=compact.seed_, T=compact.n_projections_, d=compact.n_bits_, density=compact.density_,
        n_features=compact.n_features_in_,
        widths=[compact.n_bits_total_] + [W.shape[1] for W in compact.coefs_],
        classes=_numeric_labels(compact.classes_.astype("<i8"), "<i8"), names=[], layers=layers,
    )


def _craft(parts):
    body = struct.pack("<BBI", parts["dtype_code"], parts["reading_code"], parts["n_layers"])
    if parts["reading_code"] == 2:  # version 5: the quinary threshold follows its code
        body += struct.pack("<d", parts.get("tau", 0.0))
    body += struct.pack("<QIIdQ", parts["seed"], parts["T"], parts["d"], parts["density"], parts["n_features"])
    body += struct.pack(f"<{len(parts['widths'])}I", *parts["widths"])
    body += parts["classes"]
    body += struct.pack("<I", len(parts["names"])) + b"".join(_str_block(s) for s in parts["names"])
    body += b"\0"  # version 4: numeric input
    body += b"".join(a if isinstance(a, bytes) else a.astype(a.dtype.newbyteorder("<")).tobytes()
                     for a in parts["layers"])
    return _with_body(body, version=5)


def _peak_bytes(fn, *args):
    """(result or exception, tracemalloc peak) of fn(*args)."""
    tracemalloc.start()
    try:
        try:
            out = fn(*args)
        except Exception as exc:  # noqa: BLE001 - returned to the caller to assert on
            out = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak


@pytest.fixture(scope="module")
def small_compact(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, projection_hidden_layer_sizes=(6,),
                                  trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    return clf.fit(X_train, y_train).to_compact("int8")


def test_crafted_file_of_a_valid_model_loads(small_compact, digits_split):
    # the crafted serializer agrees with the writer byte for byte (labels re-coded as <i8)
    _, X_test, _, _ = digits_split
    data = _craft(_parts_of(small_compact))
    back = CompactProjectionClassifier.from_bytes(data)
    np.testing.assert_array_equal(back.predict_proba(X_test), small_compact.predict_proba(X_test))
    small = copy.deepcopy(small_compact)
    small.classes_ = small.classes_.astype("<i8")
    assert small.to_bytes() == data


@pytest.mark.parametrize("width", [2**20, 2**24, 2**32 - 1])
def test_unicode_label_width_is_bounded_by_the_bytes_present(small_compact, width):
    # 10 labels of declared width 2**20 characters: 40 MiB of labels from a ~5 kB file
    # (the 3 410-byte file asked for 1 GiB the same way)
    parts = _parts_of(small_compact)
    parts["classes"] = _unicode_labels([str(i) for i in range(10)], width)
    data = _craft(parts)
    out, peak = _peak_bytes(CompactProjectionClassifier.from_bytes, data)
    assert isinstance(out, ValueError) and "label" in str(out) and "width" in str(out), repr(out)
    assert peak < 1 * 2**20 + 4 * len(data), peak


def test_unicode_label_width_within_the_bound_round_trips(small_compact, digits_split):
    # labels stored wider than the longest label (y of dtype <U50) still load exactly
    _, X_test, _, _ = digits_split
    wide = copy.deepcopy(small_compact)
    wide.classes_ = np.array([f"c{i}" for i in range(10)], dtype="<U50")
    back = CompactProjectionClassifier.from_bytes(wide.to_bytes())
    assert back.classes_.dtype == np.dtype("<U50")
    np.testing.assert_array_equal(back.predict(X_test), wide.predict(X_test))
    # a width the loader would refuse is refused when writing, with the remedy
    wide.classes_ = np.array([f"c{i}" for i in range(10)], dtype=f"<U{2**16}")
    with pytest.raises(ValueError, match=r"class labels of dtype <U65536 .*tolist"):
        wide.to_bytes()


@pytest.mark.parametrize("data", [2**33, "SKPNCMP", None, 3.5, [1, 2]],
                         ids=["int", "str", "None", "float", "list"])
def test_from_bytes_of_a_non_bytes_like_raises_type_error_before_allocating(data):
    out, peak = _peak_bytes(CompactProjectionClassifier.from_bytes, data)
    assert isinstance(out, TypeError), repr(out)
    assert "bytes-like" in str(out) and type(data).__name__ in str(out), str(out)
    assert peak < 2**20, peak


def test_from_bytes_accepts_bytes_like(saved_bytes):
    for data in (bytearray(saved_bytes), memoryview(saved_bytes), np.frombuffer(saved_bytes, np.uint8)):
        CompactProjectionClassifier.from_bytes(data)


def test_load_refuses_what_is_not_a_regular_file_without_reading_it(saved_bytes, tmp_path):
    for path in ("/dev/zero", tmp_path):
        if not os.path.exists(path):
            continue
        out, peak = _peak_bytes(CompactProjectionClassifier.load, path)
        assert isinstance(out, ValueError) and "not a regular file" in str(out), repr(out)
        assert peak < 2**20, peak
    # a FIFO: a loader that opened it would block, so a writer thread feeds it a valid
    # model (the old loader read and accepted it); the fixed loader never opens it
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as f:
            f.write(saved_bytes)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        with pytest.raises(ValueError, match="not a regular file"):
            CompactProjectionClassifier.load(fifo)
    finally:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # releases the writer
        writer.join(5)
        os.close(fd)


def test_load_refuses_files_beyond_the_size_limit_without_reading_them(saved_bytes, tmp_path):
    path = tmp_path / "model.pnc"
    path.write_bytes(saved_bytes)
    CompactProjectionClassifier.load(path, max_bytes=len(saved_bytes))
    with pytest.raises(ValueError, match=rf"{len(saved_bytes)} bytes.*max_bytes={len(saved_bytes) - 1}"):
        CompactProjectionClassifier.load(path, max_bytes=len(saved_bytes) - 1)
    # a sparse 1 TiB file: refused from its size, nothing read
    huge = tmp_path / "huge.pnc"
    with open(huge, "wb") as f:
        f.write(saved_bytes[:20])
        f.truncate(2**40)
    out, peak = _peak_bytes(CompactProjectionClassifier.load, huge)
    assert isinstance(out, ValueError) and "max_bytes" in str(out), repr(out)
    assert peak < 2**20, peak


def _mutated(compact, layer_index, flat_index, value):
    """Crafted file of ``compact`` with one value of one stored array replaced."""
    parts = _parts_of(compact)
    a = parts["layers"][layer_index]
    a.reshape(-1)[flat_index] = value
    return _craft(parts)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_loader_refuses_non_finite_weights_and_biases(digits_model, dtype, value):
    compact = digits_model.to_compact(dtype)
    # stored arrays per layer: W, b (and the int8 scales, tested below); int8 W cannot hold NaN
    for i in ([1, 4] if dtype == "int8" else [0, 1, 2, 3]):
        data = _mutated(compact, i, 5, value)
        with pytest.raises(ValueError, match="non-finite"):
            CompactProjectionClassifier.from_bytes(data)


@pytest.mark.parametrize("value, match", [(np.nan, "non-finite"), (np.inf, "non-finite"), (0.0, "positive"),
                                          (-0.5, "positive"), (-0.0, "positive")])
def test_loader_refuses_int8_scales_that_are_not_finite_and_positive(digits_model, value, match):
    compact = digits_model.to_compact("int8")
    for i in (2, 5):  # the scales of both layers
        with pytest.raises(ValueError, match=match):
            CompactProjectionClassifier.from_bytes(_mutated(compact, i, 3, value))


def test_loader_refuses_int8_minus_128(digits_model):
    # |q| <= 127 is what makes the int32 first-layer sum exact up to INT8_MAX_BITS bits
    with pytest.raises(ValueError, match="-128"):
        CompactProjectionClassifier.from_bytes(_mutated(digits_model.to_compact("int8"), 0, 7, -128))


def test_loader_refuses_weights_whose_logits_can_overflow_float32(digits_model):
    # every weight finite, but all bits set sums 600 * 3e38 in float32: inf, then NaN
    compact = digits_model.to_compact("float32")
    parts = _parts_of(compact)
    parts["layers"][0][:] = 3e38
    with pytest.raises(ValueError, match="float32 range"):
        CompactProjectionClassifier.from_bytes(_craft(parts))
    parts = _parts_of(compact)
    parts["layers"][2][:] = 1e37  # second layer: 32 hidden values of up to ~600 * |W0| each
    with pytest.raises(ValueError, match="float32 range"):
        CompactProjectionClassifier.from_bytes(_craft(parts))


@pytest.mark.parametrize(
    "classes",
    [_numeric_labels(np.array([7] * 10, dtype="<i8"), "<i8"),
     _numeric_labels(np.arange(10, dtype="<i8")[::-1].copy(), "<i8"),
     _numeric_labels(np.array([0.0, np.nan] + list(range(2, 10)), dtype="<f8"), "<f8"),
     _numeric_labels(np.array([-0.0, 0.0] + list(range(2, 10)), dtype="<f8"), "<f8"),
     _unicode_labels(["a", "a"] + [f"c{i}" for i in range(8)], 2),
     _unicode_labels([f"c{i}" for i in range(10)][::-1], 2),
     _object_labels(["b", "a"] + [f"c{i}" for i in range(8)])],
    ids=["int-dup", "int-desc", "float-nan", "float-signed-zero", "unicode-dup", "unicode-desc", "object-unsorted"],
)
def test_loader_refuses_duplicate_or_unsorted_labels(small_compact, classes):
    parts = _parts_of(small_compact)
    parts["classes"] = classes
    with pytest.raises(ValueError, match="strictly increasing"):
        CompactProjectionClassifier.from_bytes(_craft(parts))


def test_loader_refuses_bool_labels_that_are_not_0_or_1(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=4, n_bits=4, max_iter=2, random_state=0)
    compact = clf.fit(X_train, y_train % 2 == 1).to_compact()
    parts = _parts_of(compact)
    parts["classes"] = _numeric_labels(np.array([0, 1], dtype=np.uint8), "|b1")
    CompactProjectionClassifier.from_bytes(_craft(parts))
    parts["classes"] = _numeric_labels(np.array([1, 2], dtype=np.uint8), "|b1")
    with pytest.raises(ValueError, match="bool"):
        CompactProjectionClassifier.from_bytes(_craft(parts))


def test_class_dtype_code_with_a_trailing_newline_is_a_value_error(small_compact):
    parts = _parts_of(small_compact)
    parts["classes"] = _numeric_labels(np.arange(10, dtype="<i8"), "<i8\n")
    with pytest.raises(ValueError, match="not numeric"):
        CompactProjectionClassifier.from_bytes(_craft(parts))


def test_nonsense_models_are_refused_by_every_constructor_and_writer(digits_split, small_compact, tmp_path):
    X_train, _, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=4, n_bits=4, max_iter=2, random_state=0).fit(X_train, y_train)
    clf.coefs_[0][0, 0] = np.nan  # a classifier whose weights are NaN
    # (int8: the quantiser maps a NaN column to scale 1 and q 0 before _check_consistent
    # sees it; to_compact checks the classifier's weights for that, tested in test_joint_training)
    for dtype in ("float32", "float16"):
        with pytest.raises(ValueError, match="non-finite|float16 range"):
            clf.to_compact(dtype)
    clf.coefs_[0][0, 0] = 0.0
    clf.intercepts_[-1][0] = np.inf
    for dtype in DTYPES:
        with pytest.raises(ValueError, match="non-finite"):
            clf.to_compact(dtype)
    # a compact model edited after construction: refused by to_bytes, save, pickle and export_c
    for attr, value, match in [
        ("classes_", np.array([7] * 10), "strictly increasing"),
        ("classes_", np.arange(10)[::-1].copy(), "strictly increasing"),
        ("intercepts_", None, "non-finite"),
        ("scales_", None, "positive"),
    ]:
        bad = copy.deepcopy(small_compact)
        if attr == "intercepts_":
            bad.intercepts_[1][0] = np.inf
        elif attr == "scales_":
            bad.scales_[0][0] = 0.0
        else:
            setattr(bad, attr, value)
        for action in (bad.to_bytes, bad.save, pickle.dumps, bad.export_c):
            args = {bad.save: (tmp_path / "m.pnc",), pickle.dumps: (bad,), bad.export_c: (tmp_path / "m",)}
            with pytest.raises(ValueError, match=match):
                action(*args.get(action, ()))
    assert not (tmp_path / "m.c").exists() and not (tmp_path / "m.pnc").exists()
    # score of a model whose labels were [7, 7] used to be 1.0: such a model cannot be built
    parts = _parts_of(small_compact)
    with pytest.raises(ValueError, match="strictly increasing"):
        CompactProjectionClassifier._from_parts(
            dtype="int8", seed=parts["seed"], n_projections=8, n_bits=8, density=parts["density"],
            n_features=64, classes=np.array([7] * 10), coefs=small_compact.coefs_,
            intercepts=small_compact.intercepts_, scales=small_compact.scales_, feature_names=None)


# ------------------------------------------------------------------ fuzz
_NUMERIC_CODES = ["|b1", "|i1", "|u1", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8"]
_BAD_CODES = ["|O", "<i8\n", "<U4", "", "<i16", ">i4", "<c16", "|V8", "i8", "\xff"]
_MUTATIONS = [
    "n_layers", "width0", "one_class", "density", "n_features_huge", "n_features_zero", "label_count",
    "label_kind", "label_code", "labels_dup", "labels_unsorted", "label_width", "label_string_len",
    "names_count", "weight_non_finite", "weight_huge", "scale_bad", "q_minus_128", "truncate", "extend",
    "dtype_code", "label_nul",
]


@st.composite
def _crafted_files(draw):
    """A file with a valid CRC32 built from valid parts, with up to three parts mutated."""
    mutations = draw(st.sets(st.sampled_from(_MUTATIONS), max_size=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype_code = draw(st.sampled_from([0, 1, 2]))
    dtype = ("float32", "float16", "int8")[dtype_code]
    if "dtype_code" in mutations:  # an unknown code, the layers stay those of ``dtype``
        dtype_code = draw(st.sampled_from([3, 4, 255]))
    T, d = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    n_classes = 1 if "one_class" in mutations else draw(st.integers(2, 5))
    widths = [T * d] + draw(st.lists(st.integers(1, 6), max_size=2)) + [n_classes]
    if "width0" in mutations:
        widths[0] = draw(st.sampled_from([0, T * d + 1, max(T * d - 1, 0), 2**32 - 1]))
    n_layers = len(widths) - 1
    if "n_layers" in mutations:
        n_layers = draw(st.sampled_from([0, n_layers + 1, max(n_layers - 1, 0), 1025, 2**32 - 1]))
    density = draw(st.floats(1e-3, 1.0))
    if "density" in mutations:
        density = draw(st.sampled_from([0.0, -0.1, np.nan, np.inf, 1.5, 5e-324]))
    n_features = draw(st.integers(1, 40))
    if "n_features_huge" in mutations:
        n_features = draw(st.sampled_from([2**40, 2**62 - 1, 2**62, 2**64 - 1]))
    if "n_features_zero" in mutations:
        n_features = 0

    # class labels
    n_labels = n_classes + (draw(st.sampled_from([-1, 1, 2**20, 2**32 - 1 - n_classes]))
                            if "label_count" in mutations else 0)
    n_labels = max(0, min(n_labels, 2**32 - 1))
    kind = draw(st.sampled_from([0, 1, 2]))
    if "label_kind" in mutations:
        kind = draw(st.integers(3, 255))
    n_written = min(n_labels, n_classes + 2)  # never write millions of labels: claim them
    if kind == 0:
        code = draw(st.sampled_from(_NUMERIC_CODES))
        values = np.arange(n_written) * draw(st.integers(1, 1000)) + draw(st.integers(-50, 50))
        if "labels_dup" in mutations and n_written > 1:
            values[1] = values[0]
        if "labels_unsorted" in mutations:
            values = values[::-1]
        if code == "|b1":  # bytes 0, 1 (and 2, 3... beyond two labels: refused)
            values = np.argsort(np.argsort(values, kind="stable"), kind="stable")
            values[1:] -= values[:-1] == values[1:]
        with np.errstate(all="ignore"):
            raw = values.astype(code if code != "|b1" else "u1").tobytes()
        if "label_code" in mutations:
            code = draw(st.sampled_from(_BAD_CODES))
        code_b = code.encode("latin-1")
        classes = struct.pack("<BIB", 0, n_labels, len(code_b)) + code_b + raw
    else:
        texts = draw(st.lists(st.text(max_size=4), min_size=n_written, max_size=n_written))
        labels = sorted(f"{t}{i}" for i, t in enumerate(texts))  # unique: the last digits differ
        if "label_nul" in mutations and labels:
            labels[-1] += "\0"
        if "labels_dup" in mutations and n_written > 1:
            labels[1] = labels[0]
        if "labels_unsorted" in mutations:
            labels = labels[::-1]
        blocks = [_str_block(s) for s in labels]
        if "label_string_len" in mutations and blocks:
            blocks[0] = struct.pack("<I", draw(st.sampled_from([2**20, 2**20 + 1, 2**32 - 1, 10**6]))) + blocks[0][4:]
        if kind == 1:
            longest = max((len(s) for s in labels), default=0)
            width = max(longest, 1) + draw(st.integers(0, 3))
            if "label_width" in mutations:
                width = draw(st.sampled_from([0, max(longest - 1, 0), 2**16, 2**20, 2**20 + 1, 2**32 - 1]))
            classes = struct.pack("<BII", 1, n_labels, width) + b"".join(blocks)
        else:
            classes = struct.pack("<BI", kind, n_labels) + b"".join(blocks)

    names = [] if n_features > 40 or not draw(st.booleans()) else [f"f{i}" for i in range(n_features)]
    if "names_count" in mutations:
        names = [f"f{i}" for i in range(draw(st.sampled_from([1, n_features + 1, 3])) if n_features < 40 else 3)]

    # layers: weights, biases (and int8 scales) for the widths as written
    layers = []
    shapes = list(zip(widths, widths[1:]))[: max(n_layers, 0)] if sum(
        a * b for a, b in zip(widths, widths[1:])) < 10**6 else []
    for a, b in shapes:
        if dtype == "int8":
            W = rng.integers(-127, 128, size=(a, b)).astype(np.int8)
        else:
            W = rng.standard_normal((a, b)).astype(dtype)
        bias = rng.standard_normal(b).astype(np.float32)
        layers += [W, bias] + ([rng.uniform(1e-3, 1.0, b).astype(np.float32)] if dtype == "int8" else [])
    floats = [a for a in layers if a.dtype.kind == "f" and a.size]
    if "weight_non_finite" in mutations and floats:
        a = floats[draw(st.integers(0, len(floats) - 1))]
        a.reshape(-1)[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if "weight_huge" in mutations and floats:
        a = floats[draw(st.integers(0, len(floats) - 1))]
        with np.errstate(over="ignore"):  # 3e38 is inf in float16: non-finite too
            a[...] = draw(st.sampled_from([3e38, -3e38, 1e30, 65504.0]))
    if "scale_bad" in mutations and dtype == "int8" and layers:
        layers[2][0] = draw(st.sampled_from([0.0, -0.0, -1.0, np.nan]))
    if "q_minus_128" in mutations and dtype == "int8" and layers and layers[0].size:
        layers[0].reshape(-1)[0] = -128
    weights = b"".join(a.astype(a.dtype.newbyteorder("<")).tobytes() for a in layers)
    if "truncate" in mutations and weights:
        weights = weights[: -draw(st.integers(1, len(weights)))]
    if "extend" in mutations:
        weights += bytes(draw(st.integers(1, 9)))
    reading_code = draw(st.sampled_from([0, 1, 1, 2, 2, 3, 255]))  # 3, 255: unknown readings, refused
    # the quinary threshold (read after code 2): NaN, infinite or negative ones are refused
    tau = draw(st.sampled_from([0.0, 0.5, 3.25, 1e300, -1.0, np.nan, np.inf]))
    parts = dict(dtype_code=dtype_code, reading_code=reading_code, n_layers=n_layers, tau=tau,
                 seed=draw(st.integers(0, 2**64 - 1)), T=T, d=d,
                 density=density, n_features=n_features, widths=widths, classes=classes, names=names,
                 layers=[weights])
    return _craft(parts), sorted(mutations)


def _predict_one_row(model, seed):
    rng = np.random.default_rng(seed)
    n = model.n_features_in_
    if n <= 1000:
        row = rng.standard_normal((1, n))
    else:
        cols = np.unique(rng.integers(0, n, size=3, dtype=np.uint64)).astype(np.int64)
        row = sp.csr_matrix((rng.standard_normal(len(cols)), (np.zeros(len(cols), dtype=np.int64), cols)),
                            shape=(1, n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fitted with feature names, row without
        return model.predict_proba(row), model.predict(row)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_crafted_files(), st.integers(0, 2**32 - 1))
def test_fuzz_crafted_files_with_valid_checksums(case, seed):
    """Any file with a valid checksum loads as a model that predicts finite probabilities,
    or is refused with a ValueError; it never raises anything else and never allocates more
    than a bound (64 MiB here; the files are at most a few kB)."""
    data, mutations = case
    tracemalloc.start()
    try:
        try:
            model = CompactProjectionClassifier.from_bytes(data)
        except ValueError as exc:
            event(f"refused: {str(exc)[:40]}")
            model = None
        if model is not None:
            event("loaded" + (f" with {mutations}" if mutations else ""))
            proba, pred = _predict_one_row(model, seed)
            assert proba.shape == (1, len(model.classes_)), (proba.shape, mutations)
            assert np.isfinite(proba).all() and abs(proba.sum() - 1) < 1e-6, (proba, mutations)
            # as a list: `in` on a NumPy array compares through a <U array, which drops a
            # trailing NUL ('1\x00' in array(['0', '1\x00'], dtype=object) is False)
            assert pred[0] in model.classes_.tolist()
            assert model.to_bytes() == data  # a file that loads is one the writer writes
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, (peak, mutations)


# ------------------------------------------------------------------ bit reading, versions 2 and 3
DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_version_2_files_load_as_binary_models(dtype):
    """tests/data holds files written by the version-2 writer (d072ec0, before the reading
    byte) and their probabilities at the time: they load as binary models, predict the
    same, and are written back as version 5 with reading byte 0 and text byte 0."""
    data = (DATA / f"compact_v2_{dtype}.skpn").read_bytes()
    assert struct.unpack_from("<I", data, 8)[0] == 2
    expected = np.load(DATA / "compact_v2_expected.npz")
    model = CompactProjectionClassifier.from_bytes(data)
    assert model.reading_ == "binary" and model.dtype_ == dtype
    # the same classes; the probabilities to float32 rounding: the layers after the first
    # are now summed in a fixed order (the C export's), not numpy's (BLAS's) order of then
    proba = model.predict_proba(expected["X"])
    np.testing.assert_array_equal(proba.argmax(axis=1), expected[f"proba_{dtype}"].argmax(axis=1))
    np.testing.assert_allclose(proba, expected[f"proba_{dtype}"], rtol=0, atol=2e-6)
    again = model.to_bytes()
    assert struct.unpack_from("<I", again, 8)[0] == FORMAT_VERSION == 5
    # version 4 = version 2 plus the reading byte after the dtype byte and the text byte
    # (0: numeric input) before the weights
    text_at = len(_body_of(again)) - _weight_bytes(model) - 1
    v4 = _body_of(again)
    assert again[21] == 0 and v4[text_at] == 0
    assert v4[:1] + v4[2:text_at] + v4[text_at + 1:] == _body_of(data)
    _assert_same_model(model, CompactProjectionClassifier.from_bytes(again))


@pytest.mark.parametrize("dtype", DTYPES)
def test_ternary_models_round_trip_in_version_3(digits_split, dtype, tmp_path):
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=10, n_bits=8, reading="ternary", max_iter=3,
                                  random_state=0).fit(X_train, y_train)
    compact = clf.to_compact(dtype)
    assert compact.reading_ == "ternary"
    data = compact.to_bytes()
    assert struct.unpack_from("<I", data, 8)[0] == FORMAT_VERSION and data[21] == 1
    for back in (CompactProjectionClassifier.from_bytes(data), pickle.loads(pickle.dumps(compact))):
        assert back.reading_ == "ternary"
        _assert_same_model(compact, back)
        np.testing.assert_array_equal(back.predict_proba(X_test), compact.predict_proba(X_test))
    # the same weights read as binary predict otherwise: the byte matters
    binary = bytearray(data)
    binary[21] = 0
    binary[-4:] = struct.pack("<I", zlib.crc32(bytes(binary[:-4])))
    as_binary = CompactProjectionClassifier.from_bytes(bytes(binary))
    assert as_binary.reading_ == "binary"
    assert not np.array_equal(as_binary.predict_proba(X_test), compact.predict_proba(X_test))


def test_unknown_reading_code_and_version_1_are_refused(saved_bytes):
    body = bytearray(_body_of(saved_bytes))
    body[1] = 2
    with pytest.raises(ValueError, match="unknown bit reading code 2"):
        CompactProjectionClassifier.from_bytes(_with_body(bytes(body), version=3))
    with pytest.raises(ValueError, match="format version 1"):
        CompactProjectionClassifier.from_bytes(_with_body(bytes(body), version=1))


# ------------------------------------------------------------------ version 5: the quinary reading
@pytest.fixture(scope="module")
def quinary_digits(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=10, n_bits=8, reading="quinary", projection_hidden_layer_sizes=(8,),
                                  max_iter=3, random_state=0).fit(X_train, y_train)
    assert clf.projection_.threshold_ > 0
    return clf, X_test


@pytest.mark.parametrize("dtype", DTYPES)
def test_quinary_models_round_trip_in_version_5_with_their_threshold(quinary_digits, dtype):
    clf, X_test = quinary_digits
    compact = clf.to_compact(dtype)
    assert compact.reading_ == "quinary" and compact.threshold_ == clf.projection_.threshold_
    data = compact.to_bytes()
    assert struct.unpack_from("<I", data, 8)[0] == FORMAT_VERSION == 5 and data[21] == 2
    body = _body_of(data)
    # tau, float64 little-endian, right after the dtype, reading and layer count
    assert struct.unpack_from("<d", body, 6)[0] == clf.projection_.threshold_
    for back in (CompactProjectionClassifier.from_bytes(data), pickle.loads(pickle.dumps(compact))):
        assert back.reading_ == "quinary" and back.threshold_ == compact.threshold_
        _assert_same_model(compact, back)
        np.testing.assert_array_equal(back.predict_proba(X_test), compact.predict_proba(X_test))
        assert back.to_bytes() == data
    # another threshold predicts otherwise: the stored tau is the one read
    other = bytearray(body)
    other[6:14] = struct.pack("<d", 0.0)
    moved = CompactProjectionClassifier.from_bytes(_with_body(bytes(other), version=5))
    assert moved.threshold_ == 0.0
    assert not np.array_equal(moved.predict_proba(X_test), compact.predict_proba(X_test))


def test_corrupt_quinary_thresholds_are_refused(quinary_digits):
    clf, _ = quinary_digits
    body = _body_of(clf.to_compact("int8").to_bytes())
    for bad in (np.nan, -np.nan, -1.0, -5e-324, np.inf, -np.inf):
        b = bytearray(body)
        b[6:14] = struct.pack("<d", bad)
        with pytest.raises(ValueError, match="quinary threshold .* is not finite and >= 0"):
            CompactProjectionClassifier.from_bytes(_with_body(bytes(b), version=5))
    # -0.0 is >= 0: read as a threshold of zero
    b = bytearray(body)
    b[6:14] = struct.pack("<d", -0.0)
    CompactProjectionClassifier.from_bytes(_with_body(bytes(b), version=5))
    # truncated: the threshold cut short (the file ends inside it, or lacks it)
    for cut in (7, 10, 13):
        with pytest.raises(ValueError, match="corrupt compact model"):
            CompactProjectionClassifier.from_bytes(_with_body(body[:cut], version=5))
    with pytest.raises(ValueError, match="corrupt compact model"):
        CompactProjectionClassifier.from_bytes(_with_body(body[:6] + body[14:], version=5))
    # the quinary code does not exist in version 4 files (nor 3): refused as unknown
    for version in (3, 4):
        with pytest.raises(ValueError, match=f"unknown bit reading code 2 in a version {version} file"):
            CompactProjectionClassifier.from_bytes(_with_body(body, version=version))


def test_quinary_threshold_of_a_model_in_memory_is_checked(quinary_digits):
    clf, _ = quinary_digits
    for bad in (np.nan, -1.0, np.inf):
        compact = clf.to_compact()
        compact.threshold_ = bad
        with pytest.raises(ValueError, match="threshold_ must be a finite float >= 0"):
            compact.to_bytes()
    ternary = ProjectionNetClassifier(n_projections=4, n_bits=8, reading="ternary", max_iter=1,
                                      random_state=0).fit(*_tiny_data())
    compact = ternary.to_compact()
    compact.threshold_ = 1.0
    with pytest.raises(ValueError, match="only used by the quinary reading"):
        compact.to_bytes()


def _tiny_data():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 5)
    return X, (X[:, 0] > 0.5).astype(int)


def test_model_with_unknown_reading_cannot_be_written(digits_model):
    compact = digits_model.to_compact()
    compact.reading_ = "two-bit"
    with pytest.raises(ValueError, match="reading_ must be one of"):
        compact.to_bytes()


# ------------------------------------------------------------------ version 4: the text section
def _weight_bytes(model):
    arrays = list(model.coefs_) + list(model.intercepts_) + list(model.scales_ or [])
    return sum(a.nbytes for a in arrays)


def test_version_3_files_load_as_models_of_numeric_input():
    """tests/data holds a file written by the version-3 writer (b83953c, before the text
    byte) and its probabilities at the time: it loads with no hasher, predicts the same,
    and is written back as version 5 with text byte 0."""
    data = (DATA / "compact_v3_ternary_int8.skpn").read_bytes()
    assert struct.unpack_from("<I", data, 8)[0] == 3
    expected = np.load(DATA / "compact_v3_expected.npz")
    model = CompactProjectionClassifier.from_bytes(data)
    assert model.reading_ == "ternary" and model.dtype_ == "int8" and model.hasher_ is None
    proba = model.predict_proba(expected["X"])  # (the same classes; probabilities as in the v2 test)
    np.testing.assert_array_equal(proba.argmax(axis=1), expected["proba"].argmax(axis=1))
    np.testing.assert_allclose(proba, expected["proba"], rtol=0, atol=2e-6)
    again = model.to_bytes()
    text_at = len(_body_of(again)) - _weight_bytes(model) - 1
    v4 = _body_of(again)
    assert v4[text_at] == 0 and v4[:text_at] + v4[text_at + 1:] == _body_of(data)


@pytest.fixture(scope="module")
def text_bytes():
    """A small text model's file, and the offset in its body of the text section."""
    from sklearn.pipeline import make_pipeline

    from sklearn_projection import NgramHasher
    from sklearn_projection._compact import compact_pipeline

    texts = ["good movie", "great film", "bad movie", "awful film", "fine", "dull"] * 4
    pipe = make_pipeline(NgramHasher(n_features=2**12, word_ngram_range=(1, 3), char_ngram_range=(2, 5),
                                     weighting="binary", norm=None),
                         ProjectionNetClassifier(6, 8, density=0.05, trainer_weight=0, distill_weight=0,
                                                 max_iter=2, random_state=0))
    model = compact_pipeline(pipe.fit(texts, [1, 1, 0, 0, 1, 0] * 4), "int8")
    data = model.to_bytes()
    return data, len(_body_of(data)) - _weight_bytes(model) - 14, texts


def test_text_section_round_trips_every_setting(text_bytes):
    data, at, texts = text_bytes
    body = _body_of(data)
    # flag 1, spec version 1, lowercase, word 1-3, char 2-5, binary, alternate_sign, no norm, 2**12
    assert body[at:at + 14] == struct.pack("<BI9B", 1, 1, 1, 1, 3, 2, 5, 0, 1, 0, 12)
    model = CompactProjectionClassifier.from_bytes(data)
    assert model.hasher_.get_params() == dict(
        n_features=2**12, word_ngram_range=(1, 3), char_ngram_range=(2, 5), weighting="binary",
        alternate_sign=True, norm=None, lowercase=True)
    assert model.predict(texts).shape == (len(texts),)
    # a range of (0, 0) is None, and each other setting is read back as written
    for offset, value, param, expected in [
        (8, 0, "char_ngram_range", None), (6, 0, "word_ngram_range", None), (10, 2, "weighting", "sublinear"),
        (11, 0, "alternate_sign", False), (12, 1, "norm", "l2"), (5, 0, "lowercase", False),
        (8, 4, "char_ngram_range", (4, 5)), (7, 1, "word_ngram_range", (1, 1)),
    ]:
        b = bytearray(body)
        b[at + offset] = value
        if offset in (6, 8) and value == 0:  # a range of (0, 0): none
            b[at + offset + 1] = 0
        back = CompactProjectionClassifier.from_bytes(_with_body(bytes(b), version=4))
        assert back.hasher_.get_params()[param] == expected
        assert back.predict(texts).shape == (len(texts),)


@pytest.mark.parametrize("offset, value, match", [
    (0, 2, "unknown input kind 2"),
    (1, 2, "specification version 2"),
    (5, 2, "flag lowercase=2"),
    (6, 0, r"word n-gram range \(0, 3\)"),
    (6, 4, r"word n-gram range \(4, 3\)"),
    (7, 33, r"word n-gram range \(1, 33\)"),
    (9, 1, r"char n-gram range \(2, 1\)"),
    (10, 3, "weighting code 3"),
    (11, 7, "flag alternate_sign=7"),
    (12, 2, "flag l2=2"),
    (13, 13, r"2\*\*13 columns for a model of 4096"),
    (13, 63, r"2\*\*63 columns"),
])
def test_corrupted_text_sections_with_valid_checksums_are_refused(text_bytes, offset, value, match):
    data, at, _ = text_bytes
    body = bytearray(_body_of(data))
    if offset == 1:
        body[at + 1:at + 5] = struct.pack("<I", value)
    else:
        body[at + offset] = value
    with pytest.raises(ValueError, match=match):
        CompactProjectionClassifier.from_bytes(_with_body(bytes(body), version=4))


def test_truncated_or_misplaced_text_sections_are_refused(text_bytes):
    data, at, _ = text_bytes
    body = _body_of(data)
    # cut anywhere in (or right before) the section, everything after it gone: the weights
    # check refuses it before the section is parsed
    for cut in range(at, at + 14):
        with pytest.raises(ValueError, match="corrupt compact model"):
            CompactProjectionClassifier.from_bytes(_with_body(body[:cut], version=4))
    # the section cut short but the weights kept: the sizes no longer add up
    for n in range(1, 14):
        with pytest.raises(ValueError, match="corrupt compact model|specification version"):
            CompactProjectionClassifier.from_bytes(_with_body(body[:at + 14 - n] + body[at + 14:], version=4))
    # no section at all (a version-3 body announced as version 4), or both text and no-text bytes
    with pytest.raises(ValueError, match="corrupt compact model"):
        CompactProjectionClassifier.from_bytes(_with_body(body[:at] + body[at + 14:], version=4))
    with pytest.raises(ValueError, match="corrupt compact model"):
        CompactProjectionClassifier.from_bytes(_with_body(body[:at] + b"\0" + body[at:], version=4))
    # the text section read as version 3 (no section expected): refused, not misread
    with pytest.raises(ValueError, match="corrupt compact model"):
        CompactProjectionClassifier.from_bytes(_with_body(body, version=3))


def test_every_corruption_of_the_text_section_is_refused_or_gives_a_valid_hasher(text_bytes):
    data, at, texts = text_bytes
    body = _body_of(data)
    for i in range(14):
        for value in (0, 1, 2, 5, 12, 32, 33, 62, 63, 127, 255):
            b = bytearray(body)
            b[at + i] = value
            try:
                model = CompactProjectionClassifier.from_bytes(_with_body(bytes(b), version=4))
            except ValueError:
                continue
            model.hasher_._validate_params()
            assert model.hasher_.n_features == model.n_features_in_
            assert model.predict(texts[:3]).shape == (3,)


def test_text_model_with_feature_names_or_a_wrong_hasher_cannot_be_built_or_read(text_bytes):
    data, at, _ = text_bytes
    model = CompactProjectionClassifier.from_bytes(data)
    bad = copy.deepcopy(model)
    bad.hasher_.set_params(n_features=2**13)
    with pytest.raises(ValueError, match="hasher has n_features=8192"):
        bad.to_bytes()
    bad.hasher_ = "NgramHasher()"
    with pytest.raises(ValueError, match="hasher_ must be a sklearn_projection.NgramHasher"):
        bad.to_bytes()
    bad = copy.deepcopy(model)
    bad.hasher_.set_params(weighting="tfidf")
    with pytest.raises(ValueError, match="weighting"):
        bad.to_bytes()
    # a file with a text section and feature names
    body = _body_of(data)
    (n_names_at,) = [i for i in range(at - 4, at - 3)]
    assert body[n_names_at:at] == b"\0\0\0\0"
    names = struct.pack("<I", 4096) + b"".join(struct.pack("<I", 1) + b"f" for _ in range(4096))
    crafted = body[:n_names_at] + names + body[at:]
    with pytest.raises(ValueError, match="text model stores no feature names"):
        CompactProjectionClassifier.from_bytes(_with_body(crafted, version=4))


def test_object_string_labels_with_a_trailing_nul_round_trip():
    """Found by the fuzz test: a str label ending in NUL is kept exactly by object labels
    (NumPy unicode arrays cannot hold it, so such files are refused, see _read_classes)."""
    rng = np.random.RandomState(0)
    X = rng.rand(40, 4)
    y = np.array(["0", "1\x00"], dtype=object)[(X[:, 0] > 0.5).astype(int)]
    clf = ProjectionNetClassifier(n_projections=4, n_bits=4, max_iter=30, random_state=0).fit(X, y)
    back = CompactProjectionClassifier.from_bytes(clf.to_compact("int8").to_bytes())
    assert back.classes_.tolist() == ["0", "1\x00"]
    pred = back.predict(X)
    assert set(pred.tolist()) <= {"0", "1\x00"}
    np.testing.assert_array_equal(pred, clf.to_compact("int8").predict(X))
