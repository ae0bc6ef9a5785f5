"""Reference maths of generative adversarial networks (week 4), NumPy only, float64.

The game of Goodfellow et al. (2014, "Generative adversarial nets", NeurIPS; arXiv:1406.2661)
in the lecture's notation: a generator ``g`` maps noise ``z`` to samples ``x = g(z)`` with
density ``p_model``; a discriminator ``d(x)`` in (0, 1) is the probability that ``x`` is real.
The value function (the discriminator's reward) is

    v(g, d) = E_{x ~ p_data} log d(x) + E_{x ~ p_model} log(1 - d(x)).

For fixed densities the best discriminator is ``d*(x) = p_data / (p_data + p_model)``
(Goodfellow et al. 2014, Proposition 1) and at it

    v(g, d*) = -ln 4 + 2 JS(p_data || p_model)          (their Theorem 1),

with the Jensen-Shannon divergence ``JS(p||q) = KL(p||m)/2 + KL(q||m)/2``, ``m = (p + q)/2``,
which lies in [0, ln 2]: 0 only for ``p = q``, ln 2 for densities with disjoint supports.

Discriminators work with a **logit** ``l`` (``d = sigmoid(l)``); every function here that takes
logits uses ``log sigmoid(l) = -softplus(-l)`` and ``log(1 - sigmoid(l)) = -softplus(l)``,
which stay finite where ``d`` rounds to 0 or 1. The generator's two losses, per fake sample:

* saturating (the minimax game): ``log(1 - d) = -softplus(l)``, minimised by ``g``; its
  gradient with respect to the logit is ``-sigmoid(l) = -d``, which vanishes when the
  discriminator rejects the fakes confidently (``d -> 0``), i.e. early in training;
* non-saturating (Goodfellow et al.'s recommendation): ``-log d = softplus(-l)``; gradient
  ``-(1 - d)``, close to -1 exactly when ``d -> 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = [
    "LOSSES",
    "discriminator_loss",
    "gaussian_pdf",
    "generator_loss",
    "generator_loss_grad",
    "js_divergence",
    "js_divergence_discrete",
    "log_sigmoid",
    "optimal_discriminator",
    "optimal_discriminator_gaussians",
    "sigmoid",
    "value_at_optimum",
    "value_function",
    "value_function_logits",
]

#: The generator losses of the course.
LOSSES = ("non_saturating", "saturating")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` elementwise, without overflow."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log sigmoid(x) = -softplus(-x)`` elementwise, finite for every finite ``x``."""
    return -np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))


def value_function(d_real: np.ndarray, d_fake: np.ndarray) -> float:
    """``v = mean log d(x_real) + mean log(1 - d(x_fake))`` from probabilities.

    Args:
        d_real: ``d(x)`` on samples of the data [n], values in [0, 1].
        d_fake: ``d(g(z))`` on samples of the model [m], values in [0, 1].
    """
    d_real = np.asarray(d_real, dtype=np.float64)
    d_fake = np.asarray(d_fake, dtype=np.float64)
    for name, d in (("d_real", d_real), ("d_fake", d_fake)):
        if d.size == 0 or np.any(~np.isfinite(d)) or np.any((d < 0) | (d > 1)):
            raise ValueError(f"{name} must be a non-empty array of probabilities in [0, 1]")
    with np.errstate(divide="ignore"):
        return float(np.mean(np.log(d_real)) + np.mean(np.log1p(-d_fake)))


def value_function_logits(logit_real: np.ndarray, logit_fake: np.ndarray) -> float:
    """The value function from the discriminator's logits (stable): ``mean log sigmoid(l_r) +
    mean log(1 - sigmoid(l_f))``; equals ``-discriminator_loss``."""
    return -discriminator_loss(logit_real, logit_fake)


def discriminator_loss(logit_real: np.ndarray, logit_fake: np.ndarray) -> float:
    """The discriminator's loss, ``-v``: binary cross-entropy with labels 1 on real, 0 on fake,
    ``mean softplus(-l_real) + mean softplus(l_fake)`` (the TensorFlow DCGAN tutorial's
    ``real_loss + fake_loss``)."""
    lr = np.asarray(logit_real, dtype=np.float64)
    lf = np.asarray(logit_fake, dtype=np.float64)
    return float(np.mean(np.logaddexp(0.0, -lr)) + np.mean(np.logaddexp(0.0, lf)))


def _check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return loss


def generator_loss(logit_fake: np.ndarray, loss: str = "non_saturating") -> float:
    """The generator's loss on the discriminator's logits of fake samples [m] (mean).

    ``"saturating"``: ``mean log(1 - d) = -mean softplus(l)`` (the minimax game, minimised);
    ``"non_saturating"``: ``-mean log d = mean softplus(-l)``.
    """
    lf = np.asarray(logit_fake, dtype=np.float64)
    if _check_loss(loss) == "saturating":
        return float(-np.mean(np.logaddexp(0.0, lf)))
    return float(np.mean(np.logaddexp(0.0, -lf)))


def generator_loss_grad(logit_fake: np.ndarray, loss: str = "non_saturating") -> np.ndarray:
    """Gradient of the per-sample generator loss with respect to the logit [m], closed form.

    ``"saturating"``: ``d/dl [-softplus(l)] = -sigmoid(l) = -d``;
    ``"non_saturating"``: ``d/dl softplus(-l) = -sigmoid(-l) = -(1 - d)``.
    (Per sample: the gradient of the mean is this divided by ``m``.)
    """
    lf = np.asarray(logit_fake, dtype=np.float64)
    if _check_loss(loss) == "saturating":
        return -sigmoid(lf)
    return -sigmoid(-lf)


