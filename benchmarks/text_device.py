"""Raw text to the device: compact int8 text models, and their C runtime on every test text.

For TREC-6 and SMS spam (raw texts, stratified 75/25 split, random_state=0), a pipeline
``NgramHasher(2**20 columns, word 1-2-grams, char 2-4-grams) -> ProjectionNetClassifier``
(80 x 20 = 1 600 bits, density 0.01, projection network trained alone) is made compact
(int8) with ``compact_pipeline``, for three hasher settings -- weighting "count" with no
norm (the C runtime streams the n-grams, no buffer), "sublinear" with the l2 norm (the
hasher's defaults) and "binary" with no norm (both buffered in C) -- and both bit readings,
over several seeds: accuracy and bytes.

Then, per data set and setting (seed 0, ternary), the model is exported to C, compiled with
``cc -O2``, and ``<prefix>_predict_text`` is run on every raw test text: the classes must be
those of Python on every text and the probabilities within 1e-5. The buffered settings are
compiled with ``-D<PREFIX>_MAX_NGRAMS`` large enough for the longest text; the table also
says how many texts exceed the default capacity (4 096 n-gram occurrences). The C time per
text (best of 3 passes, one process) is reported relative to the streaming setting.

Writes <out-dir>/text_device.csv, text_device_c.csv and text_device.md. ``--quick`` uses
small slices, one seed and the ternary reading (and writes a temporary directory).

From the project root::

    python -m benchmarks.text_device [--quick]
"""

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.pipeline import make_pipeline

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import load_text  # noqa: E402
from sklearn_projection import NgramHasher, ProjectionNetClassifier  # noqa: E402
from sklearn_projection._compact import compact_pipeline  # noqa: E402
from sklearn_projection._export_text_c import DEFAULT_MAX_NGRAMS, mode  # noqa: E402

DATASETS = ("trec6", "sms_spam")
SETTINGS = {
    "count, no norm": dict(weighting="count", norm=None),
    "sublinear, l2": dict(weighting="sublinear", norm="l2"),
    "binary, no norm": dict(weighting="binary", norm=None),
}
READINGS = ("ternary", "binary")
T, D, DENSITY = 80, 20, 0.01
COLUMNS = ["dataset", "hasher", "reading", "seeds", "accuracy_mean", "accuracy_min", "accuracy_max", "bytes"]
C_COLUMNS = ["dataset", "hasher", "c_mode", "texts", "same_class", "max_proba_diff", "invalid_utf8_rejected",
             "over_default_capacity", "c_time_per_text_rel"]

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "model.h"

/* stdin: records of an int64 length then the bytes; prints the class and probabilities of
 * each, then the best-of-3 seconds of one pass over all texts */
int main(void)
{
    size_t cap = 1 << 26, used = 0, n = 0, i;
    char *buf = malloc(cap);
    size_t *off = malloc(sizeof(size_t) * 200001);
    double proba[PN_N_CLASSES], best = 1e30;
    long long len;
    int c, j, pass;
    off[0] = 0;
    while (fread(&len, sizeof len, 1, stdin) == 1) {
        if (used + (size_t)len > cap || n >= 200000 || fread(buf + used, 1, (size_t)len, stdin) != (size_t)len)
            return 2;
        used += (size_t)len;
        off[++n] = used;
    }
    for (i = 0; i < n; ++i) {
        c = pn_predict_text(buf + off[i], off[i + 1] - off[i], proba);
        printf("%d", c);
        for (j = 0; j < PN_N_CLASSES; ++j)
            printf(" %.17g", proba[j]);
        printf("\n");
    }
    for (pass = 0; pass < 3; ++pass) {
        clock_t t0 = clock();
        for (i = 0; i < n; ++i)
            c += pn_predict_text(buf + off[i], off[i + 1] - off[i], proba);
        double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
        if (s < best)
            best = s;
    }
    printf("time %.9g %d\n", best, c & 1);
    return 0;
}
"""


def fit(texts, y, hasher_kw, reading, seed, max_iter):
    pipe = make_pipeline(
        NgramHasher(**hasher_kw),
        ProjectionNetClassifier(T, D, density=DENSITY, reading=reading, trainer_weight=0, distill_weight=0,
                                max_iter=max_iter, random_state=seed),
    )
    return compact_pipeline(pipe.fit(texts, y), "int8")


def run_c(compact, texts, work, cc):
    """(codes, proba, seconds per pass) of the exported model's predict_text on ``texts``."""
    flags = []
    if mode(compact.hasher_) == "buffer":
        longest = max(len(t.encode("utf-8")) for t in texts)
        s = compact.hasher_._settings()
        per_byte = 3 * (s["char_max"] - s["char_min"] + 1 if s["char_max"] else 0) + (
            s["word_max"] - s["word_min"] + 1 if s["word_max"] else 0)
        flags = [f"-DPN_MAX_NGRAMS={max(per_byte * longest, 1)}", "-DPN_NGRAM_STORAGE=static"]
    c_path, _ = compact.export_c(work / "model.c", prefix="pn")
    (work / "main.c").write_text(DRIVER)
    exe = work / "model"
    subprocess.run([cc, "-std=c99", "-O2", *flags, str(c_path), str(work / "main.c"), "-o", str(exe), "-lm"],
                   check=True, capture_output=True, text=True)
    stream = b"".join(struct.pack("<q", len(r)) + r for r in (t.encode("utf-8") for t in texts))
    out = subprocess.run([str(exe)], input=stream, check=True, capture_output=True).stdout.decode().splitlines()
    rows = [line.split() for line in out[:-1]]
    return (np.array([int(r[0]) for r in rows]), np.array([[float(v) for v in r[1:]] for r in rows]),
            float(out[-1].split()[1]))


