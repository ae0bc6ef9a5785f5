"""Annealed importance sampling (AIS) estimate of an RBM's log partition function.

Follows R. Salakhutdinov and I. Murray, "On the quantitative analysis of deep belief networks",
ICML 2008 (S&M 2008), in the lecture's notation (``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h];
see :mod:`coursekit.reference.rbm`).

The base model A is an RBM with ``W = 0``, ``b = 0`` and visible bias ``a_A`` (by default the
"base-rate" model of the training data, :func:`base_rate_biases`). Its partition function is
known exactly, ``log Z_A = sum_i softplus(a_A,i) + n_h log 2`` (the ``n_h`` free hidden units
contribute the ``2**n_h``), and it can be sampled exactly. AIS anneals from A to the target
RBM B through the intermediate distributions (hidden units summed out)

    p*_k(x) = exp((1 - beta_k) a_A^T x) exp(beta_k a^T x)
              * prod_j (1 + exp(beta_k (b_j + x^T W[:, j])))

for ``0 = beta_0 <= beta_1 <= ... <= beta_K = 1``; at ``beta = 0`` the product is ``2**n_h``,
consistent with ``Z_A``. Each chain starts with an exact sample from A and, for k = 1..K,
adds ``log p*_k(x) - log p*_{k-1}(x)`` to its log importance weight, then (for k < K) takes one
Gibbs step ``x -> h -> x`` of the intermediate RBM with weights ``beta_k W``, hidden bias
``beta_k b`` and visible bias ``(1 - beta_k) a_A + beta_k a``, which leaves ``p_k`` invariant.
The mean weight is an unbiased estimate of ``Z_B / Z_A``, so
``log Z_B ~ log Z_A + log mean(w)``. Everything is done with log weights and vectorised over
the chains (a Python loop runs over the betas only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit.reference.numerics import _as_rng, logsumexp, sigmoid, softplus
from coursekit.reference.rbm_base import _check_bias, _check_params, _check_x, _neg_free_energy

__all__ = [
    "AISResult",
    "ais_log_partition",
    "base_rate_biases",
    "beta_schedule",
    "halve_schedule",
    "log_likelihood_ais",
    "sm2008_schedule",
]

# The course's default schedule, as (segment start, end, intervals): 0 -> 0.5 by 1e-3,
# 0.5 -> 0.9 by 1e-4, 0.9 -> 1 by 1e-4; 500 + 4000 + 1000 intervals, 5,501 betas. It has the
# shape of S&M 2008's schedule but is coarser near beta = 1.
_SM_SEGMENTS = ((0.0, 0.5, 500), (0.5, 0.9, 4000), (0.9, 1.0, 1000))
# S&M 2008's own schedule: 0 -> 0.5 by 1e-3, 0.5 -> 0.9 by 1e-4, 0.9 -> 1 by 1e-5;
# 500 + 4000 + 10000 = 14,500 intervals (14,501 betas).
_SM2008_SEGMENTS = ((0.0, 0.5, 500), (0.5, 0.9, 4000), (0.9, 1.0, 10000))


def _sigmoid_fast(z):
    """``1 / (1 + exp(-z))`` in place on the float64 array ``z`` (``exp`` may overflow to inf,
    which gives the correct limit 0)."""
    with np.errstate(over="ignore"):
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        return np.reciprocal(z, out=z)


def base_rate_biases(x, eps=0.05):
    """Visible biases ``a_A`` [n_v] of the base-rate model fitted to data ``x`` [n, n_v].

    ``a_A,i = log(p_i / (1 - p_i))`` with the smoothed per-pixel mean
    ``p_i = (1 - eps) * mean(x[:, i]) + eps / 2``, i.e. the data mean mixed with a fraction
    ``eps`` of a fair coin, so a pixel that is never (always) on gets a finite bias
    (``eps = 0.05``: ``p = 0.025``, bias ~ -3.7). The base-rate model is the starting
    distribution of AIS in R. Salakhutdinov and I. Murray, "On the quantitative analysis of
    deep belief networks", ICML 2008 (their code smooths with pseudo-counts instead).

    ``x`` may be binary or grey values in [0, 1]; ``0 < eps < 1``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"x must be 2-D [n, n_v] with at least one row, got shape {x.shape}")
    if not np.all((x >= 0.0) & (x <= 1.0)):
        raise ValueError("x must have values in [0, 1]")
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1), got {eps!r}")
    p = (1.0 - eps) * x.mean(axis=0) + 0.5 * eps
    return np.log(p) - np.log1p(-p)


