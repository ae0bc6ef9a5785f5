"""What every Langevin sampler of the course shares, framework-free: the checked arguments.

:func:`coursekit.reference.langevin.langevin`, :func:`coursekit.torch.langevin` and
:func:`coursekit.keras.langevin` call these, so that all three raise the same ``ValueError``
with the same message (:mod:`coursekit.checks`). NumPy only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coursekit.checks import check_bool, check_float, check_int, to_numpy

__all__ = [
    "SamplerConfig",
    "check_clamp",
    "check_draws",
    "check_log_prob",
    "check_log_prob_values",
    "log_prob_failed",
    "check_sampler_args",
    "check_start",
    "start_array",
]


class SamplerConfig:
    """The checked arguments of a Langevin sampler.

    ``x_{t+1} = x_t + step_size * clip(grad log p(x_t)) + noise_scale * w_t``, ``w_t ~ N(0, I)``;
    ``noise_scale = sqrt(2 * step_size)`` (exact Langevin) unless given.
    """

    def __init__(
        self,
        step_size: float,
        n_steps: int,
        noise_scale: float | None,
        grad_clip: float | None,
        clamp: tuple[float, float] | None,
        mala: bool,
        return_chain: bool,
        stride: int,
    ) -> None:
        self.step_size = step_size
        self.n_steps = n_steps
        self.exact = noise_scale is None
        self.noise_scale = math.sqrt(2.0 * step_size) if noise_scale is None else noise_scale
        self.grad_clip = grad_clip
        self.clamp = clamp
        self.mala = mala
        self.return_chain = return_chain
        self.stride = stride

    def __repr__(self) -> str:
        return (
            f"SamplerConfig(step_size={self.step_size}, n_steps={self.n_steps}, "
            f"noise_scale={self.noise_scale:.4g}{' (exact)' if self.exact else ''}, "
            f"grad_clip={self.grad_clip}, clamp={self.clamp}, mala={self.mala})"
        )


def check_clamp(clamp: Any) -> tuple[float, float] | None:
    """``None`` or a pair ``(low, high)`` of finite floats with ``low < high``."""
    if clamp is None:
        return None
    try:
        low, high = (float(v) for v in clamp)
    except (TypeError, ValueError) as err:
        raise ValueError(f"clamp must be None or a pair (low, high), got {clamp!r}.") from err
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"clamp must be a pair (low, high) of finite numbers, low < high; got {clamp!r}."
        )
    return low, high


def check_sampler_args(
    *,
    step_size: Any,
    n_steps: Any,
    noise_scale: Any = None,
    grad_clip: Any = None,
    clamp: Any = None,
    mala: Any = False,
    return_chain: Any = False,
    stride: Any = 1,
) -> SamplerConfig:
    """Check every argument of ``langevin`` and return them converted."""
    step = check_float(step_size, "step_size", "> 0", "drift step on grad log p")
    steps = check_int(n_steps, "n_steps", 1, "number of Langevin steps")
    noise = None if noise_scale is None else check_float(
        noise_scale, "noise_scale", "> 0", "standard deviation of the added noise"
    )
    clip = None if grad_clip is None else check_float(
        grad_clip, "grad_clip", "> 0", "bound on each gradient element"
    )
    every = check_int(stride, "stride", 1, "steps between stored chain states")
    return SamplerConfig(step, steps, noise, clip, check_clamp(clamp), check_bool(mala, "mala"),
                         check_bool(return_chain, "return_chain"), every)


def start_array(x0: Any) -> np.ndarray:
    """``x0`` (an array, a tensor, nested lists) as a NumPy array of numbers, or the error."""
    try:
        arr = to_numpy(x0)
    except (TypeError, ValueError, RuntimeError):
        arr = np.asarray(None)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"x0 (the start) must be an array or tensor of numbers [n, d] or "
                         f"[n, ...], got {type(x0).__name__} {x0!r:.40}")  # fmt: skip
    return arr


def check_draws(noise: Any, uniforms: Any, n_steps: int, shape: tuple[int, ...]) -> None:
    """Explicit draws (parity tests) must cover every step: ``noise`` [n_steps, *x0.shape]
    (standard normals) and ``uniforms`` [n_steps, n]."""
    for name, value, want in (("noise", noise, (n_steps, *shape)),
                              ("uniforms", uniforms, (n_steps, shape[0]))):  # fmt: skip
        if value is None:
            continue
        got = tuple(np.shape(to_numpy(value)))
        if got != want:
            raise ValueError(f"{name} must hold one draw per step, shape {want} "
                             f"(n_steps = {n_steps}), got shape {got}")  # fmt: skip


def check_start(x0: np.ndarray, clamp: tuple[float, float] | None) -> None:
    """``x0`` must be a finite batch ``[n, ...]`` inside the clamp range (if any)."""
    if x0.ndim < 2:
        raise ValueError(
            f"x0 (the start) must be a batch [n, d] or [n, ...] with n >= 1, got shape {x0.shape}."
        )
    if x0.shape[0] < 1:
        raise ValueError("x0 (the start) must hold at least one chain, got an empty batch.")
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 (the start) contains NaN or infinite values.")
    if clamp is not None:
        low, high = clamp
        if x0.min() < low or x0.max() > high:
            raise ValueError(
                f"x0 (the start) lies outside the clamp range {clamp}: its values span "
                f"[{x0.min():.4g}, {x0.max():.4g}]; start inside the range or widen clamp."
            )


def check_log_prob_values(values: np.ndarray, n: int, where: str = "at the start") -> None:
    """``log_prob`` must return ``[n]`` finite numbers for a batch of ``n`` chains."""
    if values.shape != (n,):
        raise ValueError(
            f"log_prob must map a batch of n={n} states to a vector [n] of log densities; it "
            f"returned shape {tuple(values.shape)} (sum over the other dimensions)."
        )
    if not np.all(np.isfinite(values)):
        bad = int(np.sum(~np.isfinite(values)))
        raise ValueError(
            f"log_prob returned NaN or infinite values for {bad} of {n} chains {where}; "
            "check the density, or lower step_size / set grad_clip and clamp."
        )


LOG_PROB = "a function mapping a batch of states [n, ...] to their log densities [n]"


def check_log_prob(log_prob: Any) -> None:
    """``log_prob`` must be callable (:data:`LOG_PROB`)."""
    if not callable(log_prob):
        raise ValueError(f"log_prob must be {LOG_PROB}, got {type(log_prob).__name__}.")


def log_prob_failed(err: Exception, framework: str) -> ValueError:
    """The error for a ``log_prob`` whose first evaluation or gradient failed: most often it
    leaves the framework (NumPy, ``float()``, ``.item()``), so autodiff cannot follow it."""
    return ValueError(
        f"log_prob could not be evaluated and differentiated at the start ({type(err).__name__}: "
        f"{err}). It must be {LOG_PROB}, written with {framework} operations so that the "
        "gradient can be taken (a NumPy function, float() or .item() breaks it)."
    )
