"""predict() time of ProjectionNetClassifier against MLPClassifier(256, 256) on MNIST.

Prediction cost does not depend on how long a model trained, so both models train for
one epoch on 10k rows; both then predict the 10k test rows (best of 7 runs), with the
default thread counts and with one thread (numba and BLAS). Prints a Markdown table; writes
no file.

From the project root::

    python -m benchmarks.predict_speed
    python -m benchmarks.predict_speed --quick    # 1k/1k rows, best of 2: checks it runs
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

from numba import get_num_threads, set_num_threads
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from sklearn_projection import ProjectionNetClassifier

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.datasets import load_mnist  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def best_time(f, X, repeat=7):
    f(X[:10])
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f(X)
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1k train and test rows, best of 2")
    args = ap.parse_args(argv)
    X_train, X_test, y_train, _ = load_mnist(*((1000, 1000) if args.quick else (10000, None)))
    repeat = 2 if args.quick else 7
    models = {"MLPClassifier(256,256)": MLPClassifier((256, 256), max_iter=1, random_state=0)}
    for name, hidden in [("ProjectionNet linear 600 bits", ()), ("ProjectionNet h32 600 bits", (32,))]:
        models[name] = ProjectionNetClassifier(projection_hidden_layer_sizes=hidden, max_iter=1, random_state=0)
    for m in models.values():
        m.fit(X_train, y_train)
    default = get_num_threads()
    print(f"| model | threads | predict {len(X_test):,} rows (ms) | rows/s | MLP time / this |")
    print("|---|---|---|---|---|")
    for threads in (default, 1):
        set_num_threads(threads)
        with threadpool_limits(threads):
            times = {name: best_time(m.predict, X_test, repeat) for name, m in models.items()}
        mlp = times["MLPClassifier(256,256)"]
        for name, t in times.items():
            print(f"| {name} | {threads} | {t * 1e3:.1f} | {len(X_test) / t:,.0f} | {mlp / t:.2f} |")
    set_num_threads(default)


if __name__ == "__main__":
    main()
