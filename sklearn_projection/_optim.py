"""Adam (Kingma & Ba, 2015) over a list of numpy arrays, updated in place.

A gradient may be a :class:`._embedding.RowGrad` (the built-in trainer's hashed first
layer): then only the rows it names, and their moments, are updated ("lazy" Adam, as
TF's LazyAdam): the step count and bias correction stay global, and an untouched row keeps
its weights and moments (no decay of the moments, no step from old momentum).
"""

import numpy as np

from ._embedding import RowGrad, lazy_adam_rows


class Adam:
    """The update rule and defaults of scikit-learn's MLPClassifier(solver="adam")."""

    def __init__(self, params, learning_rate_init=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        # np.zeros, not zeros_like: pages of a hashed table's moments that no feature
        # touches are then never written (zeros_like fills them, 256 MiB at 2**16 rows)
        self.ms = [np.zeros(p.shape, p.dtype) for p in params]
        self.vs = [np.zeros(p.shape, p.dtype) for p in params]

    def update(self, params, grads):
        self.t += 1
        lr = (
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        for p, g, m, v in zip(params, grads, self.ms, self.vs):
            if isinstance(g, RowGrad):
                lazy_adam_rows(p, m, v, g, lr, self.beta_1, self.beta_2, self.epsilon)
                continue
            m *= self.beta_1
            m += (1 - self.beta_1) * g
            v *= self.beta_2
            v += (1 - self.beta_2) * (g * g)
            p -= lr * m / (np.sqrt(v) + self.epsilon)