def beta_schedule(n_betas=None):
    """Inverse temperatures ``0 = beta_0 < ... < beta_K = 1`` for AIS -> float64 [n_betas].

    ``n_betas=None``: 0 -> 0.5 in steps of 1e-3, 0.5 -> 0.9 and 0.9 -> 1 in steps of 1e-4
    (5,501 values; S&M 2008's shape, but their last segment is ten times finer: see
    :func:`sm2008_schedule`). ``n_betas=N``: a scaled-down schedule of the same
    shape, linear in each of the three segments with the intervals shared out in the same
    proportions (500 : 4000 : 1000), so ten times denser above 0.5 than below; for ``N < 4``
    simply ``linspace(0, 1, N)``. ``N >= 2``.
    """
    if n_betas is None:
        counts = [c for _, _, c in _SM_SEGMENTS]
    else:
        if isinstance(n_betas, bool) or not isinstance(n_betas, (int, np.integer)) or n_betas < 2:
            raise ValueError(f"n_betas must be an int >= 2, got {n_betas!r}")
        n_int = int(n_betas) - 1
        if n_int < 3:
            return np.linspace(0.0, 1.0, n_int + 1)
        total = sum(c for _, _, c in _SM_SEGMENTS)
        c1 = max(1, round(n_int * _SM_SEGMENTS[0][2] / total))
        c3 = max(1, round(n_int * _SM_SEGMENTS[2][2] / total))
        counts = [c1, n_int - c1 - c3, c3]
    parts = [
        np.linspace(lo, hi, c + 1)[:-1] for (lo, hi, _), c in zip(_SM_SEGMENTS, counts, strict=True)
    ]
    return np.concatenate(parts + [np.array([1.0])])


def sm2008_schedule():
    """Salakhutdinov and Murray's (2008) schedule -> float64 [14501]: 0 -> 0.5 in steps of
    1e-3, 0.5 -> 0.9 in steps of 1e-4, 0.9 -> 1 in steps of 1e-5 (14,500 intervals)."""
    parts = [np.linspace(lo, hi, c + 1)[:-1] for lo, hi, c in _SM2008_SEGMENTS]
    return np.concatenate(parts + [np.array([1.0])])


def halve_schedule(betas):
    """Every other beta of a schedule, ending at exactly 1: half the intervals -> float64.

    ``halve_schedule(sm2008_schedule())`` has 7,251 betas. Comparing AIS on ``betas`` with AIS
    on the halved schedule measures how much the estimate still moves when the number of
    betas doubles (:func:`coursekit.reference.evaluate.estimate_log_z`).
    """
    betas = _check_betas(betas)
    if betas.size < 3:
        raise ValueError(f"betas must have at least 3 values to halve, got {betas.size}")
    half = betas[::2]
    return half if half[-1] == 1.0 else np.append(half, 1.0)


def _check_betas(betas):
    betas = np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or betas.size < 2:
        raise ValueError(f"betas must be a 1-D array of at least 2 values, got shape {betas.shape}")
    if betas[0] != 0.0 or betas[-1] != 1.0:
        raise ValueError(
            f"betas must start at 0 and end at 1 exactly, got {betas[0]!r} ... {betas[-1]!r}"
        )
    if not np.all(np.isfinite(betas)) or np.any(np.diff(betas) < 0):
        raise ValueError("betas must be finite and non-decreasing")
    return betas


@dataclass
class AISResult:
    """Outcome of :func:`ais_log_partition`.

    Attributes:
        log_z: the estimate ``log Z_A + log mean(w)``.
        log_z_low, log_z_high: ``log(mean(w) -/+ 3 std(w) / sqrt(M)) + log Z_A`` as in S&M 2008
            (``std`` with ``ddof=1``); ``log_z_low`` is ``-inf`` when ``mean - 3 sigma <= 0``.
        log_weights: [M] log importance weights ``log w`` of the ``M`` chains.
        log_z_base: exact ``log Z_A`` of the base-rate model.
        betas: the schedule used.
    """

    log_z: float
    log_z_low: float
    log_z_high: float
    log_weights: np.ndarray
    log_z_base: float
    betas: np.ndarray

    @property
    def std_log_z(self) -> float:
        """Delta-method standard error of ``log mean(w)``: ``std(w) / (sqrt(M) mean(w))``.

        Computed from the weights rescaled by their maximum (``ddof=1``; NaN for one chain).
        It measures the Monte Carlo spread only; AIS with too few betas is biased low, which
        this does not show.
        """
        return _relative_sem(self.log_weights)

    def run_spread(self, n_runs: int) -> float:
        """Standard error of ``log_z`` from the spread over ``n_runs`` independent runs.

        The ``M`` chains are independent, so splitting them into ``n_runs`` groups of
        ``M // n_runs`` (in order; leftovers dropped) gives ``n_runs`` independent AIS runs.
        Returns ``std(log Z_g, ddof=1) / sqrt(n_runs)`` over their estimates ``log Z_g``.
        Unlike :attr:`std_log_z` it needs no delta method, so it is less fooled by a few
        chains with huge weights (but it is itself noisy for few runs).
        """
        if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)):
            raise ValueError(f"n_runs must be an int >= 2, got {n_runs!r}")
        size = self.log_weights.size // n_runs if n_runs >= 2 else 0
        if size < 1:
            raise ValueError(
                f"n_runs must be an int in 2..{self.log_weights.size} (the chains), got {n_runs!r}"
            )
        groups = self.log_weights[: size * n_runs].reshape(n_runs, size)
        log_z = logsumexp(groups, axis=1) - np.log(size)
        return float(np.std(log_z, ddof=1) / np.sqrt(n_runs))


