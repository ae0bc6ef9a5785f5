"""Parallel tempering for :class:`coursekit.keras.RBM`, with ``keras.ops`` only (any backend).

The algorithm, the tempered model (towards a base-rate model with visible bias ``a_A``) and the
swap rule are those of :mod:`coursekit.reference.tempering`, which derives them and checks
them exactly; this module runs the same steps on the RBM's variables, vectorised over the
replicas. Given the same uniforms it makes the same moves as the NumPy reference.

    res = parallel_tempering(rbm, 100, steps=1000, betas=temperature_ladder(12),
                             base_a=base_rate_biases(train_bin))
    res.samples                 # p(x | h) of the beta = 1 replica, [100, 784]
    print(res.ladder_table())   # the ladder and the swap rate of each neighbouring pair
"""

from __future__ import annotations

import random
from typing import Any

import keras
import numpy as np
from keras import ops

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


def _neg_f(x: Any, u: Any, beta: Any, a: Any, a_base: Any) -> Any:
    """``-F_beta(x)`` of ``x`` [R', n, n_v] with hidden input ``u`` [R', n, n_h], ``beta``
    [R', 1] -> [R', n]."""
    return (
        (1.0 - beta) * ops.matmul(x, a_base)
        + beta * ops.matmul(x, a)
        + ops.sum(ops.softplus(ops.expand_dims(beta, -1) * u), axis=-1)
    )


def _swap(t: Any, acc: Any) -> Any:
    """Exchange ``t[k]`` and ``t[k+1]`` where ``acc[k]`` (float 0/1 [R-1, n]; pairs disjoint)."""
    m = ops.expand_dims(acc, -1)  # [R-1, n, 1]
    zero = ops.zeros_like(m[:1])
    down = ops.concatenate([m, zero], axis=0)  # replica k takes k+1's state
    up = ops.concatenate([zero, m], axis=0)  # replica k+1 takes k's state
    shifted_up = ops.concatenate([t[1:], t[-1:]], axis=0)
    shifted_down = ops.concatenate([t[:1], t[:-1]], axis=0)
    return t * (1.0 - down - up) + shifted_up * down + shifted_down * up


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
        rbm: a :class:`coursekit.keras.RBM` (its ``W``, ``a``, ``b`` are read, not changed).
        n: number of independent chains, each with ``R = len(betas)`` replicas.
        steps: PT steps (swap proposals of one parity, then a Gibbs sweep of every replica).
        betas: the ladder ``1 = betas[0] > ... >= 0`` (default ``temperature_ladder(10)``).
        base_a: visible bias [n_v] of the base-rate model the ladder tempers towards; None:
            zeros (plain scaling of ``W, a, b`` by ``beta``).
        start: ``"noise"`` or binary states [n, n_v] given to every replica.
        every: None: the last ``p(x | h)`` of the ``beta = 1`` replica [n, n_v]; an int:
            snapshots after steps ``every, 2 every, ...`` [steps // every, n, n_v].
        uniforms: optional ``(u_swap [steps, R-1, n], u_h [steps, R, n, n_h],
            u_x [steps, R, n, n_v])``, as in the NumPy reference
            :func:`coursekit.reference.tempering.parallel_tempering`.
        seed: seeds the sampler's own ``keras.random.SeedGenerator``; None draws one from
            Python's ``random`` (seeded by ``coursekit.seed_everything``).

    Returns:
        A :class:`~coursekit.reference.tempering.TemperingResult` (NumPy arrays).
    """
    betas_np = check_betas(temperature_ladder(10) if betas is None else betas)
    n = check_chain_count(n)
    steps, every = check_steps_every(steps, every)
    W, a, b = rbm.W.value, rbm.a.value, rbm.b.value
    n_v, n_h = rbm.n_visible, rbm.n_hidden
    n_rep = betas_np.size
    a_np = check_base_a(base_a, n_v)
    a_base = ops.zeros((n_v,), dtype="float32") if a_np is None else ops.convert_to_tensor(a_np)
    gen = keras.random.SeedGenerator(random.randrange(2**31) if seed is None else int(seed))

    def rand(*shape: int) -> Any:
        return keras.random.uniform(shape, seed=gen)

    x0 = check_start_states(start, n, n_v)
    if x0 is None:  # "noise"
        x = ops.cast(ops.less(rand(n_rep, n, n_v), 0.5), "float32")
    else:
        x = ops.convert_to_tensor(np.broadcast_to(x0, (n_rep, n, n_v)).copy())
    if uniforms is not None:
        u_s, u_hs, u_xs = (
            ops.convert_to_tensor(u.astype(np.float32))
            for u in check_uniforms(uniforms, steps, n_rep, n, n_v, n_h)
        )

    beta = ops.convert_to_tensor(betas_np.astype(np.float32)[:, None])  # [R, 1]
    beta3 = ops.expand_dims(beta, -1)  # [R, 1, 1]
    vis_bias = (1.0 - beta3) * a_base + beta3 * a  # [R, 1, n_v]
    parities = [
        ops.convert_to_tensor((np.arange(n_rep - 1) % 2 == p).astype(np.float32)[:, None])
        for p in (0, 1)
    ]
    accepted = ops.zeros((max(n_rep - 1, 0),), dtype="float32")
    attempts = np.zeros(max(n_rep - 1, 0), dtype=np.int64)
    Wt = ops.transpose(W)
    u = ops.matmul(x, W) + b  # [R, n, n_h]
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
            acc = parities[s % 2] * ops.cast(ops.less(ops.log(us), log_r), "float32")
            accepted = accepted + ops.sum(acc, axis=1)
            attempts += (np.arange(n_rep - 1) % 2 == s % 2) * n
            x, u = _swap(x, acc), _swap(u, acc)
            walk.update(to_numpy(acc) > 0.5)
        uh = rand(n_rep, n, n_h) if uniforms is None else u_hs[s]
        h = ops.cast(ops.less(uh, ops.sigmoid(beta3 * u)), "float32")
        p_x = ops.sigmoid(vis_bias + beta3 * ops.matmul(h, Wt))
        ux = rand(n_rep, n, n_v) if uniforms is None else u_xs[s]
        x = ops.cast(ops.less(ux, p_x), "float32")
        u = ops.matmul(x, W) + b
        if every is not None and (s + 1) % every == 0:
            snaps.append(to_numpy(p_x[0]))
    acc_np = to_numpy(accepted).astype(np.float64)
    rates = np.divide(acc_np, attempts, out=np.zeros_like(acc_np), where=attempts > 0)
    return TemperingResult(
        samples=np.stack(snaps) if every is not None else to_numpy(p_x[0]),
        states=to_numpy(x),
        betas=betas_np,
        swap_rates=rates,
        swap_attempts=attempts,
        round_trips=walk.per_chain,
    )
