"""Week 5's baseline: PCA (50 components) + a Gaussian mixture (50 components, full covariances).

A generative model with no neural network, fitted to the training digits in seconds: project the
digits on their first principal components, fit a Gaussian mixture there by
expectation-maximisation, and sample by drawing a component, a Gaussian point in PCA space, and
mapping it back to pixels (clipped to [0, 1]). What a family of the course buys is what it scores
beyond this baseline at the same sample count::

    from coursekit.course.families import baseline
    model = baseline.fit_pca_gmm(images)     # images [N, 28, 28] (uint8 or in [0, 1])
    x = model.sample(500, seed=0)            # float32 [500, 28, 28] in [0, 1]

Written in NumPy (no scikit-learn): the E-step in log space with Cholesky factors, k-means++
seeding and a few Lloyd steps to start, ``reg`` added to every covariance's diagonal (as
scikit-learn's ``reg_covar``), stopped when the mean log-likelihood per point moves by less than
``tol`` (scikit-learn's defaults: 1e-6, 1e-3, 100 iterations).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coursekit.checks import IMAGE_SHAPES, check_float, check_int, check_numbers, to_numpy

__all__ = [
    "GaussianMixture",
    "PCAGaussianMixture",
    "check_digits",
    "fit_gaussian_mixture",
    "fit_pca_gmm",
]

_LOG_2PI = float(np.log(2 * np.pi))


@dataclass
class GaussianMixture:
    """A fitted mixture of ``k`` Gaussians in ``d`` dimensions.

    ``weights`` [k] (summing to 1), ``means`` [k, d], ``covariances`` [k, d, d];
    ``history``: the mean log-likelihood per point after each EM iteration (non-decreasing up to
    rounding); ``converged``: whether it stopped by ``tol`` before ``max_iter``.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    history: list[float] = field(default_factory=list)
    converged: bool = False

    def log_prob(self, z: Any) -> np.ndarray:
        """Log-density of each row of ``z`` [n, d] under the mixture: [n]."""
        d = self.means.shape[1]
        z = check_numbers(z, "z", f"points [n, {d}]", ndim=2)
        if z.shape[1] != d:
            raise ValueError(f"z must be points [n, {d}] (the mixture's dimension), got shape "
                             f"{z.shape}")  # fmt: skip
        return _logsumexp(_weighted_log_probs(z, self))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws [n, d] (float64): a component by its weight, then its Gaussian."""
        n = check_int(n, "n", 1, "number of samples")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                             f"got {type(rng).__name__}")  # fmt: skip
        k, d = self.means.shape
        comp = rng.choice(k, size=n, p=self.weights / self.weights.sum())
        chol = np.linalg.cholesky(self.covariances)  # [k, d, d]
        eps = rng.standard_normal((n, d))
        return self.means[comp] + np.einsum("nij,nj->ni", chol[comp], eps)


def _logsumexp(a: np.ndarray) -> np.ndarray:
    top = a.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=1, keepdims=True)))[:, 0]


def _weighted_log_probs(z: np.ndarray, gm: GaussianMixture) -> np.ndarray:
    """``log w_k + log N(z_i | mu_k, Sigma_k)`` [n, k] for ``z`` [n, d]."""
    n, d = z.shape
    out = np.empty((n, len(gm.weights)))
    for j, (mu, cov) in enumerate(zip(gm.means, gm.covariances, strict=True)):
        chol = np.linalg.cholesky(cov)
        y = np.linalg.solve(chol, (z - mu).T)  # [d, n]: L^-1 (z - mu)
        log_det = 2.0 * np.log(np.diag(chol)).sum()
        out[:, j] = -0.5 * (d * _LOG_2PI + log_det + (y * y).sum(axis=0))
    with np.errstate(divide="ignore"):
        return out + np.log(gm.weights)[None, :]


def _m_step(z: np.ndarray, resp: np.ndarray, reg: float) -> GaussianMixture:
    """Weights, means and covariances (+ ``reg`` on the diagonal) from responsibilities [n, k]."""
    n, d = z.shape
    nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps  # [k]
    means = resp.T @ z / nk[:, None]
    covs = np.empty((len(nk), d, d))
    for j in range(len(nk)):
        diff = z - means[j]
        covs[j] = (resp[:, j, None] * diff).T @ diff / nk[j] + reg * np.eye(d)
    return GaussianMixture(weights=nk / n, means=means, covariances=covs)


def _kmeans_labels(z: np.ndarray, k: int, rng: np.random.Generator, steps: int = 10) -> np.ndarray:
    """k-means++ seeding and ``steps`` Lloyd iterations: a cluster label per row [n]."""
    n = len(z)
    centres = [z[rng.integers(n)]]
    dist = ((z - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        centres.append(z[rng.choice(n, p=dist / dist.sum())] if dist.sum() > 0
                       else z[rng.integers(n)])
        dist = np.minimum(dist, ((z - centres[-1]) ** 2).sum(axis=1))
    c = np.stack(centres)
    for _ in range(steps):
        labels = ((z[:, None, :] - c[None]) ** 2).sum(axis=2).argmin(axis=1)
        for j in range(k):
            if np.any(labels == j):
                c[j] = z[labels == j].mean(axis=0)
    return ((z[:, None, :] - c[None]) ** 2).sum(axis=2).argmin(axis=1)


def _check_components(value: Any, name: str, limit: int, of: str, what: str) -> int:
    """``value`` (``what``) as an int in [1, limit] (components cannot outnumber ``of``)."""
    message = f"{name} ({what}) must be an int in [1, {limit}] ({of}), got {value!r}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not 1 <= value <= limit:
        raise ValueError(message)
    return int(value)


def _check_em(max_iter: Any, tol: Any, reg: Any, seed: Any) -> tuple[int, float, float, int]:
    """EM's settings, checked: ``max_iter >= 1``, ``tol > 0``, ``reg >= 0``, ``seed >= 0``."""
    return (check_int(max_iter, "max_iter", 1, "EM iterations at most"),
            check_float(tol, "tol", "> 0", "the change of the log-likelihood that stops EM"),
            check_float(reg, "reg", ">= 0", "added to every covariance's diagonal"),
            check_int(seed, "seed", 0, "random seed"))  # fmt: skip


