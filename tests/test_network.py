"""The joint objective and its building blocks (sklearn_projection._network).

Gradients are checked against central finite differences of a loss written here from
its definition (float64, small random networks), as scikit-learn's
``sklearn/neural_network/tests/test_mlp.py::test_gradient`` does for MLPClassifier.
The library's loss value is checked against the same definition, so loss and
gradient are both anchored to the documented objective::

    λ1·CE(trainer, Y) + λ2·CE(projection, q) + λ3·CE(projection, Y)
      + alpha/2·||W_projection||² / sum(sw)  + alpha/2·||W_trainer||² / sum(sw)

where the trainer's penalty is present only when the trainer is trained (built-in
trainer and λ1 > 0) and is not multiplied by λ1. With the built-in trainer
``q = softmax(z_trainer / temperature)`` is a constant: no gradient flows into the
trainer through the λ2 term.
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax as scipy_log_softmax
from scipy.special import softmax as scipy_softmax

from sklearn_projection import _network as nn

N_ROWS = 9
N_BITS = 7  # projection network input width
N_FEATURES = 4  # built-in trainer input width
TEMPERATURE = 2.5
EPS = 1e-6  # finite-difference step


# --------------------------------------------------------------------------------------
# The objective written from its definition, independently of the library
# --------------------------------------------------------------------------------------


def ref_logits(X, coefs, intercepts):
    a = X.toarray() if sp.issparse(X) else np.asarray(X)
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        a = a @ W + b
        if i < len(coefs) - 1:
            a = np.maximum(a, 0.0)
    return a


def ref_cross_entropy(target, logits, sw):
    per_row = -np.sum(target * scipy_log_softmax(logits, axis=1), axis=1)
    w = np.ones(len(per_row)) if sw is None else sw
    return float(np.sum(w * per_row) / np.sum(w))


def ref_l2(coefs, alpha, sw):
    sw_sum = N_ROWS if sw is None else np.sum(sw)
    return 0.5 * alpha * sum(np.sum(W * W) for W in coefs) / sw_sum


def ref_projection_part(case, coefs, intercepts, q):
    """λ2·CE(projection, q) + λ3·CE(projection, Y) + the projection's L2 penalty."""
    z = ref_logits(case["bits"], coefs, intercepts)
    loss = ref_l2(coefs, case["alpha"], case["sw"])
    if case["lam2"] > 0:
        loss += case["lam2"] * ref_cross_entropy(q, z, case["sw"])
    if case["lam3"] > 0:
        loss += case["lam3"] * ref_cross_entropy(case["Y"], z, case["sw"])
    return loss


def ref_trainer_part(case, t_coefs, t_intercepts):
    """λ1·CE(trainer, Y) + the trainer's own L2 penalty (not multiplied by λ1)."""
    if case["trainer"] is None or case["lam1"] == 0:
        return 0.0
    z = ref_logits(case["X"], t_coefs, t_intercepts)
    return case["lam1"] * ref_cross_entropy(case["Y"], z, case["sw"]) + ref_l2(
        t_coefs, case["alpha"], case["sw"]
    )


def ref_q(case):
    """The distillation target: the external one, or the built-in trainer's tempered
    probabilities at the current (unperturbed) trainer weights."""
    if case["trainer"] is None:
        return case["soft_target"]
    z = ref_logits(case["X"], *case["trainer"])
    return scipy_softmax(z / case["temperature"], axis=1)


def numerical_gradient(f, params):
    """Central differences of ``f()`` with respect to every entry of every array in
    ``params`` (perturbed in place and restored)."""
    grads = []
    for P in params:
        G = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            old = P[idx]
            P[idx] = old + EPS
            f_plus = f()
            P[idx] = old - EPS
            f_minus = f()
            P[idx] = old
            G[idx] = (f_plus - f_minus) / (2 * EPS)
        grads.append(G)
    return grads


# --------------------------------------------------------------------------------------
# Random problems
# --------------------------------------------------------------------------------------

