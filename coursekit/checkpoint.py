"""Checkpoints of a training run: everything needed to continue it as if it had never stopped.

A checkpoint is one ``.npz`` file, written atomically (the old one stays whole until the new
one is complete), holding

* the model's arrays: its weights, its optimisers' states and its random-number generators'
  states, as the model names them (``model/<name>``);
* the loop's position (:class:`LoopState`): the order of the rows being drawn, how far into it,
  the updates done in this run, the training seconds, the history so far and the statistics
  of the steps since the last history row;
* what the run is (``meta``, JSON): which model, its settings, and the run's own settings
  (updates, batch size, ...). Resuming checks them, so a checkpoint of another model or of a
  run with other settings is one clear error naming the file and the difference.

Framework-free: the models turn their tensors into NumPy arrays and back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coursekit.checks import check_int, check_path
from coursekit.io import read_npz, write_npz

__all__ = ["CHECKPOINT_FORMAT", "LoopState", "loop_checkpoints", "read_checkpoint",
           "rng_array", "set_rng", "write_checkpoint"]

CHECKPOINT_FORMAT = "coursekit-checkpoint-1"


@dataclass
class LoopState:
    """Where an update-counted loop stands (:func:`coursekit.loop.train_updates`).

    ``order``: the current random order of the rows [n]; ``pos``: the rows of it already
    drawn; ``steps``: updates done in this run; ``seconds``: time inside the steps;
    ``history``: the rows written so far (one list per column); ``window``: the statistics of
    the steps since the last row; ``epoch_rng``: for an epoch loop
    (:func:`coursekit.loop.train_epochs`), the model's random state when the current epoch
    began, from which a resumed run draws the epoch's data and order again.
    """

    order: np.ndarray
    pos: int = 0
    steps: int = 0
    seconds: float = 0.0
    history: dict[str, list] = field(default_factory=dict)
    window: list[dict[str, float]] = field(default_factory=list)
    epoch_rng: np.ndarray | None = None


def _jsonable(value: Any) -> Any:
    """History values as JSON: floats and ints stay, arrays (the DCGAN's grids) go to lists."""
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    return value


def write_checkpoint(path: str | os.PathLike[str], *, model: Mapping[str, np.ndarray],
                     meta: Mapping[str, Any], loop: LoopState, what: str) -> Path:
    """Write one checkpoint file atomically; return its path. ``what`` names the model in
    errors (``"DCGAN"``)."""
    arrays = {f"model/{name}": np.asarray(value) for name, value in model.items()}
    history = {k: [_jsonable(v) for v in vs] for k, vs in loop.history.items()}
    state = {"pos": loop.pos, "steps": loop.steps, "seconds": loop.seconds,
             "history": history, "window": loop.window}
    arrays.update({
        "format": np.array(CHECKPOINT_FORMAT),
        "meta": np.array(json.dumps(dict(meta), sort_keys=True)),
        "loop/state": np.array(json.dumps(state)),
        "loop/order": np.asarray(loop.order),
    })
    if loop.epoch_rng is not None:
        arrays["loop/epoch_rng"] = np.asarray(loop.epoch_rng)
    return write_npz(path, arrays, what=f"{what} checkpoint")


def read_checkpoint(path: str | os.PathLike[str], *, meta: Mapping[str, Any],
                    what: str) -> tuple[dict[str, np.ndarray], LoopState]:
    """The model's arrays and the loop's state of a checkpoint, after checking that it was
    written by the same model with the same settings as ``meta`` (one ``ValueError`` naming
    the file and every setting that differs)."""
    arrays = read_npz(path, f"{what} checkpoint", file_format=CHECKPOINT_FORMAT,
                      writer=f"{what}.fit(..., checkpoint=...)")
    saved = json.loads(str(arrays["meta"]))
    wanted = json.loads(json.dumps(dict(meta), sort_keys=True))  # the same JSON round trip
    differ = [f"{key}: {saved.get(key)!r} in the checkpoint, {wanted.get(key)!r} here"
              for key in sorted(set(saved) | set(wanted)) if saved.get(key) != wanted.get(key)]
    if differ:
        raise ValueError(f"{path} is a checkpoint of another model or run, so this run cannot "
                         f"resume from it: " + "; ".join(differ))
    state = json.loads(str(arrays["loop/state"]))
    loop = LoopState(
        order=arrays["loop/order"], pos=int(state["pos"]), steps=int(state["steps"]),
        seconds=float(state["seconds"]),
        history={k: [_from_json(v) for v in vs] for k, vs in state["history"].items()},
        window=[dict(w) for w in state["window"]], epoch_rng=arrays.get("loop/epoch_rng"))
    model = {name[len("model/"):]: value for name, value in arrays.items()
             if name.startswith("model/")}
    return model, loop


def rng_array(rng: np.random.Generator) -> np.ndarray:
    """A NumPy generator's state as a (string) array for a checkpoint."""
    return np.array(json.dumps(rng.bit_generator.state))


def set_rng(rng: np.random.Generator, array: np.ndarray) -> None:
    """Put back the state :func:`rng_array` saved (in place)."""
    rng.bit_generator.state = json.loads(str(array))


def loop_checkpoints(
    checkpoint: Any, checkpoint_every: Any, resume: Any, *,
    arrays: Callable[[], Mapping[str, np.ndarray]],
    restore: Callable[[Mapping[str, np.ndarray]], None],
    meta: Mapping[str, Any], what: str,
) -> dict[str, Any]:
    """The checkpoint arguments of :func:`coursekit.loop.train_updates` for a model's ``fit``.

    ``checkpoint`` (a path or None), ``checkpoint_every`` (None or an int >= 1) and ``resume``
    (a path or None) are ``fit``'s arguments, checked here; ``arrays()`` gives the model's
    whole training state and ``restore(arrays)`` puts it back; ``meta`` is what a checkpoint
    must match to be resumed. With ``resume`` the model is restored now.
    """
    if checkpoint is None and checkpoint_every is not None:
        raise ValueError("checkpoint_every needs checkpoint, the file to write, got None")
    out: dict[str, Any] = {"checkpoint": None, "checkpoint_every": None, "resume": None}
    if checkpoint is not None:
        target = check_path(checkpoint, "checkpoint")
        if checkpoint_every is not None:
            out["checkpoint_every"] = check_int(checkpoint_every, "checkpoint_every", 1,
                                                "updates between checkpoints")

        def save(loop: LoopState) -> None:
            loop = LoopState(np.asarray(loop.order), loop.pos, loop.steps, loop.seconds,
                             loop.history, loop.window, loop.epoch_rng)
            write_checkpoint(target, model=arrays(), meta=meta, loop=loop, what=what)

        out["checkpoint"] = save
    if resume is not None:
        path = check_path(resume, "resume")
        saved, loop = read_checkpoint(path, meta=meta, what=what)
        missing = sorted(set(arrays()) - set(saved))
        if missing:
            raise ValueError(f"{path} lacks {', '.join(missing[:4])}"
                             f"{' ...' if len(missing) > 4 else ''}: it is not a checkpoint "
                             f"of this kind of {what}")
        restore(saved)
        out["resume"] = loop
    return out
