"""Rows/s of the exported C runtime against a plain-loop C MLP((32,)), in one harness binary.

Trains on MNIST (20 000 training rows) a ``ProjectionNetClassifier(n_projections=60,
n_bits=10, projection_hidden_layer_sizes=(64,))`` at density 1/sqrt(n_features) (1/28 on
MNIST, the "auto" of issue 13's measurement), at ``density="auto"`` (decided from the data
since then) and at a quarter of 1/28 (1/112), and an ``MLPClassifier((32,))`` on the raw
pixels / 255. The int8 compact models are exported with
:meth:`~CompactProjectionClassifier.export_c` and built twice: as exported (the columns of
the projection hashed at run time) and with ``-D<PREFIX>_COLUMN_TABLE`` (the columns read
from a precomputed table). The MLP is written as the plain C a user would write (float32
weights, a loop over the non-zero pixels of the row adding ``x * W0[i]``, ReLU, the output
layer, argmax), and again with int8 weights (per-column float32 scales, the same loop).

All of them are compiled with the same flags into ONE harness binary, which loads the
10 000 test rows into memory once (dense rows of ``double``, and the same rows in CSR for
the sparse entry point) and times each predictor over all rows, one thread, interleaved:
the rows are split in blocks of 250; every repeat runs every predictor once over a block,
in a rotating order; a predictor's time is the sum over blocks of its best time of
``--repeats`` (robust to bursts of load from other processes on a shared machine). Two
builds: ``cc -O2`` and ``cc -O3 -march=native``.

The same binary also times the three stages of the default model (density "auto", columns
hashed) one at a time, through a translation unit that includes its ``.c``: ``lsh_words``
(input -> packed bits), ``first_layer`` (bits -> first layer, from bits computed before the
timing) and ``output`` (the remaining layers and argmax, on a copy of the first layer): where
the time of a prediction goes, in the same rounds as the peers. With ``--baseline REV``, the
``lsh_words`` and ``first_layer`` of the code generated at ``REV`` are timed too, the latter on
the same packed bits (A/Bs of stages 1 and 2 in one binary; both checked to give this
revision's bits and first layer, bit for bit, on every row).

Ratios are against the C MLP peers of the same binary and run. The C classes of the
ProjectionNet models must equal Python's ``to_compact("int8").predict`` on every row (dense
and sparse entry points; the script fails otherwise); the MLP peers' agreement with
scikit-learn's float64 ``predict`` is reported (float32 sums may flip a near tie).

Prints Markdown; writes nothing except the ``--json`` path, if given. From the project root::

    python -m benchmarks.c_runtime            # full run (~2-4 minutes on 2 loaded cores)
    python -m benchmarks.c_runtime --quick    # tiny slices, seconds; checks it runs
    python -m benchmarks.c_runtime --json results.json
    python -m benchmarks.c_runtime --baseline f5d329b   # + the code generated at that revision
"""

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sklearn_projection import ProjectionNetClassifier
from sklearn_projection._projection import HASH_VERSION

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.datasets import load_mnist  # noqa: E402

BUILDS = {"cc -O2": ["-O2"], "cc -O3 -march=native": ["-O3", "-march=native"]}


def _c_float(x):
    return float.hex(float(x)) + "f"


def _c_table(ctype, name, values, fmt):
    items = [fmt(v) for v in np.asarray(values).ravel()]
    body = ",\n    ".join(", ".join(items[i:i + 8]) for i in range(0, len(items), 8))
    return f"static const {ctype} {name}[{len(items)}] = {{\n    {body}\n}};\n"


def _int8(W):
    """Symmetric per-column int8: (q, scale) with W ~= q * scale."""
    scale = np.abs(W).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    return np.clip(np.rint(W / scale), -127, 127).astype(np.int8), scale.astype(np.float32)


