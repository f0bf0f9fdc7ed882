"""The C99 export: compiled with the system compiler, run on real rows, compared with Python."""

import copy
import shutil
import subprocess
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _c import CC, STRICT, build_program, needs_cc
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import make_pipeline

from sklearn_projection import LSHProjection, ProjectionNetClassifier
from sklearn_projection import _export_c as export_module
from sklearn_projection._compact import compact_pipeline
from sklearn_projection._export_c import generate_c, projection_table
from sklearn_projection._hashing import column_weight

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

/* dense: each line holds PN_N_FEATURES numbers; sparse: "nnz i0 v0 i1 v1 ...".
 * Prints the class index and the probabilities, one row per line. */
int main(int argc, char **argv)
{
    int sparse = argc > 1 && argv[1][0] == 's';
    double x[PN_N_FEATURES + 1], proba[PN_N_CLASSES];
    int64_t idx[PN_N_FEATURES + 1];
    long nnz, k;
    int c, j;
    for (;;) {
        for (j = 0; j < PN_N_CLASSES; ++j)
            proba[j] = -7.0; /* sentinel: a call that fails must leave it */
        if (sparse) {
            if (scanf("%ld", &nnz) != 1)
                break;
            for (k = 0; k < nnz; ++k) {
                long long i;
                if (scanf("%lld %lf", &i, &x[k]) != 2)
                    return 2;
                idx[k] = (int64_t)i;
            }
            c = pn_predict_sparse(idx, x, (size_t)nnz, proba);
        } else {
            for (k = 0; k < PN_N_FEATURES; ++k)
                if (scanf("%lf", &x[k]) != 1)
                    return k == 0 ? 0 : 2;
            c = pn_predict_dense(x, proba);
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
    c_path, h_path = compact.export_c(tmp_path / "model.c")
    assert (c_path.name, h_path.name) == ("model.c", "model.h")
    (tmp_path / "main.c").write_text(DRIVER)
    exe = tmp_path / "model"
    return build_program([c_path, tmp_path / "main.c"], exe, *flags)


def _run_all(exe, text, sparse=False):
    """Class index of every row and the proba buffer after the call (-7.0 where untouched)."""
    args = [str(exe)] + (["s"] if sparse else [])
    out = subprocess.run(args, input=text, check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in out.strip().splitlines()]
    return np.array([int(r[0]) for r in rows]), np.array([[float(v) for v in r[1:]] for r in rows])


def _run(exe, text, sparse=False):
    classes, proba = _run_all(exe, text, sparse)
    return classes, proba[classes >= 0]


def _dense_text(X):
    return "\n".join(" ".join(repr(float(v)) for v in row) for row in X) + "\n"


def _sparse_text(X):
    X = sp.csr_matrix(X)
    X.sum_duplicates()
    lines = []
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        pairs = " ".join(f"{j} {float(v)!r}" for j, v in zip(X.indices[lo:hi], X.data[lo:hi]))
        lines.append(f"{hi - lo} {pairs}")
    return "\n".join(lines) + "\n"


def _digits_model(digits_split, reading):
    X_train, _, y_train, _ = digits_split
    return ProjectionNetClassifier(
        n_projections=30, n_bits=10, reading=reading, projection_hidden_layer_sizes=(16,),
        trainer_hidden_layer_sizes=(32,), max_iter=20, random_state=0,
    ).fit(X_train, y_train)


@pytest.fixture(scope="module")
def digits_model(digits_split):
    return _digits_model(digits_split, "binary")


@pytest.fixture(scope="module")
def digits_model_ternary(digits_split):
    return _digits_model(digits_split, "ternary")


@pytest.fixture(scope="module")
def digits_model_quinary(digits_split):
    return _digits_model(digits_split, "quinary")


def _reading_model(request, reading):
    return request.getfixturevalue("digits_model" if reading == "binary" else f"digits_model_{reading}")


@needs_cc
@pytest.mark.parametrize("reading", ["binary", "ternary", "quinary"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int8"])
def test_c_matches_python_on_digits_dense_and_sparse(request, digits_split, dtype, reading, tmp_path):
    _, X_test, _, _ = digits_split
    model = _reading_model(request, reading)
    compact = model.to_compact(dtype)
    assert compact.reading_ == reading
    exe = _build(compact, tmp_path)
    source = (tmp_path / "model.c").read_text()
    assert ("#define N_PLANES 2" in source) == (reading == "ternary")
    assert ("#define N_PLANES 4" in source) == (reading == "quinary")
    if reading == "quinary":  # tau as an exact hexadecimal literal
        literal = source.split("static const double TAU = ", 1)[1].split(";", 1)[0]
        assert float.fromhex(literal) == compact.threshold_ == model.projection_.threshold_ > 0
        # the five levels all occur on these rows (the C reads every plane)
        values = model.projection_.transform(X_test)
        assert set(np.unique(values).tolist()) == {-2, -1, 0, 1, 2}
    expected_cls = np.searchsorted(compact.classes_, compact.predict(X_test))
    expected = compact.predict_proba(X_test)
    for text, sparse in ((_dense_text(X_test), False), (_sparse_text(X_test), True)):
        classes, proba = _run(exe, text, sparse)
        np.testing.assert_array_equal(classes, expected_cls)
        np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-5)


@needs_cc
@pytest.mark.parametrize("reading, dtype", [("binary", "float32"), ("ternary", "float32"), ("ternary", "int8"),
                                           ("quinary", "float32"), ("quinary", "int8")])
def test_c_matches_python_on_text_pipeline_sparse_rows(trec6_split, tmp_path, reading, dtype):
    texts_train, texts_test, y_train, _ = trec6_split
    pipe = make_pipeline(
        CountVectorizer(),
        ProjectionNetClassifier(n_projections=20, n_bits=8, reading=reading, projection_hidden_layer_sizes=(8,),
                                trainer_hidden_layer_sizes=(32,), max_iter=5, random_state=0),
    ).fit(texts_train, y_train)
    compact = compact_pipeline(pipe, dtype)
    if dtype != "float32":
        pipe = compact
    exe = _build(compact[-1], tmp_path)
    X = compact[0].transform(texts_test[:400])
    classes, proba = _run(exe, _sparse_text(X), sparse=True)
    np.testing.assert_array_equal(compact[-1].classes_[classes], pipe.predict(texts_test[:400]))
    np.testing.assert_allclose(proba, pipe.predict_proba(texts_test[:400]), rtol=0, atol=1e-5)


@needs_cc
@pytest.mark.parametrize(
    "flags, reading", [((), "binary"), (("-DPN_SUMS_STORAGE=static",), "binary"), ((), "ternary"),
                       ((), "quinary")],
    ids=["stack", "static", "ternary", "quinary"],
)
def test_c_edge_rows_huge_values_zero_rows_and_bad_sparse_input(request, tmp_path, flags, reading):
    model = _reading_model(request, reading)
    compact = model.to_compact("float32")
    exe = _build(compact, tmp_path, *flags)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 64))
    X[0] = 0.0  # no set bit: the biases alone
    X[1] *= 1e300  # exercises the 2**960 rescaling rule
    X[2, :5] = [1e308, -1e308, 1e-300, 5e-324, 0.0]
    X[3] = -X[3]
    X[4] = np.sign(X[4]) * 1e308  # partial sums overflow to +-inf unless rescaled
    X[5, 0] = 1e300  # rescaled row whose tiny values underflow to +-0: sums of +-0 terms stay +0,
    X[5, 1:] = -np.abs(X[5, 1:]) * 1e-310  # never -0 (the C reads the sign of a sum from its bits)
    classes, proba = _run(exe, _dense_text(X))
    np.testing.assert_array_equal(classes, np.searchsorted(compact.classes_, compact.predict(X)))
    np.testing.assert_allclose(proba, compact.predict_proba(X), rtol=0, atol=1e-5)
    # out-of-range, repeated and decreasing indices are refused with -1
    classes, _ = _run(exe, "1 64 1.0\n2 3 1.0 3 2.0\n2 5 1.0 4 1.0\n1 -1 1.0\n0\n", sparse=True)
    assert classes[:4].tolist() == [-1, -1, -1, -1] and classes[4] >= 0


def test_generated_code_is_self_contained_and_labels_are_escaped(digits_split):
    X_train, _, y_train, _ = digits_split
    labels = np.array(['a"b', "c\\d", "é?", "x"])
    clf = ProjectionNetClassifier(n_projections=4, n_bits=8, max_iter=2, random_state=0)
    compact = clf.fit(X_train, labels[y_train % 4]).to_compact("int8")
    header, source = generate_c(compact, name="m", prefix="dev")
    includes = {line.split()[1] for line in (header + source).splitlines() if line.startswith("#include")}
    assert includes == {"<stddef.h>", "<stdint.h>", "<math.h>", "<string.h>", '"m.h"'}
    assert "dev_predict_dense" in header and "DEV_N_FEATURES 64" in header
    assert r'"a\042b"' in source and r'"c\134d"' in source and r'"\303\251\077"' in source
    with pytest.raises(ValueError, match="C identifier"):
        generate_c(compact, prefix="1x")


@needs_cc
@pytest.mark.parametrize("density", [1.0, 0.002], ids=["every-bit", "mostly-empty-columns"])
def test_c_matches_python_at_extreme_densities(digits_split, tmp_path, density):
    # density 1: every column holds all T*d bits (blocks of one bit); 0.002 over 64 bits:
    # most columns hold none and some one (K_LO = 0, FRAC > 0)
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=8, n_bits=8, density=density, trainer_hidden_layer_sizes=(16,),
                                  max_iter=5, random_state=0).fit(X_train, y_train)
    compact = clf.to_compact("float32")
    exe = _build(compact, tmp_path)
    for text, sparse in ((_dense_text(X_test[:100]), False), (_sparse_text(X_test[:100]), True)):
        classes, proba = _run(exe, text, sparse)
        np.testing.assert_array_equal(classes, np.searchsorted(compact.classes_, compact.predict(X_test[:100])))
        np.testing.assert_allclose(proba, compact.predict_proba(X_test[:100]), rtol=0, atol=1e-5)


@needs_cc
@pytest.mark.parametrize("dtype", ["float32", "float16", "int8"])
def test_c_non_finite_input_returns_minus_2_and_leaves_proba_untouched(digits_model, digits_split, dtype, tmp_path):
    _, X_test, _, _ = digits_split
    compact = digits_model.to_compact(dtype)
    exe = _build(compact, tmp_path)
    header = (tmp_path / "model.h").read_text()
    assert "-2" in header and "NaN" in header
    X = np.repeat(X_test[:1], 7, axis=0)
    X[0, 0] = np.nan  # a pixel that is 0 in this row
    X[1, 63] = np.inf
    X[2, 20] = -np.inf
    X[3, :] = np.nan
    X[4, 30] = np.nan
    X[4, 31] = 1e308  # with a value that triggers the rescaling of large rows
    X[5, 0] = np.inf
    X[5, 1] = -np.inf  # inf - inf would sum to NaN: still -2, never a class
    classes, proba = _run_all(exe, _dense_text(X))
    assert classes[:6].tolist() == [-2] * 6
    assert (proba[:6] == -7.0).all()  # proba untouched
    # the finite row still predicts as Python does
    assert classes[6] == np.searchsorted(compact.classes_, compact.predict(X[6:]))[0]
    # sparse: -2 for a non-finite value, -1 (checked first) for bad indices
    text = "2 3 nan 5 1.0\n1 0 inf\n1 63 -inf\n2 5 nan 4 1.0\n1 64 nan\n2 3 0.5 5 1.0\n"
    classes, proba = _run_all(exe, text, sparse=True)
    assert classes[:5].tolist() == [-2, -2, -2, -1, -1] and classes[5] >= 0
    assert (proba[:5] == -7.0).all()


# closes the #include "...", starts a line of its own, reopens an #include of the header
_INJECTION = 'x.h"\nint injected_symbol = 42;\n#include "x'


@pytest.mark.parametrize(
    "name",
    [_INJECTION, "a*/ int injected_symbol; /*b", "modèle", "a??=b", "a\\b", "a'b", 'a"b', "line\nbreak", ""],
    ids=["quote-newline", "comment-end", "non-ascii", "trigraph", "backslash", "apostrophe", "quote",
         "newline", "empty"],
)
def test_c_export_refuses_file_names_that_cannot_be_written_into_c(digits_model, tmp_path, name):
    compact = digits_model.to_compact("int8")
    with pytest.raises(ValueError, match="file name"):
        generate_c(compact, name=name)
    if name and "/" not in name:  # a name that is a file name, not a directory path
        with pytest.raises(ValueError, match="file name"):
            compact.export_c(tmp_path / name)
        assert list(tmp_path.iterdir()) == []


@needs_cc
def test_c_export_of_unusual_but_safe_file_names_compiles_without_extra_symbols(digits_model, tmp_path):
    compact = digits_model.to_compact("int8")
    name = "my model-v1.2+x (copy)#1"
    c_path, h_path = compact.export_c(tmp_path / name, prefix="dev")
    assert c_path.name == name + ".c" and h_path.name == name + ".h"
    obj = tmp_path / "out.o"
    subprocess.run([CC, *STRICT, "-c", str(c_path), "-o", str(obj)],
                   check=True, capture_output=True, text=True)
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm on PATH")
    out = subprocess.run([nm, "--defined-only", "-g", str(obj)], check=True, capture_output=True, text=True).stdout
    symbols = {line.split()[-1] for line in out.splitlines() if line.strip()}
    assert symbols == {"dev_predict_dense", "dev_predict_sparse", "dev_class_labels"}, symbols


@pytest.mark.parametrize("prefix", ["pn\n", "pn ", " pn", "1x", "", "a-b", "pé", None, 7])
def test_c_export_refuses_prefixes_that_are_not_c_identifiers(digits_model, prefix):
    compact = digits_model.to_compact("int8")
    with pytest.raises(ValueError, match="prefix must be a C identifier"):
        generate_c(compact, prefix=prefix)


# -------------------------------------------------------------- block tables, column table, layers


def _compare(compact, exe, X):
    expected_cls = np.searchsorted(compact.classes_, compact.predict(X))
    expected = compact.predict_proba(X)
    for text, sparse in ((_dense_text(X), False), (_sparse_text(X), True)):
        classes, proba = _run(exe, text, sparse)
        np.testing.assert_array_equal(classes, expected_cls)
        np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-5)


