"""MNIST acceptance numbers for ProjectionNetClassifier (issue 2).

Runs, on the full 60k/10k split: the linear and hidden-layer projection networks trained
alone (λ1 = λ2 = 0) and jointly, the trainer's accuracy, fit and predict times against
MLPClassifier(256, 256) for the same number of epochs, and the bytes of each model.

    python benchmarks/mnist_acceptance.py [--epochs 20] [--quick]
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import load_mnist  # noqa: E402

from sklearn_projection import ProjectionNetClassifier  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def timed(f, *a, repeat=1):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*a)
        best = min(best, time.perf_counter() - t)
    return out, best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="5k/1k rows, 2 epochs")
    ap.add_argument("--configs", default="all")
    args = ap.parse_args()
    n_train, n_test, epochs = (5000, 1000, 2) if args.quick else (None, None, args.epochs)
    X_train, X_test, y_train, y_test = load_mnist(n_train, n_test)
    common = dict(n_projections=60, n_bits=10, max_iter=epochs, tol=0.0, random_state=0)

    mlp = MLPClassifier((256, 256), max_iter=epochs, tol=0.0, random_state=0)
    _, mlp_fit = timed(mlp.fit, X_train, y_train)
    _, mlp_pred = timed(mlp.predict, X_test, repeat=3)
    mlp_acc = mlp.score(X_test, y_test)
    mlp_bytes = sum(a.nbytes for a in mlp.coefs_ + mlp.intercepts_)
    print(f"MLPClassifier(256,256): acc {mlp_acc:.4f} fit {mlp_fit:.1f}s predict {mlp_pred*1e3:.1f}ms "
          f"coef bytes {mlp_bytes}", flush=True)

    configs = {
        "linear alone": dict(trainer_weight=0, distill_weight=0),
        "linear joint T=1": dict(),
        "linear joint T=4": dict(temperature=4.0),
        "h32 alone": dict(projection_hidden_layer_sizes=(32,), trainer_weight=0, distill_weight=0),
        "h32 joint T=1": dict(projection_hidden_layer_sizes=(32,)),
        "h32 joint T=4": dict(projection_hidden_layer_sizes=(32,), temperature=4.0),
        "h40 alone": dict(projection_hidden_layer_sizes=(40,), trainer_weight=0, distill_weight=0),
        "h40 joint T=4": dict(projection_hidden_layer_sizes=(40,), temperature=4.0),
        "h64 alone": dict(projection_hidden_layer_sizes=(64,), trainer_weight=0, distill_weight=0),
        "h64 joint T=4": dict(projection_hidden_layer_sizes=(64,), temperature=4.0),
    }
    if args.configs != "all":
        configs = {k: v for k, v in configs.items() if any(s in k for s in args.configs.split(","))}
    print("| config | proj acc | trainer acc | fit s | fit / MLP fit | predict ms | MLP predict / ours | proj bytes | MLP bytes / proj bytes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, kw in configs.items():
        clf = ProjectionNetClassifier(**common, **kw)
        _, fit_s = timed(clf.fit, X_train, y_train)
        _, pred_s = timed(clf.predict, X_test, repeat=3)
        acc = clf.score(X_test, y_test)
        tacc = np.mean(clf.predict(X_test, network="trainer") == y_test) if kw.get("trainer_weight", 1) else float("nan")
        print(f"| {name} | {acc:.4f} | {tacc:.4f} | {fit_s:.1f} | {fit_s/mlp_fit:.2f} | {pred_s*1e3:.1f} | "
              f"{mlp_pred/pred_s:.1f} | {clf.projection_size_bytes_} | {mlp_bytes/clf.projection_size_bytes_:.1f} |", flush=True)


if __name__ == "__main__":
    main()
