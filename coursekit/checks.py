"""Argument checks for the whole package: one style of error, and the divergence error.

Every public function of the course checks what it is given and answers bad input with one
``ValueError`` that names the argument, says what it is, and what was expected::

    check_int(0, "k", 1)          # ValueError: k (number of Gibbs steps) must be an int >= 1, got 0
    check_float(-1, "eta", "> 0")  # ValueError: eta (step size) must be a finite number > 0, ...

A trainer whose numbers run away raises :class:`TrainingDiverged` (a ``FloatingPointError``),
whatever the model. :func:`to_numpy` is the one conversion of a framework tensor to NumPy, and
:func:`warn_deprecated` the one warning for a name kept one release after it was renamed.
NumPy only; no framework is imported here (tensors are recognised by duck typing).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "IMAGE_SHAPES",
    "CoursekitWarning",
    "TrainingDiverged",
    "check_bool",
    "check_callable",
    "check_choice",
    "check_float",
    "check_image_batch",
    "check_int",
    "check_numbers",
    "check_path",
    "check_seed",
    "check_shape",
    "numeric_array",
    "describe",
    "image_shapes",
    "to_numpy",
    "warn_deprecated",
]


class TrainingDiverged(FloatingPointError):
    """Training stopped because the loss, the energies, the gradients or the weights ran away.

    Raised by every trainer of the course (RBM, EBM, VAE, DCGAN); the message says which
    number ran away and what to try. The weights of the last good step are kept.
    """


class CoursekitWarning(UserWarning):
    """The base of the package's own warnings (data fallbacks, ignored arguments, ...).

    They print as ``DataFallbackWarning: message``, without the file and line that Python
    puts first: in a notebook that location is the kernel's temporary file for the cell
    (``/tmp/ipykernel_1234/567.py:1``), noise that would also end up in committed outputs.
    Other warnings print as Python prints them.
    """


_python_format = warnings.formatwarning


def _format_warning(message: Any, category: Any, filename: str, lineno: int,
                    line: str | None = None) -> str:  # fmt: skip
    if isinstance(category, type) and issubclass(category, CoursekitWarning):
        return f"{category.__name__}: {message}\n"
    return _python_format(message, category, filename, lineno, line)


warnings.formatwarning = _format_warning


#: What an argument is, for the messages: "k (number of Gibbs steps) must be an int >= 1".
DESCRIPTIONS = {
    "n_visible": "number of visible units",
    "n_hidden": "number of hidden units",
    "k": "number of Gibbs steps",
    "n_chains": "number of persistent chains",
    "eta": "step size",
    "eta_final": "the step size the schedule decays to",
    "momentum": "momentum",
    "weight_decay": "L2 penalty on W",
    "init_std": "initial weight scale",
    "seed": "random seed",
    "steps": "number of Gibbs steps",
    "every": "snapshot interval",
    "n": "number of samples",
    "epochs": "number of passes over x",
    "batch_size": "rows per update",
    "monitor_every": "epochs between monitors",
    "updates": "parameter updates",
    "log_every": "updates per history row",
}

# Rules of check_float: the text of the message -> the test.
_FLOAT_RULES = {
    "> 0": lambda v: v > 0.0,
    ">= 0": lambda v: v >= 0.0,
    "in [0, 1)": lambda v: 0.0 <= v < 1.0,
    "in [0, 1]": lambda v: 0.0 <= v <= 1.0,
    "in (0, 1]": lambda v: 0.0 < v <= 1.0,
}

#: The layouts of a batch of 28 x 28 images that the models accept (after the batch axis).
IMAGE_SHAPES = ((784,), (28, 28), (28, 28, 1), (1, 28, 28))


def describe(name: str, what: str | None = None) -> str:
    """``name`` with its description for a message: ``"k (number of Gibbs steps)"``."""
    what = DESCRIPTIONS.get(name) if what is None else what
    return f"{name} ({what})" if what else name


def check_int(value: Any, name: str, minimum: int, what: str | None = None) -> int:
    """``value`` as an ``int >= minimum`` (Python or NumPy integer; not a bool, not a float).

    ``what`` describes the argument in the message (default: :data:`DESCRIPTIONS`).
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{describe(name, what)} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_float(value: Any, name: str, rule: str, what: str | None = None) -> float:
    """``value`` as a finite float obeying ``rule``: ``"> 0"``, ``">= 0"``, ``"in [0, 1)"``,
    ``"in [0, 1]"`` or ``"in (0, 1]"``.

    Any real number is accepted (Python, NumPy, a 0-d array or tensor); bools and strings are not.
    """
    ok = _FLOAT_RULES[rule]
    message = f"{describe(name, what)} must be a finite number {rule}, got {value!r}"
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(message)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if not math.isfinite(v) or not ok(v):
        raise ValueError(message)
    return v


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a bool (``True``/``False`` or a NumPy bool; not 0/1)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_seed(value: Any, name: str = "seed") -> int | None:
    """None, or ``value`` as an ``int >= 0``."""
    return None if value is None else check_int(value, name, 0)


def check_shape(value: Any, name: str, what: str | None = None) -> tuple[int, ...]:
    """``value`` as a shape: a non-empty tuple or list of ints >= 1, e.g. ``(1, 28, 28)``."""
    message = (f"{describe(name, what)} must be a tuple of ints >= 1 such as (1, 28, 28) or "
               f"(2,), got {value!r}")  # fmt: skip
    if not isinstance(value, (tuple, list)) or not value:
        raise ValueError(message)
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in value):
        raise ValueError(message)
    return tuple(int(d) for d in value)


