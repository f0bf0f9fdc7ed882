"""The benchmark scripts run end to end in --quick mode (tiny slices) and write what they promise,
into a temporary or user-given directory, never into the committed results.

Timings are never asserted: only that the outputs exist with the expected columns and rows, and
that the committed results are untouched: every file in benchmarks/results/ and docs/img/ that has
the name of a file the quick run wrote, or the script's name, is byte for byte (and mtime for
mtime) what it was before the run, and no such file appeared. (Other files there are not
compared: other work in the same checkout may be writing its own results meanwhile.)
"""

import argparse
import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
COMMITTED = (ROOT / "benchmarks" / "results", ROOT / "docs" / "img")
needs_data = pytest.mark.skipif(
    not DATA.exists() and not os.environ.get("SKLEARN_PROJECTION_DATA"),
    reason="benchmark data not available offline",
)


def snapshot():
    """path -> (mtime in ns, sha256) of every file under the committed result directories."""
    return {p: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for d in COMMITTED if d.exists() for p in sorted(d.rglob("*")) if p.is_file()}


def run_untouched(module, cmd, tmp_path, out=None, find_out=False):
    """Run ``cmd`` from the project root with TMPDIR in ``tmp_path``; (completed process, output
    directory). Asserts that it succeeded, used no deprecated API, and left the committed results
    alone. ``find_out``: the script made its own temporary directory (found under ``tmp_path``)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", TMPDIR=str(tmp_path))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # tiny matrices: threads only add overhead
    before = snapshot()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    after = snapshot()
    found = list(tmp_path.glob(f"{module}-quick-*")) if find_out else [out] if out else []
    names = {p.name for d in found for p in Path(d).rglob("*") if p.is_file()}
    suspect = {p for p in before.keys() | after.keys() if p.name in names or p.name.startswith(module)}
    changed = sorted(str(p) for p in suspect if before.get(p) != after.get(p))
    assert not changed, f"{module} changed committed results: {changed}"
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "deprecated since 0." not in proc.stderr, proc.stderr[-3000:]  # the benchmarks use the current API
    if find_out:
        assert len(found) == 1, f"expected one temporary output directory in {tmp_path}, found {found}"
        out = found[0]
    return proc, out


def run(module, tmp_path, *args, out=None, as_file=False):
    """Run ``benchmarks.<module> --quick`` in a subprocess; (stdout, output directory).

    Without ``out`` the script picks its temporary directory (in ``tmp_path``, through TMPDIR);
    it must say where."""
    entry = [str(ROOT / "benchmarks" / f"{module}.py")] if as_file else ["-m", f"benchmarks.{module}"]
    proc, out = run_untouched(module, [sys.executable, *entry, "--quick", *args, *(["--out", str(out)] if out else [])],
                              tmp_path, out, find_out=out is None)
    assert f"results in {out} (benchmarks/results/ left alone)" in proc.stdout
    assert any(p.suffix == ".csv" for p in out.iterdir())
    return proc.stdout, out


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------ the quick modes
@needs_data
def test_bits_vs_accuracy_quick(tmp_path):
    _, out = run("bits_vs_accuracy", tmp_path, "--datasets", "digits,sms_spam")
    rows = read(out / "bits_vs_accuracy_digits.csv") + read(out / "bits_vs_accuracy_sms_spam.csv")
    assert {"dataset", "method", "head", "T", "d", "bits", "seed", "accuracy", "trainer_accuracy",
            "fit_s", "bytes", "int8_bytes_computed"} <= set(rows[0])
    methods = {r["method"] for r in rows}
    assert methods == {"MLPClassifier(256,256)", "ProjectionNet joint", "ProjectionNet alone",
                       "LSH bits + LogisticRegression"}
    # per data set: MLP + 2 budgets x (2 heads x 2 modes + LSH+LR)
    assert len(rows) == 2 * (1 + 2 * 5)
    assert all(0.0 <= float(r["accuracy"]) <= 1.0 for r in rows)
    joint = [r for r in rows if r["method"] == "ProjectionNet joint"]
    assert all(0.0 <= float(r["trainer_accuracy"]) <= 1.0 for r in joint)
    # bytes keep the meaning of the committed files: float32 weights + biases + 8-byte seed
    for r in rows:
        if r["method"].startswith("ProjectionNet") and r["head"] == "linear":
            bits, n_classes = int(r["bits"]), 10 if r["dataset"] == "digits" else 2
            assert int(r["bytes"]) == 4 * (bits * n_classes + n_classes) + 8
    jva = read(out / "joint_vs_alone.csv")
    assert len(jva) == 2 * 2 * 2 and {"joint", "alone", "gain_points"} <= set(jva[0])
    if has_matplotlib():
        assert (out / "img" / "bits_vs_accuracy.png").stat().st_size > 0
        assert (out / "img" / "pareto.png").stat().st_size > 0


@needs_data
def test_peers_quick(tmp_path):
    stdout, out = run("peers", tmp_path, "--datasets", "mnist,sms_spam", out=tmp_path / "given")
    rows = read(out / "peers.csv")
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
        assert (r["trainer_accuracy"] != "") == net
        if net:
            assert int(r["compact_int8_bytes"]) < int(r["model_bytes"]) / 3
            assert 0 <= float(r["compact_int8_accuracy"]) <= 1
    assert "| method |" in (out / "peers.md").read_text()
    assert "budget" in (out / "acceptance.md").read_text() and "budget" in stdout
    if has_matplotlib():
        assert (out / "img" / "pareto.png").stat().st_size > 0


@needs_data
def test_projection_speed_quick(tmp_path):
    _, out = run("projection_speed", tmp_path)
    rows = read(out / "projection_speed.csv")
    assert {"lsh_rows_per_s", "srp_rows_per_s", "lsh_nnz_bits_per_s", "srp_nnz_bits_per_s",
            "srp_time_over_lsh_time", "srp_matrix_bytes", "lsh_pickled_bytes", "threads"} <= set(rows[0])
    inputs = {r["input"] for r in rows}
    assert len(inputs) == 2  # dense MNIST and sparse text
    assert {r["bits"] for r in rows} == {"64", "600"}
    assert all(int(r["lsh_pickled_bytes"]) < int(r["srp_matrix_bytes"]) for r in rows)


@needs_data
def test_text_density_quick_run_as_a_file(tmp_path):
    # python benchmarks/<name>.py works as well as python -m benchmarks.<name>
    _, out = run("text_density", tmp_path, "--datasets", "sms_spam", out=tmp_path / "given", as_file=True)
    rows = read(out / "text_density.csv")
    assert len(rows) == 3  # 3 densities x 1 budget
    assert {"zero_dot_share_train", "alone_linear", "alone_h64", "lsh_lr"} <= set(rows[0])
    shares = [float(r["zero_dot_share_train"]) for r in rows]
    assert shares[0] > shares[-1]  # denser random vectors leave fewer dot products at 0


@needs_data
def test_bit_reading_quick(tmp_path):
    _, out = run("bit_reading", tmp_path, "--datasets", "sms_spam")
    rows = read(out / "bit_reading.csv")
    assert [(r["head"], r["reading"]) for r in rows] == [
        ("linear", "binary"), ("linear", "ternary"), ("h64", "binary"), ("h64", "ternary")]
    # the same projection read both ways: the same share of exactly-zero sums
    assert len({r["zero_share_test"] for r in rows}) == 1 and 0.5 < float(rows[0]["zero_share_test"]) < 1
    assert (out / "bit_reading.md").read_text().count("| sms_spam |") == 4


@needs_data
def test_head_parity_quick(tmp_path):
    _, out = run("head_parity", tmp_path, "--datasets", "trec6")
    (row,) = read(out / "head_parity.csv")
    for key in ("lr_cv", "head_alone", "head_joint"):
        assert 0.2 < float(row[key]) <= 1.0, key  # 6 classes: far above chance (1/6) even when quick
    assert float(row["alone_minus_lr"]) == pytest.approx(float(row["head_alone"]) - float(row["lr_cv"]), abs=1e-3)
    assert 0 < float(row["density"]) < 1 and float(row["lr_cv_C"]) > 0
    assert "| trec6 |" in (out / "head_parity.md").read_text()


@needs_data
def test_tfidf_budget_quick(tmp_path):
    _, out = run("tfidf_budget", tmp_path, "--datasets", "sms_spam")
    rows = read(out / "tfidf_budget.csv")
    assert {r["featuriser"] for r in rows} == {"word tf-idf (4 000)", "char_wb 2-5 tf-idf"}
    for feat in ("word tf-idf (4 000)", "char_wb 2-5 tf-idf"):
        models = [r["model"] for r in rows if r["featuriser"] == feat]
        assert models[0].startswith("LogisticRegression") and len(models) == (3 if feat.startswith("word") else 2), models
        # the peer's bytes grow with the featuriser's width, the projection network's do not
    peers = [r for r in rows if r["model"].startswith("LogisticRegression")]
    assert int(peers[1]["bytes"]) > int(peers[0]["bytes"]) and int(peers[1]["n_features"]) > int(peers[0]["n_features"])
    assert len({r["bytes"] for r in rows if r["model"].startswith("ProjectionNet")}) == 1
    assert all(0.5 < float(r["int8_accuracy"]) <= 1 for r in peers)  # two classes, 87 % ham
    assert "| sms_spam |" in (out / "tfidf_budget.md").read_text()


@needs_data
def test_text_fit_time_quick(tmp_path):
    _, out = run("text_fit_time", tmp_path, out=tmp_path / "out")
    times = read(out / "text_fit_time.csv")
    assert {r["features"] for r in times} >= {"count4000", "hashed2^20"}, times
    assert all(float(r["best_s"]) > 0 and float(r["ratio_to_count4000"]) > 0 for r in times), times
    assert read(out / "text_fit_time_accuracy.csv") and read(out / "text_fit_time_table.csv")


@needs_data
def test_mnist_acceptance_quick(tmp_path):
    stdout, out = run("mnist_acceptance", tmp_path, "--configs", "h40")
    rows = read(out / "mnist_acceptance.csv")
    assert [r["config"] for r in rows] == ["MLPClassifier(256,256)", "h40 alone", "h40 joint T=4",
                                           "h40 joint T=4 density/4"]
    assert rows[0]["int8_bytes"] == "" and rows[1]["trainer_accuracy"] == "" and rows[2]["trainer_accuracy"] != ""
    # 600 bits x 40 hidden units + 40 x 10: the int8 compact model is a quarter of the float32 one
    assert all(int(r["int8_bytes"]) < int(r["bytes"]) / 3 for r in rows[1:])
    # bytes as in the committed file: float32 weights + biases + 8-byte seed
    assert all(int(r["bytes"]) == 4 * (600 * 40 + 40 + 40 * 10 + 10) + 8 for r in rows[1:])
    assert "| h40 joint T=4 |" in stdout


@needs_data
def test_density_quick(tmp_path):
    _, out = run("density", tmp_path, "--datasets", "digits,sms_spam")
    rows = read(out / "density.csv")
    assert [(r["dataset"], r["density_factor"]) for r in rows] == [
        ("digits", "1"), ("digits", "0.5"), ("sms_spam", "1"), ("sms_spam", "0.5")]
    digits = rows[:2]
    assert float(digits[0]["density"]) == 2 * float(digits[1]["density"]) == 1 / 8  # auto = 1/sqrt(64)
    assert all(0 <= float(r["h64"]) <= 1 and float(r["h64_predict_ms"]) > 0 for r in rows)
    assert (out / "density_digits.csv").exists() and "| data set |" in (out / "density.md").read_text()


@needs_data
def test_predict_speed_quick(tmp_path):
    proc, _ = run_untouched("predict_speed", [sys.executable, "-m", "benchmarks.predict_speed", "--quick"], tmp_path)
    table = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "ms)" not in line]
    assert len(table) == 2 * 3  # 3 models at the default thread count and at 1 thread
    assert all(line.startswith(("| MLPClassifier", "| ProjectionNet")) for line in table)


@needs_data
def test_compact_inference_quick_reports_every_row(tmp_path):
    """benchmarks/compact_inference.py --quick runs and reports every row (not timings)."""
    pytest.importorskip("threadpoolctl")
    if not (DATA / "trec6.jsonl").exists():
        pytest.skip("TREC-6 data not available")
    out = tmp_path / "r.json"
    proc, _ = run_untouched("compact_inference", [sys.executable, "-m", "benchmarks.compact_inference", "--quick",
                                                  "--rows", "50", "--json", str(out)], tmp_path)
    results = json.loads(out.read_text())
    models = [
        "MLPClassifier(256,256) pickled", "ProjectionNetClassifier pickled (full)",
        "compact float32", "compact float16", "compact int8", "C weights (int8 tables)",
    ]
    for data in ("digits", "trec6"):
        rows = [r for r in results["sizes"] if r["dataset"] == data]
        assert [r["model"] for r in rows] == models
        by = {r["model"]: r for r in rows}
        assert by["compact int8"]["bytes"] < by["compact float16"]["bytes"] < by["compact float32"]["bytes"]
        # float32 compact predicts exactly as the full classifier
        assert by["compact float32"]["accuracy"] == by["ProjectionNetClassifier pickled (full)"]["accuracy"]
        speed = [r for r in results["throughput"] if r["dataset"] == data]
        assert {r["model"] for r in speed} == {
            "compact int8", "compact float32", "MLPClassifier(256,256)", "LogisticRegression"}
        assert all(r["rows"] == 50 and r["rows_per_s"] > 0 for r in speed)
        assert {r["threads"] for r in speed} >= {1}
    assert "| trec6 | compact int8 |" in proc.stdout


# ------------------------------------------------------------ where runs write, imports
@pytest.fixture
def common(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    from benchmarks import _common

    return _common


def parse(C, argv, datasets=("a", "b"), **kw):
    return C.common_args(argparse.ArgumentParser(prog="bench.py"), datasets, **kw).parse_args(argv)


def test_quick_run_defaults_to_a_new_temporary_directory(common, tmp_path):
    args = parse(common, ["--quick"])
    out = Path(args.out_dir)
    assert out.parent == tmp_path and out.name.startswith("bench-quick-") and out.is_dir()
    assert Path(args.img_dir) == out / "img"
    given = parse(common, ["--quick", "--out", str(tmp_path / "x")])
    assert (given.out_dir, given.img_dir) == (str(tmp_path / "x"), str(tmp_path / "x" / "img"))


def test_full_run_writes_the_committed_results(common):
    args = parse(common, [])
    assert (Path(args.out_dir), Path(args.img_dir)) == COMMITTED


@pytest.mark.parametrize("argv", [
    ["--quick", "--out-dir", str(COMMITTED[0])],
    ["--quick", "--out", str(COMMITTED[0]) + "/"],
    ["--quick", "--out-dir", str(COMMITTED[0] / "sub")],
    ["--quick", "--img-dir", str(COMMITTED[1])],
])
def test_quick_run_refuses_the_committed_directories(common, argv, capsys):
    with pytest.raises(SystemExit) as e:
        parse(common, argv)
    assert e.value.code == 2
    assert re.search(r"a --quick run must not write into .*committed results", capsys.readouterr().err)


def test_partial_run_of_a_merged_file_defaults_to_a_temporary_directory(common, tmp_path):
    # text_density and projection_speed write one file for all data sets: a subset is partial
    args = parse(common, ["--datasets", "a"], subsets_are_full=False)
    assert Path(args.out_dir).parent == tmp_path and Path(args.out_dir).name.startswith("bench-partial-")
    assert Path(parse(common, ["--datasets", "b,a"], subsets_are_full=False).out_dir) == COMMITTED[0]
    # one CSV per data set (peers, bits_vs_accuracy, density): a subset is a full run of those sets
    assert Path(parse(common, ["--datasets", "a"]).out_dir) == COMMITTED[0]
    # an explicit directory is obeyed for a partial (not --quick) run
    assert Path(parse(common, ["--datasets", "a", "--out", str(COMMITTED[0])],
                      subsets_are_full=False).out_dir) == COMMITTED[0]



def test_one_import_convention(tmp_path):
    """Package imports everywhere (``from benchmarks import _common as C``,
    ``from benchmarks.datasets import ...``); every script documents ``python -m benchmarks.<name>``."""
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        src = path.read_text()
        assert not re.search(r"^\s*(import _common|from _common |from datasets |import datasets)", src, re.M), path
        assert "resolve().parent))" not in src, path  # no benchmarks/ on sys.path
        if 'if __name__ == "__main__"' in src:
            assert f"python -m benchmarks.{path.stem}" in src, path
    # the scripts no other test runs import (the others run in --quick mode above)
    run_untouched("report", [sys.executable, "-c", "import benchmarks.report, benchmarks.numba_compile_time"],
                  tmp_path)