def mlp_c_source(mlp, name, dtype):
    """C99 source of ``int <name>(const double *x)``: the plain-loop forward of a one-hidden-layer
    MLPClassifier with float32 (``dtype="float32"``) or int8 weights, skipping zero inputs."""
    (W0, W1), (b0, b1) = mlp.coefs_, mlp.intercepts_
    n_in, n_hidden = W0.shape
    n_out = W1.shape[1]
    if n_out == 1:
        raise ValueError("binary MLPClassifier (one output) is not supported by this peer.")
    src = ["#include <stdint.h>\n"]
    if dtype == "float32":
        src += [_c_table("float", f"{name}_W0", W0.astype(np.float32), _c_float),
                _c_table("float", f"{name}_W1", W1.astype(np.float32), _c_float)]
        w0, w1, s0, s1 = f"{name}_W0[i * {n_hidden} + j]", f"{name}_W1[j * {n_out} + k]", "", ""
    else:
        (q0, sc0), (q1, sc1) = _int8(W0), _int8(W1)
        src += [_c_table("int8_t", f"{name}_W0", q0, str), _c_table("int8_t", f"{name}_W1", q1, str),
                _c_table("float", f"{name}_S0", sc0, _c_float), _c_table("float", f"{name}_S1", sc1, _c_float)]
        w0, w1 = f"(float){name}_W0[i * {n_hidden} + j]", f"(float){name}_W1[j * {n_out} + k]"
        s0, s1 = f"h[j] *= {name}_S0[j];", f"o *= {name}_S1[k];"
    src += [_c_table("float", f"{name}_B0", b0.astype(np.float32), _c_float),
            _c_table("float", f"{name}_B1", b1.astype(np.float32), _c_float)]
    src.append(f"""
int {name}(const double *x)
{{
    float h[{n_hidden}], best_o = 0.0f;
    int i, j, k, best = 0;
    for (j = 0; j < {n_hidden}; ++j)
        h[j] = 0.0f;
    for (i = 0; i < {n_in}; ++i) {{
        float v;
        if (x[i] == 0.0)
            continue;
        v = (float)x[i];
        for (j = 0; j < {n_hidden}; ++j)
            h[j] += v * {w0};
    }}
    for (j = 0; j < {n_hidden}; ++j) {{
        {s0}
        h[j] += {name}_B0[j];
        h[j] = h[j] > 0.0f ? h[j] : 0.0f;
    }}
    for (k = 0; k < {n_out}; ++k) {{
        float o = 0.0f;
        for (j = 0; j < {n_hidden}; ++j)
            o += h[j] * {w1};
        {s1}
        o += {name}_B1[k];
        if (k == 0 || o > best_o) {{
            best_o = o;
            best = k;
        }}
    }}
    return best;
}}
""")
    return "".join(src)


_HARNESS = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
@HEADERS@

/* rows.bin: n_rows x n_features doubles; csr.bin: indptr (n_rows + 1 int64), indices (int64),
 * values (double). Writes the class of every row per predictor to classes.bin (int32,
 * predictor-major) and prints "<predictor> <seconds>" per line (see main). */
#define BLOCK 250

typedef struct {
    const double *dense;
    const int64_t *indptr, *indices;
    const double *values;
} Rows;

