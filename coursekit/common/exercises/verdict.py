"""The verdicts of the labs' exercise checks, framework-free: what a student is told.

Each lab writes its model's core as exercises; after each one a check (``coursekit.torch.
exercises``, ``coursekit.keras.exercises``) runs the student's function and coursekit's verified
one on the same inputs (weights, data, random numbers) and says, in one line, that they agree,
or what differs in the student's terms: not an assertion from inside coursekit. To do that it
also runs the typical mistakes (a flipped sign, probabilities where samples belong, sums where
means belong, ...) and names the one the student's numbers match::

    verdict("cd_gradient", got, want, mistakes={"the sign is flipped: ...": flipped})

A function that still raises ``NotImplementedError`` gets :class:`NotWrittenYet`; anything else
that is wrong gets :class:`NotYetRight`. Both show in a notebook as their message alone (no
traceback: IPython prints what ``_render_traceback_`` returns), and stop the notebook there.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from coursekit.checks import to_numpy

__all__ = [
    "ExerciseMessage",
    "NotWrittenYet",
    "NotYetRight",
    "call_student",
    "return_error",
    "verdict",
]


class ExerciseMessage(Exception):
    """A message of an exercise check, shown in a notebook as itself, without a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook for how an error is shown
        return [str(self)]


class NotWrittenYet(ExerciseMessage, NotImplementedError):
    """The student's function still raises ``NotImplementedError``: nothing to check yet."""


class NotYetRight(ExerciseMessage, AssertionError):
    """The student's function runs but does not compute what the exercise asks."""


def call_student(fn: Any, name: str, signature: str, *args: Any) -> Any:
    """``fn(*args)``, the student's ``name``, with every way it can fail said plainly.

    Args:
        fn: what the student passed to the check.
        name: the exercise's function name, for the messages (``"cd_gradient"``).
        signature: the expected call, for the messages (``"cd_gradient(x, chain, W, a, b,
            u_h, u_x) -> (dW, da, db, chain_end)"``).
        args: the inputs.

    Raises:
        NotWrittenYet: ``fn`` raises ``NotImplementedError``.
        NotYetRight: ``fn`` is not callable, does not take these arguments, or raises.
    """
    if not callable(fn):
        raise NotYetRight(f"{name}: expected a function {signature}, got {type(fn).__name__}")
    try:
        inspect.signature(fn).bind(*args)
    except TypeError:
        raise NotYetRight(
            f"{name} must take {len(args)} arguments: {signature}; yours is "
            f"{getattr(fn, '__name__', name)}{inspect.signature(fn)}"
        ) from None
    except ValueError:  # a builtin without a signature: just call it
        pass
    try:
        return fn(*args)
    except NotImplementedError:
        raise NotWrittenYet(
            f"not written yet: {name} still raises NotImplementedError. Write it in the cell "
            "above (between the comments), run that cell, then run this check again."
        ) from None
    except Exception as err:  # noqa: BLE001 - the student's error, reported in one line
        raise NotYetRight(f"{name} raised {type(err).__name__}: {err}") from None


def _as_arrays(
    name: str, got: Mapping[str, Any], want: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The student's outputs as float64 arrays, after checking each is a tensor of the
    expected shape with finite values (one clear message otherwise)."""
    out = {}
    for key, expected in want.items():
        value = got[key]
        if isinstance(value, (int, float)) and np.ndim(expected) > 0:
            raise NotYetRight(
                f"{name}: {key} is a Python number; expected a tensor of shape "
                f"{tuple(np.shape(expected))}"
            )
        try:
            arr = np.asarray(to_numpy(value), dtype=np.float64)
        except (TypeError, ValueError):
            raise NotYetRight(
                f"{name}: {key} is a {type(value).__name__}; expected a tensor of shape "
                f"{tuple(np.shape(expected))}"
            ) from None
        if arr.shape != np.shape(expected):
            raise NotYetRight(
                f"{name}: {key} has shape {arr.shape}; expected {tuple(np.shape(expected))}"
            )
        if not np.all(np.isfinite(arr)):
            raise NotYetRight(f"{name}: {key} contains NaN or infinite values")
        out[key] = arr
    return out


def _close(
    got: Mapping[str, np.ndarray], want: Mapping[str, Any], rtol: float, atol: float
) -> bool:
    return all(
        np.allclose(got[k], np.asarray(want[k], dtype=np.float64), rtol=rtol, atol=atol)
        for k in got
    )


def verdict(
    name: str,
    got: Mapping[str, Any],
    want: Mapping[str, Any],
    mistakes: Mapping[str, Mapping[str, Any]] = (),
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> str:
    """The pass line, or :class:`NotYetRight` saying what differs.

    Args:
        name: the exercise's function.
        got: the student's outputs by name (tensors or arrays).
        want: coursekit's outputs by name, the same keys.
        mistakes: typical wrong versions: ``{message: outputs by name}``; when the student's
            outputs match one (and not ``want``), its message is the verdict.
        rtol, atol: the tolerance of "agrees" (float32 arithmetic in another order).

    Returns:
        ``"✓ name agrees with coursekit: ..."``, for printing.
    """
    want = {k: np.asarray(to_numpy(v), dtype=np.float64) for k, v in want.items()}
    arrays = _as_arrays(name, got, want)
    if _close(arrays, want, rtol, atol):
        return f"✓ {name} agrees with coursekit ({', '.join(want)}; tolerance {rtol:g})"
    for message, outputs in dict(mistakes).items():
        wrong = {k: np.asarray(to_numpy(v), dtype=np.float64) for k, v in outputs.items()}
        if _close({k: arrays[k] for k in wrong}, wrong, rtol, atol):
            raise NotYetRight(f"{name}: {message}")
    worst, size, scale = "", -1.0, 0.0
    for key, value in arrays.items():
        diff = float(np.max(np.abs(value - want[key]))) if value.size else 0.0
        if diff > size:
            worst, size, scale = key, diff, float(np.max(np.abs(want[key]), initial=0.0))
    raise NotYetRight(
        f"{name}: {worst} differs from coursekit's by up to {size:.3g} (its largest value is "
        f"{scale:.3g}); compare your formula for {worst} with the lecture's, term by term"
    )


def return_error(name: str, expected: str, out: Any) -> NotYetRight:
    """The message for a function that returned the wrong number or kind of values."""
    kind = f"{len(out)} values" if isinstance(out, (tuple, list)) else type(out).__name__
    return NotYetRight(f"{name} must return {expected}; it returned {kind}")
