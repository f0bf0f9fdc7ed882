"""Out-of-core training: stream a large text file through HashingVectorizer + partial_fit.

Memory stays bounded by the chunk size, not the file size: each chunk of lines is hashed
to a sparse matrix (HashingVectorizer keeps no vocabulary), used for one
``partial_fit`` step, and dropped. The model's size depends only on ``n_features``, the
bit budget and the layer sizes.

The large file is generated from the real SMS Spam Collection training messages by
repetition with light perturbation (word dropout, swaps, random numbers), in a
temporary directory that is deleted afterwards. Accuracy is measured on
the untouched held-out SMS messages.

Usage::

    python examples/stream_text_partial_fit.py --lines 200000
    python examples/stream_text_partial_fit.py --lines 800000
    python examples/stream_text_partial_fit.py --quick   # 20 000 lines, a few seconds (tests)

prints the file size, lines streamed, held-out accuracy and the peak RSS of the process
(``resource.getrusage``: the high-water mark, everything included).
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import HashingVectorizer  # noqa: E402

from benchmarks.datasets import load_text  # noqa: E402
from sklearn_projection import ProjectionNetClassifier  # noqa: E402


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def perturb(text, rng):
    words = text.split()
    if len(words) > 3:
        keep = rng.rand(len(words)) > 0.1  # drop ~10% of the words
        words = [w for w, k in zip(words, keep) if k] or words
        if rng.rand() < 0.5:  # swap two neighbours
            i = rng.randint(len(words) - 1) if len(words) > 1 else 0
            words[i : i + 2] = words[i : i + 2][::-1]
    if rng.rand() < 0.3:
        words.append(str(rng.randint(10_000)))
    return " ".join(words)


def generate(path, n_lines, seed=0):
    """Write ``n_lines`` JSON lines {"label", "text"} derived from the real training texts."""
    texts, _, labels, _ = load_text("sms_spam")
    rng = np.random.RandomState(seed)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n_lines):
            i = rng.randint(len(texts))
            f.write(json.dumps({"label": labels[i], "text": perturb(texts[i], rng)}) + "\n")


def stream_chunks(path, chunk_lines):
    """Yield (texts, labels) lists of at most ``chunk_lines`` lines, reading lazily."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
            if len(texts) == chunk_lines:
                yield texts, np.array(labels)
                texts, labels = [], []
    if texts:
        yield texts, np.array(labels)


def train_streaming(path, chunk_lines=10_000, n_features=2**15, random_state=0):
    vectorizer = HashingVectorizer(n_features=n_features, ngram_range=(1, 2), alternate_sign=False)
    clf = ProjectionNetClassifier(
        n_projections=60, n_bits=10, projection_hidden_layer_sizes=(32,),
        trainer_hidden_layer_sizes=(16,), learning_rate_init=0.005, temperature=4.0, random_state=random_state,
    )
    classes = np.array(["ham", "spam"])
    n_lines = 0
    rss_after_first = None
    for texts, labels in stream_chunks(path, chunk_lines):
        clf.partial_fit(vectorizer.transform(texts), labels, classes=classes)
        n_lines += len(texts)
        if rss_after_first is None:
            rss_after_first = peak_rss_mib()
    return vectorizer, clf, n_lines, rss_after_first


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=200_000, help="lines in the generated file")
    parser.add_argument("--chunk-lines", type=int, default=10_000)
    parser.add_argument(
        "--quick", action="store_true",
        help="20 000 lines in chunks of 2 000 (overrides --lines and --chunk-lines); "
        "what the test suite runs",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.lines, args.chunk_lines = 20_000, 2_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.jsonl"
        t0 = time.perf_counter()
        generate(path, args.lines)
        size_mib = os.path.getsize(path) / 2**20
        t1 = time.perf_counter()
        vectorizer, clf, n_lines, rss_first = train_streaming(path, args.chunk_lines)
        t2 = time.perf_counter()
    _, sms_test, _, y_test = load_text("sms_spam")
    accuracy = clf.score(vectorizer.transform(sms_test), y_test)
    result = {
        "lines": n_lines,
        "file_MiB": round(size_mib, 1),
        "chunk_lines": args.chunk_lines,
        "held_out_accuracy": round(float(accuracy), 4),
        "peak_rss_after_first_chunk_MiB": round(rss_first, 1),
        "peak_rss_MiB": round(peak_rss_mib(), 1),
        "generate_s": round(t1 - t0, 1),
        "train_s": round(t2 - t1, 1),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
