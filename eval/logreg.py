"""Small, dependency-free logistic regression (numpy IRLS) with standardisation and k-fold splits.

Used by eval/fit.py to fit the answerer's weights on the development splits; a few hundred
examples and ten features need nothing heavier, and the result is plain numbers shipped as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fitted:
    mean: np.ndarray
    std: np.ndarray
    coef: np.ndarray
    intercept: float

    def decision(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + ((x - self.mean) / self.std) @ self.coef

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.decision(x), -50, 50)))

    def raw_weights(self) -> np.ndarray:
        """Coefficients on the unstandardised features (for a plain weighted sum)."""
        return self.coef / self.std


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50,
        weights: np.ndarray | None = None) -> Fitted:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / std])
    beta = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -50, 50)))
        gradient = z.T @ (w * (p - y)) + penalty @ beta
        hessian = (z * (w * p * (1 - p))[:, None]).T @ z + penalty + np.eye(len(beta)) * 1e-9
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return Fitted(mean, std, beta[1:], float(beta[0]))


def folds(groups: Sequence[str], k: int, seed: int = 0) -> list[np.ndarray]:
    """k folds of example indices; examples of one group (one question) stay in one fold."""
    names = sorted(set(groups))
    rng = np.random.default_rng(seed)
    rng.shuffle(names)
    fold_of = {name: i % k for i, name in enumerate(names)}
    index = np.arange(len(groups))
    return [index[np.array([fold_of[g] == f for g in groups])] for f in range(k)]