def check_digits(images: Any, name: str = "images") -> np.ndarray:
    """Digits as float64 rows [N, 784] in [0, 1]: uint8 (0..255, divided by 255) or numbers in
    [0, 1] ([N, 28, 28], [N, 784], or with a channel axis of 1); NaN, other shapes and other
    ranges are refused with the message of :func:`coursekit.metrics.check_samples`."""
    from coursekit.metrics import check_samples

    arr = to_numpy(images) if getattr(images, "dtype", None) is not None else images
    if getattr(arr, "dtype", None) == np.uint8:  # 0..255: the shape only, then / 255
        if arr.ndim < 2 or arr.shape[1:] not in IMAGE_SHAPES or len(arr) < 1:
            raise ValueError(f"{name} must have shape [n, 28, 28] or [n, 784] (or with a "
                             f"channel axis of 1), got {arr.shape}.")  # fmt: skip
        return arr.reshape(len(arr), 784).astype(np.float64) / 255.0
    rows = check_samples(arr, name)  # shape, NaN, range [0, 1] (with a hint)
    return np.asarray(to_numpy(arr), dtype=np.float64).reshape(len(rows), 784)


def fit_gaussian_mixture(
    z: Any, k: int, *, seed: int = 0, max_iter: int = 100, tol: float = 1e-3, reg: float = 1e-6
) -> GaussianMixture:
    """Fit ``k`` full-covariance Gaussians to ``z`` [n, d] by EM (k-means start).

    Raises:
        ValueError: ``z`` not a finite [n, d] array, ``k`` not in [1, n], or a bad setting.
    """
    z = check_numbers(z, "z", "points [n, d]", ndim=2)
    k = _check_components(k, "k", len(z), "at most the points", "Gaussians in the mixture")
    max_iter, tol, reg, seed = _check_em(max_iter, tol, reg, seed)
    rng = np.random.default_rng(seed)
    labels = _kmeans_labels(z, k, rng) if k > 1 else np.zeros(len(z), dtype=int)
    resp = np.zeros((len(z), k))
    resp[np.arange(len(z)), labels] = 1.0
    gm = _m_step(z, resp, reg)
    history: list[float] = []
    for _ in range(max_iter):
        log_p = _weighted_log_probs(z, gm)
        norm = _logsumexp(log_p)
        history.append(float(norm.mean()))
        gm = _m_step(z, np.exp(log_p - norm[:, None]), reg)
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            gm.converged = True
            break
    gm.history = history
    return gm


