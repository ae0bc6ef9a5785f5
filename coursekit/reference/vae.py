"""NumPy reference maths of the variational autoencoder (week 3), float64 and exact where possible.

Notation of the lecture: data ``x``, latent variables ``h`` (``z`` in code), prior
``p(h) = N(0, I)``, decoder ``p(x|h)``, encoder ``Q(h|x) = N(mu(x), diag(sigma^2(x)))`` stored
as ``mean`` and ``log_var = log sigma^2`` (the keras.io convention). The central equation::

    log p(x) - D[Q(h|x) || p(h|x)] = E_Q[log p(x|h)] - D[Q(h|x) || p(h)]      (= the ELBO)

Shapes: a batch is rows, ``x`` [n, d], ``mean`` and ``log_var`` [n, k], decoder logits [n, d].

Two kinds of functions live here:

* the VAE's ingredients (:func:`kl_standard_normal`, :func:`kl_gaussians`,
  :func:`bernoulli_log_prob`, :func:`reparameterize`, :func:`elbo_terms`,
  :func:`iwae_bound`), which :mod:`coursekit.torch.vae` and :mod:`coursekit.keras.vae` mirror;
* a **linear-Gaussian latent model** (:class:`LinearGaussian`, probabilistic PCA) where
  ``log p(x)`` and the posterior ``p(h|x)`` are exact, so that the ELBO, the importance-weighted
  bound of Burda et al. (2015) and the gap ``D[Q || p(h|x)]`` can be checked with numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PUBLISHED_IWAE_1LAYER",
    "LinearGaussian",
    "bernoulli_log_prob",
    "diag_gaussian_log_prob",
    "elbo_terms",
    "gradient_estimators",
    "iwae_bound",
    "kl_gaussians",
    "kl_standard_normal",
    "log_mean_exp",
    "reparameterize",
    "softplus",
]

#: Burda, Grosse and Salakhutdinov (2015), "Importance weighted autoencoders", table 1: test
#: log-likelihood (k = 5000 importance samples) of a one-stochastic-layer VAE (two deterministic
#: layers of 200 units, 50 latent variables) on dynamically binarised MNIST after 3,280 passes.
PUBLISHED_IWAE_1LAYER = -86.76

_LOG_2PI = float(np.log(2.0 * np.pi))


def softplus(a: np.ndarray) -> np.ndarray:
    """``log(1 + e^a)`` without overflow."""
    a = np.asarray(a, dtype=np.float64)
    return np.logaddexp(0.0, a)


def log_mean_exp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(mean(exp(a), axis))``, stable for large ``|a|``."""
    a = np.asarray(a, dtype=np.float64)
    top = np.max(a, axis=axis, keepdims=True)
    out = top + np.log(np.mean(np.exp(a - top), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis)


def kl_standard_normal(mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """``D[N(mean, diag(exp(log_var))) || N(0, I)]`` per row, closed form [n].

    ``= 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2)``: the lecture's
    ``1/2 (tr Sigma + mu^T mu - k - log det Sigma)`` for a diagonal ``Sigma``.
    """
    mean = np.asarray(mean, dtype=np.float64)
    log_var = np.asarray(log_var, dtype=np.float64)
    return 0.5 * np.sum(np.exp(log_var) + mean**2 - 1.0 - log_var, axis=-1)


def kl_gaussians(mu0: np.ndarray, cov0: np.ndarray, mu1: np.ndarray, cov1: np.ndarray) -> float:
    """``D[N(mu0, cov0) || N(mu1, cov1)]`` for full covariances [k, k] (the lecture's formula).

    ``1/2 (tr(S1^-1 S0) + (mu1-mu0)^T S1^-1 (mu1-mu0) - k + log det S1 - log det S0)``.
    """
    mu0, mu1 = np.asarray(mu0, np.float64), np.asarray(mu1, np.float64)
    cov0, cov1 = np.asarray(cov0, np.float64), np.asarray(cov1, np.float64)
    k = mu0.shape[-1]
    diff = mu1 - mu0
    solve = np.linalg.solve(cov1, np.column_stack([cov0, diff]))
    trace = np.trace(solve[:, :k])
    quad = float(diff @ solve[:, k])
    logdet1 = np.linalg.slogdet(cov1)[1]
    logdet0 = np.linalg.slogdet(cov0)[1]
    return float(0.5 * (trace + quad - k + logdet1 - logdet0))


def diag_gaussian_log_prob(x: np.ndarray, mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """``log N(x; mean, diag(exp(log_var)))`` summed over the last axis."""
    x, mean, log_var = (np.asarray(a, dtype=np.float64) for a in (x, mean, log_var))
    return -0.5 * np.sum(_LOG_2PI + log_var + (x - mean) ** 2 / np.exp(log_var), axis=-1)


def bernoulli_log_prob(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """``log p(x|h)`` of a Bernoulli decoder with ``p(x_i = 1|h) = sigmoid(logits_i)``, per row.

    ``sum_i x_i l_i - softplus(l_i)``: minus the binary cross-entropy, also for ``x`` in [0, 1].
    """
    x = np.asarray(x, dtype=np.float64)
    logits = np.asarray(logits, dtype=np.float64)
    return np.sum(x * logits - softplus(logits), axis=-1)


def reparameterize(mean: np.ndarray, log_var: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """``z = mu + Sigma^{1/2} eps = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``."""
    mean, log_var, eps = (np.asarray(a, dtype=np.float64) for a in (mean, log_var, eps))
    return mean + np.exp(0.5 * log_var) * eps


def elbo_terms(
    x: np.ndarray, mean: np.ndarray, log_var: np.ndarray, logits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The two terms of the one-sample ELBO per row: ``(log p(x|z), D[Q(h|x) || p(h)])``.

    ``logits`` [n, d] are the decoder's outputs at the sampled ``z``; the ELBO is the first term
    minus the second, the VAE loss its negative mean.
    """
    return bernoulli_log_prob(x, logits), kl_standard_normal(mean, log_var)


def iwae_bound(log_weights: np.ndarray) -> np.ndarray:
    """``log (1/K) sum_k w_k`` per row from log-weights ``log p(x, h_k) - log Q(h_k|x)`` [n, K]."""
    return log_mean_exp(log_weights, axis=-1)


def gradient_estimators(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    mean: np.ndarray,
    sigma: np.ndarray,
    n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` one-sample estimates of ``d/d mean E_{z ~ N(mean, sigma^2)}[f(z)]`` by two methods.

    * score function (REINFORCE): ``f(z) (z - mean) / sigma^2`` with ``z`` drawn;
    * reparameterisation: ``f'(mean + sigma eps)`` with ``eps ~ N(0, I)``.

    ``mean`` and ``sigma`` [k]; ``f`` maps [n, k] to [n], ``df`` [n, k] to [n, k]. Both
    estimators use the same ``eps``; both are unbiased, their variances differ. Returns two
    arrays [n, k].
    """
    mean = np.asarray(mean, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    eps = rng.standard_normal((n, mean.shape[-1]))
    z = mean + sigma * eps
    score = f(z)[:, None] * eps / sigma
    reparam = df(z)
    return score, reparam


@dataclass
class LinearGaussian:
    """``p(h) = N(0, I_k)``, ``p(x|h) = N(W h + b, sigma2 I_d)``: every quantity is exact.

    ``W`` [d, k], ``b`` [d], ``sigma2 > 0``. Then ``p(x) = N(b, W W^T + sigma2 I)`` and
    ``p(h|x) = N(S W^T (x - b) / sigma2, S)`` with ``S = (I + W^T W / sigma2)^{-1}``.
    """

    W: np.ndarray
    b: np.ndarray
    sigma2: float

    def __post_init__(self) -> None:
        self.W = np.asarray(self.W, dtype=np.float64)
        self.b = np.asarray(self.b, dtype=np.float64)
        if self.W.ndim != 2 or self.b.shape != (self.W.shape[0],):
            raise ValueError(f"W must be [d, k] and b [d], got {self.W.shape} and {self.b.shape}")
        if not self.sigma2 > 0:
            raise ValueError(f"sigma2 must be > 0, got {self.sigma2!r}")

    @classmethod
    def random(cls, d: int, k: int, sigma2: float = 0.5, seed: int = 0) -> LinearGaussian:
        """A random model with ``d`` observed and ``k`` latent variables."""
        rng = np.random.default_rng(seed)
        return cls(rng.normal(size=(d, k)), rng.normal(size=d), sigma2)

    @property
    def k(self) -> int:
        return self.W.shape[1]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of ``x`` [n, d]."""
        h = rng.standard_normal((n, self.k))
        return h @ self.W.T + self.b + np.sqrt(self.sigma2) * rng.standard_normal((n, len(self.b)))

    def log_marginal(self, x: np.ndarray) -> np.ndarray:
        """Exact ``log p(x)`` per row [n]."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        cov = self.W @ self.W.T + self.sigma2 * np.eye(len(self.b))
        diff = x - self.b
        logdet = np.linalg.slogdet(cov)[1]
        quad = np.sum(diff * np.linalg.solve(cov, diff.T).T, axis=1)
        return -0.5 * (len(self.b) * _LOG_2PI + logdet + quad)

    def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact ``p(h|x)``: means [n, k] and the shared covariance [k, k]."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        cov = np.linalg.inv(np.eye(self.k) + self.W.T @ self.W / self.sigma2)
        mean = (x - self.b) @ self.W @ cov / self.sigma2
        return mean, cov

    def log_likelihood(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        """``log p(x|h)``; broadcasts ``x`` [..., d] against ``h`` [..., k]."""
        mean = h @ self.W.T + self.b
        return -0.5 * np.sum(_LOG_2PI + np.log(self.sigma2) + (x - mean) ** 2 / self.sigma2, -1)

    def elbo(self, x: np.ndarray, mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
        """Exact ELBO per row for ``Q(h|x) = N(mean, diag(exp(log_var)))`` (no sampling).

        ``E_Q[log p(x|h)] = log N(x; W mean + b, sigma2 I) - tr(W^T W diag(var)) / (2 sigma2)``.
        """
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        mean = np.atleast_2d(np.asarray(mean, dtype=np.float64))
        var = np.exp(np.atleast_2d(np.asarray(log_var, dtype=np.float64)))
        expected = self.log_likelihood(x, mean) - 0.5 * (var @ np.sum(self.W**2, 0)) / self.sigma2
        return expected - kl_standard_normal(mean, np.log(var))

    def elbo_gap(self, x: np.ndarray, mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
        """``D[Q(h|x) || p(h|x)]`` per row, from the exact posterior."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        post_mean, post_cov = self.posterior(x)
        mean = np.atleast_2d(np.asarray(mean, dtype=np.float64))
        var = np.exp(np.atleast_2d(np.asarray(log_var, dtype=np.float64)))
        return np.array(
            [
                kl_gaussians(m, np.diag(v), pm, post_cov)
                for m, v, pm in zip(mean, var, post_mean, strict=True)
            ]
        )

    def log_weights(
        self, x: np.ndarray, mean: np.ndarray, log_var: np.ndarray, k: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Importance log-weights ``log p(x, h_k) - log Q(h_k|x)`` with ``h_k ~ Q``: [n, k]."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        mean = np.atleast_2d(np.asarray(mean, dtype=np.float64))
        log_var = np.atleast_2d(np.asarray(log_var, dtype=np.float64))
        eps = rng.standard_normal((len(x), k, self.k))
        h = reparameterize(mean[:, None], log_var[:, None], eps)  # [n, k, latent]
        log_prior = -0.5 * np.sum(_LOG_2PI + h**2, axis=-1)
        log_q = diag_gaussian_log_prob(h, mean[:, None], log_var[:, None])
        return self.log_likelihood(x[:, None], h) + log_prior - log_q

    def iwae(
        self,
        x: np.ndarray,
        mean: np.ndarray,
        log_var: np.ndarray,
        k: int,
        rng: np.random.Generator,
        repeats: int = 1,
    ) -> np.ndarray:
        """The importance-weighted bound ``E[log (1/K) sum_k w_k]`` per row, averaged over
        ``repeats`` independent draws of the ``K`` samples [n]."""
        if k < 1 or repeats < 1:
            raise ValueError(f"k and repeats must be >= 1, got {k} and {repeats}")
        draws = [iwae_bound(self.log_weights(x, mean, log_var, k, rng)) for _ in range(repeats)]
        return np.mean(draws, axis=0)
