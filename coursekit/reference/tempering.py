"""Parallel tempering (replica exchange) for a binary RBM: NumPy reference and exact checks.

Plain Gibbs chains of a trained RBM mix slowly between modes (digits). Parallel tempering
(R. H. Swendsen and J.-S. Wang, Phys. Rev. Lett. 57, 2607 (1986); for RBMs G. Desjardins,
A. Courville, Y. Bengio, P. Vincent and O. Delalleau, "Tempered Markov chain Monte Carlo for
training of restricted Boltzmann machines", AISTATS 2010) runs ``R`` replicas of the chain at
inverse temperatures ``1 = beta_0 > beta_1 > ... > beta_{R-1} >= 0`` and now and then swaps
the states of neighbouring replicas. Hot replicas move freely; swaps carry their states down
to ``beta = 1``, whose samples are the ones we keep.

**The tempered RBM (our choice).** As in AIS (:mod:`coursekit.reference.ais`), the replica at
``beta`` samples the geometric mixture of the RBM and a *base-rate model* ``A`` (independent
pixels with visible bias ``a_A``, no weights):

    E_beta(x, h) = beta E(x, h) - (1 - beta) a_A^T x,

i.e. an RBM with weights ``beta W``, hidden bias ``beta b`` and visible bias
``(1 - beta) a_A + beta a``. With ``a_A = 0`` this is the plain "scale W, a, b by beta" of
Desjardins et al.; with the base rates of the data the hottest replica (``beta = 0``) draws
independent digit-shaped blobs instead of uniform noise, which lets a short ladder bridge to
``beta = 1``. Summing out ``h``, the replica's marginal is ``p_beta(x) = exp(-F_beta(x)) /
Z_beta`` with the tempered free energy

    -F_beta(x) = (1 - beta) a_A^T x + beta a^T x + sum_j softplus(beta (b_j + x^T W[:, j])).

**One step** of the sampler: (1) propose swaps between neighbouring replicas ``(k, k+1)`` for
even ``k`` on even steps and odd ``k`` on odd steps (pairs that share no replica), (2) one
block-Gibbs sweep ``x -> h -> x`` of every replica at its own temperature.

**The swap rule.** The state of replica ``k`` is its visible vector (``h`` is redrawn from
``p_beta(h | x)`` by the next sweep), and the target is ``prod_k p_{beta_k}(x_k)``. Swapping
``x_k <-> x_{k+1}`` is a symmetric proposal, so Metropolis-Hastings accepts it with

    min(1, exp(L)),  L = [-F_k(x_{k+1}) - F_{k+1}(x_k)] - [-F_k(x_k) - F_{k+1}(x_{k+1})],

where ``F_k = F_{beta_k}``; the partition functions cancel. This satisfies detailed balance
pair by pair (:func:`swap_detailed_balance_error` checks it exactly), and a swap move and the
Gibbs sweeps each leave the product distribution invariant (:func:`pt_kernel`). Because the
softplus term is not linear in ``beta``, ``L`` is *not* ``(beta_k - beta_{k+1})`` times an
energy difference; that simpler form holds for swaps of joint states ``(x, h)``, for which
``E_beta`` is linear in ``beta``: ``L = (beta_k - beta_{k+1}) (E'(x_k, h_k) - E'(x_{k+1},
h_{k+1}))`` with ``E' = E + a_A^T x``. We use the free-energy form (hidden units summed out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coursekit.checks import to_numpy
from coursekit.common.uniforms import check_uniform_arrays
from coursekit.reference.rbm import (
    _as_rng,
    _check_bias,
    _check_enum_size,
    _check_params,
    _check_x,
    all_states,
    log_partition,
    sigmoid,
    softplus,
)
from coursekit.reference.round_trips import RoundTrips

__all__ = [
    "TemperingResult",
    "check_base_a",
    "check_betas",
    "check_chain_count",
    "check_start_states",
    "check_steps_every",
    "check_uniforms",
    "exact_marginal",
    "gibbs_kernel",
    "parallel_tempering",
    "product_marginal",
    "pt_kernel",
    "swap_detailed_balance_error",
    "swap_kernel",
    "swap_log_ratio",
    "temperature_ladder",
    "tempered_neg_free_energy",
    "tempered_params",
]


# --------------------------------------------------------------------------------------------
# Temperature ladders and the tempered model
# --------------------------------------------------------------------------------------------


def temperature_ladder(n_replicas: int, beta_min: float = 0.0, *, power: float = 1.0) -> np.ndarray:
    """Inverse temperatures ``1 = beta_0 > ... > beta_{R-1} = beta_min`` -> float64 [R].

    ``beta_k = 1 - (1 - beta_min) (k / (R - 1))**power``: ``power = 1`` spaces them evenly;
    ``power > 1`` packs them closer near ``beta = 1``, where a trained RBM's free energy
    changes fastest with ``beta`` (the same reason AIS schedules are densest near 1), and
    spreads them near ``beta_min``. ``n_replicas = 1`` gives ``[1.0]`` (plain Gibbs).
    """
    if isinstance(n_replicas, bool) or not isinstance(n_replicas, (int, np.integer)):
        raise ValueError(f"n_replicas must be an int >= 1, got {n_replicas!r}")
    if n_replicas < 1:
        raise ValueError(f"n_replicas must be an int >= 1, got {n_replicas!r}")
    if not 0.0 <= beta_min < 1.0:
        raise ValueError(f"beta_min must be in [0, 1), got {beta_min!r}")
    if not power > 0.0:
        raise ValueError(f"power must be > 0, got {power!r}")
    if n_replicas == 1:
        return np.ones(1)
    s = np.arange(n_replicas) / (n_replicas - 1)
    betas = 1.0 - (1.0 - beta_min) * s**power
    betas[-1] = beta_min
    return betas


def check_betas(betas) -> np.ndarray:
    """Validate a ladder: 1-D, ``betas[0] == 1``, strictly decreasing, all in [0, 1]."""
    betas = np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or betas.size < 1:
        raise ValueError(f"betas must be a 1-D array of at least 1 value, got shape {betas.shape}")
    if not np.all(np.isfinite(betas)) or np.any(betas < 0.0) or np.any(betas > 1.0):
        raise ValueError("betas must be finite and in [0, 1]")
    if betas[0] != 1.0:
        raise ValueError(f"betas[0] must be exactly 1 (the model itself), got {betas[0]!r}")
    if np.any(np.diff(betas) >= 0):
        raise ValueError("betas must be strictly decreasing: 1 = beta_0 > beta_1 > ...")
    return betas


def _base(base_a, n_v, W_shape) -> np.ndarray:
    if base_a is None:
        return np.zeros(n_v)
    return _check_bias(base_a, n_v, "base_a (base-model visible bias)", "n_v", W_shape)


def tempered_params(W, a, b, beta: float, base_a=None):
    """The RBM sampled at inverse temperature ``beta``: ``(beta W, (1-beta) a_A + beta a,
    beta b)``."""
    W, a, b = _check_params(W, a, b)
    a_base = _base(base_a, W.shape[0], W.shape)
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must be in [0, 1], got {beta!r}")
    return beta * W, (1.0 - beta) * a_base + beta * a, beta * b


def _neg_f(x, u, betas, a, a_base):
    """``-F_beta(x)`` for states ``x`` [..., n, n_v] with hidden input ``u = x W + b`` and
    ``betas`` broadcastable to [..., n]."""
    return (1.0 - betas) * (x @ a_base) + betas * (x @ a) + softplus(betas[..., None] * u).sum(-1)


def tempered_neg_free_energy(x, W, a, b, beta, base_a=None) -> np.ndarray:
    """``-F_beta(x)`` (the log of the unnormalised tempered marginal) of each row of ``x``.

    ``x`` [n, n_v] binary; ``beta`` a float or an array [n] (one per row). Returns [n].
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=True)
    a_base = _base(base_a, W.shape[0], W.shape)
    beta = np.broadcast_to(np.asarray(beta, dtype=np.float64), (x.shape[0],))
    return _neg_f(x, x @ W + b, beta, a, a_base)


