"""Parallel tempering for :class:`coursekit.torch.RBM` (replica exchange between temperatures).

The algorithm, the tempered model (towards a base-rate model with visible bias ``a_A``) and the
swap rule are those of :mod:`coursekit.reference.tempering`, which derives them and checks
them exactly; this module runs the same steps on the RBM's own tensors, vectorised over the
replicas (one matrix product per layer for all replicas and chains). Given the same uniforms
it makes the same moves as the NumPy reference (a parity test holds them together).

    rbm = RBM(784, 500); ...; rbm.fit(x_train, epochs=...)
    res = parallel_tempering(rbm, 100, steps=1000, betas=temperature_ladder(12),
                             base_a=base_rate_biases(train_bin))
    res.samples          # p(x | h) of the beta = 1 replica, [100, 784]
    print(res.ladder_table())   # the ladder and the swap rate of each neighbouring pair
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn import functional as nnf

from coursekit.checks import to_numpy
from coursekit.reference.round_trips import RoundTrips
from coursekit.reference.tempering import (
    TemperingResult,
    check_base_a,
    check_betas,
    check_chain_count,
    check_start_states,
    check_steps_every,
    check_uniforms,
    temperature_ladder,
)

__all__ = ["parallel_tempering"]


def _neg_f(
    x: torch.Tensor, u: torch.Tensor, beta: torch.Tensor, a: torch.Tensor, a_base: torch.Tensor
) -> torch.Tensor:
    """``-F_beta(x)`` of states ``x`` [R', n, n_v] with hidden input ``u`` [R', n, n_h] and
    ``beta`` [R', 1] -> [R', n]."""
    return (1.0 - beta) * (x @ a_base) + beta * (x @ a) + nnf.softplus(beta[..., None] * u).sum(-1)


def _swap(t: torch.Tensor, acc: torch.Tensor) -> torch.Tensor:
    """Exchange ``t[k]`` and ``t[k+1]`` where ``acc[k]`` (bool [R-1, n]; pairs disjoint)."""
    m = acc.to(t.dtype)[..., None]  # [R-1, n, 1]
    zero = torch.zeros_like(m[:1])
    down = torch.cat([m, zero])  # replica k takes k+1's state
    up = torch.cat([zero, m])  # replica k+1 takes k's state
    shifted_up = torch.cat([t[1:], t[-1:]])  # t[k+1] at position k
    shifted_down = torch.cat([t[:1], t[:-1]])  # t[k-1] at position k
    return t * (1.0 - down - up) + shifted_up * down + shifted_down * up


@torch.no_grad()
def parallel_tempering(
    rbm: Any,
    n: int,
    *,
    steps: int,
    betas: Any = None,
    base_a: Any = None,
    start: Any = "noise",
    every: int | None = None,
    uniforms: Any = None,
    seed: int | None = None,
) -> TemperingResult:
    """Draw ``n`` samples of ``rbm`` with ``n`` parallel-tempering chains of ``steps`` steps.

    Args:
        rbm: a :class:`coursekit.torch.RBM` (its ``W``, ``a``, ``b`` are read, not changed).
        n: number of independent chains, each with ``R = len(betas)`` replicas.
        steps: PT steps (swap proposals of one parity, then a Gibbs sweep of every replica).
        betas: the ladder ``1 = betas[0] > ... >= 0`` (default ``temperature_ladder(10)``).
        base_a: visible bias [n_v] of the base-rate model the ladder tempers towards (e.g.
            ``coursekit.reference.ais.base_rate_biases(train_bin)``); None: zeros.
        start: ``"noise"`` or binary states [n, n_v] given to every replica.
        every: None: the last ``p(x | h)`` of the ``beta = 1`` replica [n, n_v]; an int:
            snapshots after steps ``every, 2 every, ...`` [steps // every, n, n_v].
        uniforms: optional ``(u_swap [steps, R-1, n], u_h [steps, R, n, n_h],
            u_x [steps, R, n, n_v])``, as in the NumPy reference
            :func:`coursekit.reference.tempering.parallel_tempering`.
        seed: seeds the sampler's own ``torch.Generator``; None draws a seed from torch's
            global generator (so ``coursekit.seed_everything`` makes runs repeatable).

    Returns:
        A :class:`~coursekit.reference.tempering.TemperingResult` (NumPy arrays).
    """
    betas_np = check_betas(temperature_ladder(10) if betas is None else betas)
    n = check_chain_count(n)
    steps, every = check_steps_every(steps, every)
    W, a, b = rbm.W.detach(), rbm.a.detach(), rbm.b.detach()
    dev = W.device
    n_v, n_h = W.shape
    n_rep = betas_np.size
    a_np = check_base_a(base_a, n_v)
    a_base = torch.zeros(n_v, device=dev) if a_np is None else torch.from_numpy(a_np).to(dev)
    if seed is None:
        seed = int(torch.randint(0, 2**62, (1,)))
    gen = torch.Generator(device=dev).manual_seed(int(seed))

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=gen, device=dev)

    x0 = check_start_states(start, n, n_v)
    if x0 is None:  # "noise"
        x = rand(n_rep, n, n_v).lt_(0.5).float()
    else:
        x = torch.from_numpy(x0).to(dev).expand(n_rep, n, n_v).clone()
    if uniforms is not None:
        u_s, u_hs, u_xs = (
            torch.as_tensor(u, dtype=torch.float32, device=dev)
            for u in check_uniforms(uniforms, steps, n_rep, n, n_v, n_h)
        )

    beta = torch.as_tensor(betas_np, dtype=torch.float32, device=dev)[:, None]  # [R, 1]
    beta3 = beta[..., None]  # [R, 1, 1]
    vis_bias = (1.0 - beta3) * a_base + beta3 * a  # [R, 1, n_v]
    parity = torch.arange(max(n_rep - 1, 0), device=dev) % 2
    accepted = torch.zeros(max(n_rep - 1, 0), dtype=torch.float64, device=dev)
    attempts = np.zeros(max(n_rep - 1, 0), dtype=np.int64)
    u = x @ W + b  # [R, n, n_h]
    snaps = []
    p_x = x
    walk = RoundTrips(n_rep, n)
    for s in range(steps):
        if n_rep > 1:
            own = _neg_f(x, u, beta, a, a_base)
            cross = _neg_f(x[1:], u[1:], beta[:-1], a, a_base) + _neg_f(
                x[:-1], u[:-1], beta[1:], a, a_base
            )
            log_r = cross - own[:-1] - own[1:]  # [R-1, n]
            us = rand(n_rep - 1, n) if uniforms is None else u_s[s]
            acc = (parity == s % 2)[:, None] & (torch.log(us) < log_r)
            accepted += acc.sum(dim=1)
            attempts += (np.arange(n_rep - 1) % 2 == s % 2) * n
            x, u = _swap(x, acc), _swap(u, acc)
            walk.update(to_numpy(acc))
        uh = rand(n_rep, n, n_h) if uniforms is None else u_hs[s]
        h = (uh < torch.sigmoid(beta3 * u)).float()
        p_x = torch.sigmoid(vis_bias + beta3 * (h @ W.T))
        ux = rand(n_rep, n, n_v) if uniforms is None else u_xs[s]
        x = (ux < p_x).float()
        u = x @ W + b
        if every is not None and (s + 1) % every == 0:
            snaps.append(to_numpy(p_x[0]))
    acc_np = to_numpy(accepted)
    rates = np.divide(acc_np, attempts, out=np.zeros_like(acc_np), where=attempts > 0)
    return TemperingResult(
        samples=np.stack(snaps) if every is not None else to_numpy(p_x[0]),
        states=to_numpy(x),
        betas=betas_np,
        swap_rates=rates,
        swap_attempts=attempts,
        round_trips=walk.per_chain,
    )
