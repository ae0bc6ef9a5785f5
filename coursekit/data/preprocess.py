"""Turning uint8 images into what a model wants: floats, binary pixels, flat vectors.

All functions are vectorised NumPy and return new arrays. Shapes use ``n`` for the number of
images and ``H, W`` for their height and width (28 x 28 for MNIST).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

__all__ = [
    "as_images",
    "binarize",
    "check_images",
    "check_loader_inputs",
    "dynamic_binarize",
    "flatten",
    "to_float",
]

_RANGES = {"[0,1]": (0.0, 1.0), "[-1,1]": (-1.0, 1.0)}
_LAYOUTS = ("NHW", "NCHW", "NHWC")


def _require_array(x: Any, name: str, expected: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise ValueError(
            f"{name} must be a NumPy array of {expected}, got {type(x).__name__} "
            "(use np.asarray(...), or tensor.numpy() for a torch tensor)"
        )
    return x


def _parse_range(value_range: Sequence[float] | str) -> tuple[float, float]:
    if isinstance(value_range, str):
        key = value_range.replace(" ", "")
        if key in _RANGES:
            return _RANGES[key]
    else:
        try:
            lo, hi = (float(v) for v in value_range)
        except (TypeError, ValueError):
            pass
        else:
            if (lo, hi) in _RANGES.values():
                return lo, hi
    raise ValueError(
        f"value_range must be (0, 1), (-1, 1), '[0,1]' or '[-1,1]', got {value_range!r}"
    )


def to_float(x: np.ndarray, value_range: Sequence[float] | str = (0.0, 1.0)) -> np.ndarray:
    """Scale uint8 intensities 0..255 to float32 in ``[0, 1]`` or ``[-1, 1]``.

    Args:
        x: ``uint8`` array of any shape, e.g. ``[n, 28, 28]``.
        value_range: ``(0, 1)`` / ``"[0,1]"`` (divide by 255) or ``(-1, 1)`` / ``"[-1,1]"``
            (for tanh outputs: ``x / 127.5 - 1``). 0 and 255 map exactly to the ends.

    Returns:
        ``float32`` array of the same shape.
    """
    x = _require_array(x, "x", "uint8 pixel intensities")
    if x.dtype != np.uint8:
        raise ValueError(
            f"x must have dtype uint8 (intensities 0..255), got {x.dtype}; "
            "it may already be converted"
        )
    lo, hi = _parse_range(value_range)
    if lo == 0.0:
        return x.astype(np.float32) / np.float32(255.0)
    return x.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def _intensity(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as float32 intensities in [0, 1]: uint8 is divided by 255, floats are checked."""
    x = _require_array(x, name, "uint8 intensities or floats in [0, 1]")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must be uint8 or floating point in [0, 1], got dtype {x.dtype}")
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    if bad:  # (NaN would make the range below read "[nan, nan]")
        raise ValueError(f"{name} holds {bad} NaN or infinite values; it must hold intensities "
                         "in [0, 1] (clean the data first)")  # fmt: skip
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError(
            f"{name} must hold intensities in [0, 1], found values in [{x.min():g}, {x.max():g}]"
        )
    return x.astype(np.float32, copy=False)


