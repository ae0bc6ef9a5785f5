"""The one check of a batch of images a metric is given: shape, NaN and the range [0, 1].

Every metric (:mod:`coursekit.metrics.report`, the classifier of
:mod:`coursekit.metrics.classifier`) and the results records take images the same way and
refuse the same mistakes with the same message, with a hint where the range says what was
meant ("they look like [-1, 1] images (e.g. a tanh generator): pass (x + 1) / 2").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.checks import check_int, to_numpy

__all__ = ["check_samples"]


def check_samples(samples: Any, name: str = "samples", min_samples: int = 1) -> np.ndarray:
    """``samples`` as float32 [n, 28, 28] in [0, 1], or a ValueError saying what is wrong.

    Accepts NumPy arrays and framework tensors of shape [n, 28, 28], [n, 784], [n, 1, 28, 28]
    or [n, 28, 28, 1].
    """
    try:
        arr = to_numpy(samples)
    except Exception as err:  # noqa: BLE001 - anything that is not array-like
        raise ValueError(
            f"{name} must be an array of images, got {type(samples).__name__}."
        ) from err
    if arr.dtype == bool:
        arr = arr.astype(np.float32)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}.")
    shape = arr.shape
    if arr.ndim == 2 and shape[1] == 784:
        arr = arr.reshape(-1, 28, 28)
    elif arr.ndim == 4 and shape[1:] in ((1, 28, 28), (28, 28, 1)):
        arr = arr.reshape(-1, 28, 28)
    elif not (arr.ndim == 3 and shape[1:] == (28, 28)):
        raise ValueError(
            f"{name} must have shape [n, 28, 28] or [n, 784] (or with a channel axis of 1), "
            f"got {shape}."
        )
    n = arr.shape[0]
    check_int(min_samples, "min_samples", 1, "the fewest images accepted")
    if n < min_samples:
        raise ValueError(f"{name} has {n} images; at least {min_samples} are needed.")
    arr = arr.astype(np.float32, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds {int(np.sum(~np.isfinite(arr)))} NaN or infinite values.")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        hint = "; rescale them to [0, 1]"
        if lo < 0.0 and lo >= -1.0 and hi <= 1.0:
            hint = "; they look like [-1, 1] images (e.g. a tanh generator): pass (x + 1) / 2"
        elif hi > 1.0 and hi <= 255.0 and lo >= 0.0:
            hint = "; they look like 0-255 pixel values: pass x / 255"
        raise ValueError(f"{name} must lie in [0, 1], got values in [{lo:.3g}, {hi:.3g}]{hint}.")
    return arr
