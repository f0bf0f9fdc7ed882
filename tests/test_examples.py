"""Every script in examples/ runs, in a fresh process, as a user would run it.

Each script is run with ``sys.executable`` from the project root (long ones in their quick
mode) and must exit with 0, print the lines it promises and write nothing to stderr: no
warning of any kind (ConvergenceWarning, FutureWarning from a deprecated API, numba
warnings, ...). The README's code block must be examples/quickstart.py itself.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA_DIR = Path(os.environ.get("SKLEARN_PROJECTION_DATA", ROOT.parent / "shared" / "data"))


def _check_quickstart(stdout):
    lines = stdout.splitlines()
    assert len(lines) == 3, stdout
    assert re.fullmatch(r"converged after \d+ epochs", lines[0]), stdout
    found = {}
    for line, name in zip(lines[1:], ["projection", "trainer"]):
        m = re.fullmatch(
            rf"{name} network[^:]*: +accuracy (0\.\d{{3}}|1\.000), ([\d,]+) bytes", line
        )
        assert m, stdout
        found[name] = float(m.group(1)), int(m.group(2).replace(",", ""))
    # both networks learn digits; the one that ships is far smaller than its trainer
    assert found["projection"][0] > 0.9 and found["trainer"][0] > 0.9, stdout
    assert found["projection"][1] * 10 < found["trainer"][1], stdout


def _check_stream(stdout):
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    result = json.loads(lines[0])
    assert result["lines"] == 20_000 and result["chunk_lines"] == 2_000, result
    # SMS spam is 87% ham: the streamed model must do clearly better than the majority class
    assert result["held_out_accuracy"] > 0.9, result
    assert 0 < result["peak_rss_after_first_chunk_MiB"] <= result["peak_rss_MiB"], result


def _check_stream_text(stdout):
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    result = json.loads(lines[0])
    assert result["texts"] == 3_000 and result["chunks"] == 6, result
    # one pass over 3 000 hashed texts: clearly above TREC-6's majority class (0.23); the
    # trainer over 2**20 columns has its bounded hashed table
    assert result["held_out_accuracy"] > 0.4 and result["trainer_held_out_accuracy"] > 0.4, result
    assert result["trainer_table_rows"] == 2**16, result
    # memory after the first chunk already holds the model: later chunks add at most
    # the rows a call saves for its rollback, never the stream
    assert 0 < result["peak_traced_MiB_after_first_chunk"] <= result["peak_traced_MiB"], result
    assert result["peak_traced_MiB"] < 2 * result["peak_traced_MiB_after_first_chunk"], result


# script -> (arguments, data files it needs, output check)
SCRIPTS = {
    "quickstart.py": ([], [], _check_quickstart),
    "stream_text_partial_fit.py": (["--quick"], ["sms_spam.jsonl"], _check_stream),
    "stream_text.py": (["--quick"], ["trec6.jsonl"], _check_stream_text),
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_runs_cleanly(script):
    args, data_files, check = SCRIPTS[script]
    for name in data_files:
        if not (DATA_DIR / name).exists():
            pytest.skip(f"{DATA_DIR / name} not available")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", f"{script} wrote to stderr:\n{proc.stderr}"
    check(proc.stdout)


def test_readme_code_is_the_quickstart():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", readme, re.S)
    assert block, "README.md has no python code block"
    source = (EXAMPLES / "quickstart.py").read_text(encoding="utf-8")
    code = source.split('"""\n\n', 1)[1]  # the program after its one-line docstring
    assert block.group(1) == code
