"""The exported C and Python give the same logits, bit for bit, for every weight type and
reading: the same bits, the same first layer, and the remaining layers summed in the same
order (``_inference.remaining_layers`` / the C ``layer_l``). Compiled with the strict ISO C
flags of ``tests/_c.py``, under which compilers do not fuse a multiply and an add."""

import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklearn_projection import ProjectionNetClassifier
from sklearn_projection._inference import remaining_layers
from tests._c import build_program, needs_cc

_DRIVER = r"""
#include <stdio.h>
#include "model.c"

/* dense rows in, the logits out (hexadecimal floats): the three stages, without the softmax */
int main(void)
{
    uint64_t words[N_PLANES * N_WORDS];
    double x[PN_N_FEATURES];
    float z[MAX_WIDTH];
    int k, j;
    for (;;) {
        for (k = 0; k < PN_N_FEATURES; ++k)
            if (scanf("%lf", &x[k]) != 1)
                return k == 0 ? 0 : 2;
        if (lsh_words(NULL, x, NULL, PN_N_FEATURES, words) != 0)
            return 3;
        first_layer(words, z);
        output(z, NULL); /* the remaining layers, in place */
        for (j = 0; j < PN_N_CLASSES; ++j)
            printf(" %a", (double)z[j]);
        printf("\n");
    }
}
"""


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:1200] / 16.0, y[:1200], X[1200:1500] / 16.0


@needs_cc
@pytest.mark.parametrize("reading, hidden", [("binary", (24,)), ("ternary", (16, 12)), ("quinary", (20,))])
def test_c_logits_are_python_logits_bit_for_bit(digits, tmp_path, reading, hidden):
    X_train, y_train, X_test = digits
    model = ProjectionNetClassifier(n_projections=20, n_bits=10, reading=reading, projection_hidden_layer_sizes=hidden,
                                    trainer_hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X_train, y_train)
    for dtype in ("float32", "float16", "int8"):
        compact = model.to_compact(dtype)
        folder = tmp_path / dtype
        folder.mkdir()
        compact.export_c(folder / "model.c")
        (folder / "logits.c").write_text(_DRIVER)
        exe = build_program([folder / "logits.c"], folder / "logits", f"-I{folder}")
        text = "\n".join(" ".join(repr(float(v)) for v in row) for row in X_test) + "\n"
        out = subprocess.run([str(exe)], input=text, check=True, capture_output=True, text=True).stdout
        got = np.array([[float.fromhex(v) for v in line.split()] for line in out.splitlines()], dtype=np.float32)
        logits = compact._logits(X_test)
        assert got.shape == logits.shape == (len(X_test), 10)
        np.testing.assert_array_equal(got.view(np.int32), logits.view(np.int32), err_msg=dtype)


def test_remaining_layers_follow_the_documented_order_exactly():
    # ReLU, then each output summed in float32 over the inputs > 0 in increasing order,
    # (int8: times the column scale), plus the bias: step by step with numpy float32 scalars
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 9)).astype(np.float32)
    z[0] = -1.0  # no input left by the ReLU: the output is the bias (int8: 0 * scale + bias)
    W1 = rng.normal(size=(9, 5)).astype(np.float32)
    q1 = rng.integers(-127, 128, size=(9, 5)).astype(np.int8)
    b1 = rng.normal(size=5).astype(np.float32)
    s1 = (rng.random(5) * 0.01).astype(np.float32)
    for W, scales in ((W1, None), (W1.astype(np.float16), None), (q1, [None, s1])):
        expected = np.empty((6, 5), dtype=np.float32)
        for i in range(6):
            for j in range(5):
                s = np.float32(0.0)
                for k in range(9):
                    if z[i, k] > 0:
                        s = np.float32(s + np.float32(z[i, k] * np.float32(W[k, j])))
                if scales is not None:
                    s = np.float32(s * scales[1][j])
                expected[i, j] = np.float32(s + b1[j])
        got = remaining_layers(z.copy(), [None, W], [None, b1], scales)
        np.testing.assert_array_equal(got.view(np.int32), expected.view(np.int32))
