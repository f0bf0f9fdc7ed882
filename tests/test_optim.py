"""Adam (sklearn_projection._optim) against scikit-learn's AdamOptimizer, and on a quadratic."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

from sklearn_projection._optim import Adam

SHAPES = [(5, 3), (3,), (3, 1), (1,)]  # coefs and intercepts of a small network

HYPERPARAMETERS = [
    {},  # the defaults of both
    {"learning_rate_init": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6},
    {"learning_rate_init": 0.3, "beta_1": 0.0, "beta_2": 0.5, "epsilon": 1e-3},
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hyper", HYPERPARAMETERS)
def test_adam_matches_scikit_learn(hyper, dtype):
    rng = np.random.RandomState(0)
    params = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    sk_params = [p.copy() for p in params]
    ids = [id(p) for p in params]
    ours = Adam(params, **hyper)
    theirs = AdamOptimizer(sk_params, **hyper)
    for step in range(1, 26):
        # Gradients of varied scales, some exactly zero, some changing sign.
        scale = 10.0 ** rng.uniform(-4, 2)
        grads = [(scale * rng.normal(size=s)).astype(dtype) for s in SHAPES]
        grads[1][0] = 0.0
        before = [p.copy() for p in params]
        grads_copy = [g.copy() for g in grads]

        ours.update(params, grads)
        theirs.update_params(sk_params, grads)

        assert [id(p) for p in params] == ids  # updated in place, same arrays
        assert ours.t == theirs.t == step
        for p, q, b, g, g0, m, sk_m, v, sk_v in zip(
            params, sk_params, before, grads, grads_copy, ours.ms, theirs.ms, ours.vs, theirs.vs
        ):
            assert p.dtype == dtype
            assert not np.array_equal(p, b)  # every array moved
            assert_array_equal(g, g0)  # gradients left alone
            # The same arithmetic in the same order: identical, not merely close.
            assert_array_equal(p, q)
            assert_array_equal(m, sk_m)
            assert_array_equal(v, sk_v)


def test_adam_first_step():
    """With bias correction the first step is lr * g / (|g| + eps / sqrt(1 - beta_2)),
    about lr * sign(g) (eps is added to sqrt(v), before the bias correction, as in
    scikit-learn)."""
    p = np.array([1.0, -2.0, 3.0, 0.5])
    g = np.array([1e-2, -3.0, 0.0, 40.0])
    opt = Adam([p], learning_rate_init=0.1)
    opt.update([p], [g])
    step = 0.1 * g / (np.abs(g) + 1e-8 / np.sqrt(1 - 0.999))
    assert_allclose(p, np.array([1.0, -2.0, 3.0, 0.5]) - step, rtol=1e-13)
    assert_allclose(p, [1.0 - 0.1, -2.0 + 0.1, 3.0, 0.5 - 0.1], rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_minimises_a_quadratic(dtype):
    """f(W, b) = 1/2 (w - c)' A (w - c) with A SPD and badly conditioned, w = [W.ravel(), b]."""
    rng = np.random.RandomState(0)
    n = 8
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag(np.geomspace(0.1, 10.0, n)) @ Q.T
    c = rng.normal(size=n)
    W = np.zeros((2, 3), dtype=dtype)
    b = np.zeros(2, dtype=dtype)
    params = [W, b]

    def loss_and_grads():
        w = np.concatenate([W.ravel(), b]).astype(np.float64)
        r = w - c
        g = A @ r
        return 0.5 * r @ A @ r, [g[:6].reshape(2, 3).astype(dtype), g[6:].astype(dtype)]

    opt = Adam(params, learning_rate_init=0.05)
    initial = loss_and_grads()[0]
    for _ in range(1000):
        _, grads = loss_and_grads()
        opt.update(params, grads)
    final = loss_and_grads()[0]
    assert final < 1e-10 * initial
    assert_allclose(np.concatenate([W.ravel(), b]), c, atol=1e-5)
