"""Onsager's and Yang's exact results for the infinite 2-D Ising lattice (week 6).

The critical temperature :data:`T_C`, the energy and the free energy per spin (Onsager 1944)
and the spontaneous magnetisation (Yang 1952), for the square lattice with ``J = 1``, no field
and ``k_B = 1``: the ``L -> infinity`` limit of :mod:`coursekit.reference.ising` (which
re-exports these names; its module notes hold the conventions). Each function takes a
temperature or an array of them (finite, > 0) and returns a float or an array of the same shape.

The elliptic integral is computed by the arithmetic-geometric mean and written so that nothing
cancels: the energy and the free energy are accurate to about 1e-15 (relative) from
``T = 0.05`` to ``T = 1e8``, and the energy is ``-sqrt(2)`` at ``T_C``, where ``K(k)``
diverges. NumPy only.

References: L. Onsager, Phys. Rev. 65, 117 (1944); C. N. Yang, Phys. Rev. 85, 808 (1952);
M. E. J. Newman and G. T. Barkema, *Monte Carlo Methods in Statistical Physics* (Oxford, 1999).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from coursekit.checks import check_float, check_numbers

__all__ = [
    "T_C",
    "onsager_energy_per_spin",
    "onsager_free_energy_per_spin",
    "spontaneous_magnetisation",
]

#: Onsager's critical temperature ``2 / log(1 + sqrt(2)) = 2.269185...`` (J = k_B = 1).
T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


def _temperatures(T: Any) -> tuple[np.ndarray, bool]:
    """``T`` (a number or an array of numbers, all finite and > 0) as float64, and whether it
    was a scalar (the Onsager functions then return a float)."""
    if np.ndim(T) == 0:
        return np.asarray(check_float(T, "T", "> 0", "temperature")), True
    arr = check_numbers(T, "T", "temperatures (numbers > 0)")
    if np.any(arr <= 0):
        raise ValueError(f"T (temperatures) must all be > 0, got {arr[arr <= 0].flat[0].item()!r}")
    return arr, False


def _out(x: np.ndarray, scalar: bool) -> float | np.ndarray:
    """A float for a scalar ``T``, else the array."""
    return float(x) if scalar else x


def _agm_and_gap(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``AGM(1, b)`` and ``AGM(1, b) - b`` for ``b = 1 - delta``, ``delta`` in [0, 1].

    The gap is summed from the exact increments ``b_{n+1} - b_n = sqrt(b_n) d_n /
    (sqrt(a_n) + sqrt(b_n))`` with ``d_n = a_n - b_n`` (``d_{n+1} = d_n^2 / (2 (sqrt(a_n) +
    sqrt(b_n))^2)``), all positive, so it keeps full relative precision when ``b`` is close to 1
    (high ``T``), where ``AGM - b`` itself would cancel.
    """
    a = np.ones_like(delta)
    b = 1.0 - delta
    d = delta.copy()
    gap = np.zeros_like(delta)
    for _ in range(64):  # quadratic convergence; b ~ 1e-300 needs about 15 steps
        sa, sb = np.sqrt(a), np.sqrt(b)
        gap += sb * d / (sa + sb)
        a, b, d = 0.5 * (a + b), sa * sb, d * d / (2.0 * (sa + sb) ** 2)
        if np.all(d <= 1e-17 * a):
            break
    return a, gap