@needs_cc
@pytest.mark.parametrize("table", [False, True], ids=["hashed", "column-table"])
@pytest.mark.parametrize(
    "n_projections, n_bits, density, reading, per_hash",
    [(1, 1, 1.0, "binary", 4),        # one bit: K_LO = N_BITS = 1, FRAC = 0, no padding entry
     (9, 8, 1.0, "ternary", 4),       # 72 bits (not a multiple of 64), every column holds every bit
     (9, 8, 0.47, "ternary", 4),      # K_LO = 33: the entries in a loop, the last hash gives 2 of 4
     (9, 8, 0.004, "binary", 4),      # K_LO = 0, FRAC > 0: columns of 0 or 1 entry
     (3, 7, 0.5, "ternary", 4),       # 21 bits, K_LO = 10, FRAC > 0 (one padding entry)
     (70, 10, 0.02, "binary", 4),     # 700 bits: 11 words, K_LO = 14
     (30, 10, 0.002, "binary", 3),    # K_LO = 0: a block of 300 bits, 3 entries of 21 bits per hash
     (500, 10, 0.0003, "binary", 2)],  # K_LO = 1: a block of 5000 bits, 2 entries of 32 bits per hash
    ids=["one-bit", "72-bits-density-1", "loop-partial-hash", "k-lo-0", "21-bits", "700-bits", "3-per-hash",
         "2-per-hash"],
)
def test_c_block_tables_at_edge_sizes_match_python(digits_split, tmp_path, n_projections, n_bits, density,
                                                   reading, per_hash, table):
    X_train, X_test, y_train, _ = digits_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a density that leaves most bits 0 warns
        clf = ProjectionNetClassifier(n_projections=n_projections, n_bits=n_bits, density=density, reading=reading,
                                      trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X_train, y_train)
    compact = clf.to_compact("int8")
    weight = column_weight(compact.n_bits_total_, compact.density_)
    _, source = generate_c(compact)
    k_lo, frac = weight >> 32, weight & 0xFFFFFFFF
    assert f"#define K_LO {k_lo}\n" in source and f"#define N_ENTRIES {k_lo + (frac != 0)}\n" in source
    assert f"#define PER_HASH {per_hash}\n#define FIELD_BITS {64 // per_hash}\n#define POS_BITS {64 // per_hash - 1}\n" \
        in source
    flags = ("-DPN_COLUMN_TABLE",) if table else ()
    exe = _build(compact, tmp_path, *flags)
    _compare(compact, exe, X_test[:120])


