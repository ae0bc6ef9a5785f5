"""Image batches in any layout, brought to one: ``[n, H, W, C]`` with values in ``[0, 1]``.

The image figures (:mod:`coursekit.plotting.images`) accept a NumPy array, a PyTorch or
TensorFlow tensor (converted by :func:`coursekit.checks.to_numpy`) or a list of them, in any
layout listed in the :mod:`coursekit.plotting` docstring: ``[n, H, W]``, ``[n, 1|3, H, W]``
(NCHW), ``[n, H, W, 1|3]`` (NHWC), ``[n, H*W]``, one square image ``[H, W]`` or ``[H*W]``.

:func:`_as_batch` does the reshaping, :func:`_value_range` infers which data values are black
and white, and :func:`_normalise` maps them to ``[0, 1]``: one reading of a batch, shared by
every figure that shows images, so that a batch looks the same in all of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from coursekit.checks import to_numpy


def _to_array(images: Any, name: str) -> np.ndarray:
    """``images`` as one array; a list/tuple of arrays or tensors is stacked on a new axis 0."""
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise ValueError(f"{name} is empty")
        try:
            return np.stack([to_numpy(im) for im in images])
        except ValueError as err:
            raise ValueError(f"{name}: the items of the list differ in shape ({err})") from err
    return to_numpy(images)


def _is_square(k: int) -> bool:
    return k > 0 and math.isqrt(k) ** 2 == k


def _as_batch(
    images: Any, image_shape: Sequence[int] | None = None, *, name: str = "images"
) -> np.ndarray:
    """Bring any supported image layout to ``[n, H, W, C]`` with ``C`` in {1, 3}.

    The dtype is left unchanged so that the value range can still be inferred from it.
    """
    arr = _to_array(images, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")

    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) not in (2, 3) or min(shape) <= 0:
            raise ValueError(
                f"image_shape must be (H, W), (H, W, C) or (C, H, W) with positive sizes, "
                f"got {tuple(image_shape)}"
            )
        per_image = math.prod(shape)
        if arr.size % per_image != 0:
            raise ValueError(
                f"image_shape={shape} holds {per_image} values per image, which does not divide "
                f"the {arr.size} values of {name} with shape {arr.shape}"
            )
        arr = arr.reshape((-1, *shape))
    elif arr.ndim == 1:
        if not _is_square(arr.size):
            raise ValueError(
                f"{name}: a 1-D array is read as one flattened square image, but its "
                f"{arr.size} values are not a perfect square; pass image_shape=(H, W)"
            )
        side = math.isqrt(arr.size)
        arr = arr.reshape(1, side, side)
    elif arr.ndim == 2:
        rows, cols = arr.shape
        if rows == cols:
            arr = arr[None]  # a single square image [H, W]
        elif _is_square(cols):
            side = math.isqrt(cols)
            arr = arr.reshape(rows, side, side)
        else:
            raise ValueError(
                f"{name} with shape {arr.shape} is read as {rows} flattened images of {cols} "
                f"pixels, which is not a perfect square: pass image_shape=(H, W) "
                f"(or image[None] for one non-square image)"
            )

    if arr.ndim == 3:
        return arr[..., None]
    if arr.ndim == 4:
        if arr.shape[1] in (1, 3):  # NCHW (PyTorch); preferred when both readings fit
            return arr.transpose(0, 2, 3, 1)
        if arr.shape[-1] in (1, 3):  # NHWC (TensorFlow/Keras)
            return arr
        raise ValueError(
            f"{name} with shape {arr.shape}: a 4-D batch needs 1 or 3 channels, on axis 1 "
            f"([n, C, H, W]) or on the last axis ([n, H, W, C])"
        )
    raise ValueError(
        f"{name} must have 1 to 4 dimensions ([H*W], [H, W], [n, H*W], [n, H, W], "
        f"[n, C, H, W] or [n, H, W, C]), got shape {arr.shape}"
    )


def _value_range(arr: np.ndarray, value_range: Sequence[float] | None) -> tuple[float, float]:
    """The (low, high) data values that map to black and white.

    Inferred when ``value_range`` is None: bool -> (0, 1); uint8 -> (0, 255); other integers ->
    (-1, 1) if any value is negative, else (0, 1) if all are 0/1, else (0, 255); floats -> (-1, 1)
    if any finite value is negative, else (0, 1).
    """
    if value_range is not None:
        try:
            lo, hi = (float(v) for v in value_range)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"value_range must be two numbers (low, high), got {value_range!r}"
            ) from err
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"value_range must have finite low < high, got {value_range!r}")
        return lo, hi
    kind = arr.dtype.kind
    if kind == "b":
        return 0.0, 1.0
    if arr.dtype == np.uint8:
        return 0.0, 255.0
    if kind in "iu":
        if arr.min() < 0:
            return -1.0, 1.0
        return (0.0, 1.0) if arr.max() <= 1 else (0.0, 255.0)
    finite = arr[np.isfinite(arr)]
    if finite.size and finite.min() < 0:
        return -1.0, 1.0
    return 0.0, 1.0


def _normalise(arr: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map ``[lo, hi]`` linearly to ``[0, 1]`` as float32, clipping outside values (NaN stays)."""
    out = (arr.astype(np.float32) - np.float32(lo)) / np.float32(hi - lo)
    return np.clip(out, 0.0, 1.0, out=out)


def _positive_int(value: Any, name: str) -> int:
    """``value`` as an int if it is a positive integer (not a bool), else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