# name -> (λ1, λ2, λ3, teacher): teacher is "builtin" (trainer=(coefs, intercepts) with
# X), "external" (soft_target) or None.
TERMS = {
    "trainer": (1.3, 0.0, 0.0, "builtin"),
    "distill_external": (0.0, 0.7, 0.0, "external"),
    "distill_builtin": (0.0, 0.7, 0.0, "builtin"),  # frozen built-in trainer
    "projection": (0.0, 0.0, 1.1, None),
    "all_builtin": (0.6, 0.9, 1.2, "builtin"),
    "all_external": (0.0, 0.9, 1.2, "external"),
}
HIDDEN = [(), (5,), (5, 4)]  # 0, 1 and 2 hidden layers


def make_case(terms, proj_hidden, trainer_hidden, n_classes, weights, alpha, seed=0):
    lam1, lam2, lam3, teacher = TERMS[terms]
    rng = np.random.RandomState(seed)
    y = rng.randint(n_classes, size=N_ROWS)
    y[:n_classes] = np.arange(n_classes)  # every class present
    Y = np.eye(n_classes)[y]
    bits = rng.randint(2, size=(N_ROWS, N_BITS)).astype(np.float64)
    coefs, intercepts = nn.init_layers(rng, [N_BITS, *proj_hidden, n_classes], np.float64)
    case = {
        "terms": terms, "lam1": lam1, "lam2": lam2, "lam3": lam3, "alpha": alpha,
        "bits": bits, "Y": Y, "coefs": coefs, "intercepts": intercepts, "trainer": None,
        "X": None, "soft_target": None, "temperature": TEMPERATURE,
    }
    if teacher == "builtin":
        case["X"] = rng.normal(size=(N_ROWS, N_FEATURES))
        case["trainer"] = nn.init_layers(
            rng, [N_FEATURES, *trainer_hidden, n_classes], np.float64
        )
    elif teacher == "external":
        case["soft_target"] = rng.dirichlet(np.ones(n_classes), size=N_ROWS)
    if weights is None:
        case["sw"] = None
    else:
        sw = rng.uniform(0.2, 3.0, size=N_ROWS)
        if weights == "with_zeros":
            sw[[1, 4, 6]] = 0.0
        case["sw"] = sw
    return case


def call(case, **overrides):
    kwargs = {
        "trainer": case["trainer"], "X": case["X"], "soft_target": case["soft_target"],
        "trainer_weight": case["lam1"], "distill_weight": case["lam2"],
        "projection_weight": case["lam3"], "temperature": case["temperature"],
        "alpha": case["alpha"], "sample_weight": case["sw"],
    }
    kwargs.update(overrides)
    return nn.joint_objective(case["bits"], case["Y"], case["coefs"], case["intercepts"], **kwargs)


def _layer_configs():
    for terms, (_, _, _, teacher) in TERMS.items():
        trainer_hiddens = HIDDEN if teacher == "builtin" else [None]
        for ph, th in itertools.product(HIDDEN, trainer_hiddens):
            yield pytest.param(
                terms, ph, th, id=f"{terms}-p{len(ph)}" + ("" if th is None else f"-t{len(th)}")
            )


