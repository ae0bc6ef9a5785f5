"""Langevin sampling in PyTorch, gradients by autograd (week 2).

One update (the same in :mod:`coursekit.reference.langevin` and :mod:`coursekit.keras`)::

    x_{t+1} = clamp(x_t + step_size * clip(grad log p(x_t)) + noise_scale * w_t),   w_t ~ N(0, I)

with ``noise_scale = sqrt(2 step_size)`` by default: exact Langevin dynamics for ``p`` (Welling
and Teh 2011 with ``eta = 2 step_size``). The lecture's form ``theta + eta grad log p +
sqrt(eta) w`` is ``step_size=eta, noise_scale=sqrt(eta)`` and samples ``p^2``. Image EBMs use a
free noise scale (``step_size=10, noise_scale=0.005``, Du and Mordatch 2019): not Langevin
dynamics for ``p``, but a noisy gradient descent on the energy. Example::

    from coursekit.torch import langevin, target_log_prob
    from coursekit.reference.langevin import correlated_gaussian
    log_p = target_log_prob(correlated_gaussian(0.9))
    out = langevin(log_p, torch.zeros(1000, 2), step_size=0.05, n_steps=2000, seed=0)
    out.x                 # [1000, 2]
    out = langevin(log_p, x0, step_size=0.5, n_steps=500, mala=True)
    out.acceptance_rate   # a float
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from coursekit.checks import check_seed
from coursekit.common.langevin import (
    check_draws,
    check_log_prob,
    check_log_prob_values,
    check_sampler_args,
    check_start,
    log_prob_failed,
    start_array,
)
from coursekit.reference.langevin import GaussianMixture, LangevinResult, Ring

__all__ = ["LangevinResult", "langevin", "target_log_prob", "value_and_grad"]

LogProb = Callable[[torch.Tensor], torch.Tensor]


def value_and_grad(log_prob: LogProb, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``log_prob(x)`` [n] and ``grad_x sum log_prob(x)`` (shape of ``x``), both detached."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        lp = log_prob(x)
        (g,) = torch.autograd.grad(lp.sum(), x)
    return lp.detach(), g


def _first_log_prob(log_prob: LogProb, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    check_log_prob(log_prob)
    try:
        lp, g = value_and_grad(log_prob, x)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise log_prob_failed(err, "torch") from err
    if not isinstance(lp, torch.Tensor):
        raise log_prob_failed(TypeError(f"it returned {type(lp).__name__}"), "torch")
    check_log_prob_values(lp.double().cpu().numpy(), x.shape[0])
    return lp, g


def langevin(
    log_prob: LogProb,
    x0: Any,
    *,
    step_size: float,
    n_steps: int,
    noise_scale: float | None = None,
    grad_clip: float | None = None,
    clamp: tuple[float, float] | None = None,
    mala: bool = False,
    return_chain: bool = False,
    stride: int = 1,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
    uniforms: torch.Tensor | None = None,
) -> LangevinResult:
    """Run ``n`` Langevin (or MALA) chains from ``x0`` [n, d] or [n, ...].

    Args:
        log_prob: maps a batch [n, ...] to its log densities [n], up to a constant (for an EBM
            ``lambda x: -energy(x)``); must be differentiable by autograd.
        x0: the start [n, ...] (tensor or array; float32 unless float64 is given).
        step_size: the drift step on ``grad log p``, > 0.
        n_steps: number of steps, >= 1.
        noise_scale: standard deviation of the added noise, > 0; None (default) uses the exact
            Langevin value ``sqrt(2 step_size)``.
        grad_clip: clip each element of the gradient to ``[-grad_clip, grad_clip]``.
        clamp: ``(low, high)``: keep states in the box (MALA rejects proposals outside it).
        mala: Metropolis-adjusted Langevin: accept/reject each proposal; the acceptance rate is
            in the result.
        return_chain: also return the states after every ``stride`` steps.
        stride: steps between stored states.
        seed / generator: the random draws (a seeded generator on ``x0``'s device).
        noise / uniforms: explicit standard normals [n_steps, *x0.shape] and uniforms
            [n_steps, n] instead of random draws (for parity tests).

    Returns:
        :class:`LangevinResult` with ``x`` (tensor like ``x0``), ``chain``
        [n_steps // stride, *x0.shape] or None, ``acceptance_rate`` (MALA) or None.

    Raises:
        ValueError: a non-positive step size or noise scale, ``n_steps < 1``, a start outside
            ``clamp``, ``log_prob`` returning a wrong shape or NaN (at the start or the end).
    """
    cfg = check_sampler_args(step_size=step_size, n_steps=n_steps, noise_scale=noise_scale,
                             grad_clip=grad_clip, clamp=clamp, mala=mala,
                             return_chain=return_chain, stride=stride)
    x = x0 if isinstance(x0, torch.Tensor) else torch.as_tensor(start_array(x0))
    if not x.is_floating_point():
        x = x.float()
    x = x.detach().clone()
    check_start(x.double().cpu().numpy(), cfg.clamp)
    check_draws(noise, uniforms if cfg.mala else None, cfg.n_steps, tuple(x.shape))
    seed = check_seed(seed)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be None or a torch.Generator, got "
                         f"{type(generator).__name__}")  # fmt: skip
    n = x.shape[0]
    gen = generator
    if gen is None and noise is None:
        gen = torch.Generator(device=x.device)
        gen.manual_seed(int(seed) if seed is not None else int(torch.randint(0, 2**62, ()).item()))
    shape = (n,) + (1,) * (x.ndim - 1)
    dims = tuple(range(1, x.ndim))

    def clip(g: torch.Tensor) -> torch.Tensor:
        return g if cfg.grad_clip is None else g.clamp(-cfg.grad_clip, cfg.grad_clip)

    lp, g = _first_log_prob(log_prob, x)
    g = clip(g)
    chain: list[torch.Tensor] = []
    accepted = torch.zeros((), dtype=torch.float64, device=x.device)
    for t in range(cfg.n_steps):
        w = torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype) if noise is None \
            else torch.as_tensor(noise[t], dtype=x.dtype, device=x.device)
        y = x + cfg.step_size * g + cfg.noise_scale * w
        if not cfg.mala:
            x = y if cfg.clamp is None else y.clamp(*cfg.clamp)
            lp, g = value_and_grad(log_prob, x)
            g = clip(g)
        else:
            lp_y, g_y = value_and_grad(log_prob, y)
            g_y = clip(g_y)
            fwd = ((y - x - cfg.step_size * g) ** 2).sum(dims)
            bwd = ((x - y - cfg.step_size * g_y) ** 2).sum(dims)
            log_alpha = lp_y - lp + (fwd - bwd) / (2 * cfg.noise_scale**2)
            u = torch.rand(n, generator=gen, device=x.device, dtype=x.dtype) if uniforms is None \
                else torch.as_tensor(uniforms[t], dtype=x.dtype, device=x.device)
            ok = torch.log(u) < log_alpha
            if cfg.clamp is not None:
                ok &= ((y >= cfg.clamp[0]) & (y <= cfg.clamp[1])).flatten(1).all(1)
            x = torch.where(ok.view(shape), y, x)
            g = torch.where(ok.view(shape), g_y, g)
            lp = torch.where(ok, lp_y, lp)
            accepted += ok.double().mean()
        if cfg.return_chain and (t + 1) % cfg.stride == 0:
            chain.append(x.clone())
    check_log_prob_values(lp.double().cpu().numpy(), n,
                          where=f"after {cfg.n_steps} steps (the chain diverged)")
    return LangevinResult(
        x=x,
        chain=torch.stack(chain) if cfg.return_chain else None,
        acceptance_rate=float(accepted) / cfg.n_steps if cfg.mala else None,
    )


def target_log_prob(target: GaussianMixture | Ring, dtype: torch.dtype = torch.float32) -> LogProb:
    """The exact log density of a toy target of :mod:`coursekit.reference.langevin`, in torch.

    Maps ``x`` [n, 2] to [n]; agrees with ``target.log_prob`` (tested).
    """
    if isinstance(target, Ring):
        radius, width, log_z = target.radius, target.width, target.log_z

        def ring_log_prob(x: torch.Tensor) -> torch.Tensor:
            r = torch.sqrt((x * x).sum(1) + 1e-12)
            return -((r - radius) ** 2) / (2 * width**2) - log_z

        return ring_log_prob
    if not isinstance(target, GaussianMixture):
        raise ValueError(
            f"target must be a GaussianMixture or a Ring, got {type(target).__name__}."
        )
    means = torch.as_tensor(np.asarray(target.means), dtype=dtype)
    prec = torch.as_tensor(np.asarray(target.precisions), dtype=dtype)
    norms = torch.as_tensor(np.asarray(target.log_norms), dtype=dtype)

    def mixture_log_prob(x: torch.Tensor) -> torch.Tensor:
        diff = x[:, None, :] - means.to(x)[None]  # [n, K, d]
        quad = torch.einsum("nki,kij,nkj->nk", diff, prec.to(x), diff)
        return torch.logsumexp(norms.to(x)[None] - 0.5 * quad, dim=1)

    return mixture_log_prob
