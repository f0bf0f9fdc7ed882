"""Dense feed-forward layers in numpy and the ProjectionNet objective, as pure functions.

A network is a pair of lists ``coefs`` (fan_in x fan_out) and ``intercepts`` (fan_out),
ReLU between layers and a softmax at the output, as in scikit-learn's MLPClassifier.
The first layer's input may be a scipy sparse matrix; every other array is dense. It
may also be a :class:`._embedding.RowBatch` (the built-in trainer over sparse wide input):
``coefs[0]`` is then a hashed table of rows, its gradient a :class:`._embedding.RowGrad`
over the rows the minibatch touches, and its L2 penalty counts those rows only.

:func:`joint_objective` is the loss and the gradients of both networks on one minibatch
(``λ1·CE(trainer, y) + λ2·CE(projection, q) + λ3·CE(projection, y)`` plus an L2 penalty
per trained network); the fitting loop (:mod:`._joint_training`) only feeds it minibatches
and hands its gradients to :class:`._optim.Adam`. Training only: at inference both
classifiers use :mod:`._inference`.
"""

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot

from ._embedding import RowBatch, bag_backward, bag_forward, rows_sum_of_squares


def init_layers(rng, layer_units, dtype):
    """Glorot-uniform weights for ReLU layers, the scheme MLPClassifier uses."""
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype, copy=False))
        intercepts.append(rng.uniform(-bound, bound, fan_out).astype(dtype, copy=False))
    return coefs, intercepts


def forward(X, coefs, intercepts):
    """Activations of every layer; the last entry holds the output logits."""
    activations = [X]
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if isinstance(activations[-1], RowBatch):
            z = bag_forward(activations[-1], W)
        else:
            z = safe_sparse_dot(activations[-1], W)
        z += b
        if i != last:
            np.maximum(z, 0, out=z)
        activations.append(z)
    return activations


def softmax(z, temperature=1.0):
    """Row-wise softmax of ``z / temperature`` (a new array)."""
    z = z / temperature if temperature != 1.0 else z.copy()
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
    return z


def cross_entropy(target, log_proba, sample_weight=None):
    """Mean (or weighted mean) of ``-sum_k target_k log p_k``; ``target`` may be soft."""
    per_row = -np.einsum("ij,ij->i", target, np.maximum(log_proba, -1e4))
    return float(np.average(per_row, weights=sample_weight))


def backward(activations, delta, coefs, alpha, sw_sum):
    """Gradients of (sum_i loss_i + alpha/2 * ||W||^2) / sw_sum for every layer.

    ``delta`` is d(sum_i loss_i)/d(logits), already multiplied by the sample weights.
    Returns ``(coef_grads, intercept_grads)`` ordered like ``coefs``.
    """
    n_layers = len(coefs)
    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    for i in range(n_layers - 1, -1, -1):
        if isinstance(activations[i], RowBatch):  # only the first layer's input
            coef_grads[i] = bag_backward(activations[i], delta, coefs[i], alpha, sw_sum)
        else:
            grad = safe_sparse_dot(activations[i].T, delta, dense_output=True)
            grad += alpha * coefs[i]
            grad /= sw_sum
            coef_grads[i] = grad
        intercept_grads[i] = delta.sum(axis=0) / sw_sum
        if i:
            delta = delta @ coefs[i].T
            delta *= activations[i] > 0
    return coef_grads, intercept_grads


def l2_penalty(coefs, alpha, sw_sum, X=None):
    """``alpha/2 * ||W||^2 / sw_sum`` over the layers; over the touched rows of the first
    layer when ``X`` is a :class:`._embedding.RowBatch`."""
    hashed = isinstance(X, RowBatch)
    squares = sum(float(np.dot(W.ravel(), W.ravel())) for W in (coefs[1:] if hashed else coefs))
    if hashed:
        squares += rows_sum_of_squares(coefs[0], X.rows)
    return 0.5 * alpha * squares / sw_sum


