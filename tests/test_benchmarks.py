"""The benchmark scripts run end to end in --quick mode (tiny slices) and write what they promise.

Timings are never asserted: only that the outputs exist with the expected columns and rows.
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
pytestmark = pytest.mark.skipif(
    not DATA.exists() and not os.environ.get("SKLEARN_PROJECTION_DATA"),
    reason="benchmark data not available offline",
)


def run(script, tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # tiny matrices: threads only add overhead
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--out-dir", str(tmp_path),
         "--img-dir", str(tmp_path / "img"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def test_bits_vs_accuracy_quick(tmp_path):
    run("bits_vs_accuracy.py", tmp_path, "--datasets", "digits,sms_spam")
    rows = read(tmp_path / "bits_vs_accuracy_digits.csv") + read(tmp_path / "bits_vs_accuracy_sms_spam.csv")
    assert {"dataset", "method", "head", "T", "d", "bits", "seed", "accuracy", "trainer_accuracy",
            "fit_s", "bytes", "int8_bytes_computed"} <= set(rows[0])
    methods = {r["method"] for r in rows}
    assert methods == {"MLPClassifier(256,256)", "ProjectionNet joint", "ProjectionNet alone",
                       "LSH bits + LogisticRegression"}
    # per data set: MLP + 2 budgets x (2 heads x 2 modes + LSH+LR)
    assert len(rows) == 2 * (1 + 2 * 5)
    assert all(0.0 <= float(r["accuracy"]) <= 1.0 for r in rows)
    jva = read(tmp_path / "joint_vs_alone.csv")
    assert len(jva) == 2 * 2 * 2 and {"joint", "alone", "gain_points"} <= set(jva[0])
    if has_matplotlib():
        assert (tmp_path / "img" / "bits_vs_accuracy.png").stat().st_size > 0
        assert (tmp_path / "img" / "pareto.png").stat().st_size > 0


def test_peers_quick(tmp_path):
    out = run("peers.py", tmp_path, "--datasets", "mnist,sms_spam")
    rows = read(tmp_path / "peers.csv")
    assert {"accuracy", "fit_s", "predict_rows_per_s", "model_bytes", "int8_bytes_computed",
            "bytes_ratio_vs_mlp", "speed_ratio_vs_mlp", "featurizer_bytes"} <= set(rows[0])
    mnist = [r for r in rows if r["dataset"] == "mnist"]
    sms = [r for r in rows if r["dataset"] == "sms_spam"]
    # MLP, 2 ProjectionNets, LR, SGD, SRP+LR; text adds HashingVectorizer+SGD
    assert len(mnist) == 6 and len(sms) == 7
    assert mnist[0]["method"].startswith("MLPClassifier") and float(mnist[0]["bytes_ratio_vs_mlp"]) == 1.0
    for r in mnist:  # the int8 compact model is measured for every ProjectionNet, and only for them
        net = r["method"].startswith("ProjectionNet")
        assert (r["compact_int8_bytes"] != "") == net
        if net:
            assert int(r["compact_int8_bytes"]) < int(r["model_bytes"]) / 3
            assert 0 <= float(r["compact_int8_accuracy"]) <= 1
    assert "| method |" in (tmp_path / "peers.md").read_text()
    assert "budget" in (tmp_path / "acceptance.md").read_text() and "budget" in out


def test_projection_speed_quick(tmp_path):
    run("projection_speed.py", tmp_path)
    rows = read(tmp_path / "projection_speed.csv")
    assert {"lsh_rows_per_s", "srp_rows_per_s", "lsh_nnz_bits_per_s", "srp_nnz_bits_per_s",
            "srp_time_over_lsh_time", "srp_matrix_bytes", "lsh_pickled_bytes", "threads"} <= set(rows[0])
    inputs = {r["input"] for r in rows}
    assert len(inputs) == 2  # dense MNIST and sparse text
    assert {r["bits"] for r in rows} == {"64", "600"}
    assert all(int(r["lsh_pickled_bytes"]) < int(r["srp_matrix_bytes"]) for r in rows)


def test_text_density_quick(tmp_path):
    run("text_density.py", tmp_path, "--datasets", "sms_spam")
    rows = read(tmp_path / "text_density.csv")
    assert len(rows) == 3  # 3 densities x 1 budget
    assert {"zero_dot_share_train", "alone_linear", "alone_h64", "lsh_lr"} <= set(rows[0])
    shares = [float(r["zero_dot_share_train"]) for r in rows]
    assert shares[0] > shares[-1]  # denser random vectors leave fewer dot products at 0


def test_mnist_acceptance_quick(tmp_path):
    out = run("mnist_acceptance.py", tmp_path, "--configs", "h40")
    rows = read(tmp_path / "mnist_acceptance.csv")
    assert [r["config"] for r in rows] == ["MLPClassifier(256,256)", "h40 alone", "h40 joint T=4",
                                           "h40 joint T=4 density/4"]
    assert rows[0]["int8_bytes"] == "" and rows[1]["trainer_accuracy"] == "" and rows[2]["trainer_accuracy"] != ""
    # 600 bits x 40 hidden units + 40 x 10: the int8 compact model is a quarter of the float32 one
    assert all(int(r["int8_bytes"]) < int(r["bytes"]) / 3 for r in rows[1:])
    assert "| h40 joint T=4 |" in out


def test_density_quick(tmp_path):
    run("density.py", tmp_path, "--datasets", "digits,sms_spam")
    rows = read(tmp_path / "density.csv")
    assert [(r["dataset"], r["density_factor"]) for r in rows] == [
        ("digits", "1"), ("digits", "0.5"), ("sms_spam", "1"), ("sms_spam", "0.5")]
    digits = rows[:2]
    assert float(digits[0]["density"]) == 2 * float(digits[1]["density"]) == 1 / 8  # auto = 1/sqrt(64)
    assert all(0 <= float(r["h64"]) <= 1 and float(r["h64_predict_ms"]) > 0 for r in rows)
    assert (tmp_path / "density_digits.csv").exists() and "| data set |" in (tmp_path / "density.md").read_text()
