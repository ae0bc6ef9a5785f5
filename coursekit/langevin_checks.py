"""Framework-free argument checks shared by every Langevin sampler of the course.

:func:`coursekit.reference.langevin.langevin`, :func:`coursekit.torch.langevin` and
:func:`coursekit.keras.langevin` call these, so that all three raise the same ``ValueError``
with the same message. NumPy only: this module never imports torch or Keras.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "SamplerConfig",
    "check_clamp",
    "check_log_prob_values",
    "check_sampler_args",
    "check_start",
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


def _positive_float(value: Any, name: str, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} ({what}) must be a positive number, got {value!r}.")
    try:
        out = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} ({what}) must be a positive number, got {value!r}.") from err
    if not math.isfinite(out) or out <= 0.0:
        raise ValueError(f"{name} ({what}) must be a finite number > 0, got {value!r}.")
    return out


def _int_at_least(value: Any, name: str, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} ({what}) must be an int >= {low}, got {value!r}.")
    if int(value) < low:
        raise ValueError(f"{name} ({what}) must be an int >= {low}, got {value!r}.")
    return int(value)


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
    step = _positive_float(step_size, "step_size", "drift step on grad log p")
    steps = _int_at_least(n_steps, "n_steps", "number of Langevin steps", 1)
    noise = None if noise_scale is None else _positive_float(
        noise_scale, "noise_scale", "standard deviation of the added noise"
    )
    clip = None if grad_clip is None else _positive_float(
        grad_clip, "grad_clip", "bound on each gradient element"
    )
    if not isinstance(mala, (bool, np.bool_)):
        raise ValueError(f"mala must be True or False, got {mala!r}.")
    if not isinstance(return_chain, (bool, np.bool_)):
        raise ValueError(f"return_chain must be True or False, got {return_chain!r}.")
    every = _int_at_least(stride, "stride", "steps between stored chain states", 1)
    return SamplerConfig(step, steps, noise, clip, check_clamp(clamp), bool(mala),
                         bool(return_chain), every)


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
