"""NgramHasher.transform against scikit-learn's HashingVectorizer: texts per second.

Inputs: every text of TREC-6 (5 452 questions) and of SMS spam (5 574 messages), as raw
``str``. Featurizers, all at 2**20 columns, signed, l2-normalised:

- ``HashingVectorizer(ngram_range=(1, 2))`` against ``NgramHasher(char_ngram_range=None)``
  (word 1-2-grams);
- ``HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4))`` against
  ``NgramHasher(word_ngram_range=None)`` (char 2-4-grams within words);
- the sum of both HashingVectorizers (what a FeatureUnion of the two costs) against
  ``NgramHasher()`` (both kinds in one pass, the default).

The tokenisers differ a little (HashingVectorizer's words are ``\\b\\w\\w+\\b``: no single
characters; NgramHasher keeps them), so the n-gram counts are reported beside the times.
Times are the best of ``--repeat`` calls after a warm-up call (numba compiled, caches hot),
the calls of the two sides interleaved so that a change in the machine's load hits both;
NgramHasher is timed with numba at 1 thread and at all threads (HashingVectorizer is
single-threaded either way). Throughput: texts/s and MB of UTF-8 per second.

Accuracy beside the speed (``text_hasher_accuracy.csv``): the same featurizers at 2**10 to
2**18 columns feeding one ``LogisticRegression(C=30, solver="saga", max_iter=100, random_state=0)``, fitted
on the stratified 75/25 split (random_state=0) of each set, test accuracy.

A full run writes benchmarks/results/text_hasher_speed.{csv,md} and text_hasher_accuracy.csv
(or into ``--out-dir``); ``--quick`` (1 000 texts per set, 2 repeats, accuracy on a 600/300
slice at one width) writes nothing and prints the tables.

From the project root::

    python -m benchmarks.text_hasher_speed [--quick]
"""

import argparse
import os
import sys
from pathlib import Path

import numba
import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from sklearn_projection._text import NgramHasher

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import _load_jsonl  # noqa: E402

SETS = {"TREC-6": "trec6.jsonl", "SMS spam": "sms_spam.jsonl"}
COLUMNS = ["data", "texts", "mb", "features", "hv_ngrams", "nh_ngrams", "threads", "hv_s", "nh_s",
           "hv_texts_per_s", "nh_texts_per_s", "nh_mb_per_s", "speedup"]


def featurizers():
    """(label, HashingVectorizer(s) whose times add up, NgramHasher)."""
    hv_words = HashingVectorizer(ngram_range=(1, 2))
    hv_chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4))
    return [
        ("word 1-2-grams", [hv_words], NgramHasher(char_ngram_range=None)),
        ("char_wb 2-4-grams", [hv_chars], NgramHasher(word_ngram_range=None)),
        ("both (default NgramHasher)", [hv_words, hv_chars], NgramHasher()),
    ]


def ngram_count(X):
    """Stored entries (distinct columns per text, summed): the n-gram occurrences are not
    recoverable after the norm."""
    return int(X.nnz)


def measure(texts, repeat, threads_list):
    """Best of ``repeat`` interleaved calls (HashingVectorizer(s), then NgramHasher at each
    thread count, in turn), so that a change in the machine's load hits both sides alike."""
    rows = []
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    all_threads = numba.get_num_threads()
    for label, hvs, nh in featurizers():
        hv_out = [hv.transform(texts) for hv in hvs]  # warm-up
        X = nh.transform(texts)  # warm-up (compiles on a cold cache)
        hv_best = np.inf
        nh_best = dict.fromkeys(threads_list, np.inf)
        for _ in range(repeat):
            hv_best = min(hv_best, sum(C.timed(hv.transform, texts)[1] for hv in hvs))
            for threads in threads_list:
                numba.set_num_threads(threads)
                nh_best[threads] = min(nh_best[threads], C.timed(nh.transform, texts)[1])
            numba.set_num_threads(all_threads)
        for threads in threads_list:
            nh_s = nh_best[threads]
            rows.append(dict(features=label, texts=len(texts), mb=mb, threads=threads,
                             hv_ngrams=sum(ngram_count(Y) for Y in hv_out), nh_ngrams=ngram_count(X),
                             hv_s=hv_best, nh_s=nh_s, hv_texts_per_s=len(texts) / hv_best,
                             nh_texts_per_s=len(texts) / nh_s, nh_mb_per_s=mb / nh_s, speedup=hv_best / nh_s))
    return rows