def occurrences(hasher, texts):
    """n-gram occurrences of each text (the buffer a buffered C build needs)."""
    plain = NgramHasher(**{**hasher.get_params(), "weighting": "count", "norm": None, "alternate_sign": False})
    return np.asarray(plain.transform(texts).sum(axis=1)).ravel()


def main(argv=None):
    ap = C.common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), DATASETS, subsets_are_full=False)
    args = ap.parse_args(argv)
    C.quiet_convergence()
    seeds = (0,) if args.quick else (0, 1, 2)
    max_iter = 3 if args.quick else 40
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    rows, c_rows = [], []
    for name in args.datasets.split(","):
        t_train, t_test, y_train, y_test = load_text(name)
        if args.quick:
            t_train, t_test, y_train, y_test = t_train[:600], t_test[:200], y_train[:600], y_test[:200]
        for label, hasher_kw in SETTINGS.items():
            for reading in READINGS[:1] if args.quick else READINGS:
                accs, size = [], None
                for seed in seeds:
                    compact = fit(t_train, y_train, hasher_kw, reading, seed, max_iter)
                    accs.append(compact.score(t_test, y_test))
                    size = compact.size_bytes
                    if seed == 0 and reading == "ternary" and cc:
                        with tempfile.TemporaryDirectory() as work:
                            codes, proba, seconds = run_c(compact, t_test, Path(work), cc)
                        expected = compact.predict_proba(t_test)
                        same = int((codes == np.argmax(expected, axis=1)).sum())
                        bad = run_invalid(compact, cc)
                        over = int((occurrences(compact.hasher_, t_test) > DEFAULT_MAX_NGRAMS).sum())
                        c_rows.append(dict(
                            dataset=name, hasher=label, c_mode=mode(compact.hasher_), texts=len(t_test),
                            same_class=same, max_proba_diff=float(np.abs(proba - expected).max()),
                            invalid_utf8_rejected=bad,
                            over_default_capacity=over,
                            c_time_per_text_rel=seconds))
                        C.log(c_rows[-1])
                row = dict(dataset=name, hasher=label, reading=reading, seeds=len(seeds),
                           accuracy_mean=float(np.mean(accs)), accuracy_min=float(np.min(accs)),
                           accuracy_max=float(np.max(accs)), bytes=size)
                rows.append(row)
                C.log(row)
    for name in {r["dataset"] for r in c_rows}:  # C time relative to the streaming setting
        base = [r for r in c_rows if r["dataset"] == name and r["c_mode"] == "stream"]
        ref = base[0]["c_time_per_text_rel"] if base else None
        for r in c_rows:
            if r["dataset"] == name:
                r["c_time_per_text_rel"] = r["c_time_per_text_rel"] / ref if ref else float("nan")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    C.write_csv(rows, out_dir / "text_device.csv", COLUMNS)
    C.write_csv(c_rows, out_dir / "text_device_c.csv", C_COLUMNS)
    md = C.markdown_table(rows, COLUMNS, ["data set", "hasher", "reading", "seeds", "accuracy (mean)", "min", "max",
                                          "int8 bytes"])
    md_c = C.markdown_table(c_rows, C_COLUMNS, ["data set", "hasher", "C path", "test texts", "same class as Python",
                                                "max |proba C - Python|", "invalid UTF-8 refused (of 6)",
                                                "texts over 4 096 n-grams", "C time per text (vs streaming)"])
    (out_dir / "text_device.md").write_text(md + "\n\n" + md_c + "\n")
    print(md + "\n\n" + md_c)
    C.written(args)


INVALID = [b"\xff", b"abc\xed\xa0\x80", b"caf\xe2\x82", b"\xc0\xaf", b"ok \x80 ok", b"\xf4\x90\x80\x80"]


def run_invalid(compact, cc):
    """How many of the ill-formed UTF-8 texts the C runtime refuses with PN_ERROR_UTF8."""
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        c_path, _ = compact.export_c(work / "model.c", prefix="pn")
        (work / "main.c").write_text(DRIVER)
        subprocess.run([cc, "-std=c99", "-O2", str(c_path), str(work / "main.c"), "-o", str(work / "m"), "-lm"],
                       check=True, capture_output=True)
        stream = b"".join(struct.pack("<q", len(r)) + r for r in INVALID)
        out = subprocess.run([str(work / "m")], input=stream, check=True, capture_output=True).stdout.decode()
    return sum(int(line.split()[0]) == -3 for line in out.splitlines()[:-1])


if __name__ == "__main__":
    start = time.time()
    main()
    C.log(f"done in {time.time() - start:.0f} s")