@PREDICTORS@

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *load(const char *path, size_t *n_bytes)
{
    FILE *f = fopen(path, "rb");
    void *buf;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        exit(3);
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        exit(3);
    fclose(f);
    *n_bytes = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    size_t n_rows = (size_t)atol(argv[1]), n_features = (size_t)atol(argv[2]), nb, i;
    int repeats = atoi(argv[3]), r, p, q;
    Rows rows;
    int64_t *csr = load("csr.bin", &nb);
    int32_t *classes = malloc(sizeof(int32_t) * N_PREDICTORS * n_rows);
    double best[N_PREDICTORS], total[N_PREDICTORS];
    size_t b0;
    FILE *out;
    (void)argc;
    rows.dense = load("rows.bin", &nb);
    if (nb != n_rows * n_features * sizeof(double) || !classes)
        return 4;
    rows.indptr = csr;
    rows.indices = csr + n_rows + 1;
    rows.values = (const double *)(csr + n_rows + 1 + csr[n_rows]);
    for (p = 0; p < N_PREDICTORS; ++p)
        total[p] = 0.0;
    if (stage_setup(&rows, n_rows) != 0)
        return 6;
    /* rows in blocks of BLOCK; per block, each predictor's best time over the repeats, which
     * run interleaved in a rotating order; a predictor's time is the sum of its blocks' best
     * times, so that a burst of load from other processes spoils one block, not a pass */
    for (b0 = 0; b0 < n_rows; b0 += BLOCK) {
        size_t b1 = n_rows - b0 < BLOCK ? n_rows : b0 + BLOCK;
        for (p = 0; p < N_PREDICTORS; ++p)
            best[p] = 1e300;
        for (r = 0; r < repeats; ++r) {
            for (q = 0; q < N_PREDICTORS; ++q) {
                double t0, dt;
                int32_t *c;
                p = (q + r) % N_PREDICTORS; /* rotate the order: no predictor always runs first */
                c = classes + (size_t)p * n_rows;
                t0 = now();
                for (i = b0; i < b1; ++i)
                    c[i] = PREDICT[p](&rows, i);
                dt = now() - t0;
                if (dt < best[p])
                    best[p] = dt;
            }
        }
        for (p = 0; p < N_PREDICTORS; ++p)
            total[p] += best[p];
    }
    out = fopen("classes.bin", "wb");
    if (!out || fwrite(classes, sizeof(int32_t), N_PREDICTORS * n_rows, out) != N_PREDICTORS * n_rows)
        return 5;
    fclose(out);
    for (p = 0; p < N_PREDICTORS; ++p)
        printf("%s %.9f\n", NAMES[p], total[p]);
    return 0;
}
"""


# the stages of one model, timed apart in the same binary: a translation unit that includes
# the model's .c (its static functions) with its public names renamed, and exposes them
_STAGES_TU = """
#include "{p}.c"
int {p}_stage_lsh(const double *x, uint64_t *words) {{ return lsh_words(NULL, x, NULL, {P}_N_FEATURES, words); }}
void {p}_stage_first(const uint64_t *words, float *z) {{ first_layer(words, z); }}
int {p}_stage_output(float *z) {{ return output(z, NULL); }}
size_t {p}_stage_n_words(void) {{ return N_PLANES * N_WORDS; }}
size_t {p}_stage_width(void) {{ return MAX_WIDTH; }}
"""

# predictors over the stages of model {p}: the packed bits of every row (stage_lsh) and its first
# layer (stage_first) are computed once before the timing, so that each stage reads its input
# from memory whatever the order; stage_output copies z first (output overwrites it); {check}:
# with a baseline, its packed bits and first layer of every row, which must equal this
# revision's bit for bit
_STAGES_HARNESS = """{check_decl}
int {p}_stage_lsh(const double *x, uint64_t *words);
void {p}_stage_first(const uint64_t *words, float *z);
int {p}_stage_output(float *z);
size_t {p}_stage_n_words(void);
size_t {p}_stage_width(void);
static uint64_t *stage_words, *stage_words2;
static float *stage_z, *stage_z2;
static size_t stage_nw, stage_w;
static int stage_setup(const Rows *r, size_t n_rows)
{{
    size_t i;
    stage_nw = {p}_stage_n_words();
    stage_w = {p}_stage_width();
    stage_words = malloc(sizeof(uint64_t) * stage_nw * n_rows);
    stage_words2 = malloc(sizeof(uint64_t) * stage_nw * n_rows);
    stage_z = calloc(stage_w * n_rows, sizeof(float));
    stage_z2 = calloc(stage_w * n_rows, sizeof(float));
    if (!stage_words || !stage_words2 || !stage_z || !stage_z2)
        return 1;
    for (i = 0; i < n_rows; ++i) {{
        {p}_stage_lsh(r->dense + i * {n_features}, stage_words + i * stage_nw);
        {p}_stage_first(stage_words + i * stage_nw, stage_z + i * stage_w);{check}
    }}
    return 0;
}}
static int stage_lsh(const Rows *r, size_t i) {{ return {p}_stage_lsh(r->dense + i * {n_features}, stage_words + i * stage_nw); }}
static int stage_first(const Rows *r, size_t i) {{ (void)r; {p}_stage_first(stage_words + i * stage_nw, stage_z + i * stage_w); return 0; }}
static int stage_output(const Rows *r, size_t i)
{{
    (void)r;
    memcpy(stage_z2 + i * stage_w, stage_z + i * stage_w, sizeof(float) * stage_w);
    return {p}_stage_output(stage_z2 + i * stage_w);
}}
"""

STAGES = ("stage_lsh", "stage_first", "stage_output")
BASELINE_STAGES = ("stage_lsh_baseline", "stage_first_baseline")

# stages 1 and 2 of the baseline revision's code (prefix {b}): its packed bits into their own
# copy, its first layer on the same packed bits as stage_first into its own copy of z; both
# checked equal to this revision's (bit for bit) before the timing; the packed bits only when
# both use the same projection hash (a baseline of another hash version computes other bits
# with the same work per row)
_BASELINE_CHECK_DECL = """
int {b}_stage_lsh(const double *x, uint64_t *words);
void {b}_stage_first(const uint64_t *words, float *z);"""
_BASELINE_CHECK_BITS = """
        {b}_stage_lsh(r->dense + i * {n_features}, stage_words2 + i * stage_nw);
        if (memcmp(stage_words + i * stage_nw, stage_words2 + i * stage_nw, sizeof(uint64_t) * stage_nw) != 0)
            return 3;"""
_BASELINE_CHECK = """
        {b}_stage_first(stage_words + i * stage_nw, stage_z2 + i * stage_w);
        if (memcmp(stage_z + i * stage_w, stage_z2 + i * stage_w, sizeof(float) * stage_w) != 0)
            return 2;"""
_BASELINE_STAGE_HARNESS = """
static int stage_lsh_baseline(const Rows *r, size_t i)
{{
    return {b}_stage_lsh(r->dense + i * {n_features}, stage_words2 + i * stage_nw);
}}
static int stage_first_baseline(const Rows *r, size_t i)
{{
    (void)r;
    {b}_stage_first(stage_words + i * stage_nw, stage_z2 + i * stage_w);
    return 0;
}}
"""


def _harness_source(pn_prefixes, mlp_names, n_features, stage_prefix=None, baseline_prefix=None,
                    baseline_same_hash=True):
    headers = [f'#include "{p}.h"' for p in pn_prefixes]
    headers += [f"int {m}(const double *x);" for m in mlp_names]
    funcs, names = [], []
    if stage_prefix is None:
        funcs.append("static int stage_setup(const Rows *r, size_t n_rows) { (void)r; (void)n_rows; return 0; }")
    else:
        check = dict(check="", check_decl="")
        if baseline_prefix is not None:
            bits = _BASELINE_CHECK_BITS if baseline_same_hash else ""
            check = dict(check=(bits + _BASELINE_CHECK).format(b=baseline_prefix, n_features=n_features),
                         check_decl=_BASELINE_CHECK_DECL.format(b=baseline_prefix))
        funcs.append(_STAGES_HARNESS.format(p=stage_prefix, n_features=n_features, **check))
        if baseline_prefix is not None:
            funcs.append(_BASELINE_STAGE_HARNESS.format(b=baseline_prefix, n_features=n_features))
    for p in pn_prefixes:
        funcs.append(f"static int {p}_dense(const Rows *r, size_t i) "
                     f"{{ return {p}_predict_dense(r->dense + i * {n_features}, NULL); }}")
        funcs.append(f"static int {p}_sparse(const Rows *r, size_t i) {{ int64_t lo = r->indptr[i]; "
                     f"return {p}_predict_sparse(r->indices + lo, r->values + lo, "
                     f"(size_t)(r->indptr[i + 1] - lo), NULL); }}")
        names += [f"{p}_dense", f"{p}_sparse"]
    for m in mlp_names:
        funcs.append(f"static int {m}_dense(const Rows *r, size_t i) {{ return {m}(r->dense + i * {n_features}); }}")
        names.append(f"{m}_dense")
    if stage_prefix is not None:
        names += list(STAGES) + (list(BASELINE_STAGES) if baseline_prefix is not None else [])
    preds = "\n".join(funcs) + (
        f"\n#define N_PREDICTORS {len(names)}\n"
        f"static int (*const PREDICT[N_PREDICTORS])(const Rows *, size_t) = {{{', '.join(names)}}};\n"
        f"static const char *const NAMES[N_PREDICTORS] = {{{', '.join(chr(34) + n + chr(34) for n in names)}}};\n")
    return _HARNESS.replace("@HEADERS@", "\n".join(headers)).replace("@PREDICTORS@", preds), names


def _write_rows(tmp, X):
    np.ascontiguousarray(X, dtype=np.float64).tofile(tmp / "rows.bin")
    csr = sp.csr_matrix(X)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    with open(tmp / "csr.bin", "wb") as f:
        csr.indptr.astype(np.int64).tofile(f)
        csr.indices.astype(np.int64).tofile(f)
        csr.data.astype(np.float64).tofile(f)


def train(quick=False, n_train=20000):
    """(X_test, y_test, {label: fitted ProjectionNetClassifier}, MLPClassifier((32,)))."""
    X_train, X_test, y_train, y_test = load_mnist(*((400, 200) if quick else (n_train, None)))
    epochs = 3 if quick else 15
    root = np.sqrt(X_train.shape[1])  # 1/sqrt(n_features): "auto" before the data-based rule
    pns = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for label, density in ((f"1/{root:.0f}", 1.0 / root), ("auto", "auto"), (f"1/{4 * root:.0f}", 0.25 / root)):
            pn = ProjectionNetClassifier(
                n_projections=60, n_bits=10, density=density, projection_hidden_layer_sizes=(64,),
                max_iter=epochs, random_state=0).fit(X_train, y_train)
            if density == "auto":  # the library's default, decided from the data
                label = f"auto = 1/{1.0 / pn.projection_.density_:.0f}"
            pns[label] = pn
            print(f"[c_runtime] ProjectionNet density={label} trained", file=sys.stderr, flush=True)
        mlp = MLPClassifier((32,), max_iter=epochs * 2, random_state=0).fit(X_train, y_train)
    return X_test, y_test, pns, mlp


def baseline_hash_version(rev):
    """``HASH_VERSION`` of ``sklearn_projection/_projection.py`` at git revision ``rev``."""
    root = Path(__file__).resolve().parents[1]
    text = subprocess.run(["git", "show", f"{rev}:sklearn_projection/_projection.py"], cwd=root, check=True,
                          capture_output=True, text=True).stdout
    return int(re.search(r"^HASH_VERSION = (\d+)$", text, re.M).group(1))


def baseline_generator(rev):
    """``generate_c`` of ``sklearn_projection/_export_c.py`` at git revision ``rev`` (read with
    ``git show``, loaded beside the installed package, whose helpers it imports)."""
    root = Path(__file__).resolve().parents[1]
    text = subprocess.run(["git", "show", f"{rev}:sklearn_projection/_export_c.py"], cwd=root, check=True,
                          capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(text)
    try:
        spec = importlib.util.spec_from_file_location("sklearn_projection._export_c_baseline", f.name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.unlink(f.name)
    return module.generate_c


def run(quick=False, repeats=None, builds=None, trained=None, baseline=None):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise SystemExit("no C compiler on PATH (cc, gcc or clang)")
    repeats = repeats or (2 if quick else 7)
    builds = builds or (["cc -O2"] if quick else list(BUILDS))
    X_test, y_test, pns, mlp = trained or train(quick)
    compacts = {label: pn.to_compact("int8") for label, pn in pns.items()}
    # (label, runtime) -> prefix; runtime "hash" is the default build, "table" the same export
    # compiled with -D<PREFIX>_COLUMN_TABLE (the columns of P precomputed, no hashing)
    prefixes = {(label, runtime): f"pn{i}{runtime[0]}" for i, label in enumerate(compacts)
                for runtime in ("hash", "table")}
    expected = {label: np.searchsorted(c.classes_, c.predict(X_test)) for label, c in compacts.items()}
    mlp_expected = np.searchsorted(mlp.classes_, mlp.predict(X_test))
    runtime_note = {"hash": "columns hashed (default)", "table": "-D<P>_COLUMN_TABLE"}
    other_hash = False
    if baseline:  # the default-density model exported by the generator of revision `baseline`
        base_label = next(label for label in compacts if label.startswith("auto"))
        prefixes[(base_label, "baseline")] = "pnbase"
        runtime_note["baseline"] = f"columns hashed, code generated by _export_c.py at {baseline}"
        # a baseline of another projection hash computes other bits for the same weights: the
        # same work per row, so its speed compares, but its classes are not Python's (checked
        # only between its dense and sparse entry points) and its accuracy means nothing
        other_hash = baseline_hash_version(baseline) != HASH_VERSION
        if other_hash:
            runtime_note["baseline"] += f" (hash version {baseline_hash_version(baseline)}: other bits)"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _write_rows(tmp, X_test)
        sources = []  # (path, extra flags)
        for (label, runtime), prefix in prefixes.items():
            if runtime == "baseline":
                header, source = baseline_generator(baseline)(compacts[label], name=prefix, prefix=prefix)
                (tmp / f"{prefix}.h").write_text(header)
                c_path = tmp / f"{prefix}.c"
                c_path.write_text(source)
            else:
                c_path, _ = compacts[label].export_c(tmp / prefix, prefix=prefix)
            sources.append((c_path, [f"-D{prefix.upper()}_COLUMN_TABLE"] if runtime == "table" else []))
        for dtype in ("float32", "int8"):
            path = tmp / f"mlp_{dtype}.c"
            path.write_text(mlp_c_source(mlp, f"mlp_{dtype}", dtype))
            sources.append((path, []))
        # the stages of the default model (density "auto", columns hashed), in the same binary
        stage_label = next(label for label in compacts if label.startswith("auto"))
        sp_ = prefixes[(stage_label, "hash")]
        (tmp / "stages.c").write_text(_STAGES_TU.format(p=sp_, P=sp_.upper()))
        renamed = [f"-D{sp_}_{name}={sp_}_stages_{name}" for name in ("predict_dense", "predict_sparse", "class_labels")]
        sources.append((tmp / "stages.c", renamed))
        stage_names = list(STAGES)
        if baseline:  # the baseline's first layer, on the same bits
            (tmp / "stages_base.c").write_text(_STAGES_TU.format(p="pnbase", P="PNBASE"))
            sources.append((tmp / "stages_base.c", [f"-Dpnbase_{name}=pnbase_stages_{name}"
                                                    for name in ("predict_dense", "predict_sparse", "class_labels")]))
            stage_names += BASELINE_STAGES
        harness, names = _harness_source(list(prefixes.values()), ["mlp_float32", "mlp_int8"], X_test.shape[1], sp_,
                                         "pnbase" if baseline else None, not other_hash)
        (tmp / "harness.c").write_text(harness)
        for build in builds:
            flags = BUILDS[build]
            objs = []
            for src, extra in sources:  # each model its own translation unit, as a user would build it
                obj = src.with_suffix(".o")
                subprocess.run([cc, "-std=c99", *flags, *extra, "-c", str(src), "-o", str(obj)], check=True, cwd=tmp)
                objs.append(str(obj))
            exe = tmp / "harness"
            subprocess.run([cc, "-std=c99", "-D_POSIX_C_SOURCE=199309L", *flags, "harness.c", *objs,
                            "-o", str(exe), "-lm"], check=True, cwd=tmp)
            proc = subprocess.run([str(exe), str(X_test.shape[0]), str(X_test.shape[1]), str(repeats)],
                                  cwd=tmp, capture_output=True, text=True)
            if proc.returncode == 6:
                raise SystemExit("stage setup failed: out of memory, or (with --baseline) the baseline's packed "
                                 "bits or first layer differ from this revision's on some row")
            proc.check_returncode()
            out = proc.stdout
            seconds = dict((line.split()[0], float(line.split()[1])) for line in out.splitlines())
            classes = np.fromfile(tmp / "classes.bin", dtype=np.int32).reshape(len(names), -1)
            by_name = dict(zip(names, classes))
            peer = {m: X_test.shape[0] / seconds[f"{m}_dense"] for m in ("mlp_float32", "mlp_int8")}
            for (label, runtime), prefix in prefixes.items():
                unchecked = runtime == "baseline" and other_hash
                for entry in ("dense", "sparse"):
                    got = by_name[f"{prefix}_{entry}"]
                    want = by_name[f"{prefix}_dense"] if unchecked else expected[label]
                    mismatches = int(np.sum(got != want))
                    if mismatches:
                        raise SystemExit(f"C {label} {runtime} {entry}: {mismatches} rows differ from Python's predict")
                    rate = X_test.shape[0] / seconds[f"{prefix}_{entry}"]
                    results.append(dict(
                        build=build, predictor=f"ProjectionNet h64 int8, {compacts[label].n_bits_total_} bits, "
                        f"density {label}, predict_{entry}, {runtime_note[runtime]}", rows_per_s=round(rate),
                        vs_mlp_float32=round(rate / peer["mlp_float32"], 3),
                        vs_mlp_int8=round(rate / peer["mlp_int8"], 3),
                        agrees_with_python=("dense = sparse (other hash)" if unchecked else
                                            f"{X_test.shape[0]}/{X_test.shape[0]} (bit-identical classes)"),
                        accuracy=None if unchecked else round(float(np.mean(compacts[label].classes_[got] == y_test)),
                                                              4)))
            stage_note = {"stage_lsh": "stage 1 alone: input -> packed bits (lsh_words)",
                          "stage_first": "stage 2 alone: packed bits -> first layer (first_layer)",
                          "stage_output": "stage 3 alone: remaining layers + argmax (output; z copied first)",
                          "stage_lsh_baseline": f"stage 1 alone, code generated by _export_c.py at {baseline}",
                          "stage_first_baseline": f"stage 2 alone, code generated by _export_c.py at {baseline}"}
            for stage in stage_names:
                rate = X_test.shape[0] / seconds[stage]
                results.append(dict(
                    build=build, predictor=f"ProjectionNet h64 int8, density {stage_label}, {stage_note[stage]}",
                    rows_per_s=round(rate), vs_mlp_float32=round(rate / peer["mlp_float32"], 3),
                    vs_mlp_int8=round(rate / peer["mlp_int8"], 3), agrees_with_python="-", accuracy=None,
                    us_per_row=round(1e6 / rate, 3)))
            for m, rate in peer.items():
                got = by_name[f"{m}_dense"]
                results.append(dict(
                    build=build, predictor=f"C MLP((32,)) {m.split('_')[1]} weights, plain loop", rows_per_s=round(rate),
                    vs_mlp_float32=round(rate / peer["mlp_float32"], 3), vs_mlp_int8=round(rate / peer["mlp_int8"], 3),
                    agrees_with_python=f"{int(np.sum(got == mlp_expected))}/{X_test.shape[0]} (vs sklearn float64)",
                    accuracy=round(float(np.mean(mlp.classes_[got] == y_test)), 4)))
    meta = dict(date=str(date.today()), machine=f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
                compiler=subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0],
                test_rows=int(X_test.shape[0]), repeats=repeats, quick=quick,
                load_average_1min=round(os.getloadavg()[0], 2))
    return dict(meta=meta, rows=results)


def to_markdown(results):
    lines = [f"{results['meta']}", "",
             "| build | predictor | rows/s | × C MLP f32 | × C MLP int8 | classes vs Python | accuracy |",
             "|---|---|---:|---:|---:|---|---:|"]
    for r in results["rows"]:
        accuracy = "-" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        lines.append(f"| {r['build']} | {r['predictor']} | {r['rows_per_s']:,} | {r['vs_mlp_float32']:.3f} "
                     f"| {r['vs_mlp_int8']:.3f} | {r['agrees_with_python']} | {accuracy} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny slices, few epochs, one build")
    parser.add_argument("--repeats", type=int, default=None, help="timed passes per predictor (best is kept)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--baseline", default=None, metavar="REV",
                        help="also time the default model as exported by _export_c.py at git revision REV")
    args = parser.parse_args(argv)
    results = run(quick=args.quick, repeats=args.repeats, baseline=args.baseline)
    print(to_markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