ACC_COLUMNS = ["data", "n_features", "featurizer", "accuracy", "nnz_per_text"]


def accuracy(quick):
    """Test accuracy of a linear model over each featurizer, at several widths."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from benchmarks.datasets import load_text

    rows = []
    for name, key in (("TREC-6", "trec6"), ("SMS spam", "sms_spam")):
        t_train, t_test, y_train, y_test = load_text(key)
        if quick:
            t_train, t_test, y_train, y_test = t_train[:600], t_test[:300], y_train[:600], y_test[:300]
        for n_features in ((2**12,) if quick else (2**10, 2**12, 2**14, 2**18)):
            for label, vec in (
                ("NgramHasher() (word 1-2 + char 2-4)", NgramHasher(n_features)),
                ("NgramHasher words 1-2", NgramHasher(n_features, char_ngram_range=None)),
                ("NgramHasher chars 2-4", NgramHasher(n_features, word_ngram_range=None)),
                ("HashingVectorizer words 1-2", HashingVectorizer(n_features=n_features, ngram_range=(1, 2))),
                ("HashingVectorizer char_wb 2-4",
                 HashingVectorizer(n_features=n_features, analyzer="char_wb", ngram_range=(2, 4))),
            ):
                X_train, X_test = vec.fit_transform(t_train), vec.transform(t_test)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf = LogisticRegression(C=30, solver="saga", max_iter=100, random_state=0).fit(X_train, y_train)
                rows.append(dict(data=name, n_features=n_features, featurizer=label,
                                 accuracy=clf.score(X_test, y_test), nnz_per_text=X_test.nnz / X_test.shape[0]))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 000 texts per set, 2 repeats; writes nothing")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--out-dir", "--out", dest="out_dir", default=None,
                    help="where a full run writes (default benchmarks/results)")
    args = ap.parse_args(argv)
    repeat = 2 if args.quick else args.repeat
    threads_list = sorted({1, numba.config.NUMBA_NUM_THREADS})
    rows = []
    for name, fname in SETS.items():
        texts = _load_jsonl(fname)[0]
        if args.quick:
            texts = texts[:1000]
        for r in measure(texts, repeat, threads_list):
            rows.append(dict(data=name, **r))
    table = C.markdown_table(rows, COLUMNS, ["data", "texts", "MB", "features", "HV nnz", "NH nnz", "numba threads",
                                             "HV s", "NH s", "HV texts/s", "NH texts/s", "NH MB/s",
                                             "HV time / NH time"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(table)
    print(f"load average (1 min) after the timings: {load:.2f} on {os.cpu_count()} CPUs")
    acc = accuracy(args.quick)
    acc_table = C.markdown_table(acc, ACC_COLUMNS, ["data", "n_features", "featurizer", "accuracy", "nnz per text"])
    print(acc_table)
    if args.quick:
        return rows, acc
    out = Path(args.out_dir) if args.out_dir else C.RESULTS
    C.write_csv(rows, out / "text_hasher_speed.csv", COLUMNS)
    C.write_csv(acc, out / "text_hasher_accuracy.csv", ACC_COLUMNS)
    (out / "text_hasher_speed.md").write_text(
        "# NgramHasher vs HashingVectorizer\n\n"
        f"Machine: {C.machine()}; load average (1 min) after the timings {load:.2f} "
        "(other work shared the machine).\n\n## Texts per second\n\n"
        f"{table}\n\n## Test accuracy of LogisticRegression(C=30, saga, 100 epochs)\n\n{acc_table}\n")
    print(f"results in {out}")
    return rows, acc


if __name__ == "__main__":
    main()
