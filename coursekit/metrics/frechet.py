"""The Fréchet distance between two Gaussians, the maths behind FID.

For N(mu1, S1) and N(mu2, S2) (Dowson and Landau 1982)::

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^{1/2} S2 S1^{1/2})^{1/2})

The last trace equals tr((S1 S2)^{1/2}), the form usually printed, but S1 S2 is not symmetric
and a general matrix square root of it (``scipy.linalg.sqrtm``) can return complex values and
lose accuracy. S1^{1/2} S2 S1^{1/2} is symmetric positive semi-definite, so its square root's
trace is the sum of the square roots of its eigenvalues, computed with a symmetric
eigensolver in float64 and tiny negative eigenvalues (round-off) clipped to zero.
"""

from __future__ import annotations

import numpy as np

from coursekit.checks import check_numbers

__all__ = ["frechet_distance", "gaussian_stats"]


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix [d, d]."""
    vals, vecs = np.linalg.eigh(cov)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def _check_stats(mu: np.ndarray, cov: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        mu = check_numbers(mu, "mean", "a vector [d]", ndim=1)
        cov = check_numbers(cov, "covariance", "a matrix [d, d]", ndim=2)
    except ValueError as err:
        raise ValueError(f"{name}: the {err}") from None
    if cov.shape != (mu.size, mu.size):
        raise ValueError(
            f"{name}: the covariance must have shape ({mu.size}, {mu.size}) to match the mean, "
            f"got {cov.shape}."
        )
    if not np.allclose(cov, cov.T, rtol=1e-6, atol=1e-9 * max(1.0, float(np.abs(cov).max()))):
        raise ValueError(f"{name}: the covariance is not symmetric.")
    return mu, (cov + cov.T) / 2


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, cov1) and N(mu2, cov2).

    Args:
        mu1, mu2: means [d].
        cov1, cov2: covariances [d, d], symmetric positive semi-definite.

    Returns:
        d^2 >= 0 as a Python float, computed in float64.
    """
    mu1, cov1 = _check_stats(mu1, cov1, "first Gaussian")
    mu2, cov2 = _check_stats(mu2, cov2, "second Gaussian")
    if mu1.size != mu2.size:
        raise ValueError(
            f"the Gaussians have dimensions {mu1.size} and {mu2.size}; they must match."
        )
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    d2 = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_sqrt)
    return max(d2, 0.0)


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [d] and unbiased covariance [d, d] of ``features`` [n, d], in float64 (n >= 2)."""
    feats = check_numbers(features, "features", "a matrix [n, d] with n >= 2", ndim=2)
    if feats.shape[0] < 2:
        raise ValueError(f"features must be [n, d] with n >= 2, got shape {feats.shape}.")
    return feats.mean(axis=0), np.atleast_2d(np.cov(feats, rowvar=False))