# --------------------------------------------------------------------------------------
# Gradient checks
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("weights", [None, "positive", "with_zeros"])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("terms, proj_hidden, trainer_hidden", list(_layer_configs()))
def test_joint_objective_gradient(terms, proj_hidden, trainer_hidden, n_classes, weights, alpha):
    case = make_case(terms, proj_hidden, trainer_hidden or (), n_classes, weights, alpha)
    loss, (gc, gi), trainer_grads = call(case)

    # The loss is the documented objective.
    q = ref_q(case)
    expected = ref_projection_part(case, case["coefs"], case["intercepts"], q)
    if case["trainer"] is not None:
        expected += ref_trainer_part(case, *case["trainer"])
    assert isinstance(loss, float)
    assert_allclose(loss, expected, rtol=1e-12)

    # Projection gradients: the full loss with q held fixed.
    proj_params = case["coefs"] + case["intercepts"]
    num = numerical_gradient(
        lambda: ref_projection_part(case, case["coefs"], case["intercepts"], q), proj_params
    )
    for analytic, numeric in zip(gc + gi, num):
        assert analytic.shape == numeric.shape
        assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)

    # Trainer gradients: the λ1 term plus the trainer's own L2 penalty only.
    trained = case["trainer"] is not None and case["lam1"] > 0
    if not trained:
        assert trainer_grads is None
        return
    t_coefs, t_intercepts = case["trainer"]
    num = numerical_gradient(
        lambda: ref_trainer_part(case, t_coefs, t_intercepts), t_coefs + t_intercepts
    )
    for analytic, numeric in zip(trainer_grads[0] + trainer_grads[1], num):
        assert analytic.shape == numeric.shape
        assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_gradient_check_is_sensitive():
    """The finite differences above resolve an error far smaller than any real bug:
    the analytic gradient of a wrong loss (λ3 off by 1%) is rejected."""
    case = make_case("all_builtin", (5,), (5,), 3, "positive", 0.3)
    _, (gc, gi), _ = call(case)
    q = ref_q(case)
    case["lam3"] *= 1.01
    num = numerical_gradient(
        lambda: ref_projection_part(case, case["coefs"], case["intercepts"], q),
        case["coefs"] + case["intercepts"],
    )
    with pytest.raises(AssertionError):
        for analytic, numeric in zip(gc + gi, num):
            assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_no_gradient_flows_into_the_trainer_through_distillation():
    """q is a constant: the trainer's gradients do not depend on λ2, the temperature
    or the projection network."""
    case = make_case("all_builtin", (5, 4), (5,), 3, "with_zeros", 0.3)
    _, _, (tc, ti) = call(case)
    _, _, (tc0, ti0) = call(case, distill_weight=0.0, projection_weight=0.0)
    _, _, (tc1, ti1) = call(case, temperature=0.5)
    other = make_case("all_builtin", (), (5,), 3, "with_zeros", 0.3, seed=1)
    _, _, (tc2, ti2) = nn.joint_objective(
        other["bits"], case["Y"], other["coefs"], other["intercepts"], trainer=case["trainer"],
        X=case["X"], trainer_weight=case["lam1"], distill_weight=5.0, projection_weight=0.1,
        temperature=case["temperature"], alpha=case["alpha"], sample_weight=case["sw"],
    )
    for g, g0, g1, g2 in zip(tc + ti, tc0 + ti0, tc1 + ti1, tc2 + ti2):
        assert_allclose(g, g0, rtol=1e-13, atol=1e-15)
        assert_allclose(g, g1, rtol=1e-13, atol=1e-15)
        assert_allclose(g, g2, rtol=1e-13, atol=1e-15)


def test_trainer_grads_absent_when_the_trainer_is_not_trained():
    case = make_case("all_builtin", (5,), (5,), 3, None, 0.3)
    assert call(case)[2] is not None
    assert call(case, trainer_weight=0.0)[2] is None
    case = make_case("all_external", (5,), None, 3, None, 0.3)
    assert call(case)[2] is None