def check_callable(value: Any, name: str, what: str) -> Any:
    """``value`` if it can be called; ``what`` says what it must be, e.g. ``"a function
    callback(model, row)"``."""
    if not callable(value):
        raise ValueError(f"{name} must be {what}, got {type(value).__name__} {value!r:.40}")
    return value


def check_path(value: Any, name: str) -> Path:
    """``value`` (a ``str`` or ``os.PathLike``, not empty) as a :class:`~pathlib.Path`."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)) or value == "":
        raise ValueError(f"{name} must be a path (a str or pathlib.Path), got "
                         f"{type(value).__name__} {value!r:.40}")  # fmt: skip
    return Path(value)


def numeric_array(x: Any, name: str, what: str) -> np.ndarray:
    """``x`` (an array, a tensor, nested lists) as a NumPy array of numbers or bools, any shape;
    anything else (strings, objects) is refused as "``name`` must be ``what``"."""
    try:
        arr = to_numpy(x)
    except (TypeError, ValueError, RuntimeError):
        arr = None
    if arr is None or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        shown = f"dtype {arr.dtype}" if arr is not None else type(x).__name__
        raise ValueError(f"{name} must be {what}, got {shown}")
    return arr


def check_numbers(x: Any, name: str, what: str, *, ndim: int | None = None) -> np.ndarray:
    """``x`` (an array, a tensor, nested lists) as a non-empty float64 array of finite numbers;
    with ``ndim``, of exactly that many dimensions. ``what`` describes the expected layout for
    the messages, e.g. ``"scores [n]"``."""
    arr = numeric_array(x, name, f"{what} (numbers)")
    if arr.size == 0 or (ndim is not None and arr.ndim != ndim):
        raise ValueError(f"{name} must be {what}, got shape {tuple(arr.shape)}")
    arr = np.asarray(arr, dtype=np.float64)
    bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise ValueError(f"{name} holds {bad} NaN or infinite values; it must be {what} of "
                         "finite numbers")  # fmt: skip
    return arr


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices`` (compared with ``==``)."""
    if not any(value == c and type(value) is type(c) for c in choices):
        shown = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {shown}; got {value!r}")
    return value


def to_numpy(x: Any) -> np.ndarray:
    """Convert an array-like or a framework tensor to a NumPy array (same shape).

    * objects with ``.detach()`` (PyTorch tensors, also with ``requires_grad`` or on a GPU):
      ``x.detach().cpu().numpy()``; bfloat16 and other dtypes NumPy lacks become float32;
    * a ``keras.Variable`` (it has ``.value``, the backend tensor): that tensor, converted;
    * objects with a ``.numpy()`` method (TensorFlow eager tensors and variables): ``x.numpy()``;
    * anything else: ``np.asarray(x)``.
    """
    if hasattr(x, "detach"):
        t = x.detach().cpu()
        try:
            return np.asarray(t.numpy())
        except TypeError:  # e.g. torch.bfloat16 has no NumPy equivalent
            return np.asarray(t.float().numpy())
    if type(x).__name__ == "Variable" and hasattr(x, "value") and hasattr(x, "assign"):
        return to_numpy(x.value)  # a keras.Variable on any backend
    numpy_method = getattr(x, "numpy", None)
    if callable(numpy_method) and not isinstance(x, np.ndarray):
        return np.asarray(numpy_method())
    return np.asarray(x)


def image_shapes(side: int = 28) -> tuple[tuple[int, ...], ...]:
    """The layouts of a batch of ``side x side`` images that the models accept, after the
    batch axis: ``(side * side,)``, ``(side, side)``, ``(side, side, 1)``, ``(1, side, side)``
    (:data:`IMAGE_SHAPES` for 28)."""
    return ((side * side,), (side, side), (side, side, 1), (1, side, side))


def check_image_batch(x: Any, name: str, *, expect: str, side: int = 28) -> np.ndarray:
    """A batch of ``side x side`` images as float32 ``[n, side, side]`` (values not checked).

    Accepts :func:`image_shapes` of ``side`` after the batch axis (for 28: :data:`IMAGE_SHAPES`,
    ``[n, 784]``, ``[n, 28, 28]``, ``[n, 28, 28, 1]``, ``[n, 1, 28, 28]``; arrays, tensors,
    nested lists), floats, integers and bools. uint8 images (0..255) are refused with
    ``expect``, the conversion the model wants (e.g. ``"intensities in [0, 1]: use
    ck.data.to_float(images) first"``).
    """
    if not isinstance(x, np.ndarray):
        try:
            x = to_numpy(x)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be an array of images, got {type(x).__name__}") from err
    shape = tuple(x.shape)
    if len(shape) < 2 or shape[1:] not in image_shapes(side) or shape[0] < 1:
        s = side
        raise ValueError(
            f"{name} must hold {s}x{s} images as [n, {s * s}], [n, {s}, {s}], [n, {s}, {s}, 1] "
            f"or [n, 1, {s}, {s}] with n >= 1, got shape {shape}"
        )
    if x.dtype == np.uint8:
        raise ValueError(f"{name} is uint8 (0..255); the model wants {expect}")
    if not (
        np.issubdtype(x.dtype, np.floating)
        or x.dtype == np.bool_
        or np.issubdtype(x.dtype, np.integer)
    ):
        raise ValueError(f"{name} must be numeric, got dtype {x.dtype}")
    return np.asarray(x, dtype=np.float32).reshape(shape[0], side, side)


def warn_deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``old`` (kept for one release) is deprecated, and what to use instead.

    ``stacklevel`` 3 points the warning at the caller of the function that calls this one.
    """
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new} instead",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
