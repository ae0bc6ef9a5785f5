"""Langevin sampling in NumPy (float64): toy targets with exact densities, the sampler, MALA,
SGLD, and the exact stationary laws of the discretised chain on a Gaussian.

One update, in the form every sampler of the course uses::

    x_{t+1} = x_t + step_size * grad log p(x_t) + noise_scale * w_t,      w_t ~ N(0, I).

``noise_scale = sqrt(2 * step_size)`` is the Euler discretisation of the Langevin diffusion
``dx = grad log p(x) dt + sqrt(2) dW``, whose stationary law is ``p``. Welling and Teh (2011)
write the same update with ``eta = 2 * step_size``: drift ``eta/2``, noise variance ``eta``.
The lecture notes (Hjorth-Jensen 2024, "More on the SGLD") write drift ``eta`` with noise
variance ``eta``, i.e. ``step_size = eta, noise_scale = sqrt(eta)``: that chain is Langevin
dynamics for ``p^2`` (temperature 1/2), see :func:`stationary_variance_gaussian`.

Targets (each with ``log_prob``, ``grad_log_prob``, exact ``sample``, ``mean`` and ``cov``):
:func:`correlated_gaussian`, :func:`mixture` (unequal weights), :func:`ring`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from coursekit.common.langevin import check_log_prob_values, check_sampler_args, check_start

__all__ = [
    "GaussianMixture",
    "LangevinResult",
    "Ring",
    "ar1_variance_factor",
    "correlated_gaussian",
    "gaussian_mean_posterior",
    "langevin",
    "mixture",
    "ring",
    "sgld",
    "sgld_stationary_variance",
    "stationary_variance_gaussian",
]


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))


@dataclass(frozen=True)
class GaussianMixture:
    """``p(x) = sum_k w_k N(x; m_k, S_k)`` in ``d`` dimensions (one component: a Gaussian).

    Attributes: ``weights`` [K] (sum 1), ``means`` [K, d], ``covs`` [K, d, d], ``name``.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    name: str = "mixture"

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def precisions(self) -> np.ndarray:
        return np.linalg.inv(self.covs)

    @property
    def log_norms(self) -> np.ndarray:
        """``log w_k - log sqrt(det(2 pi S_k))`` [K]."""
        _, logdet = np.linalg.slogdet(2 * np.pi * self.covs)
        return np.log(self.weights) - 0.5 * logdet

    def _component_logs(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        diff = x[:, None, :] - self.means[None]  # [n, K, d]
        pdiff = np.einsum("kij,nkj->nki", self.precisions, diff)
        return self.log_norms[None] - 0.5 * np.sum(diff * pdiff, axis=-1), pdiff  # [n, K]

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Exact normalised log density, ``x`` [n, d] -> [n]."""
        logs, _ = self._component_logs(np.asarray(x, dtype=np.float64))
        return _logsumexp(logs, axis=1)

    def grad_log_prob(self, x: np.ndarray) -> np.ndarray:
        """``grad_x log p(x)`` [n, d] = ``-sum_k r_k(x) S_k^{-1} (x - m_k)``."""
        logs, pdiff = self._component_logs(np.asarray(x, dtype=np.float64))
        resp = np.exp(logs - _logsumexp(logs, axis=1)[:, None])  # responsibilities [n, K]
        return -np.einsum("nk,nki->ni", resp, pdiff)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` exact draws [n, d]."""
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        chol = np.linalg.cholesky(self.covs)
        z = rng.standard_normal((n, self.dim))
        return self.means[k] + np.einsum("nij,nj->ni", chol[k], z)

    @property
    def mean(self) -> np.ndarray:
        return self.weights @ self.means

    @property
    def cov(self) -> np.ndarray:
        m = self.mean
        second = np.einsum("k,kij->ij", self.weights, self.covs + np.einsum(
            "ki,kj->kij", self.means, self.means))
        return second - np.outer(m, m)

    def mode_of(self, x: np.ndarray) -> np.ndarray:
        """Index of the most responsible component for each row of ``x`` [n, d] -> [n]."""
        logs, _ = self._component_logs(np.asarray(x, dtype=np.float64))
        return np.argmax(logs, axis=1)


def correlated_gaussian(
    rho: float = 0.9, scales: tuple[float, float] = (1.0, 1.0)
) -> GaussianMixture:
    """A 2-D Gaussian with mean 0, standard deviations ``scales`` and correlation ``rho``."""
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho (correlation) must lie in (-1, 1), got {rho!r}.")
    s1, s2 = scales
    cov = np.array([[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]])
    return GaussianMixture(np.ones(1), np.zeros((1, 2)), cov[None], name=f"Gaussian, rho={rho}")


def mixture(
    separation: float = 6.0, weights: tuple[float, float] = (0.7, 0.3), std: float = 1.0
) -> GaussianMixture:
    """Two isotropic 2-D Gaussians at ``(+-separation/2, 0)`` with unequal ``weights``."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (2,) or np.any(w <= 0):
        raise ValueError(f"weights must be two positive numbers, got {weights!r}.")
    means = np.array([[-separation / 2, 0.0], [separation / 2, 0.0]])
    covs = np.stack([np.eye(2) * std**2] * 2)
    return GaussianMixture(w / w.sum(), means, covs,
                           name=f"mixture {w[0] / w.sum():.1f}/{w[1] / w.sum():.1f}, "
                                f"{separation / std:g} sd apart")


def _norm_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclass(frozen=True)
class Ring:
    """``p(x) ∝ exp(-(|x| - radius)^2 / (2 width^2))`` in 2-D, exactly normalised.

    ``Z = 2 pi int_0^inf r exp(-(r-R)^2/(2s^2)) dr
        = 2 pi [s^2 exp(-R^2/(2s^2)) + R s sqrt(2 pi) Phi(R/s)]``.
    """

    radius: float = 2.5
    width: float = 0.3
    name: str = "ring"

    @property
    def dim(self) -> int:
        return 2

    @property
    def log_z(self) -> float:
        r, s = self.radius, self.width
        z = 2 * np.pi * (s * s * math.exp(-r * r / (2 * s * s))
                         + r * s * math.sqrt(2 * np.pi) * _norm_cdf(r / s))
        return math.log(z)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        r = np.linalg.norm(np.asarray(x, dtype=np.float64), axis=1)
        return -((r - self.radius) ** 2) / (2 * self.width**2) - self.log_z

    def grad_log_prob(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        r = np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        return -(r - self.radius) / self.width**2 * x / r

    def _radial_moment(self, power: int) -> float:
        r = np.linspace(0.0, self.radius + 12 * self.width, 200_001)
        dens = r * np.exp(-((r - self.radius) ** 2) / (2 * self.width**2))
        return float(np.trapezoid(r**power * dens, r) / np.trapezoid(dens, r))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Exact draws: radius by rejection from N(R, s^2) (accept r/r_max), uniform angle."""
        r_max = self.radius + 10 * self.width
        out = np.empty(0)
        while out.size < n:
            r = rng.normal(self.radius, self.width, size=2 * n)
            keep = (r > 0) & (rng.random(2 * n) * r_max < r)
            out = np.concatenate([out, r[keep]])
        r = out[:n]
        phi = rng.uniform(0, 2 * np.pi, n)
        return np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)

    @property
    def mean(self) -> np.ndarray:
        return np.zeros(2)

    @property
    def cov(self) -> np.ndarray:
        return np.eye(2) * self._radial_moment(2) / 2


