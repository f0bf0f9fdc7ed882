"""benchmarks/text_vocab_free.py --quick runs end to end (tiny slices, seconds) and writes what it
promises into a temporary directory, never into the committed results. No timing or accuracy
level is asserted beyond "far above chance"; the byte counts are checked against the int8 rule."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
needs_data = pytest.mark.skipif(
    not DATA.exists() and not os.environ.get("SKLEARN_PROJECTION_DATA"),
    reason="benchmark data not available offline",
)


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_linear_bytes_and_budget():
    sys.path.insert(0, str(ROOT))
    from benchmarks.text_vocab_free import BUDGET, linear_bytes

    # binary problems have one output column (LogisticRegression's coef_), others one per class:
    # 1 byte per weight + float32 bias + float32 scale per column
    assert linear_bytes(2**15, 2) == 2**15 + 8
    assert linear_bytes(2**13, 6) == 6 * (2**13 + 8)
    assert linear_bytes(2**16, 2) > BUDGET >= linear_bytes(2**15, 2)
    assert linear_bytes(2**14, 6) > BUDGET >= linear_bytes(2**13, 6)


@needs_data
def test_text_vocab_free_quick(tmp_path):
    results = ROOT / "benchmarks" / "results"
    before = {p: p.stat().st_mtime_ns for p in results.glob("text_vocab_free*")}
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, "1")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.text_vocab_free", "--quick", "--out-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in results.glob("text_vocab_free*")} == before  # committed untouched

    for ds, n_classes, k in (("trec6", 6, 13), ("sms_spam", 2, 15)):
        rows = read(out / f"text_vocab_free_{ds}.csv")
        peers = [r for r in rows if r["family"] == "peer"]
        pns = [r for r in rows if r["family"] == "ProjectionNet"]
        # peers at the largest power-of-two width within 64 KiB, one per featuriser
        assert [r["config"] for r in peers] == [f"HashingVectorizer(2^{k}) + LR", f"ngh(2^{k}) + LR",
                                                f"ngh_words(2^{k}) + LR"]
        n_out = 1 if n_classes == 2 else n_classes
        for r in peers:
            assert int(r["model_bytes"]) == n_out * (2**k + 8)
        assert [r["config"] for r in pns] == ["lin8192", "h64x800-lr"]
        for r in rows:
            assert 1.5 / n_classes < float(r["accuracy_int8"]) <= 1.0, r  # far above chance even when quick
            assert int(r["total_bytes"]) == int(r["model_bytes"]) + int(r["featurizer_bytes"])
        # the compact int8 model: at least its weights (bits x outputs, or bits x 64 + 64 x outputs)
        lin, h64 = pns
        from sklearn_projection._compact import TEXT_SETTINGS_BYTES

        # ProjectionNet's bytes are those of the compact int8 text model: network + the hasher's settings
        assert all(int(r["featurizer_bytes"]) == TEXT_SETTINGS_BYTES for r in pns)
        assert int(lin["model_bytes"]) >= 8192 * 2 + 2 * 8
        assert int(h64["model_bytes"]) >= 800 * 64 + 64 * 2
        assert "ternary" in lin["detail"] and "alone" in lin["detail"] and "lr" in h64["detail"]
    summary = read(out / "text_vocab_free.csv")
    assert {(r["dataset"], r["config"]) for r in summary} == {
        (ds, c) for ds, k in (("trec6", 13), ("sms_spam", 15))
        for c in (f"HashingVectorizer(2^{k}) + LR", f"ngh(2^{k}) + LR", f"ngh_words(2^{k}) + LR", "lin8192",
                  "h64x800-lr")}
    md = (out / "text_vocab_free.md").read_text()
    assert md.count("| C columns (the library today) |") == 2 and "## trec6" in md and "## sms_spam" in md


def test_parse_config():
    sys.path.insert(0, str(ROOT))
    from benchmarks.text_vocab_free import parse_config

    c = parse_config("lin10752-binary-words-raw-ref")
    assert (c["T"], c["d"], c["head"], c["reading"], c["feat"], c["ref"]) == (336, 32, (), "binary", "ngh_words_raw",
                                                                            True)
    c = parse_config("h64x800-lr-T1-a1-dx2")
    assert (c["T"], c["d"], c["head"], c["teach"], c["extra"], c["dfac"]) == (80, 10, (64,), "lr",
                                                                            {"temperature": 1.0, "alpha": 1.0}, 2.0)
    for bad in ("lin100", "h64x800-ref", "lin8192-bogus", "x8192"):  # 100 bits is not 32 x T; ref needs linear
        with pytest.raises(ValueError, match="malformed"):
            parse_config(bad)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_reference_head_is_the_same_function():
    """The C-1 column head (last logit fixed at 0) predicts what the fitted C-column head predicts
    (before int8 rounding), and the script's int8 forward pass of the full head is the compact model's."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from sklearn.pipeline import make_pipeline

    from benchmarks.text_vocab_free import featurizer, record_reference_head
    from sklearn_projection import ProjectionNetClassifier
    from sklearn_projection._compact import compact_pipeline

    rng = np.random.default_rng(0)
    words = {0: ["good", "great", "fine"], 1: ["bad", "awful", "poor"], 2: ["who", "when", "where"]}
    y = rng.integers(0, 3, 300)
    texts = [" ".join(rng.choice(words[k], 3)) + f" x{rng.integers(50)}" for k in y]
    X = featurizer("ngh_words_raw").transform(texts)
    clf = ProjectionNetClassifier(8, 32, reading="binary", trainer_weight=0, distill_weight=0, max_iter=30,
                                  random_state=0).fit(X, y)
    model = compact_pipeline(make_pipeline(featurizer("ngh_words_raw"), clf), "int8")
    rows = []
    record_reference_head(clf, model, "ngh_words_raw", "lin256", 0, texts, y, lambda *a: rows.append(a))
    (row,) = rows
    family, config, feat, seed, acc8, accf, model_b, feat_b = row[:8]
    assert config == "lin256 C-1" and "agrees with the compact text model on 1.0000" in row[-1]
    assert accf == clf.score(X, y)  # same softmax, same argmax
    assert model_b == model.size_bytes - feat_b - (256 + 8)  # one int8 column, bias and scale fewer
