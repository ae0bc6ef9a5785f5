"""Langevin sampling in Keras 3 (week 2), on any backend: the twin of
:func:`coursekit.torch.langevin`, with the same arguments and results.

One update::

    x_{t+1} = clamp(x_t + step_size * clip(grad log p(x_t)) + noise_scale * w_t),   w_t ~ N(0, I)

with ``noise_scale = sqrt(2 step_size)`` by default (exact Langevin for ``p``); the lecture's
form is ``step_size=eta, noise_scale=sqrt(eta)`` and samples ``p^2``. The maths is
``keras.ops``; the gradient comes from the backend (:mod:`coursekit.keras.autodiff`), and on
tensorflow each step is compiled with ``tf.function`` (cached per ``log_prob`` and settings),
and a chain whose states are not returned runs as one compiled loop
(:mod:`coursekit.keras.langevin_graph`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from coursekit.checks import check_int, to_numpy
from coursekit.common.langevin import (
    SamplerConfig,
    check_draws,
    check_log_prob,
    check_log_prob_values,
    check_sampler_args,
    check_start,
    log_prob_failed,
    start_array,
)
from coursekit.keras import draws, langevin_graph
from coursekit.keras.autodiff import compile_fn, input_value_and_grad
from coursekit.reference.langevin import GaussianMixture, LangevinResult, Ring

__all__ = ["LangevinResult", "langevin", "target_log_prob"]

LogProb = Callable[[Any], Any]
_CACHE: OrderedDict[tuple, Callable] = OrderedDict()
_CACHE_SIZE = 16



def _f64(t: Any) -> np.ndarray:
    return np.asarray(to_numpy(t), dtype=np.float64)


def _make_step(log_prob: LogProb, cfg: SamplerConfig, ndim: int) -> tuple[Callable, ...]:
    axes = tuple(range(1, ndim))

    def grad(x):
        lp, g = input_value_and_grad(log_prob, x)
        if cfg.grad_clip is not None:
            g = ops.clip(g, -cfg.grad_clip, cfg.grad_clip)
        return lp, g

    def step(x, lp, g, w, u):
        y = x + cfg.step_size * g + cfg.noise_scale * w
        if not cfg.mala:
            if cfg.clamp is not None:
                y = ops.clip(y, cfg.clamp[0], cfg.clamp[1])
            lp_y, g_y = grad(y)
            return y, lp_y, g_y, ops.zeros(())
        lp_y, g_y = grad(y)
        fwd = ops.sum(ops.square(y - x - cfg.step_size * g), axis=axes)
        bwd = ops.sum(ops.square(x - y - cfg.step_size * g_y), axis=axes)
        log_alpha = lp_y - lp + (fwd - bwd) / (2 * cfg.noise_scale**2)
        ok = ops.less(ops.log(u), log_alpha)
        if cfg.clamp is not None:
            inside = ops.logical_and(ops.greater_equal(y, cfg.clamp[0]),
                                     ops.less_equal(y, cfg.clamp[1]))
            ok = ops.logical_and(ok, ops.all(inside, axis=axes))
        mask = ops.reshape(ok, (-1,) + (1,) * (ndim - 1))
        return (ops.where(mask, y, x), ops.where(ok, lp_y, lp), ops.where(mask, g_y, g),
                ops.mean(ops.cast(ok, "float32")))

    return compile_fn(step), compile_fn(grad), grad, langevin_graph.chain_runner(step)


def _stepper(log_prob: LogProb, cfg: SamplerConfig, ndim: int) -> tuple[Callable, ...]:
    key = (log_prob, cfg.step_size, cfg.noise_scale, cfg.grad_clip, cfg.clamp, cfg.mala, ndim,
           keras.backend.backend())
    try:
        hit = _CACHE.get(key)
    except TypeError:  # an unhashable log_prob: no caching
        return _make_step(log_prob, cfg, ndim)
    if hit is None:
        hit = _make_step(log_prob, cfg, ndim)
        _CACHE[key] = hit
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return hit


def _draws(given: Any, start: int, steps: int | None, shape: tuple, seed_gen, *,
           normal: bool) -> Any:  # fmt: skip
    """The noise (``normal``) or the uniforms of step ``start`` (``steps`` None: shape ``shape``)
    or of steps ``start`` to ``start + steps`` (shape ``[steps, *shape]``): slices of ``given``
    if the caller passed them, otherwise fresh draws from ``seed_gen``."""
    if given is not None:
        part = given[start] if steps is None else given[start:start + steps]
        return ops.convert_to_tensor(np.asarray(to_numpy(part), dtype=np.float32))
    full = tuple(shape) if steps is None else (steps, *shape)
    return (draws.normal if normal else draws.uniform)(full, seed_gen)


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
    seed: int | keras.random.SeedGenerator | None = None,
    noise: Any = None,
    uniforms: Any = None,
) -> LangevinResult:
    """Run ``n`` Langevin (or MALA) chains from ``x0`` [n, d] or [n, ...] (float32).

    The arguments and the result are those of :func:`coursekit.torch.langevin`; ``seed`` is an
    int or a ``keras.random.SeedGenerator`` (reused across calls, e.g. by an EBM). ``x``,
    ``chain`` come back as backend tensors.

    Raises:
        ValueError: a non-positive step size or noise scale, ``n_steps < 1``, a start outside
            ``clamp``, ``log_prob`` returning a wrong shape or NaN (at the start or the end).
    """
    cfg = check_sampler_args(step_size=step_size, n_steps=n_steps, noise_scale=noise_scale,
                             grad_clip=grad_clip, clamp=clamp, mala=mala,
                             return_chain=return_chain, stride=stride)
    x = ops.convert_to_tensor(np.asarray(start_array(x0), dtype=np.float32))
    check_start(_f64(x), cfg.clamp)
    check_draws(noise, uniforms if cfg.mala else None, cfg.n_steps, tuple(x.shape))
    n, ndim = x.shape[0], len(x.shape)
    if isinstance(seed, keras.random.SeedGenerator):
        seed_gen = seed
    else:
        seed_gen = keras.random.SeedGenerator(check_int(seed, "seed", 0) if seed is not None
                                              else None)  # fmt: skip
    check_log_prob(log_prob)
    step, grad, eager_grad, run_chain = _stepper(log_prob, cfg, ndim)
    try:
        lp, g = grad(x)
    except Exception:  # noqa: BLE001  (tensorflow's tracing wraps the error: say it plainly)
        try:
            lp, g = eager_grad(x)
        except (RuntimeError, TypeError, AttributeError, ValueError, NotImplementedError) as err:
            raise log_prob_failed(err, "keras.ops") from err
    if g is None:  # tensorflow: the value does not depend on the states (stop_gradient, a constant)
        raise log_prob_failed(TypeError("its gradient with respect to the states is None: the "
                                        "value does not depend on them"), "keras.ops")
    check_log_prob_values(_f64(lp), n)
    chain, accepted = [], 0.0
    if langevin_graph.uses_graph(cfg.return_chain):
        done = 0
        for steps in langevin_graph.chunks(cfg.n_steps, int(np.prod(x.shape))):
            w = _draws(noise, done, steps, x.shape, seed_gen, normal=True)
            u = (_draws(uniforms, done, steps, (n,), seed_gen, normal=False) if cfg.mala
                 else ops.ones((steps, n)))  # fmt: skip
            x, lp, g, acc = run_chain(x, lp, g, w, u)
            accepted, done = accepted + acc, done + steps
    else:
        ones = ops.ones((n,))
        for t in range(cfg.n_steps):
            w = _draws(noise, t, None, x.shape, seed_gen, normal=True)
            u = _draws(uniforms, t, None, (n,), seed_gen, normal=False) if cfg.mala else ones
            x, lp, g, acc = step(x, lp, g, w, u)
            if cfg.mala:
                accepted = accepted + acc
            if cfg.return_chain and (t + 1) % cfg.stride == 0:
                chain.append(x)
    check_log_prob_values(_f64(lp), n, where=f"after {cfg.n_steps} steps (the chain diverged)")
    return LangevinResult(
        x=x,
        chain=ops.stack(chain) if cfg.return_chain else None,
        acceptance_rate=float(_f64(accepted)) / cfg.n_steps if cfg.mala else None,
    )


def target_log_prob(target: GaussianMixture | Ring) -> LogProb:
    """The exact log density of a toy target of :mod:`coursekit.reference.langevin`, in
    ``keras.ops``: ``x`` [n, 2] -> [n]; agrees with ``target.log_prob`` (tested)."""
    if isinstance(target, Ring):
        radius, width, log_z = target.radius, target.width, target.log_z

        def ring_log_prob(x):
            r = ops.sqrt(ops.sum(x * x, axis=1) + 1e-12)
            return -ops.square(r - radius) / (2 * width**2) - log_z

        return ring_log_prob
    if not isinstance(target, GaussianMixture):
        raise ValueError(
            f"target must be a GaussianMixture or a Ring, got {type(target).__name__}."
        )
    means = np.asarray(target.means, dtype=np.float32)
    prec = np.asarray(target.precisions, dtype=np.float32)
    norms = np.asarray(target.log_norms, dtype=np.float32)

    def mixture_log_prob(x):
        diff = ops.expand_dims(x, 1) - ops.convert_to_tensor(means)[None]  # [n, K, d]
        pdiff = ops.einsum("kij,nkj->nki", ops.convert_to_tensor(prec), diff)
        quad = ops.sum(diff * pdiff, axis=-1)
        return ops.logsumexp(ops.convert_to_tensor(norms)[None] - 0.5 * quad, axis=1)

    return mixture_log_prob