def ring(radius: float = 2.5, width: float = 0.3) -> Ring:
    """A ring of radius ``radius`` and radial width ``width``."""
    if radius <= 0 or width <= 0:
        raise ValueError(f"radius and width must be > 0, got {radius!r} and {width!r}.")
    return Ring(float(radius), float(width))


# --------------------------------------------------------------------------------------------
# Exact facts about the discretised chain on a Gaussian
# --------------------------------------------------------------------------------------------


def stationary_variance_gaussian(
    variance: float, step_size: float, noise_scale: float | None = None
) -> float:
    """Exact stationary variance of ``x' = x - step_size x / variance + noise_scale w``.

    On ``N(0, variance)`` the chain is AR(1) with ``a = 1 - step_size / variance`` and stationary
    variance ``noise_scale^2 / (1 - a^2)`` (it exists for ``0 < step_size < 2 variance``).

    * exact noise ``sqrt(2 step)``: ``variance / (1 - step / (2 variance))``, which tends to
      ``variance`` as the step shrinks (the discretisation bias is the rest);
    * the lecture's form, noise ``sqrt(step)``: ``variance / (2 - step / variance)``, which tends
      to ``variance / 2``: the variance of ``p^2``.
    """
    noise2 = 2.0 * step_size if noise_scale is None else noise_scale**2
    a = 1.0 - step_size / variance
    if not abs(a) < 1.0:
        raise ValueError(
            f"step_size={step_size} is unstable for variance {variance}: it must be below "
            f"{2 * variance}."
        )
    return noise2 / (1.0 - a * a)