@pytest.mark.parametrize("density", [1.0, 0.3, 0.004, 1e-6])
@pytest.mark.parametrize("n_bits_total", [1, 21, 72, 640, 5000])  # 1e-6 over 640 and 5000 bits: 3 and 2 per hash
def test_projection_table_is_the_projection_of_the_python_kernels(n_bits_total, density):
    # the ternary reading of a unit vector e_f is the sign pattern of column f of P
    n_features = 37
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proj = LSHProjection(n_projections=n_bits_total, n_bits=1, density=density, reading="ternary",
                             random_state=3).fit(np.eye(n_features))
    signs = proj.transform(np.eye(n_features))  # (n_features, n_bits_total) in {-1, 0, +1}
    table = projection_table(proj.seed_, n_features, n_bits_total, proj.density_)
    weight = column_weight(n_bits_total, proj.density_)
    assert table.shape == (n_features, (weight >> 32) + ((weight & 0xFFFFFFFF) != 0))
    rebuilt = np.zeros((n_features, n_bits_total + 1), dtype=np.int64)
    for f in range(n_features):
        for v in table[f]:
            assert rebuilt[f, v >> 1] == 0 or v >> 1 == n_bits_total  # one entry per bit
            rebuilt[f, v >> 1] = 1 if v & 1 else -1
    np.testing.assert_array_equal(rebuilt[:, :n_bits_total], signs)
    counts = (table >> 1 != n_bits_total).sum(axis=1)
    assert set(counts) <= {weight >> 32, (weight >> 32) + 1}


