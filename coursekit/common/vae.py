"""What the PyTorch and Keras VAEs (week 3) share, framework-free: their input checks.

Every check raises a :class:`ValueError` that names the argument and says what was expected
(:mod:`coursekit.checks`). NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.checks import check_image_batch, check_int, check_seed

__all__ = [
    "ARCHITECTURES",
    "IMAGE_SIZE",
    "check_architecture",
    "check_config",
    "check_images",
    "check_k",
    "check_latent_dim",
    "check_seed",
]

#: The two network shapes of the course's VAEs.
ARCHITECTURES = ("mlp", "conv")
#: Pixels of one 28 x 28 image.
IMAGE_SIZE = 28 * 28


def check_latent_dim(value: Any) -> int:
    """``value`` as an int >= 1 (the number of latent variables)."""
    return check_int(value, "latent_dim", 1, "the number of latent variables")


def check_k(value: Any, name: str = "k") -> int:
    """``value`` as an int >= 1 (importance samples per image)."""
    return check_int(value, name, 1, "importance samples per image")


def check_architecture(value: Any) -> str:
    """``"mlp"`` or ``"conv"``."""
    if value not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {value!r}")
    return value


def check_images(x: Any, name: str = "x") -> np.ndarray:
    """Images as float32 rows ``[n, 784]`` with values in [0, 1].

    Accepts ``[n, 784]``, ``[n, 28, 28]``, ``[n, 28, 28, 1]`` or ``[n, 1, 28, 28]`` (NumPy
    arrays, tensors, nested lists), floats or bools. uint8 images (0..255) are refused with a
    hint: convert them with ``ck.data.to_float`` first.
    """
    rows = check_image_batch(
        x, name, expect="intensities in [0, 1]: use ck.data.to_float(images) first"
    ).reshape(-1, IMAGE_SIZE)
    if np.isnan(rows).any() or rows.min() < 0.0 or rows.max() > 1.0:
        raise ValueError(
            f"{name} must hold intensities in [0, 1], found values in "
            f"[{np.nanmin(rows):g}, {np.nanmax(rows):g}]"
            + (" and NaN" if np.isnan(rows).any() else "")
        )
    return rows


def check_config(saved: dict, expected: dict, path: Any) -> None:
    """Refuse a checkpoint whose architecture differs from the model it is loaded into."""
    keys = ("arch", "latent_dim", "hidden")
    saved_view = {k: saved.get(k) for k in keys}
    expected_view = {k: expected.get(k) for k in keys}
    if saved_view != expected_view:
        raise ValueError(
            f"the checkpoint {path} holds a VAE with {_describe(saved_view)}, but this model "
            f"has {_describe(expected_view)}; build the model with the checkpoint's settings "
            "or use VAE.load(path), which does"
        )


def _describe(config: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items())