def test_integer_sample_weight_equals_repeated_rows():
    """Weight k on a row is the row repeated k times (weight 0: the row removed), for
    the loss, both gradients and the L2 penalty's 1/sum(sample_weight)."""
    case = make_case("all_builtin", (5,), (4,), 3, None, 0.3)
    sw = np.array([1, 0, 2, 3, 0, 1, 1, 2, 1], dtype=np.float64)
    rep = np.repeat(np.arange(N_ROWS), sw.astype(int))
    weighted = call(case, sample_weight=sw)
    repeated = nn.joint_objective(
        case["bits"][rep], case["Y"][rep], case["coefs"], case["intercepts"],
        trainer=case["trainer"], X=case["X"][rep], trainer_weight=case["lam1"],
        distill_weight=case["lam2"], projection_weight=case["lam3"],
        temperature=case["temperature"], alpha=case["alpha"],
    )
    assert_allclose(weighted[0], repeated[0], rtol=1e-12)
    for part in (1, 2):
        w_grads = weighted[part][0] + weighted[part][1]
        r_grads = repeated[part][0] + repeated[part][1]
        for a, b in zip(w_grads, r_grads):
            assert_allclose(a, b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("fmt", ["csr_matrix", "csr_array", "csc_matrix"])
def test_joint_objective_sparse_inputs_equal_dense(fmt):
    """Sparse bits and a sparse trainer input give the dense loss and gradients."""
    case = make_case("all_builtin", (5,), (4,), 3, "with_zeros", 0.3)
    case["X"][case["X"] < 0.3] = 0.0
    to_sparse = getattr(sp, fmt)
    dense = call(case)
    sparse = nn.joint_objective(
        to_sparse(case["bits"]), case["Y"], case["coefs"], case["intercepts"],
        trainer=case["trainer"], X=to_sparse(case["X"]), trainer_weight=case["lam1"],
        distill_weight=case["lam2"], projection_weight=case["lam3"],
        temperature=case["temperature"], alpha=case["alpha"], sample_weight=case["sw"],
    )
    assert_allclose(sparse[0], dense[0], rtol=1e-12)
    for part in (1, 2):
        for a, b in zip(sparse[part][0] + sparse[part][1], dense[part][0] + dense[part][1]):
            assert type(a) is np.ndarray
            assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_joint_objective_leaves_its_inputs_alone():
    case = make_case("all_builtin", (5,), (4,), 3, "with_zeros", 0.3)
    arrays = [case["bits"], case["Y"], case["X"], case["sw"], *case["coefs"],
              *case["intercepts"], *case["trainer"][0], *case["trainer"][1]]
    before = [a.copy() for a in arrays]
    call(case)
    for a, b in zip(arrays, before):
        assert_array_equal(a, b)


# --------------------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", HIDDEN)
def test_forward_matches_definition(hidden):
    rng = np.random.RandomState(0)
    coefs, intercepts = nn.init_layers(rng, [N_BITS, *hidden, 3], np.float64)
    X = rng.normal(size=(N_ROWS, N_BITS))
    acts = nn.forward(X, coefs, intercepts)
    assert len(acts) == len(coefs) + 1
    assert acts[0] is X
    for a in acts[1:-1]:
        assert a.min() >= 0  # ReLU on hidden layers
    assert acts[-1].min() < 0  # no ReLU on the logits
    assert_allclose(acts[-1], ref_logits(X, coefs, intercepts), rtol=1e-12)


@pytest.mark.parametrize("fmt", ["csr_matrix", "csr_array", "csc_matrix", "coo_matrix"])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_forward_accepts_sparse_first_layer_input(fmt, hidden):
    rng = np.random.RandomState(0)
    coefs, intercepts = nn.init_layers(rng, [N_BITS, *hidden, 3], np.float64)
    X = rng.randint(2, size=(N_ROWS, N_BITS)).astype(np.float64)
    X[2] = 0.0  # an empty row
    dense = nn.forward(X, coefs, intercepts)
    sparse = nn.forward(getattr(sp, fmt)(X), coefs, intercepts)
    for a, b in zip(sparse[1:], dense[1:]):
        assert type(a) is np.ndarray  # dense, and not np.matrix
        assert_allclose(a, b, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------------------
# softmax, log_softmax, cross_entropy, tempered
# --------------------------------------------------------------------------------------


LARGE_LOGITS = np.array(
    [
        [1000.0, 1001.0, 999.0],
        [-1000.0, -1001.0, -999.0],
        [0.0, 1e4, -1e4],
        [1e300, 0.0, -1e300],
        [3.0, 3.0, 3.0],
    ]
)


def test_softmax_stable_on_large_logits():
    p = nn.softmax(LARGE_LOGITS)
    assert np.all(np.isfinite(p))
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    assert_allclose(p, scipy_softmax(LARGE_LOGITS, axis=1), rtol=1e-12, atol=1e-300)
    # Shift invariance: the first two rows are [1, 2, 0] and [-0, -1, 1] shifted.
    assert_allclose(p[0], scipy_softmax([1.0, 2.0, 0.0]), rtol=1e-12)
    assert_allclose(p[1], scipy_softmax([0.0, -1.0, 1.0]), rtol=1e-12)
    assert_array_equal(p[3], [1.0, 0.0, 0.0])
    assert_allclose(p[4], 1 / 3, rtol=1e-15)


def test_softmax_temperature_and_no_mutation():
    z = np.random.RandomState(0).normal(scale=5, size=(6, 4))
    z_copy = z.copy()
    for T in (1.0, 0.3, 4.0):
        p = nn.softmax(z, T)
        assert p is not z
        assert_allclose(p, scipy_softmax(z / T, axis=1), rtol=1e-12)
    assert_array_equal(z, z_copy)


def test_log_softmax_stable_on_large_logits():
    z = LARGE_LOGITS[:3]
    log_p = nn.log_softmax(z)
    assert np.all(np.isfinite(log_p))
    assert_allclose(log_p, scipy_log_softmax(z, axis=1), rtol=1e-12)
    assert_allclose(log_p[2], [-1e4, 0.0, -2e4], rtol=1e-12)
    assert_allclose(np.exp(log_p).sum(axis=1), 1.0, rtol=1e-15)
    z = np.random.RandomState(0).normal(scale=5, size=(6, 4))
    z_copy = z.copy()
    assert_allclose(nn.log_softmax(z), np.log(nn.softmax(z)), rtol=1e-12, atol=1e-14)
    assert_array_equal(z, z_copy)


def test_cross_entropy_soft_targets_and_weights():
    rng = np.random.RandomState(0)
    log_p = scipy_log_softmax(rng.normal(size=(8, 3)), axis=1)
    target = rng.dirichlet(np.ones(3), size=8)
    target[0] = [0.0, 1.0, 0.0]  # a hard row among soft ones
    sw = rng.uniform(0.5, 2, size=8)
    sw[[2, 5]] = 0.0
    per_row = -(target * log_p).sum(axis=1)

    assert_allclose(nn.cross_entropy(target, log_p), per_row.mean(), rtol=1e-14)
    assert_allclose(
        nn.cross_entropy(target, log_p, sw), (sw * per_row).sum() / sw.sum(), rtol=1e-14
    )
    # Zero-weight rows are ignored, and the weights' scale does not matter.
    keep = sw > 0
    assert_allclose(
        nn.cross_entropy(target, log_p, sw),
        nn.cross_entropy(target[keep], log_p[keep], sw[keep]),
        rtol=1e-14,
    )
    assert_allclose(
        nn.cross_entropy(target, log_p, 7.0 * sw), nn.cross_entropy(target, log_p, sw), rtol=1e-14
    )
    # One-hot targets: the mean negative log-probability of the true class.
    y = rng.randint(3, size=8)
    assert_allclose(
        nn.cross_entropy(np.eye(3)[y], log_p), -log_p[np.arange(8), y].mean(), rtol=1e-14
    )
    # A zero target on a zero probability contributes nothing (no nan).
    log_p[1, 2] = -np.inf
    target[1] = [0.5, 0.5, 0.0]
    assert np.isfinite(nn.cross_entropy(target, log_p, sw))


def test_tempered():
    rng = np.random.RandomState(0)
    proba = rng.dirichlet(np.ones(4), size=10)
    proba[3] = [0.0, 0.2, 0.8, 0.0]  # zero probabilities stay zero
    assert_array_equal(nn.tempered(proba, 1.0), proba)
    for T in (0.5, 2.0, 7.0):
        t = nn.tempered(proba, T)
        assert t.dtype == np.float64
        assert np.all(np.isfinite(t))
        assert_allclose(t.sum(axis=1), 1.0, rtol=1e-14)
        with np.errstate(divide="ignore"):
            assert_allclose(t, scipy_softmax(np.log(proba) / T, axis=1), rtol=1e-12)
        powered = proba ** (1.0 / T)
        assert_allclose(t, powered / powered.sum(axis=1, keepdims=True), rtol=1e-12)
        assert_array_equal(t[3, [0, 3]], 0.0)
    # A teacher's logits softened directly and its probabilities softened agree.
    z = rng.normal(scale=3, size=(5, 4))
    assert_allclose(nn.tempered(nn.softmax(z), 2.5), nn.softmax(z, 2.5), rtol=1e-12)
    # A high temperature flattens towards uniform.
    assert_allclose(nn.tempered(proba[:3], 1e6), 0.25, rtol=1e-5)


# --------------------------------------------------------------------------------------
# The built-in trainer's hashed first layer (sklearn_projection._embedding)
# --------------------------------------------------------------------------------------

from sklearn_projection import _embedding as emb  # noqa: E402

WIDE = 1000  # input columns of the hashed-layer cases, hashed into TABLE rows
TABLE = 8  # rows of their table: several features share a row


def ref_feature_rows(indices, n_rows):
    """Fibonacci hashing written from its definition with Python integers."""
    shift = 64 - (n_rows.bit_length() - 1)
    return np.array([((int(j) * 0x9E3779B97F4A7C15) % 2**64) >> shift for j in indices])


def test_feature_rows_definition():
    rng = np.random.RandomState(0)
    indices = np.concatenate([np.arange(50), rng.randint(0, 2**62, size=200, dtype=np.int64),
                              [2**31 - 1, 2**31, 2**40 + 7]])
    for n_rows in (1, 2, 8, 2**16):
        rows = emb.feature_rows(indices, n_rows)
        assert_array_equal(rows, ref_feature_rows(indices, n_rows))
        assert rows.min() >= 0 and rows.max() < n_rows
    # consecutive features spread over the table (each of 8 rows gets 1000/8 +- 20%)
    counts = np.bincount(emb.feature_rows(np.arange(WIDE), TABLE), minlength=TABLE)
    assert counts.min() > 0.8 * WIDE / TABLE and counts.max() < 1.2 * WIDE / TABLE


def make_hashed_case(trainer_hidden, n_classes, weights, alpha, seed=0):
    """A case with the built-in trainer over a sparse WIDE-column X whose first layer is a
    TABLE-row hashed table; some rows of X have two features in one table row, one
    row of X is empty, and some table rows are touched by no feature of the batch."""
    case = make_case("all_builtin", (5,), trainer_hidden, n_classes, weights, alpha, seed)
    rng = np.random.RandomState(seed + 100)
    touched = rng.choice(TABLE, size=5, replace=False)  # 3 table rows stay untouched
    pool = np.flatnonzero(np.isin(emb.feature_rows(np.arange(WIDE), TABLE), touched))
    X = sp.lil_matrix((N_ROWS, WIDE))
    for i in range(N_ROWS):
        if i == 3:
            continue  # an empty row
        for j in rng.choice(pool, size=rng.randint(1, 6), replace=False):
            X[i, j] = rng.normal()
    X = X.tocsr()
    case["X_wide"] = X
    case["X"] = emb.RowBatch.from_sparse(X, TABLE)
    coefs, intercepts = nn.init_layers(rng, [TABLE, *trainer_hidden, n_classes], np.float64)
    coefs[0] *= 10  # Glorot over 8 rows is small next to the rest; any scale checks the maths
    case["trainer"] = (coefs, intercepts)
    return case


def ref_hashed_trainer_part(case, t_coefs, t_intercepts):
    """λ1·CE(trainer, Y) + alpha/2 (||rows touched by X||² + ||other layers||²) / sum(sw),
    where feature j reads row ref_feature_rows(j) of the table."""
    X = case["X_wide"]
    rows_of = ref_feature_rows(np.arange(WIDE), TABLE)
    W_full = t_coefs[0][rows_of]  # WIDE x width: each feature's row
    z = ref_logits(X, [W_full, *t_coefs[1:]], t_intercepts)
    touched = np.unique(rows_of[X.indices])
    sw_sum = N_ROWS if case["sw"] is None else np.sum(case["sw"])
    penalty = np.sum(t_coefs[0][touched] ** 2) + sum(np.sum(W * W) for W in t_coefs[1:])
    return case["lam1"] * ref_cross_entropy(case["Y"], z, case["sw"]) + 0.5 * case["alpha"] * penalty / sw_sum


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("weights", [None, "with_zeros"])
@pytest.mark.parametrize("trainer_hidden", [(), (6,)])
def test_hashed_first_layer_gradient(trainer_hidden, weights, alpha):
    """Loss and gradients of the trainer with a hashed first layer against finite
    differences of the objective written from its definition (lazy L2 over the touched
    rows); the untouched rows of the table get no gradient at all."""
    case = make_hashed_case(trainer_hidden, 3, weights, alpha)
    t_coefs, t_intercepts = case["trainer"]
    loss, _, (tc, ti) = call(case)
    q = scipy_softmax(ref_logits(case["X_wide"], [t_coefs[0][ref_feature_rows(np.arange(WIDE), TABLE)],
                                                  *t_coefs[1:]], t_intercepts) / TEMPERATURE, axis=1)
    expected = ref_projection_part(case, case["coefs"], case["intercepts"], q)
    expected += ref_hashed_trainer_part(case, t_coefs, t_intercepts)
    assert_allclose(loss, expected, rtol=1e-12)

    assert isinstance(tc[0], emb.RowGrad)
    assert_array_equal(tc[0].rows, np.unique(emb.feature_rows(case["X_wide"].indices, TABLE)))
    assert len(tc[0].rows) < TABLE  # the case leaves rows untouched
    analytic = [tc[0].toarray(TABLE), *tc[1:], *ti]
    num = numerical_gradient(
        lambda: ref_hashed_trainer_part(case, t_coefs, t_intercepts), t_coefs + t_intercepts
    )
    for a, n in zip(analytic, num):
        assert a.shape == n.shape
        assert_allclose(a, n, rtol=1e-5, atol=1e-8)
    untouched = np.setdiff1d(np.arange(TABLE), tc[0].rows)
    assert_array_equal(num[0][untouched], 0.0)


def test_hashed_first_layer_is_the_dense_layer_over_the_rows():
    """Forward equals a dense first layer over X mapped onto the table's rows (X @ M, M
    the one-hot feature -> row matrix); with alpha=0 the table's gradient is that dense
    layer's gradient (zero on untouched rows); with alpha > 0 they differ exactly by the
    dense layer's decay of the untouched rows."""
    for alpha in (0.0, 0.3):
        case = make_hashed_case((6,), 3, "with_zeros", alpha)
        M = sp.csr_matrix((np.ones(WIDE), (np.arange(WIDE), emb.feature_rows(np.arange(WIDE), TABLE))),
                          shape=(WIDE, TABLE))
        dense_X = (case["X_wide"] @ M).toarray()
        hashed = call(case)
        dense = call(case, X=dense_X)
        z_hashed = nn.forward(case["X"], *case["trainer"])[-1]
        assert_allclose(z_hashed, nn.forward(dense_X, *case["trainer"])[-1], rtol=1e-12)
        rows = hashed[2][0][0].rows
        untouched = np.setdiff1d(np.arange(TABLE), rows)
        G_dense = dense[2][0][0]
        assert_allclose(hashed[2][0][0].values, G_dense[rows], rtol=1e-12, atol=1e-15)
        sw_sum = case["sw"].sum()
        assert_allclose(G_dense[untouched], alpha * case["trainer"][0][0][untouched] / sw_sum,
                        rtol=1e-12, atol=1e-15)
        for a, b in zip(hashed[2][0][1:] + hashed[2][1], dense[2][0][1:] + dense[2][1]):
            assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        penalty_gap = 0.5 * alpha * np.sum(case["trainer"][0][0][untouched] ** 2) / sw_sum
        assert_allclose(dense[0] - hashed[0], penalty_gap, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_batch_from_any_input_and_dtypes(dtype):
    rng = np.random.RandomState(0)
    X = sp.random(20, WIDE, density=0.01, format="csr", random_state=rng, dtype=dtype)
    batch = emb.RowBatch.from_sparse(X, TABLE)
    M = sp.csr_matrix((np.ones(WIDE), (np.arange(WIDE), ref_feature_rows(np.arange(WIDE), TABLE))),
                      shape=(WIDE, TABLE))
    assert batch.dtype == dtype
    assert_allclose(batch.to_csr().toarray(), (X @ M).toarray(), rtol=1e-6)
    for other in (X.tocsc(), X.toarray(), sp.csr_array(X)):
        b = emb.RowBatch.from_sparse(other, TABLE)
        assert_array_equal(b.to_csr().toarray(), batch.to_csr().toarray())
    table = rng.normal(size=(TABLE, 4)).astype(dtype)
    out = emb.bag_forward(batch, table)
    assert out.dtype == dtype
    assert_allclose(out, batch.to_csr() @ table, rtol=1e-5 if dtype == np.float32 else 1e-12)