@needs_cc
def test_c_column_table_too_large_is_an_error_only_when_asked_for(digits_model, tmp_path, monkeypatch):
    compact = digits_model.to_compact("int8")
    monkeypatch.setattr(export_module, "COLUMN_TABLE_MAX_ENTRIES", 10)
    header, source = generate_c(compact)
    assert "no column table" in source and "not written for this model" in header
    (tmp_path / "model.c").write_text(source)
    (tmp_path / "model.h").write_text(header)
    base = [CC, *STRICT, "-c", str(tmp_path / "model.c"),
            "-o", str(tmp_path / "model.o")]
    subprocess.run(base, check=True, capture_output=True, text=True)
    proc = subprocess.run(base + ["-DPN_COLUMN_TABLE"], capture_output=True, text=True)
    assert proc.returncode != 0 and "PN_COLUMN_TABLE: this export has no column table" in proc.stderr


@needs_cc
@pytest.mark.parametrize("dtype, reading", [("int8", "binary"), ("float16", "ternary"), ("float32", "binary")])
def test_c_wide_and_narrow_remaining_layers_match_python(digits_split, tmp_path, dtype, reading):
    # layer 1: 300 -> 20 (more than 256 inputs, more than 16 outputs: the generic loops);
    # layer 2: 20 -> 10 (one register accumulator per output)
    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=10, n_bits=8, reading=reading, projection_hidden_layer_sizes=(300, 20),
                                  trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X_train, y_train)
    compact = clf.to_compact(dtype)
    _, source = generate_c(compact)
    assert "unsigned short on[300]" in source and "float s[20]" in source and "s9 = 0.0f" in source
    for flags in ((), ("-DPN_COLUMN_TABLE",)):
        exe = _build(compact, tmp_path, *flags)
        _compare(compact, exe, X_test[:150])


