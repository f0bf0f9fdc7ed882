import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def digits_split():
    """scikit-learn's digits, pixels / 16, stratified 70/30 split (random_state=0)."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def digits_model(digits_split):
    """A ProjectionNet with a hidden-32 head over 600 bits, fitted on digits (40 epochs)."""
    X_train, _, y_train, _ = digits_split
    from sklearn_projection import ProjectionNetClassifier

    return ProjectionNetClassifier(
        n_projections=60, n_bits=10, projection_hidden_layer_sizes=(32,),
        trainer_hidden_layer_sizes=(64,), max_iter=40, random_state=0,
    ).fit(X_train, y_train)


def load_jsonl_texts(name):
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["text"] for r in rows], np.array([r["label"] for r in rows])


@pytest.fixture(scope="session")
def trec6_split():
    """TREC-6 question classification (real text), stratified 75/25 split."""
    texts, labels = load_jsonl_texts("trec6.jsonl")
    return train_test_split(texts, labels, test_size=0.25, stratify=labels, random_state=0)


@pytest.fixture(scope="session")
def sms_split():
    texts, labels = load_jsonl_texts("sms_spam.jsonl")
    return train_test_split(texts, labels, test_size=0.25, stratify=labels, random_state=0)
