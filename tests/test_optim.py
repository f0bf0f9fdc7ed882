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


# --------------------------------------------------------------------------------------
# Row-sparse ("lazy") Adam: a RowGrad updates only its rows
# --------------------------------------------------------------------------------------

from sklearn_projection._embedding import RowGrad  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lazy_adam_touching_every_row_is_dense_adam_bit_for_bit(dtype):
    """A RowGrad naming every row gives exactly the dense update, in either dtype and
    next to dense parameters in the same step."""
    rng = np.random.RandomState(0)
    table, other = rng.normal(size=(12, 7)).astype(dtype), rng.normal(size=(7, 3)).astype(dtype)
    dense_params = [table.copy(), other.copy()]
    lazy_params = [table.copy(), other.copy()]
    dense = Adam(dense_params, learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    lazy = Adam(lazy_params, learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    for _ in range(40):
        scale = 10.0 ** rng.uniform(-4, 2)
        g_table = (scale * rng.normal(size=table.shape)).astype(dtype)
        g_table[3] = 0.0
        g_other = rng.normal(size=other.shape).astype(dtype)
        dense.update(dense_params, [g_table, g_other])
        lazy.update(lazy_params, [RowGrad(np.arange(12), g_table.copy()), g_other])
    for a, b in zip(dense_params + dense.ms + dense.vs, lazy_params + lazy.ms + lazy.vs):
        assert a.dtype == b.dtype == dtype
        assert_array_equal(a, b)
    assert not np.array_equal(lazy_params[0], table)


def reference_lazy_adam(P, steps, lr0, b1, b2, eps):
    """TF LazyAdam's rule written per row: at global step t a touched row r gets
    m_r = b1 m_r + (1-b1) g_r, v_r = b2 v_r + (1-b2) g_r^2,
    p_r -= lr0 sqrt(1-b2^t)/(1-b1^t) m_r/(sqrt(v_r)+eps); other rows and moments stay."""
    P = P.astype(np.float64).copy()
    m, v = np.zeros_like(P), np.zeros_like(P)
    for t, (rows, G) in enumerate(steps, start=1):
        lr = lr0 * np.sqrt(1 - b2**t) / (1 - b1**t)
        for r, g in zip(rows, G):
            m[r] = b1 * m[r] + (1 - b1) * g
            v[r] = b2 * v[r] + (1 - b2) * g * g
            P[r] -= lr * m[r] / (np.sqrt(v[r]) + eps)
    return P, m, v


def test_lazy_adam_updates_only_the_touched_rows_with_the_global_step():
    rng = np.random.RandomState(1)
    n_rows, width = 30, 5
    P0 = rng.normal(size=(n_rows, width))
    steps = []
    for t in range(25):
        # rows 0-9 every step, 10-19 on some steps, 20-29 never
        rows = np.concatenate([np.arange(10), np.flatnonzero(rng.rand(10) < 0.3) + 10])
        steps.append((rows, rng.normal(size=(len(rows), width))))
    P = P0.copy()
    opt = Adam([P], learning_rate_init=0.05)
    for rows, G in steps:
        before = P.copy()
        opt.update([P], [RowGrad(rows, G)])
        untouched = np.setdiff1d(np.arange(n_rows), rows)
        assert_array_equal(P[untouched], before[untouched])
    expected_P, expected_m, expected_v = reference_lazy_adam(P0, steps, 0.05, 0.9, 0.999, 1e-8)
    assert_allclose(P, expected_P, rtol=1e-12, atol=1e-14)
    assert_allclose(opt.ms[0], expected_m, rtol=1e-12, atol=1e-14)
    assert_allclose(opt.vs[0], expected_v, rtol=1e-12, atol=1e-14)
    assert_array_equal(P[20:], P0[20:])
    assert_array_equal(opt.ms[0][20:], 0.0)
    # a row touched late is not updated as if it had been touched from the start: its
    # first step is about lr * sign(g) at most, bias-corrected by the global t
    assert not np.allclose(P[10:20], P0[10:20])


def test_lazy_adam_differs_from_dense_adam_with_zero_gradients():
    """The point of the lazy rule: in dense Adam a row whose gradient is 0 still moves
    (old momentum) and its moments decay; the lazy rule leaves it alone."""
    rng = np.random.RandomState(2)
    P0 = rng.normal(size=(4, 3))
    dense_P, lazy_P = P0.copy(), P0.copy()
    dense, lazy = Adam([dense_P], 0.1), Adam([lazy_P], 0.1)
    g = rng.normal(size=(4, 3))
    dense.update([dense_P], [g])
    lazy.update([lazy_P], [RowGrad(np.arange(4), g.copy())])
    assert_array_equal(dense_P, lazy_P)
    zero_row_1 = g.copy()
    zero_row_1[1] = 0.0
    dense.update([dense_P], [zero_row_1])
    lazy.update([lazy_P], [RowGrad(np.array([0, 2, 3]), g[[0, 2, 3]])])
    assert_array_equal(lazy_P[[0, 2, 3]], dense_P[[0, 2, 3]])
    assert not np.array_equal(dense_P[1], lazy_P[1])
    assert_array_equal(lazy.ms[0][1], (1 - 0.9) * g[1])  # (1 - beta_1) g from step 1, undecayed
    assert_allclose(dense.ms[0][1], 0.9 * 0.1 * g[1], rtol=1e-15)


def test_adam_moments_of_a_large_table_are_not_written_until_touched():
    """The moments are allocated zeroed by np.zeros (calloc): same values as zeros_like."""
    P = np.ones((3, 2), dtype=np.float32)
    opt = Adam([P])
    assert opt.ms[0].dtype == np.float32 and opt.ms[0].shape == (3, 2)
    assert_array_equal(opt.ms[0], 0.0)
    assert_array_equal(opt.vs[0], 0.0)