@needs_cc
@pytest.mark.parametrize("reading", ["binary", "ternary"])
def test_c_int8_first_layer_from_every_pair_of_bit_sets_matches_python(digits_split, tmp_path, reading):
    # the int8 first layer sums the two smaller of P (positive bits), N (negative) and Z
    # (neither) and reads S(P) - S(N) from them and the weights' column sums; here rows land
    # in every case: dense rows (P, N large), rows with two non-zero pixels (Z largest), zero
    # rows, and (binary, at density 0.5: few empty bits) Gaussian rows with P > half (read
    # as SUM - S(Z)); 1200 bits put more than 256 rows (one 16-bit group) in a set, and an odd
    # width (7) leaves a weight word half used
    from sklearn_projection._projection import lsh_bits

    X_train, X_test, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=60, n_bits=20, reading=reading, projection_hidden_layer_sizes=(7,),
                                  density=0.5 if reading == "binary" else "auto", trainer_hidden_layer_sizes=(16,),
                                  max_iter=3, random_state=0).fit(X_train, y_train)
    compact = clf.to_compact("int8")
    sparse_rows = np.zeros((30, X_test.shape[1]))
    sparse_rows[np.arange(30), np.arange(30) % 64] = X_test[:30].max(axis=1)
    sparse_rows[np.arange(30), (7 * np.arange(30) + 20) % 64] = -1.5
    gaussian = np.random.default_rng(0).normal(size=(40, X_test.shape[1]))
    X = np.vstack([X_test[:60], -X_test[60:90], sparse_rows, np.zeros((2, X_test.shape[1])), gaussian])
    bits = np.asarray(lsh_bits(X, compact.seed_, compact.n_bits_total_, compact.density_, reading=reading))
    n_pos, n_neg = (bits > 0).sum(axis=1), (bits < 0).sum(axis=1)
    n_zero = compact.n_bits_total_ - n_pos - n_neg
    if reading == "ternary":
        cases = {"S(P) - S(N)": (n_zero >= n_pos) & (n_zero >= n_neg),
                 "2 S(P) + S(Z) - SUM": (n_zero < np.maximum(n_pos, n_neg)) & (n_pos <= n_neg),
                 "SUM - S(Z) - 2 S(N)": (n_zero < np.maximum(n_pos, n_neg)) & (n_pos > n_neg)}
        smaller = np.sort(np.stack([n_pos, n_neg, n_zero]), axis=0)[:2]
    else:
        cases = {"S(P)": n_pos <= n_zero, "SUM - S(Z)": n_pos > n_zero}
        smaller = np.minimum(n_pos, n_zero)[None]
    assert all(mask.any() for mask in cases.values()), {k: int(m.sum()) for k, m in cases.items()}
    assert smaller.max() > 256
    exe = _build(compact, tmp_path)
    _compare(compact, exe, X)
    # the extreme weights +127 and -127 (stored 255 and 1): a 16-bit group of more than 256
    # rows would overflow its sums
    extreme = copy.deepcopy(compact)
    extreme.coefs_[0][:, 0], extreme.coefs_[0][:, 1:3] = 127, -127
    (tmp_path / "extreme").mkdir()
    _compare(extreme, _build(extreme, tmp_path / "extreme"), X)