def _relative_sem(log_w):
    """``std(w, ddof=1) / (sqrt(M) mean(w))`` from log weights, without overflow."""
    log_w = np.asarray(log_w, dtype=np.float64)
    if log_w.size < 2:
        return float("nan")
    w = np.exp(log_w - log_w.max())
    return float(np.std(w, ddof=1) / (np.sqrt(w.size) * np.mean(w)))


def ais_log_partition(
    W,
    a,
    b,
    *,
    n_chains=100,
    betas=None,
    n_betas=None,
    base_a=None,
    rng=None,
):
    """Estimate ``log Z`` of the RBM ``(W, a, b)`` by AIS from a base-rate model -> AISResult.

    Args:
        W, a, b: the RBM, shapes [n_v, n_h], [n_v], [n_h].
        n_chains: number ``M`` of independent AIS runs (vectorised).
        betas: explicit schedule, 1-D, non-decreasing, starting at exactly 0 and ending at
            exactly 1. If not given, :func:`beta_schedule` ``(n_betas)`` is used (the S&M 2008
            schedule of 5501 betas when ``n_betas`` is None too). Give at most one of the two.
        base_a: visible biases ``a_A`` of the base model, e.g. :func:`base_rate_biases` of the
            training data (recommended). ``None`` uses zeros: the uniform distribution.
        rng: None, an int seed or a ``np.random.Generator``.

    Cost: ``2 (K - 1)`` products of size [M, n_v] x [n_v, n_h] for ``K + 1`` betas. The
    estimate of ``Z`` is unbiased; that of ``log Z`` tends to be low when the schedule is short.
    """
    W, a, b = _check_params(W, a, b)
    n_v, n_h = W.shape
    if betas is not None and n_betas is not None:
        raise ValueError("give betas or n_betas, not both")
    betas = beta_schedule(n_betas) if betas is None else _check_betas(betas)
    if isinstance(n_chains, bool) or not isinstance(n_chains, (int, np.integer)) or n_chains < 1:
        raise ValueError(f"n_chains must be a positive int, got {n_chains!r}")
    a_base = (
        np.zeros(n_v)
        if base_a is None
        else _check_bias(base_a, n_v, "base_a (base-model visible bias)", "n_v", W.shape)
    )
    rng = _as_rng(rng)

    log_z_base = float(softplus(a_base).sum() + n_h * np.log(2.0))
    da = a - a_base  # the visible term of log p*_k is a_A^T x + beta_k (a - a_A)^T x

    # Exact samples from the base model, whose visible units are independent.
    x = (rng.random((n_chains, n_v)) < sigmoid(a_base)).astype(np.float64)
    log_w = np.zeros(n_chains)
    u = x @ W + b  # hidden input b + W^T x of the current state
    sp_prev = softplus(betas[0] * u).sum(axis=1)
    for k in range(1, len(betas)):
        b_prev, b_k = betas[k - 1], betas[k]
        z = b_k * u
        sp = softplus(z)
        # log p*_k(x) - log p*_{k-1}(x) at the current state
        log_w += (b_k - b_prev) * (x @ da) + (sp.sum(axis=1) - sp_prev)
        if k < len(betas) - 1:  # transition T_k, which leaves p_k invariant
            z -= sp
            p_h = np.exp(z, out=z)  # sigma(z) = exp(z - softplus(z)), reusing softplus(z)
            h = (rng.random((n_chains, n_h)) < p_h).astype(np.float64)
            field = a_base + b_k * (da + h @ W.T)  # (1 - beta) a_A + beta (a + W h)
            x = (rng.random((n_chains, n_v)) < _sigmoid_fast(field)).astype(np.float64)
            u = x @ W + b
            sp_prev = softplus(b_k * u).sum(axis=1)

    log_mean_w = logsumexp(log_w) - np.log(n_chains)
    r = _relative_sem(log_w)
    spread = 3.0 * r if np.isfinite(r) else 0.0
    log_low = log_mean_w + np.log1p(-spread) if spread < 1.0 else -np.inf
    return AISResult(
        log_z=float(log_z_base + log_mean_w),
        log_z_low=float(log_z_base + log_low),
        log_z_high=float(log_z_base + log_mean_w + np.log1p(spread)),
        log_weights=log_w,
        log_z_base=log_z_base,
        betas=betas,
    )


def log_likelihood_ais(x, W, a, b, result):
    """Mean log-likelihood of ``x`` [n, n_v] using an estimated log Z: ``mean(-F(x)) - log_z``.

    ``result`` is an :class:`AISResult` (or a float log Z). Because AIS tends to underestimate
    ``log Z``, this tends to *over*estimate the log-likelihood.
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=True)
    log_z = result.log_z if isinstance(result, AISResult) else float(result)
    return float(np.mean(_neg_free_energy(x, W, a, b)) - log_z)