def swap_log_ratio(x_k, x_l, beta_k, beta_l, W, a, b, base_a=None) -> np.ndarray:
    """Log acceptance ratio ``L`` of swapping the states ``x_k`` (at ``beta_k``) and ``x_l``
    (at ``beta_l``), row by row: ``-F_k(x_l) - F_l(x_k) + F_k(x_k) + F_l(x_l)`` -> [n].

    A swap is accepted with probability ``min(1, exp(L))``.
    """
    nf = tempered_neg_free_energy
    return (
        nf(x_l, W, a, b, beta_k, base_a)
        + nf(x_k, W, a, b, beta_l, base_a)
        - nf(x_k, W, a, b, beta_k, base_a)
        - nf(x_l, W, a, b, beta_l, base_a)
    )


# --------------------------------------------------------------------------------------------
# The sampler
# --------------------------------------------------------------------------------------------


@dataclass
class TemperingResult:
    """Outcome of a parallel-tempering run (shared by the NumPy, PyTorch and Keras samplers).

    Attributes:
        samples: ``p(x | h)`` of the ``beta = 1`` replica after the last sweep, float32
            [n, n_v] (the "mean images"); with ``every`` the snapshots [steps // every, n, n_v].
        states: the final binary states of every replica, float32 [R, n, n_v] (row 0 is
            ``beta = 1``).
        betas: the ladder, float64 [R].
        swap_rates: accepted / proposed swaps of each neighbouring pair ``(k, k+1)``, [R-1].
        swap_attempts: number of swaps proposed for each pair, int [R-1].
        round_trips: completed round trips (coldest -> hottest -> coldest) of each chain's
            replicas, int [n] (:mod:`coursekit.reference.round_trips`): whether states from the
            hot end reach ``beta = 1``, which the swap rates do not say.
    """

    samples: np.ndarray
    states: np.ndarray
    betas: np.ndarray
    swap_rates: np.ndarray
    swap_attempts: np.ndarray
    round_trips: np.ndarray

    def ladder_table(self) -> str:
        """The ladder and the swap acceptance rate of each neighbouring pair, as text."""
        lines = ["pair   beta_k -> beta_k+1   swap rate"]
        for k, rate in enumerate(self.swap_rates):
            lines.append(
                f"{k:>2}-{k + 1:<2}  {self.betas[k]:.4f} -> {self.betas[k + 1]:.4f}   {rate:9.3f}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        r = self.swap_rates
        rates = f"min {r.min():.2f}, mean {r.mean():.2f}" if r.size else "none (one replica)"
        trips = self.round_trips
        return (
            f"parallel tempering: {len(self.betas)} replicas, beta {self.betas[0]:g} .. "
            f"{self.betas[-1]:g}; swap rates {rates}; {int(trips.sum()):,} round trips "
            f"(coldest -> hottest -> coldest) in {len(trips):,} chains, {int((trips > 0).sum()):,} "
            "chains with at least one"
        )


def check_steps_every(steps, every):
    """Validate ``steps >= 1`` and ``every`` (None or 1..steps) -> (steps, every or None)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if every is not None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)):
            raise ValueError(f"every must be None or an int in 1..steps, got {every!r}")
        if not 1 <= every <= steps:
            raise ValueError(f"every must be None or an int in 1..steps={steps}, got {every!r}")
        every = int(every)
    return int(steps), every


def check_chain_count(n) -> int:
    """The number of independent PT chains, an int >= 1."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    return int(n)


def check_base_a(base_a, n_v: int) -> np.ndarray | None:
    """The PyTorch and Keras samplers' ``base_a``: None, or finite float32 [n_v]."""
    if base_a is None:
        return None
    a_base = np.asarray(to_numpy(base_a), dtype=np.float32)
    if a_base.shape != (n_v,) or not np.all(np.isfinite(a_base)):
        raise ValueError(f"base_a must be a finite array of shape (n_v,) = ({n_v},)")
    return a_base


def check_start_states(start, n: int, n_v: int) -> np.ndarray | None:
    """The PyTorch and Keras samplers' ``start``: None for ``"noise"`` (each sampler draws its
    own), else binary float32 [n, n_v] (given to every replica)."""
    if isinstance(start, str):
        if start != "noise":
            raise ValueError(f"start must be 'noise' or a binary array [n, n_v], got {start!r}")
        return None
    x0 = np.asarray(to_numpy(start), dtype=np.float32)
    if x0.ndim != 2 or x0.shape[1] != n_v:
        raise ValueError(f"start must be 2-D [n, n_v={n_v}], got shape {x0.shape}")
    if x0.shape[0] != n:
        raise ValueError(f"start has {x0.shape[0]} rows but n={n}")
    if not np.all((x0 == 0) | (x0 == 1)):
        raise ValueError("start must be binary (every value 0 or 1)")
    return x0


def check_uniforms(uniforms, steps: int, n_rep: int, n: int, n_v: int, n_h: int):
    """Validate ``(u_swap [steps, R-1, n], u_h [steps, R, n, n_h], u_x [steps, R, n, n_v])``."""
    shapes = {"u_swap": (steps, n_rep - 1, n), "u_h": (steps, n_rep, n, n_h),
              "u_x": (steps, n_rep, n, n_v)}  # fmt: skip
    return check_uniform_arrays(uniforms, shapes, np.float64)


def swap_masks(log_ratio, u_swap, step: int):
    """Which proposed swaps are accepted: ``log_ratio``, ``u_swap`` [R-1, n] -> bool [R-1, n].

    Pairs ``(k, k+1)`` with ``k % 2 == step % 2`` are proposed; a proposal is accepted when
    ``u < exp(L)``, computed as ``log(u) < L`` (``u = 0`` always accepts).
    """
    active = (np.arange(log_ratio.shape[0]) % 2 == step % 2)[:, None]
    with np.errstate(divide="ignore"):
        return active & (np.log(u_swap) < log_ratio)


def parallel_tempering(
    W,
    a,
    b,
    n: int,
    *,
    steps: int,
    betas=None,
    base_a=None,
    start="noise",
    every: int | None = None,
    uniforms=None,
    rng=None,
) -> TemperingResult:
    """Sample the RBM ``(W, a, b)`` with ``n`` independent parallel-tempering chains.

    Args:
        W, a, b: the RBM, [n_v, n_h], [n_v], [n_h].
        n: number of independent PT chains (each has ``R = len(betas)`` replicas).
        steps: PT steps; each proposes swaps, then sweeps every replica once (see module doc).
        betas: the ladder, ``1 = betas[0] > betas[1] > ...`` (default
            :func:`temperature_ladder` ``(10)``).
        base_a: visible bias of the base-rate model the ladder tempers towards (None: zeros,
            i.e. plain scaling of ``W, a, b`` by ``beta``).
        start: ``"noise"`` (Bernoulli(0.5) at every replica) or binary [n, n_v] states given
            to every replica.
        every: None returns the last ``p(x | h)`` of the ``beta = 1`` replica [n, n_v]; an int
            returns snapshots after steps ``every, 2 every, ...`` [steps // every, n, n_v].
        uniforms: optional ``(u_swap [steps, R-1, n], u_h [steps, R, n, n_h],
            u_x [steps, R, n, n_v])`` for deterministic runs (step ``s`` uses index ``s``);
            a noise start still draws from ``rng``.
        rng: None, an int seed or a ``np.random.Generator``.
    """
    W, a, b = _check_params(W, a, b)
    n_v, n_h = W.shape
    a_base = _base(base_a, n_v, W.shape)
    betas = check_betas(temperature_ladder(10) if betas is None else betas)
    n = check_chain_count(n)
    steps, every = check_steps_every(steps, every)
    rng = _as_rng(rng)
    n_rep = betas.size
    if isinstance(start, str):
        if start != "noise":
            raise ValueError(f"start must be 'noise' or a binary array [n, n_v], got {start!r}")
        x = (rng.random((n_rep, n, n_v)) < 0.5).astype(np.float64)
    else:
        x0 = _check_x(start, W, binary=True, name="start")
        if x0.shape[0] != n:
            raise ValueError(f"start has {x0.shape[0]} rows but n={n}")
        x = np.broadcast_to(x0, (n_rep, n, n_v)).copy()
    if uniforms is not None:
        uniforms = check_uniforms(uniforms, steps, n_rep, n, n_v, n_h)

    bcol = betas[:, None]  # [R, 1]
    vis_base = (1.0 - betas)[:, None, None] * a_base + betas[:, None, None] * a  # [R, 1, n_v]
    u = x @ W + b  # [R, n, n_h]
    accepted = np.zeros(max(n_rep - 1, 0))
    attempts = np.zeros(max(n_rep - 1, 0), dtype=np.int64)
    snaps = []
    p_x = None
    walk = RoundTrips(n_rep, n)
    for s in range(steps):
        if n_rep > 1:
            own = _neg_f(x, u, np.broadcast_to(bcol, (n_rep, n)), a, a_base)  # [R, n]
            up = _neg_f(x[1:], u[1:], np.broadcast_to(bcol[:-1], (n_rep - 1, n)), a, a_base)
            down = _neg_f(x[:-1], u[:-1], np.broadcast_to(bcol[1:], (n_rep - 1, n)), a, a_base)
            log_r = up + down - own[:-1] - own[1:]  # [R-1, n]
            u_s = rng.random((n_rep - 1, n)) if uniforms is None else uniforms[0][s]
            acc = swap_masks(log_r, u_s, s)
            accepted += acc.sum(axis=1)
            attempts += (np.arange(n_rep - 1) % 2 == s % 2) * n
            x, u = _apply_swaps(x, acc), _apply_swaps(u, acc)
            walk.update(acc)
        u_h = rng.random((n_rep, n, n_h)) if uniforms is None else uniforms[1][s]
        h = (u_h < sigmoid(betas[:, None, None] * u)).astype(np.float64)
        p_x = sigmoid(vis_base + betas[:, None, None] * (h @ W.T))
        u_x = rng.random((n_rep, n, n_v)) if uniforms is None else uniforms[2][s]
        x = (u_x < p_x).astype(np.float64)
        u = x @ W + b
        if every is not None and (s + 1) % every == 0:
            snaps.append(p_x[0].astype(np.float32))
    rates = np.divide(accepted, attempts, out=np.zeros_like(accepted), where=attempts > 0)
    return TemperingResult(
        samples=np.stack(snaps) if every is not None else p_x[0].astype(np.float32),
        states=x.astype(np.float32),
        betas=betas,
        swap_rates=rates,
        swap_attempts=attempts,
        round_trips=walk.per_chain,
    )


def _apply_swaps(x, acc):
    """Exchange ``x[k]`` and ``x[k+1]`` for the chains where ``acc[k]`` (pairs disjoint)."""
    out = x.copy()
    for k in np.flatnonzero(acc.any(axis=1)):
        m = acc[k]
        out[k, m], out[k + 1, m] = x[k + 1, m], x[k, m]
    return out


# --------------------------------------------------------------------------------------------
# Exact checks on tiny RBMs (enumeration)
# --------------------------------------------------------------------------------------------


def exact_marginal(W, a, b, beta: float = 1.0, base_a=None) -> np.ndarray:
    """Exact ``p_beta(x)`` over all ``2**n_v`` visible states (``all_states`` order) -> [2**n_v]."""
    Wt, at, bt = tempered_params(W, a, b, beta, base_a)
    _check_enum_size(Wt.shape[0], "n_v")
    x = all_states(Wt.shape[0]).astype(np.float64)
    log_p = x @ at + softplus(x @ Wt + bt).sum(axis=1) - log_partition(Wt, at, bt)
    return np.exp(log_p)


def gibbs_kernel(W, a, b, beta: float = 1.0, base_a=None) -> np.ndarray:
    """Exact transition matrix ``T[x, x'] = sum_h p_beta(h | x) p_beta(x' | h)`` of one sweep.

    Enumerates visible and hidden states (both layers at most 12 units) -> [2**n_v, 2**n_v].
    """
    Wt, at, bt = tempered_params(W, a, b, beta, base_a)
    n_v, n_h = Wt.shape
    if n_v > 12 or n_h > 12:
        raise ValueError(f"gibbs_kernel enumerates both layers; W is {Wt.shape}, limit 12 x 12")
    xs = all_states(n_v).astype(np.float64)
    hs = all_states(n_h).astype(np.float64)
    ph = sigmoid(xs @ Wt + bt)  # [X, n_h]
    p_h_given_x = np.prod(np.where(hs[None] == 1, ph[:, None], 1 - ph[:, None]), axis=2)
    px = sigmoid(hs @ Wt.T + at)  # [H, n_v]
    p_x_given_h = np.prod(np.where(xs[None] == 1, px[:, None], 1 - px[:, None]), axis=2)
    return p_h_given_x @ p_x_given_h


def swap_kernel(W, a, b, betas, pair: int, base_a=None) -> np.ndarray:
    """Exact transition matrix of one swap proposal between replicas ``pair`` and ``pair + 1``.

    The joint state of ``R`` replicas is indexed ``i_0 * X**(R-1) + ... + i_{R-1}`` (``X =
    2**n_v``, ``i_k`` the :func:`all_states` index of replica ``k``) -> [X**R, X**R].
    """
    betas = check_betas(betas)
    W, a, b = _check_params(W, a, b)
    n_rep, n_x = betas.size, 1 << W.shape[0]
    if n_x**n_rep > 4096:
        raise ValueError("swap_kernel is for tiny models: 2**(n_v * R) must be <= 4096")
    if not 0 <= pair < n_rep - 1:
        raise ValueError(f"pair must be in 0..{n_rep - 2}, got {pair!r}")
    xs = all_states(W.shape[0]).astype(np.float64)
    idx = np.indices((n_x,) * n_rep).reshape(n_rep, -1)  # [R, X**R] replica state indices
    L = swap_log_ratio(
        xs[idx[pair]], xs[idx[pair + 1]], betas[pair], betas[pair + 1], W, a, b, base_a
    )
    alpha = np.exp(np.minimum(L, 0.0))
    swapped = idx.copy()
    swapped[[pair, pair + 1]] = idx[[pair + 1, pair]]
    target = np.ravel_multi_index(tuple(swapped), (n_x,) * n_rep)
    T = np.diag(1.0 - alpha)
    T[np.arange(idx.shape[1]), target] += alpha
    return T


def pt_kernel(W, a, b, betas, step: int, base_a=None) -> np.ndarray:
    """Exact transition matrix of PT step ``step`` (swaps of the pairs of its parity, then one
    Gibbs sweep of every replica), over the joint states of :func:`swap_kernel`."""
    betas = check_betas(betas)
    T = np.eye((1 << np.asarray(W).shape[0]) ** betas.size)
    for k in range(step % 2, betas.size - 1, 2):
        T = T @ swap_kernel(W, a, b, betas, k, base_a)
    sweep = np.ones((1, 1))
    for beta in betas:
        sweep = np.kron(sweep, gibbs_kernel(W, a, b, float(beta), base_a))
    return T @ sweep


def product_marginal(W, a, b, betas, base_a=None) -> np.ndarray:
    """Exact ``prod_k p_{beta_k}(x_k)`` over the joint states of :func:`swap_kernel`."""
    out = np.ones(1)
    for beta in check_betas(betas):
        out = np.kron(out, exact_marginal(W, a, b, float(beta), base_a))
    return out


def swap_detailed_balance_error(W, a, b, betas, pair: int, base_a=None) -> float:
    """``max |pi(s) T(s, s') - pi(s') T(s', s)|`` of one swap kernel (0 up to rounding)."""
    pi = product_marginal(W, a, b, betas, base_a)
    flow = pi[:, None] * swap_kernel(W, a, b, betas, pair, base_a)
    return float(np.abs(flow - flow.T).max())