def binarize(x: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Static binarisation: 1 where the intensity is at least ``threshold``, else 0.

    Args:
        x: ``uint8`` (0..255, compared as ``x / 255``) or floats in ``[0, 1]``; any shape.
            With the default threshold, uint8 127 becomes 0 and 128 becomes 1.
        threshold: in ``[0, 1]``.

    Returns:
        ``float32`` array of 0.0 and 1.0, same shape as ``x``.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    p = _intensity(x)
    return (p >= np.float32(threshold)).astype(np.float32)


def dynamic_binarize(x: np.ndarray, rng: int | np.random.Generator | None = None) -> np.ndarray:
    """Dynamic binarisation: each pixel is 1 with probability equal to its intensity.

    Call it afresh every epoch (or batch) so the model sees new samples each time.

    Args:
        x: ``uint8`` (0..255) or floats in ``[0, 1]``; any shape.
        rng: a seed or a :class:`numpy.random.Generator`; None draws fresh OS entropy.
            The same seed gives the same result.

    Returns:
        ``float32`` array of 0.0 and 1.0, same shape as ``x``.
    """
    p = _intensity(x)
    if not (rng is None or isinstance(rng, (int, np.integer, np.random.Generator))) or isinstance(
        rng, bool
    ):
        raise ValueError(f"rng must be None, an int seed or a numpy Generator, got {rng!r}")
    gen = np.random.default_rng(rng)
    return (gen.random(p.shape, dtype=np.float32) < p).astype(np.float32)


def _shape_of(x: Any, name: str, expected: str) -> tuple[int, ...]:
    """Accept NumPy arrays and array objects with ``shape`` and ``reshape`` (torch tensors)."""
    if isinstance(x, np.ndarray) or (hasattr(x, "shape") and hasattr(x, "reshape")):
        return tuple(int(d) for d in x.shape)
    raise ValueError(f"{name} must be an array of shape {expected}, got {type(x).__name__}")


def flatten(x: np.ndarray) -> np.ndarray:
    """Images ``[n, H, W]`` (or ``[n, 1, H, W]`` / ``[n, H, W, 1]``) -> vectors ``[n, H*W*C]``.

    Works on torch tensors too. Dtype unchanged; a view where possible.
    """
    expected = "[n, H, W] (or [n, C, H, W] / [n, H, W, C])"
    shape = _shape_of(x, "x", expected)
    if len(shape) not in (3, 4):
        raise ValueError(f"x must have shape {expected}, got shape {shape}")
    return x.reshape(shape[0], -1)


def as_images(x: np.ndarray, shape: tuple[int, int] = (28, 28), layout: str = "NHW") -> np.ndarray:
    """Vectors (or images) ``[n, ...]`` -> images in ``layout``.

    Args:
        x: ``[n, H*W]`` vectors, or anything with ``n`` leading and ``H*W`` values per item,
            e.g. ``[n, H, W]``; NumPy array or torch tensor.
        shape: ``(H, W)``.
        layout: ``"NHW"`` -> ``[n, H, W]``, ``"NCHW"`` -> ``[n, 1, H, W]`` (torch convolutions),
            ``"NHWC"`` -> ``[n, H, W, 1]`` (Keras convolutions).

    Returns:
        ``x`` reshaped (a view where possible), dtype unchanged.
    """
    try:
        h, w = (int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (height, width), got {shape!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"shape must be positive (height, width), got {shape!r}")
    expected = f"[n, {h * w}] (n vectors of H*W = {h}*{w} values)"
    xs = _shape_of(x, "x", expected)
    per_item = int(np.prod(xs[1:])) if len(xs) >= 2 else -1
    if len(xs) < 2 or per_item != h * w:
        raise ValueError(f"x must have shape {expected}, got shape {xs}")
    key = layout.upper() if isinstance(layout, str) else layout
    if key == "NHW":
        return x.reshape(xs[0], h, w)
    if key == "NCHW":
        return x.reshape(xs[0], 1, h, w)
    if key == "NHWC":
        return x.reshape(xs[0], h, w, 1)
    raise ValueError(f"layout must be one of {', '.join(_LAYOUTS)}, got {layout!r}")


def check_images(images: Any, labels: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate a dataset given as arrays, as the torch and Keras loaders take it.

    Args:
        images: ``uint8 [n, H, W]`` or ``[n, D]`` (``n >= 1``), as ``load_mnist`` returns.
        labels: integers ``[n]`` or None.

    Returns:
        ``(images, labels)`` with labels as ``int64 [n]`` (or None).

    Raises:
        ValueError: naming the argument and the expected shape.
    """
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim < 2:
        what = (
            f"{images.dtype} array of shape {images.shape}"
            if isinstance(images, np.ndarray)
            else type(images).__name__
        )
        raise ValueError(
            "images must be a uint8 NumPy array [n, H, W] or [n, D] (as load_mnist returns), "
            f"got {what}"
        )
    if len(images) == 0:
        raise ValueError(f"images must hold at least one image, got shape {images.shape}")
    if labels is None:
        return images, None
    arr = np.asarray(labels)
    if arr.shape != (len(images),) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape [{len(images)}] to match images, got "
            f"{arr.dtype} array of shape {arr.shape}"
        )
    return images, arr.astype(np.int64)


def check_loader_inputs(
    images: Any,
    labels: Any,
    transform: str | None,
    batch_size: Any,
    transforms: Collection[str | None],
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate the arguments of the torch and Keras loaders (``make_loader``, ``make_dataset``).

    Args:
        images, labels: as :func:`check_images`.
        transform: must be one of ``transforms`` (the loader's ``TRANSFORMS``).
        batch_size: a positive integer (not a bool).

    Returns:
        ``check_images(images, labels)``.

    Raises:
        ValueError: naming the argument and what is expected.
    """
    images, labels = check_images(images, labels)
    if transform not in transforms:
        known = ", ".join(repr(t) for t in transforms)
        raise ValueError(f"transform must be one of {known}, got {transform!r}")
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or (batch_size < 1)
    ):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return images, labels
