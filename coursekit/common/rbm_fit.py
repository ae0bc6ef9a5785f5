"""``fit`` of :class:`coursekit.torch.RBM` and :class:`coursekit.keras.RBM`, framework-free:
its arguments, its epoch loop (step-size schedule, divergence, monitors, history) and its
checkpoints, so that both twins train, log, stop and resume alike. NumPy only::

    epochs, batch_size, monitor_every, etas = check_fit_arguments(10, 100, 1, 0.05, None)
    drawn, saving = fit_checkpoints("coursekit.torch.RBM", hyper, settings, checkpoint,
                                    checkpoint_every, resume, state=..., restore=...,
                                    prepare=...)
    history = train_epochs(rbm, epoch, monitors, epochs=epochs, ..., **saving)

**Checkpoints fall at epochs' ends.** An RBM's fast path runs a whole epoch in one call (one
compiled graph on tensorflow), so a checkpoint cannot stop inside one. ``checkpoint_every``
still counts updates, as for every trainer: a checkpoint is written at the end of each epoch in
which the update count reaches a multiple of it (so at least every ``checkpoint_every``
updates, rounded up to the epoch's end), after the last epoch, and on Ctrl-C, which lets the
epoch under way finish (a second Ctrl-C stops at once). A checkpoint holds (through
:func:`coursekit.checkpoint.loop_checkpoints`):

* the model's state, as the framework gives it: weights, velocities, persistent chains and
  its random generators' states;
* the draws ``fit`` makes before the first epoch (the monitored rows, ...; ``fit/<name>``), so
  that a resumed run, which skips them, monitors the same rows;
* the loop's: the epochs done (``LoopState.steps`` counts epochs here), the training seconds
  and the history. The step-size schedule needs no state of its own: epoch ``e`` uses
  ``etas[e - 1]`` whether resumed or not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any

import numpy as np
from tqdm import tqdm

from coursekit.checkpoint import LoopState, loop_checkpoints
from coursekit.checks import check_bool, check_int
from coursekit.common.rbm import HYPERPARAMETERS, check_not_diverged, eta_schedule
from coursekit.loop import interrupt_between_steps

__all__ = ["HISTORY", "TRAINING_HYPERPARAMETERS", "check_fit_arguments", "fit_checkpoints",
           "train_epochs"]

#: The columns of ``fit``'s history, in order.
HISTORY = ("epoch", "recon_error", "pll", "seconds")

#: The hyperparameters a checkpoint must match to be resumed: all but ``init_std`` and
#: ``seed``, which only shape the initial state that the checkpoint replaces.
TRAINING_HYPERPARAMETERS = tuple(n for n in HYPERPARAMETERS if n not in ("init_std", "seed"))

Arrays = Mapping[str, np.ndarray]


def check_fit_arguments(
    epochs: Any, batch_size: Any, monitor_every: Any, eta: float, eta_final: Any
) -> tuple[int, int, int, list[float] | None]:
    """``fit``'s ``(epochs >= 1, batch_size >= 1, monitor_every >= 0 (None: 0), etas)`` with
    ``etas`` the step size of each epoch (:func:`~coursekit.common.rbm.eta_schedule`; None:
    ``eta`` throughout)."""
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    monitor_every = check_int(0 if monitor_every is None else monitor_every, "monitor_every", 0)
    return epochs, batch_size, monitor_every, eta_schedule(eta, eta_final, epochs)


def fit_checkpoints(
    model: str, hyper: Mapping[str, Any], settings: Mapping[str, Any],
    checkpoint: Any, checkpoint_every: Any, resume: Any, *,
    state: Callable[[], Arrays], restore: Callable[[Arrays], None],
    prepare: Callable[[], Arrays],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:  # fmt: skip
    """Check ``fit``'s checkpoint arguments and start the run: afresh, or from ``resume``.

    Args:
        model: the class, as the checkpoint names it (``"coursekit.torch.RBM"``).
        hyper: the RBM's hyperparameters by name (those of
            :data:`TRAINING_HYPERPARAMETERS` must match the checkpoint's).
        settings: the run's settings that must match too (``rows``, ``batch_size``,
            ``binarize``, ...; ``epochs`` only with a step-size schedule, ``eta_final`` not
            None, since each epoch's step size depends on it: without one, a run may be
            resumed for more epochs than it was started with).
        checkpoint, checkpoint_every, resume: ``fit``'s arguments (a path or None, None or an
            int >= 1, a path or None).
        state: ``state()`` -> the model's arrays (weights, velocities, chains, generators).
        restore: ``restore(arrays)`` puts them back.
        prepare: ``prepare()`` -> the draws before the first epoch, as arrays by name (the
            monitored rows, ...); run on a fresh run only.

    Returns:
        ``(drawn, saving)``: ``drawn``, what ``prepare()`` drew, or on resume what the
        checkpoint holds (the model is then restored too, and ``prepare`` not run);
        ``saving``, :func:`train_epochs`' ``checkpoint``, ``checkpoint_every`` and ``resume``.

    Raises:
        ValueError: a bad argument; a checkpoint of another model or of other settings (naming
            the file and each difference), or a damaged one. FileNotFoundError: no file at
            ``resume``.
    """
    run = dict(settings)
    if run.get("eta_final") is not None:
        run["eta_final"] = float(run["eta_final"])
    else:
        run.pop("epochs", None)
    meta = {"model": model, **{name: hyper[name] for name in TRAINING_HYPERPARAMETERS}, **run}
    drawn: dict[str, np.ndarray] = {}

    def arrays() -> dict[str, np.ndarray]:
        return {**state(), **{f"fit/{name}": value for name, value in drawn.items()}}

    def put(saved: Arrays) -> None:
        restore(saved)
        drawn.update({name[4:]: np.asarray(v) for name, v in saved.items()
                      if name.startswith("fit/")})  # fmt: skip

    saving = loop_checkpoints(checkpoint, checkpoint_every, resume, arrays=arrays, restore=put,
                              meta=meta, what="RBM")  # fmt: skip
    if saving["resume"] is None:
        drawn.update({name: np.asarray(value) for name, value in prepare().items()})
    return drawn, saving


def train_epochs(
    rbm: Any, train_epoch: Callable[[], None], monitors: Callable[[], tuple[float, float]], *,
    epochs: int, etas: list[float] | None, monitor_every: int, progress: bool,
    updates_per_epoch: int = 1, checkpoint: Callable[[LoopState], Any] | None = None,
    checkpoint_every: int | None = None, resume: LoopState | None = None,
) -> dict[str, list[float]]:  # fmt: skip
    """The epoch loop of both RBMs' ``fit``: step size, divergence checks, monitors, history,
    checkpoints.

    Args:
        rbm: the RBM; its ``eta`` is set to ``etas[e]`` for epoch ``e`` and restored at the
            end (also after an error), and ``rbm._check_finite(epoch)`` runs after each epoch.
        train_epoch: one pass over the training data (shuffle, binarise, update per batch).
        monitors: ``(reconstruction error, pseudo-log-likelihood)`` of the monitored rows.
        epochs, etas, monitor_every: checked by :func:`check_fit_arguments`; monitors run
            every ``monitor_every`` epochs and after the last (0: never; then NaN each epoch).
        progress: a tqdm bar over the epochs.
        updates_per_epoch: the updates of one epoch (``ceil(rows / batch_size)``), to place
            the checkpoints and to name the update in the message on Ctrl-C.
        checkpoint: ``checkpoint(state)`` writes one (``fit_checkpoints``' ``saving``): at the
            end of every epoch in which the update count reaches a multiple of
            ``checkpoint_every`` (None: none such), after the last epoch, and on Ctrl-C, which
            then finishes the epoch under way and stops with ``KeyboardInterrupt``. Without
            ``checkpoint`` Ctrl-C stops at once, as usual (there is nothing to write).
        resume: the loop's state in a checkpoint: the run continues after its last epoch, with
            its history and training seconds.

    Returns:
        One entry per monitored epoch: ``"epoch"`` (1-based), ``"recon_error"``, ``"pll"``,
        ``"seconds"`` (cumulative training time; monitoring excluded).
    """
    progress = check_bool(progress, "progress")
    if resume is None:
        state = LoopState(order=np.zeros(0, np.int64), history={key: [] for key in HISTORY})
    else:
        state = resume
        state.history = {key: list(state.history.get(key, [])) for key in HISTORY}
        if state.steps > epochs:
            raise ValueError(f"the checkpoint is of a run that had done {state.steps} epochs; "
                             f"this run has epochs={epochs}: pass epochs >= {state.steps}")
    every = checkpoint_every or 0

    def due(epoch: int) -> bool:  # an update count that is a multiple of every in this epoch
        return bool(every) and epoch * updates_per_epoch // every > (
            (epoch - 1) * updates_per_epoch // every)

    bar = tqdm(range(state.steps + 1, epochs + 1), desc="RBM", unit="epoch", total=epochs,
               initial=state.steps, disable=not progress)  # fmt: skip
    eta_start = rbm.eta
    watch = interrupt_between_steps() if checkpoint is not None else nullcontext(lambda: False)
    try:
        with watch as interrupted:
            for epoch in bar:
                if etas is not None:
                    rbm.eta = etas[epoch - 1]
                start = time.perf_counter()
                train_epoch()
                rbm._check_finite(epoch)  # also waits for the device to finish the epoch
                state.seconds += time.perf_counter() - start
                state.steps = epoch
                if not monitor_every or epoch % monitor_every == 0 or epoch == epochs:
                    recon = pll = math.nan
                    if monitor_every:
                        recon, pll = monitors()
                        check_not_diverged({"recon_error": recon, "pll": pll}, epoch, rbm.eta,
                                           math.inf)  # fmt: skip
                        bar.set_postfix(recon=f"{recon:.3g}", pll=f"{pll:.4g}")
                    for key, value in zip(HISTORY, (epoch, recon, pll, state.seconds),
                                          strict=True):  # fmt: skip
                        state.history[key].append(value)
                stop = interrupted()
                if checkpoint is not None and (epoch == epochs or stop or due(epoch)):
                    checkpoint(state)
                if stop:
                    raise KeyboardInterrupt(
                        f"interrupted after epoch {epoch} (update {epoch * updates_per_epoch}; "
                        "checkpoint written: continue with fit(..., resume=...))")
    finally:
        rbm.eta = eta_start
        bar.close()
    return state.history
