"""predict() time of ProjectionNetClassifier against MLPClassifier(256, 256) on MNIST.

Prediction cost does not depend on how long a model trained, so both models train for
one epoch on 10k rows; both then predict the 10k test rows (best of 7 runs), with the
default thread counts and with one thread (numba and BLAS).

    python benchmarks/predict_speed.py
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
from numba import get_num_threads, set_num_threads
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import load_mnist  # noqa: E402

from sklearn_projection import ProjectionNetClassifier  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def best_time(f, X, repeat=7):
    f(X[:10])
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f(X)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    X_train, X_test, y_train, _ = load_mnist(10000, None)
    models = {"MLPClassifier(256,256)": MLPClassifier((256, 256), max_iter=1, random_state=0)}
    for name, hidden in [("ProjectionNet linear 600 bits", ()), ("ProjectionNet h32 600 bits", (32,))]:
        models[name] = ProjectionNetClassifier(projection_hidden_layer_sizes=hidden, max_iter=1, random_state=0)
    for m in models.values():
        m.fit(X_train, y_train)
    default = get_num_threads()
    print(f"| model | threads | predict 10k rows (ms) | rows/s | MLP time / this |")
    print("|---|---|---|---|---|")
    for threads in (default, 1):
        set_num_threads(threads)
        with threadpool_limits(threads):
            times = {name: best_time(m.predict, X_test) for name, m in models.items()}
        mlp = times["MLPClassifier(256,256)"]
        for name, t in times.items():
            print(f"| {name} | {threads} | {t * 1e3:.1f} | {len(X_test) / t:,.0f} | {mlp / t:.2f} |")
    set_num_threads(default)


if __name__ == "__main__":
    main()
