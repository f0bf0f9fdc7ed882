"""MNIST acceptance numbers for ProjectionNetClassifier (issues 2 and 3).

Runs, on the full 60k/10k split: the linear and hidden-layer projection networks trained
alone (λ1 = λ2 = 0) and jointly, the trainer's accuracy, fit and predict times against
MLPClassifier(256, 256) for the same number of epochs, and the bytes of each model; then each
model made compact at int8 (``to_compact("int8")``): its accuracy and ``size_bytes``, measured.

Writes <out-dir>/mnist_acceptance.csv (mnist_acceptance_seed<N>.csv for another ``--seed``) and
prints the Markdown table. A full run writes benchmarks/results/. ``--quick``, and a partial run
that would replace a committed file with other numbers (a subset of ``--configs`` at seed 0, or
other ``--epochs``), write a new temporary directory (or ``--out-dir``) and print where.

From the project root::

    python -m benchmarks.mnist_acceptance [--epochs 20] [--configs h40,h64] [--seed 0] [--quick]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.neural_network import MLPClassifier

from sklearn_projection import ProjectionNetClassifier

if not __package__:  # run as a file (python benchmarks/<name>.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as C  # noqa: E402
from benchmarks.datasets import load_mnist  # noqa: E402

EPOCHS = 20

ALONE = dict(trainer_weight=0, distill_weight=0)
CONFIGS = {
    "linear alone": dict(ALONE),
    "linear joint T=1": dict(temperature=1.0),
    "linear joint T=4": dict(temperature=4.0),
    "h32 alone": dict(projection_hidden_layer_sizes=(32,), **ALONE),
    "h32 joint T=1": dict(projection_hidden_layer_sizes=(32,), temperature=1.0),
    "h32 joint T=4": dict(projection_hidden_layer_sizes=(32,), temperature=4.0),
    "h40 alone": dict(projection_hidden_layer_sizes=(40,), **ALONE),
    "h40 joint T=4": dict(projection_hidden_layer_sizes=(40,), temperature=4.0),
    "h64 alone": dict(projection_hidden_layer_sizes=(64,), **ALONE),
    "h64 joint T=4": dict(projection_hidden_layer_sizes=(64,), temperature=4.0),
    # a quarter of density="auto" (1/sqrt(784) / 4): the better density on MNIST (benchmarks/density.py)
    "h32 joint T=4 density/4": dict(projection_hidden_layer_sizes=(32,), temperature=4.0, density=1 / 112),
    "h40 joint T=4 density/4": dict(projection_hidden_layer_sizes=(40,), temperature=4.0, density=1 / 112),
    "h64 joint T=4 density/4": dict(projection_hidden_layer_sizes=(64,), temperature=4.0, density=1 / 112),
    # issue 11's acceptance: the library's defaults apart from the sizes (since 0.3: alpha 0.3, the
    # data-based density "auto", reading "auto" = ternary with a hidden layer), and the binary reading
    "h32 defaults": dict(projection_hidden_layer_sizes=(32,)),
    "h64 defaults": dict(projection_hidden_layer_sizes=(64,)),
    "h32 defaults binary": dict(projection_hidden_layer_sizes=(32,), reading="binary"),
    "h64 defaults binary": dict(projection_hidden_layer_sizes=(64,), reading="binary"),
}
COLUMNS = ["config", "accuracy", "trainer_accuracy", "fit_s", "fit_over_mlp_fit", "predict_ms",
           "mlp_predict_over_predict", "bytes", "mlp_bytes_over_bytes", "int8_accuracy", "int8_bytes",
           "mlp_bytes_over_int8_bytes", "epochs"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=EPOCHS,
                    help="epochs of every fit (tol=0: all run); 0: the library's defaults for the "
                         "ProjectionNet fits (max_iter=200, tol=1e-4: they stop by tol), 20 for the MLP")
    ap.add_argument("--configs", default="all", help="comma-separated substrings of the config names")
    ap.add_argument("--seed", type=int, default=0, help="random_state of the ProjectionNet fits")
    ap.add_argument("--no-mlp", action="store_true",
                    help="skip MLPClassifier(256, 256) (its row and the ratio columns stay empty)")
    # the committed seed-N files (N > 0) hold a few configs; seed 0's holds them all
    C.output_args(ap, partial=lambda a: a.epochs != EPOCHS or a.no_mlp or (a.seed == 0 and a.configs != "all"),
                  quick_help="2k/500 rows, 2 epochs")  # --img-dir is accepted and unused (no plot)
    args = ap.parse_args(argv)
    C.quiet_convergence()
    n_train, n_test, epochs = (2000, 500, 2) if args.quick else (None, None, args.epochs)
    X_train, X_test, y_train, y_test = load_mnist(n_train, n_test)

    rows = []
    mlp_fit = mlp_pred = mlp_bytes = np.nan
    if not args.no_mlp:
        mlp = MLPClassifier((256, 256), max_iter=epochs or EPOCHS, tol=0.0, random_state=0)
        _, mlp_fit = C.timed(mlp.fit, X_train, y_train)
        _, mlp_pred = C.timed(mlp.predict, X_test, repeat=3)
        mlp_bytes = C.array_bytes(*mlp.coefs_, *mlp.intercepts_)
        rows.append(dict(config="MLPClassifier(256,256)", accuracy=mlp.score(X_test, y_test), fit_s=mlp_fit,
                         fit_over_mlp_fit=1.0, predict_ms=mlp_pred * 1e3, mlp_predict_over_predict=1.0,
                         bytes=mlp_bytes, mlp_bytes_over_bytes=1.0))
        C.log(rows[0])
    configs = CONFIGS if args.configs == "all" else {
        k: v for k, v in CONFIGS.items() if any(s in k for s in args.configs.split(","))}
    for name, kw in configs.items():
        length = dict(max_iter=epochs, tol=0.0) if epochs else {}  # 0: the library's stopping rule
        clf = ProjectionNetClassifier(n_projections=60, n_bits=10, random_state=args.seed, **length, **kw)
        _, fit_s = C.timed(clf.fit, X_train, y_train)
        _, pred_s = C.timed(clf.predict, X_test, repeat=3)
        compact = clf.to_compact("int8")
        joint = kw.get("trainer_weight", 1) != 0
        rows.append(dict(
            config=name, accuracy=clf.score(X_test, y_test),
            trainer_accuracy=np.mean(clf.trainer_.predict(X_test) == y_test) if joint else "",
            fit_s=fit_s, fit_over_mlp_fit=fit_s / mlp_fit, predict_ms=pred_s * 1e3,
            mlp_predict_over_predict=mlp_pred / pred_s, bytes=C.network_bytes(clf),
            mlp_bytes_over_bytes=mlp_bytes / C.network_bytes(clf),
            int8_accuracy=compact.score(X_test, y_test), int8_bytes=compact.size_bytes,
            mlp_bytes_over_int8_bytes=mlp_bytes / compact.size_bytes, epochs=clf.n_iter_))
        C.log(rows[-1])
    name = "mnist_acceptance.csv" if args.seed == 0 else f"mnist_acceptance_seed{args.seed}.csv"
    C.write_csv(rows, Path(args.out_dir) / name, COLUMNS)
    print(C.markdown_table(rows, COLUMNS, [
        "model (600 bits)", "test accuracy", "trainer accuracy", "fit s", "fit / MLP fit", "predict ms (10k rows)",
        "MLP predict time / this", "float32 bytes", "MLP coef bytes / bytes", "int8 compact accuracy",
        "int8 compact bytes", "MLP coef bytes / int8 bytes", "epochs"]))
    C.written(args)


if __name__ == "__main__":
    main()