@needs_cc
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_c_rows_of_several_chunks_match_python(tmp_path, dtype):
    # lsh_words goes by chunks of 256 features (dense) or 256 pairs (sparse): 700 features
    # and rows with about 350 non-zeros, some at the chunk edges, take several of each
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 700)) * (rng.random((120, 700)) < 0.5)
    X[:, [0, 255, 256, 511, 512, 699]] = rng.normal(size=(120, 6))
    y = (X[:, :350].sum(axis=1) > X[:, 350:].sum(axis=1)).astype(int) + 2 * (X[:, 0] > 0)
    clf = ProjectionNetClassifier(n_projections=20, n_bits=10, projection_hidden_layer_sizes=(8,),
                                  trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X[:80], y[:80])
    compact = clf.to_compact(dtype)
    assert (X[80:] != 0).sum(axis=1).min() > 256
    _compare(compact, _build(compact, tmp_path), X[80:])


# a driver that includes the model's source and prints its int8 first layer z (stage 2) as
# exact hexadecimal floats: "w" reads N_PLANES * N_WORDS hexadecimal words per row, "d" reads
# dense rows (stage 1, then stage 2); "b" reads dense rows and prints their packed bits
# (stage 1 alone) in hexadecimal
_FIRST_LAYER_DRIVER = r"""
#include <inttypes.h>
#include <stdio.h>
#include "model.c"

int main(int argc, char **argv)
{
    const int from_words = argc > 1 && argv[1][0] == 'w', bits_only = argc > 1 && argv[1][0] == 'b';
    uint64_t words[N_PLANES * N_WORDS];
    double x[PN_N_FEATURES];
    float z[MAX_WIDTH];
    int k, h;
    for (;;) {
        if (from_words) {
            for (k = 0; k < N_PLANES * N_WORDS; ++k)
                if (scanf("%" SCNx64, &words[k]) != 1)
                    return k == 0 ? 0 : 2;
        } else {
            for (k = 0; k < PN_N_FEATURES; ++k)
                if (scanf("%lf", &x[k]) != 1)
                    return k == 0 ? 0 : 2;
            if (lsh_words(NULL, x, NULL, PN_N_FEATURES, words) != 0)
                return 3;
        }
        if (bits_only) {
            for (k = 0; k < N_PLANES * N_WORDS; ++k)
                printf(" %" PRIx64, words[k]);
            printf("\n");
            continue;
        }
        first_layer(words, z);
        for (h = 0; h < WIDTH1; ++h)
            printf(" %a", (double)z[h]);
        printf("\n");
    }
}
"""


def _c_first_layer(compact, tmp_path, words=None, X=None, bits_only=False):
    """The C int8 first layer z (float32) of packed ``words``, or of the dense rows ``X``; or
    (``bits_only``) the packed bits (uint64) of the dense rows ``X``."""
    c_path, _ = compact.export_c(tmp_path / "model.c")
    (tmp_path / "first.c").write_text(_FIRST_LAYER_DRIVER)
    exe = build_program([tmp_path / "first.c"], tmp_path / "first", f"-I{tmp_path}")
    if words is not None:
        text, mode = "\n".join(" ".join(f"{int(v):x}" for v in row) for row in words) + "\n", "w"
    else:
        text, mode = _dense_text(X), "b" if bits_only else "d"
    out = subprocess.run([str(exe), mode], input=text, check=True, capture_output=True, text=True).stdout
    if bits_only:
        return np.array([[int(v, 16) for v in line.split()] for line in out.splitlines()], dtype=np.uint64)
    return np.array([[float.fromhex(v) for v in line.split()] for line in out.splitlines()], dtype=np.float32)