def ar1_variance_factor(a: float) -> float:
    """Integrated autocorrelation time ``(1 + a) / (1 - a)`` of an AR(1) chain with coefficient a.

    The mean of ``N`` correlated draws has the variance of ``N / factor`` independent ones: the
    effective sample size is ``N / factor``.
    """
    return (1.0 + a) / (1.0 - a)


# --------------------------------------------------------------------------------------------
# The sampler
# --------------------------------------------------------------------------------------------


@dataclass
class LangevinResult:
    """What ``langevin`` returns.

    Attributes:
        x: the final states, same shape as ``x0``.
        chain: ``[n_steps // stride, *x0.shape]``, the states after steps ``stride, 2 stride, ...``
            (None unless ``return_chain=True``).
        acceptance_rate: mean MALA acceptance over chains and steps (None without MALA).
    """

    x: object
    chain: object = None
    acceptance_rate: float | None = None


def langevin(
    log_prob: Callable[[np.ndarray], np.ndarray],
    grad_log_prob: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    step_size: float,
    n_steps: int,
    noise_scale: float | None = None,
    grad_clip: float | None = None,
    clamp: tuple[float, float] | None = None,
    mala: bool = False,
    return_chain: bool = False,
    stride: int = 1,
    rng: np.random.Generator | int | None = None,
    noise: np.ndarray | None = None,
    uniforms: np.ndarray | None = None,
) -> LangevinResult:
    """Unadjusted Langevin (or MALA) chains from ``x0`` [n, ...], float64.

    Each step: ``y = x + step_size * clip(g(x)) + noise_scale * w`` with ``g = grad log p``;
    without MALA ``x <- clamp(y)``; with MALA ``y`` is accepted with probability
    ``min(1, p(y) q(x|y) / (p(x) q(y|x)))``, ``q(y|x) = N(y; x + step_size clip(g(x)),
    noise_scale^2 I)`` (proposals outside ``clamp`` are rejected). ``noise`` [n_steps, *x0.shape]
    and ``uniforms`` [n_steps, n] replace the random draws (for parity tests).
    """
    cfg = check_sampler_args(step_size=step_size, n_steps=n_steps, noise_scale=noise_scale,
                             grad_clip=grad_clip, clamp=clamp, mala=mala,
                             return_chain=return_chain, stride=stride)
    x = np.array(x0, dtype=np.float64)
    check_start(x, cfg.clamp)
    n = x.shape[0]
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    axes = tuple(range(1, x.ndim))

    def grad(z):
        g = np.asarray(grad_log_prob(z), dtype=np.float64)
        return g if cfg.grad_clip is None else np.clip(g, -cfg.grad_clip, cfg.grad_clip)

    lp = np.asarray(log_prob(x), dtype=np.float64)
    check_log_prob_values(lp, n)
    g = grad(x)
    chain, accepted = [], 0.0
    for t in range(cfg.n_steps):
        w = gen.standard_normal(x.shape) if noise is None else noise[t]
        y = x + cfg.step_size * g + cfg.noise_scale * w
        if not cfg.mala:
            x = y if cfg.clamp is None else np.clip(y, *cfg.clamp)
            g = grad(x)
        else:
            lp_y = np.asarray(log_prob(y), dtype=np.float64)
            g_y = grad(y)
            fwd = np.sum((y - x - cfg.step_size * g) ** 2, axis=axes)
            bwd = np.sum((x - y - cfg.step_size * g_y) ** 2, axis=axes)
            log_alpha = lp_y - lp + (fwd - bwd) / (2 * cfg.noise_scale**2)
            u = gen.random(n) if uniforms is None else uniforms[t]
            ok = np.log(u) < log_alpha
            if cfg.clamp is not None:
                ok &= np.all((y >= cfg.clamp[0]) & (y <= cfg.clamp[1]), axis=axes)
            shape = (n,) + (1,) * (x.ndim - 1)
            x = np.where(ok.reshape(shape), y, x)
            g = np.where(ok.reshape(shape), g_y, g)
            lp = np.where(ok, lp_y, lp)
            accepted += ok.mean()
        if cfg.return_chain and (t + 1) % cfg.stride == 0:
            chain.append(x.copy())
    end = np.asarray(log_prob(x), dtype=np.float64)
    check_log_prob_values(end, n, where=f"after {cfg.n_steps} steps (the chain diverged)")
    return LangevinResult(
        x=x,
        chain=np.stack(chain) if cfg.return_chain else None,
        acceptance_rate=accepted / cfg.n_steps if cfg.mala else None,
    )


