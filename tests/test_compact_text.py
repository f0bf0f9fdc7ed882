"""Text all the way to the device: compact text models in Python, their file, and C on raw text."""

import pickle
import re
import struct
import subprocess

import numpy as np
import pytest
from _c import build_program, needs_cc
from sklearn.pipeline import make_pipeline

from sklearn_projection import CompactProjectionClassifier, NgramHasher, ProjectionNetClassifier
from sklearn_projection._compact import compact_pipeline
from sklearn_projection._export_text_c import DEFAULT_MAX_NGRAMS, mode
from sklearn_projection._format import FORMAT_VERSION


# (hasher, classifier, dtype): streaming (count, no norm) and buffered C paths, every reading
CONFIGS = {
    "count-ternary-int8": (dict(weighting="count", norm=None), dict(reading="ternary"), "int8"),
    # quinary text models: the streaming C path reads the four planes with the model's TAU
    "count-quinary-int8": (dict(weighting="count", norm=None),
                           dict(reading="quinary", projection_hidden_layer_sizes=(8,)), "int8"),
    "sublinear-l2-binary-int8": (dict(), dict(reading="binary"), "int8"),
    "binary-h16-float32": (dict(weighting="binary", norm=None, alternate_sign=False, lowercase=False,
                                char_ngram_range=(1, 3), n_features=2**16),
                           dict(reading="ternary", projection_hidden_layer_sizes=(16,)), "float32"),
}

SPECIAL = [
    "", "   ", "?!", "Naïve café, déjà vu", "ÉCOLE école", "😀👍🏽 family 👨‍👩‍👧 😀😀",
    "東京はどこですか", "مرحبا بالعالم", "e\u0301te\u0301", "a\x00b", "don’t “quote” — dash…",
    "What is the capital of France ?", "WHO WROTE HAMLET", "x" * 300, "1 2 3 4 5 6 7 8 9 10",
]
INVALID = [b"\xff", b"abc\xed\xa0\x80", b"caf\xe2\x82", b"\xc0\xaf", b"ok \x80 ok", b"\xf4\x90\x80\x80"]


def _fit(texts, y, hasher_kw, clf_kw, dtype, seed=0):
    hasher = NgramHasher(**{"n_features": 2**20, **hasher_kw})
    clf = ProjectionNetClassifier(20, 20, density=0.02, trainer_weight=0, distill_weight=0,
                                  max_iter=4, random_state=seed, **clf_kw)
    pipe = make_pipeline(hasher, clf).fit(texts, y)
    return pipe, compact_pipeline(pipe, dtype)


@pytest.fixture(scope="module")
def trec_small(trec6_split):
    t_train, t_test, y_train, y_test = trec6_split
    return list(t_train[:1200]), list(t_test[:250]), y_train[:1200], y_test[:250]


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def text_model(request, trec_small):
    t_train, _, y_train, _ = trec_small
    hasher_kw, clf_kw, dtype = CONFIGS[request.param]
    pipe, compact = _fit(t_train, y_train, hasher_kw, clf_kw, dtype)
    return request.param, pipe, compact


def _long_text(words, n_bytes, seed=0):
    rng = np.random.default_rng(seed)
    out, size = [], 0
    while size < n_bytes:
        w = words[rng.integers(len(words))]
        out.append(w)
        size += len(w.encode("utf-8")) + 1
    return " ".join(out)


# ------------------------------------------------------------------------------ Python
def test_compact_pipeline_of_a_text_pipeline_is_one_text_model(text_model, trec_small):
    name, pipe, compact = text_model
    _, t_test, _, y_test = trec_small
    assert isinstance(compact, CompactProjectionClassifier)
    assert compact.hasher_.get_params() == pipe[0].get_params() and compact.hasher_ is not pipe[0]
    assert compact.n_features_in_ == pipe[0].n_features
    # the hasher's settings count (nine ints), nothing else of it: it learns nothing
    numeric = CompactProjectionClassifier._from_parts(**{**_parts(compact), "hasher": None})
    assert compact.size_bytes == numeric.size_bytes + 36
    tags = compact.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    np.testing.assert_array_equal(compact.classes_, pipe.classes_)
    if compact.dtype_ == "float32":  # the pipeline's own weights: identical, norm and all
        np.testing.assert_array_equal(compact.predict_proba(t_test), pipe.predict_proba(t_test))
    assert abs(compact.score(t_test, y_test) - pipe.score(t_test, y_test)) < 0.05


