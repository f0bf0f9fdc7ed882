"""benchmarks/compact_inference.py --quick runs and reports every row (not timings)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_reports_every_row(tmp_path):
    pytest.importorskip("threadpoolctl")
    if not (ROOT.parent / "shared" / "data" / "trec6.jsonl").exists():
        pytest.skip("TREC-6 data not available")
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.compact_inference", "--quick", "--rows", "50",
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
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