# --------------------------------------------------------------------------------------------
# Densities: d*, JS and the value at the optimum
# --------------------------------------------------------------------------------------------


def gaussian_pdf(x: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """The density of ``N(mean, std^2)`` at ``x``."""
    if not std > 0:
        raise ValueError(f"std must be > 0, got {std!r}")
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def optimal_discriminator(p_data: np.ndarray, p_model: np.ndarray) -> np.ndarray:
    """``d*(x) = p_data(x) / (p_data(x) + p_model(x))`` from density values at the same points.

    Where both densities vanish ``d*`` is undefined (no sample ever lands there); it is set to
    1/2 there.
    """
    p = np.asarray(p_data, dtype=np.float64)
    q = np.asarray(p_model, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p_data and p_model must have the same shape, got {p.shape}, {q.shape}")
    if np.any(p < 0) or np.any(q < 0) or not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise ValueError("p_data and p_model must be finite and >= 0 (density values)")
    total = p + q
    out = np.full(p.shape, 0.5)
    np.divide(p, total, out=out, where=total > 0)
    return out


def optimal_discriminator_gaussians(
    x: np.ndarray, mean_data: float, std_data: float, mean_model: float, std_model: float
) -> np.ndarray:
    """``d*(x)`` for two Gaussians in closed form: ``sigmoid(log N(x; data) - log N(x; model))``.

    The log-density ratio is a quadratic in ``x`` (linear when the variances are equal), so
    ``d*`` is a logistic regression on ``(x, x^2)``: a discriminator can represent it exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    for name, s in (("std_data", std_data), ("std_model", std_model)):
        if not s > 0:
            raise ValueError(f"{name} must be > 0, got {s!r}")
    log_ratio = (
        -0.5 * ((x - mean_data) / std_data) ** 2
        + 0.5 * ((x - mean_model) / std_model) ** 2
        - math.log(std_data / std_model)
    )
    return sigmoid(log_ratio)


def js_divergence_discrete(p: np.ndarray, q: np.ndarray) -> float:
    """``JS(p||q)`` in nats for two probability vectors (each normalised here)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError("p and q must be 1-D arrays of the same length")
    if np.any(p < 0) or np.any(q < 0) or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("p and q must be >= 0 with a positive sum")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)
    return float(0.5 * _kl_terms(p, m).sum() + 0.5 * _kl_terms(q, m).sum())


def _kl_terms(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``p log(p/m)`` with ``0 log 0 = 0`` (``m > 0`` wherever ``p > 0``)."""
    out = np.zeros_like(p)
    mask = p > 0
    out[mask] = p[mask] * np.log(p[mask] / m[mask])
    return out


def _grid_weights(x: np.ndarray) -> np.ndarray:
    """Trapezoid weights on a sorted 1-D grid ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or len(x) < 2 or np.any(np.diff(x) <= 0):
        raise ValueError("x must be an increasing 1-D grid with at least 2 points")
    w = np.zeros_like(x)
    dx = np.diff(x)
    w[:-1] += dx / 2
    w[1:] += dx / 2
    return w


def js_divergence(
    p: np.ndarray | Callable[[np.ndarray], np.ndarray],
    q: np.ndarray | Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
) -> float:
    """``JS(p||q)`` in nats of two 1-D densities by the trapezoid rule on the grid ``x``.

    ``p`` and ``q`` are density values at ``x`` (arrays) or functions of ``x``. The grid must
    cover where the densities live; they are *not* renormalised (a density that integrates to
    less than 1 on the grid means the grid is too short, so that is refused above 1e-3).
    """
    w = _grid_weights(x)
    pv = np.asarray(p(x) if callable(p) else p, dtype=np.float64)
    qv = np.asarray(q(x) if callable(q) else q, dtype=np.float64)
    if pv.shape != w.shape or qv.shape != w.shape:
        raise ValueError("p and q must have one value per grid point")
    for name, v in (("p", pv), ("q", qv)):
        mass = float(np.sum(w * v))
        if np.any(v < 0) or abs(mass - 1.0) > 1e-3:
            raise ValueError(
                f"{name} must be a density >= 0 integrating to 1 on the grid, got mass {mass:.6f}"
            )
    m = 0.5 * (pv + qv)
    return float(np.sum(w * (0.5 * _kl_terms(pv, m) + 0.5 * _kl_terms(qv, m))))


def value_at_optimum(
    p_data: np.ndarray | Callable[[np.ndarray], np.ndarray],
    p_model: np.ndarray | Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
) -> float:
    """``v(g, d*) = int p_data log d* + p_model log(1 - d*) dx`` by the trapezoid rule on ``x``.

    Equals ``-ln 4 + 2 JS(p_data || p_model)`` (Goodfellow et al. 2014, Theorem 1); computed
    here directly from ``d*``, so the identity is a check, not a definition.
    """
    w = _grid_weights(x)
    p = np.asarray(p_data(x) if callable(p_data) else p_data, dtype=np.float64)
    q = np.asarray(p_model(x) if callable(p_model) else p_model, dtype=np.float64)
    optimal_discriminator(p, q)  # checks the values
    # p log d* + q log(1 - d*) with log d* = log p - log(p + q) (no underflow of d* in tails)
    total = p + q
    return float(np.sum(w * (_kl_terms(p, total) + _kl_terms(q, total))))