def test_text_model_round_trips_through_its_file_and_pickle(text_model, trec_small, tmp_path):
    _, pipe, compact = text_model
    t_test = trec_small[1]
    compact.save(tmp_path / "m.skpn")
    data = (tmp_path / "m.skpn").read_bytes()
    assert struct.unpack_from("<I", data, 8)[0] == FORMAT_VERSION == 6
    for back in (CompactProjectionClassifier.load(tmp_path / "m.skpn"), pickle.loads(pickle.dumps(compact))):
        assert back.hasher_.get_params() == compact.hasher_.get_params()
        np.testing.assert_array_equal(back.predict_proba(t_test), compact.predict_proba(t_test))


def test_text_model_input_errors_are_the_hashers():
    texts = ["good movie", "great film", "bad movie", "awful film"] * 5
    _, compact = _fit(texts, ["p", "p", "n", "n"] * 5, dict(n_features=2**10), {}, "int8")
    with pytest.raises(ValueError, match="Iterable over raw text"):
        compact.predict("good movie")
    with pytest.raises(TypeError, match="item 1 is NoneType"):
        compact.predict(["good", None])
    with pytest.raises(ValueError, match="item 0 is not valid UTF-8"):
        compact.predict([b"\xff"])
    np.testing.assert_array_equal(compact.predict_proba([b"great film", "awful \xc3\xa9 film".encode("latin-1")]),
                                  compact.predict_proba(["great film", "awful \xe9 film"]))
    # a float array as wide as the hasher's output is not texts: it never skips the hasher
    # (the plain-array shortcut of numeric models must not apply to a text model)
    with pytest.raises(ValueError, match="NgramHasher expects a 1-D iterable of texts"):
        compact.predict(np.zeros((2, 2**10)))
    # no texts: refused as the pipeline's classifier refuses no rows, by every predict method
    for method in (compact.predict, compact.predict_proba, compact.decision_function):
        with pytest.raises(ValueError, match="0 sample"):
            method([])


def test_from_classifier_checks_the_hasher(trec_small):
    t_train, _, y_train, _ = trec_small
    pipe, _ = _fit(t_train[:200], y_train[:200], dict(n_features=2**12), {}, "float32")
    with pytest.raises(ValueError, match="n_features=8192 but the classifier was fitted on 4096"):
        CompactProjectionClassifier.from_classifier(pipe[-1], hasher=NgramHasher(n_features=2**13))
    with pytest.raises(TypeError, match="NgramHasher"):
        CompactProjectionClassifier.from_classifier(pipe[-1], hasher="hasher")
    # other pipelines keep their shape: a Pipeline whose last step is compact
    plain = compact_pipeline(make_pipeline(pipe[0], pipe[-1]), "int8")
    assert isinstance(plain, CompactProjectionClassifier)
    from sklearn.preprocessing import MaxAbsScaler

    three = make_pipeline(NgramHasher(n_features=2**12), MaxAbsScaler(), ProjectionNetClassifier(
        8, 8, density=0.05, trainer_weight=0, distill_weight=0, max_iter=2, random_state=0))
    three.fit(t_train[:200], y_train[:200])
    assert type(compact_pipeline(three)).__name__ == "Pipeline"


# ------------------------------------------------------------------------------ C
DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

/* stdin: records of an int64 length then that many bytes; length -1 is the call
 * (NULL, 0), -2 the call (NULL, 1). Prints the return value and the proba buffer. */
int main(void)
{
    static char buf[1 << 21];
    double proba[PN_N_CLASSES];
    long long n;
    int c, j;
    while (fread(&n, sizeof n, 1, stdin) == 1) {
        for (j = 0; j < PN_N_CLASSES; ++j)
            proba[j] = -7.0; /* sentinel: a call that fails must leave it */
        if (n < 0) {
            c = pn_predict_text(NULL, (size_t)(-n - 1), proba);
        } else {
            if (n > (long long)sizeof buf || fread(buf, 1, (size_t)n, stdin) != (size_t)n)
                return 2;
            c = pn_predict_text(buf, (size_t)n, proba);
        }
        printf("%d", c);
        for (j = 0; j < PN_N_CLASSES; ++j)
            printf(" %.17g", proba[j]);
        printf("\n");
    }
    return 0;
}
"""


def _build(compact, tmp_path, *flags):
    c_path, _ = compact.export_c(tmp_path / "model.c", prefix="pn")
    (tmp_path / "main.c").write_text(DRIVER)
    exe = tmp_path / ("model" + "".join(f.replace("=", "_").replace("-", "") for f in flags))
    return build_program([c_path, tmp_path / "main.c"], exe, *flags)


def _run_c(exe, items):
    """(return values, proba rows) of pn_predict_text on each item (bytes, or None/"NULL1")."""
    stream = bytearray()
    for item in items:
        if item is None:
            stream += struct.pack("<q", -1)
        elif item == "NULL1":
            stream += struct.pack("<q", -2)
        else:
            raw = item if isinstance(item, bytes) else item.encode("utf-8")
            stream += struct.pack("<q", len(raw)) + raw
    out = subprocess.run([str(exe)], input=bytes(stream), check=True, capture_output=True).stdout
    rows = [line.split() for line in out.decode().strip().splitlines()]
    return np.array([int(r[0]) for r in rows]), np.array([[float(v) for v in r[1:]] for r in rows])


def _well_formed(item):
    if isinstance(item, str):
        return True
    try:
        item.decode("utf-8")  # strict: exactly the well-formed UTF-8 NgramHasher accepts
    except UnicodeDecodeError:
        return False
    return True


def _python(compact, items):
    """Class index and probabilities of each text, or None where Python raises ValueError
    (exactly the ill-formed UTF-8 bytes, asserted). The valid texts are predicted in one batch:
    each row's result does not depend on the others."""
    valid = [_well_formed(item) for item in items]
    for item, ok in zip(items, valid):
        if not ok:
            with pytest.raises(ValueError, match="not valid UTF-8"):
                compact.predict_proba([item])
    good = [item for item, ok in zip(items, valid) if ok]
    rows = iter(compact.predict_proba(good) if good else [])
    out = []
    for ok in valid:
        p = next(rows) if ok else None
        out.append((int(np.argmax(p)), p) if ok else None)
    return out


