"""Dense feed-forward layers in numpy: initialisation, forward pass, backward pass, losses.

A network is a pair of lists ``coefs`` (fan_in x fan_out) and ``intercepts`` (fan_out),
ReLU between layers and a softmax at the output, as in scikit-learn's MLPClassifier.
The first layer's input may be a scipy sparse matrix; every other array is dense.
"""

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot


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
        grad = safe_sparse_dot(activations[i].T, delta, dense_output=True)
        grad += alpha * coefs[i]
        grad /= sw_sum
        coef_grads[i] = grad
        intercept_grads[i] = delta.sum(axis=0) / sw_sum
        if i:
            delta = delta @ coefs[i].T
            delta *= activations[i] > 0
    return coef_grads, intercept_grads


def l2_penalty(coefs, alpha, sw_sum):
    return 0.5 * alpha * sum(float(np.dot(W.ravel(), W.ravel())) for W in coefs) / sw_sum
