"""What the PyTorch and Keras VAEs (week 3) share, framework-free: their input checks.

Both VAEs take square ``L x L`` images, ``L = image_side`` (28 for MNIST, the default; e.g. 16
for the Ising configurations), as rows ``[n, L*L]`` or ``[n, L, L]``, ``[n, L, L, 1]``,
``[n, 1, L, L]``.

Every check raises a :class:`ValueError` that names the argument and says what was expected
(:mod:`coursekit.checks`). NumPy only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coursekit.checks import (
    check_float,
    check_image_batch,
    check_int,
    check_numbers,
    check_seed,
    warn_deprecated,
)

__all__ = [
    "ARCHITECTURES",
    "VAEFile",
    "DEFAULT_MAX_ROWS",
    "DEFAULT_SIDE",
    "LOG_2PI",
    "IMAGE_SIZE",
    "check_architecture",
    "check_config",
    "check_image_side",
    "check_images",
    "check_k",
    "check_latent",
    "check_latent_dim",
    "check_seed",
    "check_settings",
    "diverged_message",
]

#: The two network shapes of the course's VAEs.
ARCHITECTURES = ("mlp", "conv")
#: The side of the images by default (MNIST's 28 x 28).
DEFAULT_SIDE = 28
#: Pixels of one 28 x 28 image (784 for MNIST); a VAE of ``image_side`` L has L * L.
IMAGE_SIZE = DEFAULT_SIDE * DEFAULT_SIDE
#: ``log(2 pi)``, of the Gaussian densities in the importance weights.
LOG_2PI = math.log(2.0 * math.pi)
#: Decoder rows per pass of ``VAE.log_likelihood`` by architecture (memory, not speed).
DEFAULT_MAX_ROWS = {"mlp": 16_384, "conv": 2_048}


def check_settings(
    latent_dim: Any, arch: Any, hidden: Any, learning_rate: Any, seed: Any
) -> tuple[int, str, int, float, int | None]:
    """The VAE constructor's shared settings, checked: ``(latent_dim, arch, hidden,
    learning_rate, seed)``."""
    return (
        check_latent_dim(latent_dim),
        check_architecture(arch),
        check_int(hidden, "hidden", 1, "units of the hidden layer"),
        check_float(learning_rate, "learning_rate", "> 0", "Adam's step size"),
        check_seed(seed),
    )


def check_image_side(value: Any, arch: str) -> int:
    """``value`` as an int >= 2, the side ``L`` of the ``L x L`` images; a multiple of 4 for
    ``arch="conv"`` (its two stride-2 convolutions halve the side twice)."""
    side = check_int(value, "image_side", 2, "pixels along each side of the square images")
    if arch == "conv" and side % 4:
        raise ValueError(
            f"image_side (pixels along each side of the square images) must be a multiple of 4 "
            f"for arch='conv' (its two stride-2 convolutions halve the side twice), got {side}; "
            "use arch='mlp', or pad or crop the images"
        )
    return side


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


def check_images(x: Any, name: str = "x", side: int = DEFAULT_SIDE) -> np.ndarray:
    """``side x side`` images as float32 rows ``[n, side * side]`` with values in [0, 1].

    Accepts ``[n, L*L]``, ``[n, L, L]``, ``[n, L, L, 1]`` or ``[n, 1, L, L]`` for ``L = side``
    (for MNIST's 28: ``[n, 784]``, ``[n, 28, 28]``, ...; NumPy arrays, tensors, nested lists),
    floats or bools; any other layout, e.g. 28 x 28 images for a model of side 16, is refused
    naming the shapes expected. uint8 images (0..255) are refused with a hint: convert them
    with ``ck.data.to_float`` first.
    """
    rows = check_image_batch(
        x, name, expect="intensities in [0, 1]: use ck.data.to_float(images) first", side=side
    ).reshape(-1, side * side)
    bad = int(rows.size - np.count_nonzero(np.isfinite(rows)))
    if bad:
        raise ValueError(f"{name} holds {bad} NaN or infinite values; it must hold intensities "
                         "in [0, 1] (clean the data first)")  # fmt: skip
    if rows.min() < 0.0 or rows.max() > 1.0:
        raise ValueError(
            f"{name} must hold intensities in [0, 1], found values in "
            f"[{rows.min():g}, {rows.max():g}]"
        )
    return rows


def check_latent(z: Any, latent_dim: int, name: str = "z") -> np.ndarray:
    """Latent points ``z`` as float32 ``[n, latent_dim]`` of finite numbers (array or tensor)."""
    what = f"latent points [n, {latent_dim}]"
    arr = check_numbers(z, name, what)
    if arr.ndim != 2 or arr.shape[1] != latent_dim:
        raise ValueError(f"{name} must be {what}, got shape {arr.shape}")
    return arr.astype(np.float32)


def diverged_message(where: str, loss: float, learning_rate: float) -> str:
    """The message of a VAE whose loss ran away (``where``: "epoch 3", "update 120")."""
    return (
        f"VAE training diverged at {where}: the loss is {loss}. The weights from the start of "
        f"that epoch are restored. Try a smaller learning_rate (now {learning_rate:g})"
    )


def check_config(saved: dict, expected: dict, path: Any) -> None:
    """Refuse a checkpoint whose architecture differs from the model it is loaded into.

    A config without ``image_side`` (files written before VAEs took other sizes) is 28.
    """
    keys = ("arch", "latent_dim", "hidden")
    saved_view = {k: saved.get(k) for k in keys}
    expected_view = {k: expected.get(k) for k in keys}
    sides = (saved.get("image_side", DEFAULT_SIDE), expected.get("image_side", DEFAULT_SIDE))
    if sides[0] != sides[1]:  # named only where it matters, as before for 28 x 28 models
        saved_view["image_side"], expected_view["image_side"] = sides
    if saved_view != expected_view:
        raise ValueError(
            f"the checkpoint {path} holds a VAE with {_describe(saved_view)}, but this model "
            f"has {_describe(expected_view)}; build the model with the checkpoint's settings "
            "or use VAE.load(path), which does"
        )


def _describe(config: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items())


class VAEFile:
    """Loading, and the names the VAEs' saving had before, shared by both frameworks' VAEs.

    The class using it provides ``save(path)``, ``_saved_config(path)`` (the architecture and
    learning rate a file holds) and ``_load_into(path)`` (this model, with the file's weights).
    The config holds ``image_side`` when it is not 28; a file without it holds 28 x 28 images.
    """

    @classmethod
    def load(cls, path: Any, **settings: Any) -> Any:
        """A VAE built with the file's settings (``image_side`` included), holding its weights.
        ``settings`` (e.g. ``learning_rate``, ``seed``) override the saved ones."""
        config = cls._saved_config(path)
        missing = [k for k in ("latent_dim", "arch", "hidden") if k not in config]
        if missing:
            raise ValueError(f"{path} does not say the VAE's {', '.join(missing)}: the file is "
                             "damaged, or not written by VAE.save")
        settings = {"learning_rate": config.get("learning_rate", 1e-3),
                    "image_side": config.get("image_side", DEFAULT_SIDE), **settings}  # fmt: skip
        model = cls(config["latent_dim"], arch=config["arch"], hidden=config["hidden"], **settings)
        return model._load_into(path)

    def save_checkpoint(self, path: Any, *args: Any, **kwargs: Any) -> Any:
        """Deprecated: use ``save``."""
        warn_deprecated("VAE.save_checkpoint", "VAE.save")
        return self.save(path, *args, **kwargs)

    def load_checkpoint(self, path: Any) -> Any:
        """Deprecated: use ``VAE.load(path)``, which builds the model the file describes."""
        warn_deprecated("VAE.load_checkpoint", "VAE.load(path)")
        return self._load_into(path)

    @classmethod
    def from_checkpoint(cls, path: Any, **settings: Any) -> Any:
        """Deprecated: use ``VAE.load``."""
        warn_deprecated("VAE.from_checkpoint", "VAE.load")
        return cls.load(path, **settings)