@needs_cc
def test_c_predict_text_matches_python_on_real_and_hostile_texts(text_model, trec_small, tmp_path):
    name, _, compact = text_model
    _, t_test, _, _ = trec_small
    long_1mb = _long_text(" ".join(t_test).split() + ["😀", "naïve"], 1 << 20)
    items = list(t_test) + SPECIAL + INVALID
    streaming = mode(compact.hasher_) == "stream"
    if streaming:
        items.append(long_1mb)
    exe = _build(compact, tmp_path)
    codes, proba = _run_c(exe, items + [None, "NULL1"])
    expected = _python(compact, items)
    for i, (code, row, exp) in enumerate(zip(codes, proba, expected)):
        if exp is None:  # invalid UTF-8: PN_ERROR_UTF8, proba untouched
            assert code == -3 and (row == -7.0).all(), (name, i, items[i][:40])
        else:
            assert code == exp[0], (name, i, items[i][:40], code, exp[0])
            np.testing.assert_allclose(row, exp[1], rtol=0, atol=1e-5)
    assert sum(e is None for e in expected) == len(INVALID)
    # (NULL, 0) is the empty text; (NULL, 1) an error that touches nothing
    empty = _python(compact, [""])[0]
    assert codes[-2] == empty[0] and np.allclose(proba[-2], empty[1], atol=1e-5)
    assert codes[-1] == -3 and (proba[-1] == -7.0).all()
    if not streaming:
        # past the buffer: PN_ERROR_TOO_LONG, proba untouched; a larger -D capacity accepts it
        mid = _long_text(" ".join(t_test).split(), 30_000)
        codes, proba = _run_c(exe, [long_1mb, mid])
        assert (codes == -4).all() and (proba == -7.0).all()
        if not name.startswith("sublinear"):
            return
        big = _build(compact, tmp_path, "-DPN_MAX_NGRAMS=400000", "-DPN_NGRAM_STORAGE=static")
        codes, proba = _run_c(big, [mid, long_1mb])
        exp = _python(compact, [mid])[0]
        assert codes[0] == exp[0] and np.allclose(proba[0], exp[1], rtol=0, atol=1e-5)
        assert codes[1] == -4