def _onsager_parts(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(beta, q = exp(-4 beta), delta = 1 - k')`` with the complementary modulus ``k' =
    |2 tanh^2(2 beta) - 1| = sqrt(1 - k^2)``; ``delta`` is computed without cancellation, so
    that both ends of the T axis (``k' -> 1``) keep full relative precision."""
    beta = 1.0 / t
    q = np.exp(-4.0 * beta)  # tanh(2 beta) = (1 - q) / (1 + q)
    one_minus_q = -np.expm1(-4.0 * beta)
    # 1 - k' is 2 (1 - tanh^2) = 8q / (1+q)^2 below T_C and 2 tanh^2 = 2 (1-q)^2 / (1+q)^2 above
    delta = np.where(t < T_C, 8.0 * q, 2.0 * one_minus_q**2) / (1.0 + q) ** 2
    return beta, q, np.clip(delta, 0.0, 1.0)


def onsager_energy_per_spin(T: Any) -> float | np.ndarray:
    """Onsager's internal energy per spin of the infinite lattice, ``u(T)`` (J = k_B = 1).

    ``u = -coth(2 beta) [1 + (2 / pi) (2 tanh^2(2 beta) - 1) K(k)]`` with
    ``k = 2 sinh(2 beta) / cosh^2(2 beta)`` and ``K`` the complete elliptic integral of the first
    kind (Onsager 1944; Newman and Barkema 1999, ch. 3), computed by the arithmetic-geometric
    mean ``K(k) = pi / (2 AGM(1, k'))``, ``k' = sqrt(1 - k^2) = |2 tanh^2(2 beta) - 1|``. Then the
    bracket is ``1 + x / AGM(1, |x|)`` with ``x = 2 tanh^2(2 beta) - 1``: at ``T_C`` ``K`` diverges
    but ``x K -> 0``, and ``u(T_C) = -sqrt(2)`` exactly (continuous, with an infinite slope).
    Limits: ``u -> -2`` as ``T -> 0``, ``u ~ -2 / T -> 0`` as ``T -> inf``. ``T``: a number or
    an array (finite, > 0); returns a float or an array of the same shape.
    """
    t, scalar = _temperatures(T)
    beta, q, delta = _onsager_parts(t)
    kp = 1.0 - delta
    agm, gap = _agm_and_gap(delta)
    with np.errstate(invalid="ignore", divide="ignore"):  # AGM(1, 0) = 0 at T_C exactly
        bracket = np.where(t < T_C, 1.0 + kp / agm, gap / agm)
    bracket = np.where(kp == 0.0, 1.0, bracket)
    coth = (1.0 + q) / -np.expm1(-4.0 * beta)
    return _out(-coth * bracket, scalar)


@functools.cache
def _graded_nodes() -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on ``[0, pi/2]``, in 52 intervals halving towards 0.

    The free-energy integrand has complex singularities at ``psi = +-i k'`` (``psi`` the
    distance from ``pi/2``), arbitrarily close to the real axis near ``T_C``; on intervals
    ``[h/2, h]`` every singularity is at least as far away as the interval is long, so 16 nodes
    per interval reach machine precision for every ``k'``.
    """
    x, w = np.polynomial.legendre.leggauss(16)
    edges = (np.pi / 2) * 2.0 ** -np.arange(52.0)
    edges = np.append(edges, 0.0)[::-1]  # 0 < ... < pi/4 < pi/2
    lo, hi = edges[:-1, None], edges[1:, None]
    nodes = (0.5 * (hi - lo) * x + 0.5 * (hi + lo)).ravel()
    weights = (0.5 * (hi - lo) * w).ravel()
    return nodes, weights


def onsager_free_energy_per_spin(T: Any) -> float | np.ndarray:
    """Onsager's free energy per spin of the infinite lattice, ``f(T)`` (J = k_B = 1).

    ``-beta f = log(2 cosh 2 beta) + (1 / pi) int_0^{pi/2} log[(1 + sqrt(1 - k^2 sin^2 phi)) / 2]
    dphi`` (Onsager 1944, in the one-dimensional form of the textbooks), ``k`` as in
    :func:`onsager_energy_per_spin`. With ``psi = pi/2 - phi`` the root is written
    ``sqrt(sin^2 psi + k'^2 cos^2 psi)`` and the logarithm as ``log1p(-k^2 cos^2 psi / (2 (1 +
    root)))``, free of cancellation, and the integral is done by
    Gauss-Legendre quadrature on intervals graded towards ``psi = 0``, accurate to rounding for
    every ``T`` (at ``T_C``: ``-beta f = log(2) / 2 + 2 G / pi``, ``G`` Catalan's constant).
    ``u = d(beta f) / d beta`` gives back :func:`onsager_energy_per_spin`; ``f -> -2`` as
    ``T -> 0`` and ``f ~ -T log 2`` as ``T -> inf``. ``T``: a number or an array (finite, > 0).
    """
    t, scalar = _temperatures(T)
    beta, q, delta = _onsager_parts(t)
    psi, w = _graded_nodes()
    kp2 = ((1.0 - delta) ** 2)[..., None]  # k'^2
    k2 = (delta * (2.0 - delta))[..., None]  # k^2 = 1 - k'^2, without cancellation
    root = np.sqrt(np.sin(psi) ** 2 + kp2 * np.cos(psi) ** 2)  # sqrt(1 - k^2 cos^2 psi)
    integral = np.log1p(-0.5 * k2 * np.cos(psi) ** 2 / (1.0 + root)) @ w  # log((1 + root) / 2)
    minus_beta_f = 2.0 * beta + np.log1p(q) + integral / np.pi  # log(2 cosh 2b) = 2b + log(1+q)
    return _out(-minus_beta_f * t, scalar)


def spontaneous_magnetisation(T: Any) -> float | np.ndarray:
    """Spontaneous magnetisation per spin of the infinite lattice (Yang 1952).

    ``|m| = (1 - sinh(2 beta)^-4)^(1/8)`` below ``T_C``, 0 at and above it. ``sinh(2 beta)^-4``
    is computed as ``(2 e^{-2 beta} / (1 - e^{-4 beta}))^4``, so ``T -> 0`` gives 1 without
    overflow. ``T``: a number or an array (finite, > 0); returns a float or an array.
    """
    t, scalar = _temperatures(T)
    beta = 1.0 / t
    with np.errstate(over="ignore"):  # T >> 1: huge, and unused above T_C
        inv_sinh4 = (2.0 * np.exp(-2.0 * beta) / -np.expm1(-4.0 * beta)) ** 4
    m = np.where(t < T_C, np.clip(1.0 - inv_sinh4, 0.0, 1.0) ** 0.125, 0.0)
    return _out(m, scalar)
