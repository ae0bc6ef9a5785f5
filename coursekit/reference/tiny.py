"""Training a *tiny* RBM where everything is exact (week 1's lecture notebook).

With at most ~20 visible units, the model distribution, the KL divergence to the data and the
exact log-likelihood gradient can all be computed by enumeration. That lets the lecture compare
learning rules on equal terms: the exact gradient, CD-k and persistent CD (PCD-k), each
followed by the exact KL after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coursekit.reference.rbm import cd_gradient
from coursekit.reference.rbm_exact import (
    empirical_distribution,
    kl_divergence,
    log_likelihood_gradient,
    model_distribution,
)

METHODS = ("exact", "cd", "pcd")


@dataclass
class TinyRun:
    """Parameters and history of one :func:`train_tiny` run."""

    method: str
    k: int
    W: np.ndarray
    a: np.ndarray
    b: np.ndarray
    kl: list[float] = field(default_factory=list)  # exact KL(data || model) after each step

    @property
    def params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.W, self.a, self.b


def init_params(
    n_visible: int, n_hidden: int, *, init_std: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W ~ N(0, init_std^2)`` [n_v, n_h], ``a = 0`` [n_v], ``b = 0`` [n_h] (float64)."""
    rng = np.random.default_rng(seed)
    return (
        rng.normal(0.0, init_std, size=(n_visible, n_hidden)),
        np.zeros(n_visible),
        np.zeros(n_hidden),
    )


def train_tiny(
    x: np.ndarray,
    n_hidden: int,
    *,
    method: str = "cd",
    k: int = 1,
    steps: int = 1000,
    eta: float = 0.1,
    n_chains: int | None = None,
    seed: int = 0,
    init: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> TinyRun:
    """Full-batch gradient ascent on the mean log-likelihood of the binary rows ``x`` [n, n_v].

    ``method``: ``"exact"`` (the true gradient, by enumeration), ``"cd"`` (CD-k, chains start
    at the data) or ``"pcd"`` (PCD-k, ``n_chains`` persistent chains, default ``n``). After
    every step the exact ``KL(p_data || p_model)`` is recorded in ``run.kl`` (index 0 is
    before training), so ``len(run.kl) == steps + 1``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}.")
    if eta <= 0:
        raise ValueError(f"eta must be > 0, got {eta}.")
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    W, a, b = (p.copy() for p in (init or init_params(x.shape[1], n_hidden, seed=seed)))
    p_data = empirical_distribution(x)
    chains = None
    if method == "pcd":
        chains = (rng.random((n_chains or len(x), x.shape[1])) < 0.5).astype(np.float64)
    run = TinyRun(method=method, k=k, W=W, a=a, b=b)
    run.kl.append(kl_divergence(p_data, model_distribution(W, a, b)))
    for _ in range(steps):
        if method == "exact":
            dW, da, db = log_likelihood_gradient(x, W, a, b)
        else:
            dW, da, db, end = cd_gradient(x, W, a, b, k=k, rng=rng, persistent=chains)
            if method == "pcd":
                chains = end
        W += eta * dW
        a += eta * da
        b += eta * db
        run.kl.append(kl_divergence(p_data, model_distribution(W, a, b)))
    return run


def gradient_error_by_k(
    x: np.ndarray,
    W: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    ks: list[int],
    *,
    replicas: int = 200,
    seed: int = 0,
) -> dict[int, float]:
    """How far the CD-k estimate of dW is from the exact gradient, for each k in ``ks``.

    Each estimate averages ``replicas`` copies of the data rows (so its sampling noise is
    small and what remains is mostly CD's *bias*). Returns ``{k: ||dW_cd - dW_exact|| /
    ||dW_exact||}`` (Frobenius norms).
    """
    exact, _, _ = log_likelihood_gradient(x, W, a, b)
    many = np.repeat(np.asarray(x, dtype=np.float64), replicas, axis=0)
    rng = np.random.default_rng(seed)
    errors = {}
    for k in ks:
        dW, _, _, _ = cd_gradient(many, W, a, b, k=k, rng=rng)
        errors[k] = float(np.linalg.norm(dW - exact) / np.linalg.norm(exact))
    return errors