@needs_cc
def test_c_streaming_model_accepts_a_text_of_any_length_with_its_default_build(trec_small, tmp_path):
    """The streaming path has no capacity: a text of 40 times the default buffer's occurrences
    gives Python's class (the buffered build refuses it, see above)."""
    t_train, t_test, y_train, _ = trec_small
    _, compact = _fit(t_train, y_train, dict(weighting="count", norm=None, n_features=2**18),
                      dict(reading="binary"), "int8", seed=1)
    text = _long_text(" ".join(t_test).split(), 40 * DEFAULT_MAX_NGRAMS // 11 * 11)
    occurrences = compact.hasher_.set_params(alternate_sign=False).transform([text]).sum()
    compact.hasher_.set_params(alternate_sign=True)
    assert occurrences > 40 * DEFAULT_MAX_NGRAMS
    short = ["What is the capital of France ?", "", "Naïve café 😀"]
    expected = _python(compact, [text] + short)
    for flags in ((), ("-DPN_SUMS_STORAGE=static",)):  # the sums on the stack, or static
        codes, proba = _run_c(_build(compact, tmp_path, *flags), [text] + short)
        for code, row, exp in zip(codes, proba, expected):
            assert code == exp[0]
            np.testing.assert_allclose(row, exp[1], rtol=0, atol=1e-5)


def test_generated_text_code_names_its_mode_and_settings(text_model):
    from sklearn_projection._export_c import generate_c

    _, _, compact = text_model
    header, source = generate_c(compact, prefix="pn")
    assert "int pn_predict_text(const char *utf8, size_t len, double *proba);" in header
    assert "#define PN_ERROR_UTF8 (-3)" in header and "#define PN_ERROR_TOO_LONG (-4)" in header
    assert not re.search(r"\b(malloc|calloc|realloc|alloca)\s*\(", source)  # no heap
    streaming = mode(compact.hasher_) == "stream"
    assert ("ngh_each(&TEXT_PARAMS" in source) == streaming
    assert ("ngh_features(&TEXT_PARAMS" in source) == (not streaming)
    # a model of numeric input gets no text code
    numeric = CompactProjectionClassifier._from_parts(**{**_parts(compact), "hasher": None})
    header, source = generate_c(numeric, prefix="pn")
    assert "predict_text" not in header and "ngh_" not in source


def _parts(compact):
    return dict(dtype=compact.dtype_, seed=compact.seed_, n_projections=compact.n_projections_,
                n_bits=compact.n_bits_, density=compact.density_, reading=compact.reading_,
                n_features=compact.n_features_in_, classes=compact.classes_, coefs=compact.coefs_,
                intercepts=compact.intercepts_, scales=compact.scales_, feature_names=None,
                hasher=compact.hasher_)


# ------------------------------------------------------------------------------ benchmark
@needs_cc
def test_text_device_benchmark_quick(tmp_path):
    """benchmarks/text_device.py --quick runs end to end (helpers of test_benchmarks: a
    temporary directory, the committed results untouched); C agrees with Python on every text."""
    from test_benchmarks import needs_data, read, run

    if needs_data.args[0]:
        pytest.skip(needs_data.kwargs["reason"])
    _, out = run("text_device", tmp_path, "--datasets", "sms_spam")
    rows = read(out / "text_device.csv")
    assert [(r["hasher"], r["reading"]) for r in rows] == [(h, "ternary") for h in
                                                           ("count, no norm", "sublinear, l2", "binary, no norm")]
    c_rows = read(out / "text_device_c.csv")
    assert [r["c_mode"] for r in c_rows] == ["stream", "buffer", "buffer"]
    assert all(r["same_class"] == r["texts"] == "200" and r["invalid_utf8_rejected"] == "6" for r in c_rows)
    assert all(float(r["max_proba_diff"]) <= 1e-5 for r in c_rows)


def _random_texts(n, seed):
    """Byte strings mixing ASCII words, separators, multi-byte characters, and stray, truncated,
    overlong or surrogate sequences: about half of them are not well-formed UTF-8."""
    rng = np.random.default_rng(seed)
    pieces = [b"a", b"Zq", b"42", b" ", b"  ", b"?", b"_", b"\x00", "é".encode(), "東".encode(), "😀".encode(),
              "\u200d".encode(), "\u2014".encode(), "\u00a0".encode(), b"\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80",
              b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xff", b"\xf0\x9f\x98"]
    weights = np.array([8, 4, 3, 8, 2, 2, 1, 1, 3, 3, 3, 1, 1, 1] + [0.15] * 8)
    weights /= weights.sum()
    return [b"".join(pieces[i] for i in rng.choice(len(pieces), size=rng.integers(0, 60), p=weights))
            for _ in range(n)]


@needs_cc
@pytest.mark.parametrize("config", ["count-ternary-int8", "sublinear-l2-binary-int8"])
def test_c_predict_text_on_random_bytes_under_sanitizers(config, trec_small, tmp_path):
    """Random byte strings, valid UTF-8 or not: the C runtime built with AddressSanitizer and
    UndefinedBehaviorSanitizer (any report aborts) gives Python's class, or PN_ERROR_UTF8 exactly
    where Python raises ValueError."""
    t_train, _, y_train, _ = trec_small
    hasher_kw, clf_kw, dtype = CONFIGS[config]
    _, compact = _fit(t_train[:400], y_train[:400], {**hasher_kw, "n_features": 2**14}, clf_kw, dtype)
    try:
        exe = _build(compact, tmp_path, "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")
    except subprocess.CalledProcessError:
        pytest.skip("the C compiler cannot build with -fsanitize=address,undefined")
    items = _random_texts(250, seed=0)
    codes, proba = _run_c(exe, items)
    expected = _python(compact, items)
    n_invalid = sum(e is None for e in expected)
    assert 60 < n_invalid < 190  # both kinds are exercised
    for item, code, row, exp in zip(items, codes, proba, expected):
        if exp is None:
            assert code == -3 and (row == -7.0).all(), item
        else:
            assert code == exp[0], item
            np.testing.assert_allclose(row, exp[1], rtol=0, atol=1e-5)
