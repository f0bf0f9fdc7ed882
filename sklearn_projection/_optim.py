"""Adam (Kingma & Ba, 2015) over a list of numpy arrays, updated in place."""

import numpy as np


class Adam:
    """The update rule and defaults of scikit-learn's MLPClassifier(solver="adam")."""

    def __init__(self, params, learning_rate_init=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def update(self, params, grads):
        self.t += 1
        lr = (
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        for p, g, m, v in zip(params, grads, self.ms, self.vs):
            m *= self.beta_1
            m += (1 - self.beta_1) * g
            v *= self.beta_2
            v += (1 - self.beta_2) * (g * g)
            p -= lr * m / (np.sqrt(v) + self.epsilon)
