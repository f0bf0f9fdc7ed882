"""The compact model's file format (_format.py): exact round trips, label types, truncated, corrupted and hostile files."""


import copy
import pickle
import struct
import zlib

import numpy as np
import pytest

from sklearn_projection import CompactProjectionClassifier, ProjectionNetClassifier
from sklearn_projection._format import MAGIC

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
