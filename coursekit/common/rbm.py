"""What :class:`coursekit.torch.RBM` and :class:`coursekit.keras.RBM` share, framework-free:
the rules of their hyperparameters, data and sampling arguments, the step-size schedule, when
training counts as diverged and the saved file's hyperparameters, so that both raise the same
errors (``fit``'s epoch loop and checkpoints: :mod:`coursekit.common.rbm_fit`). NumPy only::

    hyper = check_hyperparameters(784, 500, k=1, eta=0.05)        # converted values
    x = check_training_data(x, n_visible=784)                     # float32 [n, 784] in [0, 1]

Every error names the argument and what is expected (:mod:`coursekit.checks`).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import numpy as np

from coursekit.checks import (  # fmt: skip
    CoursekitWarning,
    TrainingDiverged,
    check_bool,
    check_float,
    check_int,
    check_seed,
    describe,
    to_numpy,
)
from coursekit.io import read_npz

__all__ = [  # fmt: skip
    "BINARIZE_MODES", "EXPLODED", "HYPERPARAMETERS", "MONITOR_ROWS", "check_binarize",
    "check_chains", "check_columns", "check_finite_parameters", "check_gibbs_arguments",
    "check_hyperparameter", "check_hyperparameters", "check_not_diverged", "check_rows",
    "check_sample_arguments", "check_training_data", "check_weights", "eta_schedule",
    "fixed_attribute", "hyperparameter_arrays", "load_rbm_file", "refuse_assignment",
    "saved_hyperparameters", "tunable_attribute", "visible_bias_from_data",
]

#: Rows of the training set that ``fit`` monitors when no validation set is given.
MONITOR_ROWS = 1000

#: Largest ``|W|``, ``|a|`` or ``|b|`` that training may reach before it counts as diverged.
#: Trained on MNIST, the week 1 RBMs stay below about 10 (measured: max |W| = 1.9 after two
#: epochs with eta = 1, 6.9 with eta = 10); with eta = 100 max |W| reached 94 and the
#: pseudo-log-likelihood -3,600 nats (a coin-flip model scores -543). A single weight of 100
#: moves a unit's input by 100: its sigmoid is then 0 or 1 to float32 precision.
EXPLODED = 100.0

#: What ``fit(binarize=...)`` accepts.
BINARIZE_MODES = ("dynamic", "static", None)

#: The constructor's arguments in order, with their rules.
HYPERPARAMETERS: dict[str, tuple[str, Any]] = {
    "n_visible": ("int", 1),
    "n_hidden": ("int", 1),
    "k": ("int", 1),
    "persistent": ("bool", None),
    "n_chains": ("int or None", 1),
    "eta": ("float", "> 0"),
    "momentum": ("float", "in [0, 1)"),
    "weight_decay": ("float", ">= 0"),
    "init_std": ("float", ">= 0"),
    "seed": ("seed", None),
}


def eta_schedule(eta: float, eta_final: Any, epochs: int) -> list[float] | None:
    """The step size of each epoch of a ``fit`` that decays it linearly from ``eta`` to
    ``eta_final``, or None for a constant ``eta`` (``eta_final=None``).

    Epoch ``e`` (0-based) of ``epochs`` uses the linear schedule's value at its midpoint,
    ``eta + (eta_final - eta) (e + 1/2) / epochs``: so the epochs' mean step size is that of
    the per-update schedule, and each stays > 0 when ``eta_final = 0``.
    """
    if eta_final is None:
        return None
    final = check_float(eta_final, "eta_final", ">= 0")
    if final > eta:  # a rising "decay" is a typo, not a schedule
        raise ValueError(f"{describe('eta_final')} must be <= eta = {eta:g}, got {eta_final!r}: "
                         "the schedule decays; to train with a larger step, raise eta")
    return [eta + (final - eta) * (e + 0.5) / epochs for e in range(epochs)]


def check_binarize(binarize: Any) -> str | None:
    """``binarize`` if it is one of :data:`BINARIZE_MODES`."""
    if binarize not in BINARIZE_MODES:
        raise ValueError(f"binarize must be 'dynamic', 'static' or None, got {binarize!r}")
    return binarize


def check_hyperparameter(name: str, value: Any) -> Any:
    """Check and convert one RBM hyperparameter (as the constructor and the setters do)."""
    kind, rule = HYPERPARAMETERS[name]
    if kind == "int":
        return check_int(value, name, rule)
    if kind == "int or None":
        return None if value is None else check_int(value, name, rule)
    if kind == "float":
        return check_float(value, name, rule)
    if kind == "bool":
        return check_bool(value, name)
    return check_seed(value, name)


def check_hyperparameters(
    n_visible: Any,
    n_hidden: Any,
    *,
    k: Any = 1,
    persistent: Any = False,
    n_chains: Any = None,
    eta: Any = 0.05,
    momentum: Any = 0.5,
    weight_decay: Any = 1e-4,
    init_std: Any = 0.01,
    seed: Any = None,
) -> dict[str, Any]:
    """Check all RBM constructor arguments, in order; returns ``{name: converted value}``.

    ``seed`` stays None when it is None (each framework draws its own then). ``n_chains`` with
    ``persistent=False`` is kept but warned about (a ``UserWarning``): contrastive divergence
    starts one chain at every row of each batch, so the number of chains is the batch size.
    """
    given = {
        "n_visible": n_visible,
        "n_hidden": n_hidden,
        "k": k,
        "persistent": persistent,
        "n_chains": n_chains,
        "eta": eta,
        "momentum": momentum,
        "weight_decay": weight_decay,
        "init_std": init_std,
        "seed": seed,
    }
    hyper = {name: check_hyperparameter(name, value) for name, value in given.items()}
    if hyper["n_chains"] is not None and not hyper["persistent"]:
        warnings.warn(
            f"n_chains={hyper['n_chains']} is ignored with persistent=False: CD-k starts one "
            "chain at each row of every batch (the batch size sets the number of chains); "
            "pass persistent=True for PCD with n_chains persistent chains",
            CoursekitWarning,
            stacklevel=3,
        )
    return hyper


def refuse_assignment(name: str) -> Any:
    """A property setter for ``name`` that raises an ``AttributeError`` saying why and what to do.

    The structure of an RBM is fixed when it is built: changing ``n_hidden`` afterwards would
    leave ``W`` and ``b`` with the old shape (and ``save`` would write a file ``load`` rejects).
    """

    def refuse(self: Any, value: Any) -> NoReturn:
        raise AttributeError(
            f"{name} is fixed when the RBM is built (it sets the shapes of W, a, b, the chains "
            f"and the saved file); build a new RBM({name}={value!r}, ...) instead"
        )

    return refuse


def fixed_attribute(name: str, doc: str) -> property:
    """A read-only property ``name`` that reads ``self._<name>`` (see :func:`refuse_assignment`)."""

    def get(self: Any) -> Any:
        return getattr(self, f"_{name}")

    return property(get, refuse_assignment(name), doc=doc)


def tunable_attribute(name: str, doc: str) -> property:
    """A property ``name`` for ``self._<name>`` that checks a new value as the constructor does
    (:func:`check_hyperparameter`): the hyperparameters that may change between fits. A
    framework variable there (the Keras RBM's ``eta``, read by compiled steps) is assigned to."""

    def get(self: Any) -> Any:
        value = getattr(self, f"_{name}")
        return float(to_numpy(value)) if hasattr(value, "assign") else value

    def set_(self: Any, value: Any) -> None:
        value, current = check_hyperparameter(name, value), getattr(self, f"_{name}", None)
        if hasattr(current, "assign"):
            current.assign(value)
        else:
            setattr(self, f"_{name}", value)

    return property(get, set_, doc=doc)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def check_rows(x: Any, n_visible: int, name: str = "x", *, binary: bool = False) -> np.ndarray:
    """``x`` as C-contiguous float32 [n, n_visible]; only dtype and shape are checked.

    Numbers (floats, integers, bools) are accepted, except uint8: those are 0..255 images, and
    the message says how to convert them. With ``binary``, every value must be 0 or 1. Zero
    rows are allowed here (see :func:`check_training_data`).
    """
    arr = np.asarray(x)
    if arr.dtype == np.uint8:
        raise ValueError(
            f"{name} has dtype uint8 (pixel intensities 0..255); the RBM wants floats in [0, 1] "
            f"of shape [n, n_visible]: convert images with ck.data.flatten(ck.data.to_float("
            f"{name})), or 0/1 data with {name}.astype(np.float32)"
        )
    if arr.dtype != np.bool_ and not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(f"{name} must hold numbers in [0, 1], got dtype {arr.dtype}")
    if arr.ndim != 2:
        hint = " (flatten images with ck.data.flatten)" if arr.ndim > 2 else ""
        raise ValueError(
            f"{name} must be 2-D [n, n_visible] with n_visible={n_visible} (one row per "
            f"example), got shape {arr.shape}{hint}"
        )
    if arr.shape[1] != n_visible:
        raise ValueError(f"{name} has {arr.shape[1]} columns but the RBM has n_visible={n_visible}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if binary and not _is_binary(arr):
        raise ValueError(f"{name} must be binary (every value 0 or 1)")
    return arr


def _is_binary(arr: np.ndarray) -> bool:
    return bool(((arr == 0.0) | (arr == 1.0)).all())


def check_columns(shape: tuple[int, ...], n_units: int, name: str, layer: str) -> None:
    """A batch of a layer (``layer``: "visible" or "hidden") must be 2-D [n, n_units]."""
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D [n, n_{layer}], got shape {tuple(shape)}")
    if shape[1] != n_units:
        raise ValueError(f"{name} has {shape[1]} columns but the RBM has n_{layer}={n_units}")


def check_chains(value: Any, n_visible: int, n_chains: int | None = None) -> np.ndarray:
    """Persistent chains assigned by the user: binary float32 [m, n_visible], with ``m =
    n_chains`` when that is given."""
    chains = check_rows(to_numpy(value), n_visible, "persistent_chains", binary=True)
    if n_chains is not None and chains.shape[0] != n_chains:
        raise ValueError(f"persistent_chains has {chains.shape[0]} rows but n_chains={n_chains}")
    return chains


def check_training_data(
    x: Any, n_visible: int, name: str = "x", binarize: str | None = "dynamic"
) -> np.ndarray:
    """Validate training-like data: numbers [n, n_visible] in [0, 1] -> float32 NumPy array.

    Args:
        x: array-like (convert framework tensors to NumPy first).
        n_visible: the number of columns required.
        name: the argument's name in the messages.
        binarize: as ``fit(binarize=...)``; None requires binary (0/1) data.

    Returns:
        ``x`` as C-contiguous float32 (no copy when it already is one).

    Raises:
        ValueError: a bad ``binarize``; uint8 or non-numeric data (with the conversion hint);
            not 2-D (with the ``flatten`` hint for images); a wrong number of columns; no rows;
            NaN or values outside [0, 1]; non-binary data when ``binarize`` is None.
    """
    check_binarize(binarize)
    arr = check_rows(x, n_visible, name)
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no rows (need at least one example), got shape {arr.shape}")
    if binarize is None and _is_binary(arr):
        return arr  # 0/1 only: no NaN, within [0, 1]
    lo, hi = float(arr.min()), float(arr.max())  # NaN propagates to both
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{name} must have values in [0, 1] but contains NaN")
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"{name} must have values in [0, 1]; got values in [{lo:g}, {hi:g}]")
    if binarize is None:
        off = arr[(arr != 0.0) & (arr != 1.0)]
        raise ValueError(
            f"{name} must be binary (0/1) when binarize=None; got values in [{lo:g}, {hi:g}] "
            f"(e.g. {off[0]:g}); pass binarize='dynamic' or 'static'"
        )
    return arr


def visible_bias_from_data(x: Any, n_visible: int, clip: float = 1e-3) -> np.ndarray:
    """``a_i = log(p_i / (1 - p_i))`` [n_visible] (float32) from the column means ``p_i`` of the
    training-like data ``x`` [n, n_visible], so that ``p(x_i = 1 | h = 0)`` matches the data
    (Hinton's guide, sec. 8). The means are clipped to ``[clip, 1 - clip]``: always-off pixels
    get a large negative, finite bias."""
    x = check_training_data(to_numpy(x), n_visible, "x")
    p = np.clip(x.mean(axis=0, dtype=np.float64), clip, 1.0 - clip)
    return np.log(p / (1.0 - p)).astype(np.float32)


def check_weights(n_visible: int, n_hidden: int, **weights: Any) -> dict[str, np.ndarray]:
    """``{"W": [n_v, n_h], "a": [n_v], "b": [n_h]}`` as float32, for those given and not None.

    Every array is checked (shape, finite) before any is returned, so that ``set_weights``
    changes nothing when one is bad.
    """
    shapes = {"W": (n_visible, n_hidden), "a": (n_visible,), "b": (n_hidden,)}
    out = {}
    for name, value in weights.items():
        if value is None:
            continue
        arr = np.asarray(value, dtype=np.float32)
        if arr.shape != shapes[name]:
            raise ValueError(f"{name} must have shape {shapes[name]}, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or inf")
        out[name] = arr
    return out


def hyperparameter_arrays(hyper: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The constructor's arguments for a saved file (the torch RBM's layout): one 0-d array
    each, -1 for None (``n_chains``, ``seed``)."""
    return {name: np.array(-1 if hyper[name] is None else hyper[name]) for name in HYPERPARAMETERS}


def saved_hyperparameters(stored: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The constructor's arguments of a saved RBM: from one JSON string ``"hyper"`` (the Keras
    RBM's layout) or from :func:`hyperparameter_arrays`."""
    if "hyper" in stored:
        return json.loads(str(stored["hyper"]))
    hyper = {name: stored[name].item() for name in HYPERPARAMETERS}
    for name in ("n_chains", "seed"):
        hyper[name] = None if hyper[name] == -1 else hyper[name]
    return hyper


def load_rbm_file(path: Any, file_format: str, writer: str, restore: Callable[[Any], Any]) -> Any:
    """``restore(stored)`` of the arrays of the RBM file at ``path`` (``coursekit.io.read_npz``,
    which checks the format tag); a file that does not restore raises a ``ValueError`` that
    names it and the ``writer`` that makes such files."""
    stored = read_npz(path, "RBM", file_format=file_format, writer=writer)
    try:
        return restore(stored)
    except (KeyError, ValueError, TypeError, RuntimeError) as err:
        raise ValueError(
            f"the RBM file {path} is incomplete or inconsistent: {err} (expected a file written "
            f"by {writer})"
        ) from err


# --------------------------------------------------------------------------------------------
# Sampling arguments
# --------------------------------------------------------------------------------------------


def check_gibbs_arguments(steps: Any, every: Any, return_chain: bool) -> tuple[int, int]:
    """``gibbs(x0, steps, every=...)``'s ``(steps >= 0, every >= 1)``; with ``return_chain``
    and ``steps > 0``, ``every`` must be <= ``steps`` (else no snapshot would be taken)."""
    steps = check_int(steps, "steps", 0)
    every = check_int(every, "every", 1)
    if return_chain and steps and every > steps:
        raise ValueError(
            f"every (snapshot interval) must be <= steps={steps} to take a snapshot, got {every}"
        )
    return steps, every


def check_sample_arguments(
    n: Any, steps: Any, every: Any, start: Any, n_visible: int
) -> tuple[int, int, int | None, np.ndarray | None]:
    """``sample(n, steps=, every=, start=)``'s arguments -> ``(n, steps, every, x0)``; ``x0``
    is None for ``start="noise"`` (the RBM draws it), else binary float32 [n, n_visible]."""
    n = check_int(n, "n", 1)
    steps = check_int(steps, "steps", 1)
    if every is not None:
        every = check_int(every, "every", 1)
        if every > steps:
            raise ValueError(
                f"every (snapshot interval) must be <= steps={steps}, got {every}; "
                "use every=None for the last step only"
            )
    if isinstance(start, str):
        if start != "noise":
            raise ValueError(f"start must be 'noise' or an array [n, n_v], got {start!r}")
        return n, steps, every, None
    x0 = check_rows(to_numpy(start), n_visible, "start", binary=True)
    if x0.shape[0] != n:
        raise ValueError(f"start has {x0.shape[0]} rows but n={n}")
    return n, steps, every, x0


# --------------------------------------------------------------------------------------------
# Divergence
# --------------------------------------------------------------------------------------------


def check_finite_parameters(params: Mapping[str, Any], epoch: int, eta: float) -> None:
    """:func:`check_not_diverged` on the largest ``|value|`` of each parameter (tensors or
    variables, by name), after ``epoch``."""
    largest = {name: float(np.abs(to_numpy(p)).max()) for name, p in params.items()}
    check_not_diverged(largest, epoch, eta)


def check_not_diverged(
    largest: Mapping[str, float], epoch: int, eta: float, limit: float = EXPLODED
) -> None:
    """Raise :class:`~coursekit.checks.TrainingDiverged` if training has run away.

    Args:
        largest: the largest absolute value of each parameter (or monitor), by name, e.g.
            ``{"W": 0.8, "a": 4.1, "b": 0.3}``; NaN if it holds a NaN.
        epoch: the epoch just finished (1-based), for the message.
        eta: the step size, for the message.
        limit: the largest value allowed (``math.inf`` for monitors: only finiteness).

    A value that is NaN or infinite, or above ``limit``, stops training with a message that
    names it and suggests a smaller ``eta``.
    """
    for name, value in largest.items():
        if not math.isfinite(value):
            problem = f"{name} contains NaN or inf"
        elif value > limit:
            problem = (
                f"{name} has grown to |{name}| = {value:.3g} (a trained RBM stays below about "
                f"10; above {limit:g} every unit is deterministic)"
            )
        else:
            continue
        raise TrainingDiverged(
            f"training diverged in epoch {epoch}: {problem}; try a smaller eta (now {eta:g}), "
            f"e.g. to {eta / 10:g}, and train a fresh RBM"
        )
