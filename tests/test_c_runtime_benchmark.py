"""benchmarks/c_runtime.py runs end to end in --quick mode: every predictor timed, the C classes of
the ProjectionNet models equal to Python's (the script exits non-zero otherwise). Timings are
never asserted."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None and shutil.which("clang") is None,
                    reason="no C compiler on PATH")
@pytest.mark.skipif(not (DATA / "mnist.npz").exists() and not os.environ.get("SKLEARN_PROJECTION_DATA"),
                    reason="MNIST not available offline")
def test_c_runtime_quick_run_reports_every_predictor(tmp_path):
    out = tmp_path / "c_runtime.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, "1")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.c_runtime", "--quick", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    rows = results["rows"]
    names = [r["predictor"] for r in rows]
    # 3 densities x {hashed, column table} x {dense, sparse} ProjectionNet rows, the default
    # model's 3 stages timed alone, 2 MLP peers; one build
    assert len(rows) == 17 and len(set(names)) == 17, names
    assert {r["build"] for r in rows} == {"cc -O2"}
    stages = [r for r in rows if " stage " in r["predictor"]]
    assert [n.split(" stage ")[1][:1] for n in (r["predictor"] for r in stages)] == ["1", "2", "3"], names
    pn = [r for r in rows if r["predictor"].startswith("ProjectionNet") and r not in stages]
    assert len(pn) == 12 and all(r["agrees_with_python"].startswith("200/200 (bit-identical") for r in pn)
    assert sum("COLUMN_TABLE" in n for n in names) == 6 and sum("predict_sparse" in n for n in names) == 6
    assert sum("density auto = 1/" in n for n in names) == 4 + 3
    peers = [r for r in rows if r["predictor"].startswith("C MLP")]
    assert [r["vs_mlp_float32"] for r in peers][0] == 1.0 and [r["vs_mlp_int8"] for r in peers][1] == 1.0
    assert all(r["rows_per_s"] > 0 for r in rows)
    assert "| build | predictor | rows/s |" in proc.stdout
    assert list(tmp_path.iterdir()) == [out]  # the harness's temporary directory is gone