# --------------------------------------------------------------------------------------------
# SGLD on a Bayesian posterior with an exact answer
# --------------------------------------------------------------------------------------------


def gaussian_mean_posterior(
    data: np.ndarray, noise_std: float, prior_std: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact posterior of ``theta`` for ``y_i ~ N(theta, noise_std^2 I)``, ``theta ~ N(0,
    prior_std^2 I)``: returns its mean [d] and covariance [d, d]."""
    n, d = data.shape
    precision = n / noise_std**2 + 1.0 / prior_std**2
    mean = data.sum(axis=0) / noise_std**2 / precision
    return mean, np.eye(d) / precision


def sgld_stationary_variance(
    data: np.ndarray, noise_std: float, prior_std: float, *, step_size: float, batch_size: int
) -> np.ndarray:
    """Exact stationary variance [d] of :func:`sgld`'s chain at a constant step size.

    With posterior precision ``L = N / noise_std^2 + 1 / prior_std^2`` the chain is AR(1),
    ``theta' - mu = (1 - h L)(theta - mu) + h xi + sqrt(2h) w``, where the minibatch error ``xi``
    has variance ``V = N^2 var(y) / (B noise_std^4)`` (rows drawn with replacement), so

        var = (2h + h^2 V) / (1 - (1 - h L)^2) = posterior variance * (1 + h V / 2) / (1 - h L / 2).

    Both factors tend to 1 as ``h -> 0``: SGLD is exact only for a vanishing step.
    """
    n = len(data)
    lam = n / noise_std**2 + 1.0 / prior_std**2
    v = n**2 * data.var(axis=0) / (batch_size * noise_std**4)
    a = 1.0 - step_size * lam
    if not abs(a) < 1.0:
        raise ValueError(f"step_size={step_size} is unstable: it must be below {2 / lam:.3g}.")
    return (2 * step_size + step_size**2 * v) / (1.0 - a * a)


def sgld(
    data: np.ndarray,
    noise_std: float,
    prior_std: float,
    theta0: np.ndarray,
    *,
    step_size: float,
    n_steps: int,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """SGLD (Welling and Teh 2011) for the Gaussian-mean posterior, ``n_chains`` chains at once.

    The gradient of the log posterior is estimated from a minibatch of ``batch_size`` rows,
    ``grad log prior + (N / B) sum_batch grad log p(y_i | theta)``, and plugged into the exact
    Langevin step ``theta += step_size * g + sqrt(2 step_size) w``.

    Args:
        data: [N, d] observations; theta0: [n_chains, d] starts.

    Returns:
        The trajectory [n_steps, n_chains, d].
    """
    cfg = check_sampler_args(step_size=step_size, n_steps=n_steps)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n = len(data)
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be an int in [1, {n}], got {batch_size!r}.")
    theta = np.array(theta0, dtype=np.float64)
    out = np.empty((cfg.n_steps, *theta.shape))
    for t in range(cfg.n_steps):
        idx = gen.integers(0, n, size=(theta.shape[0], batch_size))
        batch_sum = data[idx].sum(axis=1)  # [n_chains, d]
        lik = (n / batch_size) * (batch_sum - batch_size * theta) / noise_std**2
        g = -theta / prior_std**2 + lik
        theta = theta + cfg.step_size * g + cfg.noise_scale * gen.standard_normal(theta.shape)
        out[t] = theta
    return out
