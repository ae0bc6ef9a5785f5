"""Numerically stable elementwise maths and random-number plumbing for the reference modules.

Plain NumPy, float64. The RBM pages (:mod:`coursekit.reference.rbm`,
:mod:`coursekit.reference.rbm_exact`), AIS and parallel tempering all evaluate ``sigma``,
``softplus`` and ``log-sum-exp`` at arguments of several hundred in magnitude (a 784-unit
layer), where the textbook formulas overflow; these versions never do, and the Bernoulli draws
take explicit uniforms so that the NumPy, PyTorch and Keras samplers can be compared draw for
draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["log_sigmoid", "logsumexp", "sigmoid", "softplus"]


def sigmoid(z: ArrayLike) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-z))``, elementwise, without overflow for large ``|z|``."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z: ArrayLike) -> np.ndarray:
    """``log(1 + exp(z))``, elementwise, computed stably as ``max(z, 0) + log1p(exp(-|z|))``.

    Same values as ``np.logaddexp(0, z)``, about a third faster (in-place temporaries).
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 0:
        return np.logaddexp(0.0, z)
    out = np.abs(z)
    np.negative(out, out=out)
    np.exp(out, out=out)  # exp(-|z|) in (0, 1]: never overflows
    np.log1p(out, out=out)
    out += np.maximum(z, 0.0)
    return out


def log_sigmoid(z: ArrayLike) -> np.ndarray:
    """``log sigma(z) = -softplus(-z)``, elementwise and stable (no ``log(0)`` for large ``-z``)."""
    return -softplus(-np.asarray(z, dtype=np.float64))


def logsumexp(x: ArrayLike, axis: int | None = None) -> float | np.ndarray:
    """``log(sum(exp(x), axis))`` computed stably by shifting with the maximum.

    Returns a float for ``axis=None``, otherwise an array with ``axis`` removed. All ``-inf``
    along the axis gives ``-inf``; a ``+inf`` entry gives ``+inf``.
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # all -inf (or +inf) along the axis: no shift
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return float(out) if out.ndim == 0 else out


def _bernoulli(
    p: np.ndarray, rng: np.random.Generator | None, u: np.ndarray | None = None
) -> np.ndarray:
    """Binary float64 sample with ``P(1) = p``, elementwise: ``u < p`` with ``u ~ U[0, 1)``.

    ``u`` (same shape as ``p``) supplies the uniforms explicitly; otherwise ``rng`` draws them.
    """
    if u is None:
        u = rng.random(p.shape)
    return (u < p).astype(np.float64)


def _as_rng(rng: Any) -> np.random.Generator:
    """``None`` | int seed | ``np.random.Generator`` -> ``np.random.Generator``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")