def tempered(proba, temperature):
    """``softmax(log(proba) / temperature)``: a teacher's probabilities softened like its
    logits would be (computed once per fit for an external teacher)."""
    proba = np.asarray(proba, dtype=np.float64)
    if temperature == 1.0:
        return proba
    with np.errstate(divide="ignore"):
        return softmax(np.log(proba) / temperature)


def joint_objective(
    bits, Y, coefs, intercepts, *, trainer=None, X=None, soft_target=None,
    trainer_weight=1.0, distill_weight=1.0, projection_weight=1.0, temperature=1.0,
    alpha=0.0, sample_weight=None,
):
    """Loss and gradients of the ProjectionNet objective on one minibatch.

    ``λ1·CE(trainer, Y) + λ2·CE(projection, q) + λ3·CE(projection, Y)``, each a (sample-
    weighted) mean over the rows, plus ``alpha/2 * ||W||^2 / sum(sample_weight)`` for the
    weights of each network that is trained, as in MLPClassifier.

    Parameters
    ----------
    bits : ndarray (n, T*d)
        The projection network's input, in the dtype of its weights.
    Y : ndarray (n, n_classes)
        One-hot labels.
    coefs, intercepts : lists of ndarray
        The projection network.
    trainer : (coefs, intercepts) or None
        The built-in trainer network over ``X`` (an array, a scipy sparse matrix, or a
        :class:`._embedding.RowBatch` for a hashed first layer, whose gradient is then a
        :class:`._embedding.RowGrad`); None for an external teacher (then
        ``soft_target`` is its tempered probabilities) or when training alone.
    soft_target : ndarray (n, n_classes) or None
        ``q`` for an external teacher. With the built-in trainer, ``q = softmax(z_trainer /
        temperature)`` is computed here and treated as a constant: ``L_p`` updates the
        projection network only (the apprentice learns from the trainer, not the reverse).
    trainer_weight, distill_weight, projection_weight : float
        λ1, λ2, λ3.

    Returns
    -------
    loss : float
    projection_grads : (coef_grads, intercept_grads)
    trainer_grads : (coef_grads, intercept_grads), or None when the trainer is not
        trained (``trainer`` is None or ``trainer_weight == 0``).
    """
    lam1, lam2, lam3 = trainer_weight, distill_weight, projection_weight
    sw = sample_weight
    sw_sum = float(len(Y)) if sw is None else float(sw.sum())
    trainer_acts = None
    q = soft_target
    if trainer is not None and (lam1 > 0 or lam2 > 0):
        trainer_acts = forward(X, *trainer)
        if lam2 > 0:
            q = softmax(trainer_acts[-1], temperature)

    proj_acts = forward(bits, coefs, intercepts)
    log_p = log_softmax(proj_acts[-1])
    p = np.exp(log_p)
    delta_p = np.zeros_like(p)
    loss = 0.0
    if lam3 > 0:
        delta_p += lam3 * (p - Y)
        loss += lam3 * cross_entropy(Y, log_p, sw)
    if lam2 > 0:
        delta_p += lam2 * (p - q)
        loss += lam2 * cross_entropy(q, log_p, sw)
    if sw is not None:
        delta_p *= sw[:, None]
    projection_grads = backward(proj_acts, delta_p, coefs, alpha, sw_sum)
    loss += l2_penalty(coefs, alpha, sw_sum)

    trainer_grads = None
    if trainer is not None and lam1 > 0:
        log_t = log_softmax(trainer_acts[-1])
        delta_t = lam1 * (np.exp(log_t) - Y)
        loss += lam1 * cross_entropy(Y, log_t, sw)
        if sw is not None:
            delta_t *= sw[:, None]
        trainer_grads = backward(trainer_acts, delta_t, trainer[0], alpha, sw_sum)
        loss += l2_penalty(trainer[0], alpha, sw_sum, X)
    return loss, projection_grads, trainer_grads
