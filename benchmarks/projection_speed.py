"""LSHProjection.transform against SparseRandomProjection + sign, measured in one run.

Inputs: MNIST test images (dense, 784 features) and the real texts of TREC-6 and SMS spam
as CountVectorizer 1-2-gram counts (sparse CSR). Both projections use the same density,
1/sqrt(n_features), and the same number of output bits/components. SparseRandomProjection
(dense_output=True) stores its matrix and we time ``transform(X) > 0``; LSHProjection
regenerates the matrix entries from a hash inside every call and stores one seed.
Times are the best of ``--repeat`` calls after a warm-up (numba compiled, caches hot),
with numba at 1 thread and at all threads (SparseRandomProjection is single-threaded
scipy/numpy either way; it is re-timed in each setting). Throughput: rows/s and
nnz(X)·bits/s. Memory: the bytes of SRP's ``components_`` (data + indices + indptr)
against the pickled size of the fitted LSHProjection.

Writes <out-dir>/projection_speed.csv and projection_speed.md. A full run (both inputs) writes
benchmarks/results/; ``--quick``, or one input only, writes a new temporary directory (or
``--out-dir``) and prints where, never the committed results.

From the project root::

    python -m benchmarks.projection_speed [--quick]
"""

import argparse
import pickle
import sys
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.random_projection import SparseRandomProjection

from sklearn_projection import LSHProjection

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import _load_jsonl, load_mnist  # noqa: E402

DATASETS = ("mnist", "text")
BITS = (64, 600, 1600)
COLUMNS = ["input", "rows", "features", "nnz", "bits", "threads", "lsh_s", "srp_s", "lsh_rows_per_s",
           "srp_rows_per_s", "lsh_nnz_bits_per_s", "srp_nnz_bits_per_s", "srp_time_over_lsh_time",
           "srp_matrix_bytes", "lsh_pickled_bytes"]


def inputs(names, quick):
    if "mnist" in names:
        _, X, _, _ = load_mnist(None, 500 if quick else None)
        yield "MNIST test (dense)", X
    if "text" in names:
        texts = []
        for name in ("trec6.jsonl", "sms_spam.jsonl"):
            texts += _load_jsonl(name)[0]
        if quick:
            texts = texts[:500]
        X = CountVectorizer(ngram_range=(1, 2)).fit_transform(texts).astype(np.float64).tocsr()
        yield "TREC-6 + SMS texts, 1-2-gram counts (sparse)", X


def main(argv=None):
    ap = C.common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), DATASETS, subsets_are_full=False)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    repeat = 2 if args.quick else args.repeat
    bits_list = (64, 600) if args.quick else BITS
    all_threads = numba.config.NUMBA_NUM_THREADS
    rows = []
    for label, X in inputs(args.datasets.split(","), args.quick):
        nnz = X.nnz if sp.issparse(X) else int(np.count_nonzero(X))
        for bits in bits_list:
            lsh = LSHProjection(n_projections=bits // 8 if bits % 8 == 0 else bits, n_bits=8 if bits % 8 == 0 else 1,
                                random_state=0).fit(X)
            srp = SparseRandomProjection(n_components=bits, density="auto", dense_output=True,
                                         random_state=0).fit(X)
            comp = srp.components_
            srp_bytes = comp.data.nbytes + comp.indices.nbytes + comp.indptr.nbytes
            for threads in sorted({1, all_threads}):
                numba.set_num_threads(threads)
                lsh.transform(X[:10])  # warm-up (compilation, caches)
                # interleave the two so that load from other jobs hits both alike
                lsh_s = srp_s = np.inf
                for _ in range(repeat):
                    lsh_s = min(lsh_s, C.timed(lsh.transform, X)[1])
                    srp_s = min(srp_s, C.timed(lambda: srp.transform(X) > 0)[1])
                n = X.shape[0]
                rows.append(dict(input=label, rows=n, features=X.shape[1], nnz=nnz, bits=bits, threads=threads,
                                 lsh_s=lsh_s, srp_s=srp_s, lsh_rows_per_s=n / lsh_s, srp_rows_per_s=n / srp_s,
                                 lsh_nnz_bits_per_s=nnz * bits / lsh_s, srp_nnz_bits_per_s=nnz * bits / srp_s,
                                 srp_time_over_lsh_time=srp_s / lsh_s, srp_matrix_bytes=srp_bytes,
                                 lsh_pickled_bytes=len(pickle.dumps(lsh))))
                C.log(f"{label} {bits} bits, {threads} thread(s): LSH {lsh_s*1e3:.1f} ms, SRP {srp_s*1e3:.1f} ms, "
                      f"SRP/LSH {srp_s/lsh_s:.2f}")
    numba.set_num_threads(all_threads)
    out_dir = Path(args.out_dir)
    C.write_csv(rows, out_dir / "projection_speed.csv", COLUMNS)
    md = C.markdown_table(rows, ["input", "rows", "nnz", "bits", "threads", "lsh_rows_per_s", "srp_rows_per_s",
                                 "lsh_nnz_bits_per_s", "srp_nnz_bits_per_s", "srp_time_over_lsh_time",
                                 "srp_matrix_bytes", "lsh_pickled_bytes"],
                          ["input", "rows", "nnz", "bits", "numba threads", "LSH rows/s", "SRP rows/s",
                           "LSH nnz·bits/s", "SRP nnz·bits/s", "SRP time / LSH time (>1: LSH faster)",
                           "SRP stored matrix bytes", "LSHProjection pickled bytes"])
    (out_dir / "projection_speed.md").write_text(md + "\n")
    print(md)
    C.written(args)


if __name__ == "__main__":
    main()