def _pack_levels(levels):
    """Quinary levels (n, N_BITS) in -2 .. 2 -> the four planes of packed words (n, 4 * N_WORDS):
    s > 0, s < 0, s > tau, s < -tau, bit b in word b // 64 at b % 64."""
    n, n_bits = levels.shape
    n_words = -(-n_bits // 64)
    planes = []
    for plane in (levels > 0, levels < 0, levels == 2, levels == -2):
        padded = np.zeros((n, 64 * n_words), dtype=np.uint8)
        padded[:, :n_bits] = plane
        planes.append(np.packbits(padded, axis=1, bitorder="little").view("<u8"))
    return np.hstack(planes)


def _level_counts(levels):
    """(n, 5): how many bits of each row have level -2, -1, 0, 1, 2."""
    return np.stack([(levels == c).sum(axis=1) for c in range(-2, 3)], axis=1)


@pytest.fixture(scope="module")
def int8_quinary_models(digits_split):
    # 90 bits (two words, the second partly used) and 1200 bits (every class past one 16-bit
    # group of 256 rows), odd widths (a weight word half used)
    X_train, _, y_train, _ = digits_split
    return [ProjectionNetClassifier(n_projections=T, n_bits=d, reading="quinary", projection_hidden_layer_sizes=(h,),
                                    trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0)
            .fit(X_train, y_train).to_compact("int8") for T, d, h in ((9, 10, 5), (60, 20, 7))]


@needs_cc
@pytest.mark.parametrize("model", [0, 1], ids=["90-bits", "1200-bits"])
def test_c_int8_quinary_first_layer_is_python_bit_for_bit_whichever_level_is_largest(
        int8_quinary_models, tmp_path, model):
    # the quinary int8 first layer leaves out the rows of its largest level d (q = sum over the
    # other levels c of (c - d) S_c + d SUM): rows of packed bits where each level in turn is
    # the largest, all bits at one level, ties, and the extreme weights +-127; z equals
    # Python's first layer and the float32 of q = the levels times the weights, to the bit
    from sklearn_projection._inference import first_layer

    compact = copy.deepcopy(int8_quinary_models[model])
    n_bits = compact.n_bits_total_
    rng = np.random.default_rng(model)
    rows = [np.full(n_bits, c) for c in range(-2, 3)]  # all bits at one level
    for c in range(-2, 3):  # level c the largest: 60 % of the bits, the rest uniform
        for _ in range(3):
            rows.append(np.where(rng.random(n_bits) < 0.6, c, rng.integers(-2, 3, n_bits)))
    rows.append(np.arange(n_bits) % 5 - 2)  # ties between the levels
    rows.extend(rng.integers(-2, 3, (6, n_bits)))
    rows.append(np.where(np.arange(n_bits) < n_bits // 2, 2, -2))  # two levels tie
    levels = np.array(rows, dtype=np.int64)
    counts = _level_counts(levels)
    for c in range(5):  # each level is the only largest on some row
        assert ((counts[:, c] > np.delete(counts, c, axis=1).max(axis=1))).sum() >= 3
    words = _pack_levels(levels)
    W = compact.coefs_[0]
    for label, weights in (("trained", W.copy()), ("extreme", None)):
        if weights is None:
            W[:, 0], W[:, 1:3] = 127, -127
            W[:, 3:] = np.where(rng.random(W[:, 3:].shape) < 0.5, 127, -127)
        (tmp_path / label).mkdir()
        got = _c_first_layer(compact, tmp_path / label, words=words)
        scale, bias = compact.scales_[0], compact.intercepts_[0]
        expected = first_layer(words, W, bias, scale, planes=4)
        q = levels @ W.astype(np.int64)
        reference = q.astype(np.float32) * scale + bias
        assert got.dtype == expected.dtype == reference.dtype == np.float32
        np.testing.assert_array_equal(got.view(np.int32), expected.view(np.int32), err_msg=label)
        np.testing.assert_array_equal(got.view(np.int32), reference.view(np.int32), err_msg=label)
    if n_bits > 256:  # the extreme weights take a level's sums past int16
        assert np.abs(q).max() > 2**15


@needs_cc
def test_c_int8_quinary_matches_python_on_rows_where_each_level_is_largest(int8_quinary_models, digits_split,
                                                                           tmp_path):
    # the same, end to end on input rows, dense and sparse: digits rows scaled down (most bits
    # at +-1), up (+-2), negated, zero rows and rows of two pixels (most bits at 0)
    from sklearn_projection._inference import first_layer
    from sklearn_projection._projection import lsh_bits

    _, X_test, _, _ = digits_split
    compact = int8_quinary_models[1]
    sparse_rows = np.zeros((20, X_test.shape[1]))
    sparse_rows[np.arange(20), np.arange(20) % 64] = 1.0
    sparse_rows[np.arange(20), (7 * np.arange(20) + 20) % 64] = -0.5
    X = np.vstack([X_test[:30], X_test[30:60] * 1e-3, X_test[60:90] * 1e3, -X_test[90:150] * 1e-3,
                   -X_test[150:180] * 1e3, sparse_rows, np.zeros((2, X_test.shape[1]))])
    args = (compact.seed_, compact.n_bits_total_, compact.density_)
    levels = np.asarray(lsh_bits(X, *args, reading="quinary", threshold=compact.threshold_), dtype=np.int64)
    counts = _level_counts(levels)
    largest = np.argmax(counts, axis=1)
    assert set(largest.tolist()) == {0, 1, 2, 3, 4}, np.bincount(largest, minlength=5)
    words = np.asarray(lsh_bits(X, *args, packed=True, reading="quinary", threshold=compact.threshold_))
    expected = first_layer(words, compact.coefs_[0], compact.intercepts_[0], compact.scales_[0], planes=4)
    got = _c_first_layer(compact, tmp_path, X=X)
    np.testing.assert_array_equal(got.view(np.int32), expected.view(np.int32))
    (tmp_path / "predict").mkdir()
    _compare(compact, _build(compact, tmp_path / "predict"), X)


@needs_cc
@pytest.mark.parametrize("tau", [0.3, 0.0, 2.0**-1074], ids=["0.3", "zero", "smallest-subnormal"])
def test_c_quinary_planes_at_sums_equal_to_plus_minus_tau(digits_split, tmp_path, tau):
    # the C reads |s| > TAU from the bits of s and TAU (as integers); here sums land exactly on
    # +-tau, one ulp either side, on 0, and far from it: density 1, so a row with one
    # non-zero x puts +-x in every bit (and two non-zeros x, y put x + y or x - y, etc.)
    from sklearn_projection._projection import lsh_bits

    X_train, _, y_train, _ = digits_split
    clf = ProjectionNetClassifier(n_projections=9, n_bits=10, density=1.0, reading="quinary",
                                  projection_hidden_layer_sizes=(5,), trainer_hidden_layer_sizes=(16,), max_iter=2,
                                  random_state=0).fit(X_train, y_train)
    compact = copy.deepcopy(clf.to_compact("int8"))
    compact.threshold_ = tau
    values = [tau, np.nextafter(tau, np.inf), np.nextafter(tau, 0.0), 2 * tau, tau / 2, 1e300, 5e-324, 1.0]
    rows = []
    for v in values:
        for sign in (1.0, -1.0):
            row = np.zeros(X_train.shape[1])
            row[3] = sign * v
            rows.append(row)
            row = row.copy()
            row[40] = v / 2 if tau else v  # x + y and x - y: tau + tau / 2 and tau / 2, 0 ...
            rows.append(row)
    X = np.array(rows + [np.zeros(X_train.shape[1])])
    expected = np.asarray(lsh_bits(X, compact.seed_, compact.n_bits_total_, compact.density_, packed=True,
                                   reading="quinary", threshold=tau))
    levels = np.asarray(lsh_bits(X, compact.seed_, compact.n_bits_total_, compact.density_, reading="quinary",
                                 threshold=tau))
    assert set(np.unique(levels).tolist()) == ({-2, -1, 0, 1, 2} if tau else {-2, 0, 2})
    got = _c_first_layer(compact, tmp_path, X=X, bits_only=True)
    np.testing.assert_array_equal(got, expected)


@needs_cc
@pytest.mark.parametrize("reading", ["binary", "quinary"])
def test_c_int8_first_layer_past_65536_bits_is_python_bit_for_bit(digits_split, tmp_path, reading):
    # the first layer lists its bits in 16-bit entries up to 65 536 bits, in 32-bit ones past
    # them: 66 000 bits, levels drawn at random (bits past 65 536 in every level) and each level
    # the largest in turn
    X_train, _, y_train, _ = digits_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = ProjectionNetClassifier(n_projections=660, n_bits=100, density=0.05, reading=reading,
                                      projection_hidden_layer_sizes=(3,), trainer_hidden_layer_sizes=(8,), max_iter=1,
                                      random_state=0).fit(X_train[:200], y_train[:200])
    compact = clf.to_compact("int8")
    n_bits = compact.n_bits_total_
    assert n_bits == 66000
    rng = np.random.default_rng(0)
    lo = 0 if reading == "binary" else -2
    levels = [rng.integers(lo, 3 if reading == "quinary" else 2, n_bits) for _ in range(3)]
    levels += [np.where(rng.random(n_bits) < 0.6, c, rng.integers(lo, 3 if reading == "quinary" else 2, n_bits))
               for c in range(lo, 3 if reading == "quinary" else 2)]
    levels = np.array(levels, dtype=np.int64)
    words = _pack_levels(levels)[:, : -(-n_bits // 64)] if reading == "binary" else _pack_levels(levels)
    got = _c_first_layer(compact, tmp_path, words=words)
    W = compact.coefs_[0].astype(np.int64)
    reference = (levels @ W).astype(np.float32) * compact.scales_[0] + compact.intercepts_[0]
    np.testing.assert_array_equal(got.view(np.int32), reference.view(np.int32))