@dataclass
class PCAGaussianMixture:
    """PCA + Gaussian mixture fitted to digits; :meth:`sample` draws new ones.

    ``mean`` [784] (the digits' mean image), ``components`` [p, 784] (orthonormal rows, the
    first ``p`` principal directions), ``mixture`` (in the ``p``-D PCA space), ``n_fit`` (digits
    fitted), ``fit_seconds`` (PCA and EM, wall clock), ``explained`` (share of the pixel variance
    the ``p`` components keep).
    """

    mean: np.ndarray
    components: np.ndarray
    mixture: GaussianMixture
    n_fit: int
    fit_seconds: float
    explained: float

    def sample(self, n: int, *, seed: int = 0) -> np.ndarray:
        """``n`` new digits, float32 [n, 28, 28], pixel values clipped to [0, 1]."""
        n = check_int(n, "n", 1, "number of samples")
        z = self.mixture.sample(n, np.random.default_rng(check_int(seed, "seed", 0)))
        x = z @ self.components + self.mean
        return np.clip(x, 0.0, 1.0).astype(np.float32).reshape(n, 28, 28)

    def __str__(self) -> str:
        gm = self.mixture
        return (
            f"PCA ({len(self.components)} components, {100 * self.explained:.1f}% of the pixel "
            f"variance) + Gaussian mixture ({len(gm.weights)} components, full covariances), "
            f"fitted to {self.n_fit:,} digits in {self.fit_seconds:.1f} s "
            f"({len(gm.history)} EM iterations{'' if gm.converged else ', not converged'})"
        )


def fit_pca_gmm(
    images: Any, *, n_components: int = 50, n_mixture: int = 50, seed: int = 0,
    max_iter: int = 100, tol: float = 1e-3,
) -> PCAGaussianMixture:  # fmt: skip
    """Fit the baseline to ``images``: uint8 [N, 28, 28] (0..255) or floats in [0, 1]
    ([N, 28, 28] or [N, 784]); ``seed`` fixes the k-means start (same seed, same model).

    Raises:
        ValueError: images of another shape or range, NaN, fewer than ``n_components`` + 1 of
            them, fewer than ``n_mixture``, or a bad setting (checked before any work).
    """
    start = time.perf_counter()
    x = check_digits(images, "images")
    if len(x) < 2:
        raise ValueError(f"images must hold at least 2 digits to fit, got {len(x)}")
    n_components = _check_components(n_components, "n_components", len(x) - 1,
                                     "N - 1, N the number of images", "principal components")
    n_mixture = _check_components(n_mixture, "n_mixture", len(x), "at most the images",
                                  "Gaussians in the mixture")  # fmt: skip
    max_iter, tol, _, seed = _check_em(max_iter, tol, 0.0, seed)
    mean = x.mean(axis=0)
    centred = x - mean
    variances, vectors = np.linalg.eigh(centred.T @ centred)  # ascending; cheaper than an SVD
    variances, vectors = np.clip(variances[::-1], 0.0, None), vectors[:, ::-1]
    components = vectors[:, :n_components].T
    mixture = fit_gaussian_mixture(centred @ components.T, n_mixture, seed=seed,
                                   max_iter=max_iter, tol=tol)
    return PCAGaussianMixture(
        mean=mean, components=components, mixture=mixture, n_fit=len(x),
        fit_seconds=time.perf_counter() - start,
        explained=float(variances[:n_components].sum() / variances.sum()),
    )
