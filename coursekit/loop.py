"""The training loops: update-counted (the EBMs, the DCGANs) and epoch-counted (the VAEs).

Models trained for a number of parameter *updates* (rather than epochs) share one loop: it
draws minibatches from a random order of the rows (a new order when the rows run out), calls
the model's ``train_step`` on each, and every ``log_every`` updates writes one history row,
the mean of the steps' statistics since the last row::

    history = train_updates(model.train_step, data, updates=2000, batch_size=128,
                            log_every=100, permutation=rng.permutation, model=model)

A run can write checkpoints (``checkpoint``, every ``checkpoint_every`` updates, at its end, and
when it is interrupted with Ctrl-C: the step under way is finished first, so the checkpoint
never holds half an update) and continue from one (``resume``, a
:class:`~coursekit.checkpoint.LoopState`): the rows are drawn in the same order and the
history goes on as if the run had not stopped.

The model keeps the framework-specific parts: its ``train_step`` (the algorithm of its week)
and how it draws a random order of the rows (``permutation``), so that each framework's random
numbers stay its own. Framework-free (the rows are indexed with ``data[order[i:j]]``).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from coursekit.checkpoint import LoopState
from coursekit.checks import check_bool, check_callable, check_int

__all__ = ["interrupt_between_steps", "train_epochs", "train_updates"]


def train_updates(
    step: Callable[[Any], Mapping[str, float]],
    data: Any,
    *,
    updates: int,
    batch_size: int,
    log_every: int,
    permutation: Callable[[int], Any],
    model: Any,
    done: Callable[[], int],
    extra: Callable[[int], Mapping[str, Any]] | None = None,
    callback: Callable[[Any, dict[str, Any]], None] | None = None,
    progress: bool = True,
    desc: str = "updates",
    checkpoint: Callable[[LoopState], Any] | None = None,
    checkpoint_every: int | None = None,
    resume: LoopState | None = None,
    agree: Callable[[bool], bool] | None = None,
) -> dict[str, list]:
    """Run ``updates`` training steps on minibatches of ``data`` and return the history.

    Args:
        step: one update on a batch (``model.train_step``); returns its statistics
            (``{"loss": ..., ...}``, floats).
        data: the training rows ``[n, ...]`` (an array or tensor indexable by an index array).
        updates: number of steps, an int >= 1.
        batch_size: rows per step, in ``[1, n]``.
        log_every: steps per history row, an int >= 1; a row is also written after the last
            step.
        permutation: ``permutation(n)`` -> a random order of ``range(n)``; drawn at the start
            and whenever fewer than ``batch_size`` rows are left in the current order.
        model: handed to ``callback``.
        done: the model's cumulative update count (read after each step); rows fall where it
            is a multiple of ``log_every``.
        extra: ``extra(steps)`` -> more columns of a row, computed when it is written, given
            the steps run so far in this call (the DCGAN's epoch count and fixed-noise grid).
        callback: ``callback(model, row)`` after each row (e.g. a sample report).
        progress: a tqdm bar over the steps.
        desc: the bar's label.
        checkpoint: ``checkpoint(state)`` writes the model and the loop's state (the model
            builds it: :func:`coursekit.checkpoint.write_checkpoint`); called every
            ``checkpoint_every`` updates of this run, after the last one, and on Ctrl-C.
        checkpoint_every: updates between checkpoints, an int >= 1 (None: only at the end
            and on Ctrl-C).
        resume: the state a checkpoint saved: the run continues from it to ``updates``.
        agree: ``agree(pressed)`` -> whether any of the processes of a data-parallel run saw
            Ctrl-C, so that all stop after the same update (None: this process alone).

    Returns:
        One list per column: ``update`` (cumulative), the mean of each statistic over the row's
        steps, ``seconds`` (cumulative time inside ``step``) and the ``extra`` columns.
    """
    n = len(data)
    updates = check_int(updates, "updates", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    if batch_size > n:
        raise ValueError(
            f"batch_size (rows per update) must be <= the number of training rows {n}, "
            f"got {batch_size}"
        )
    log_every = check_int(log_every, "log_every", 1)
    if callback is not None:
        check_callable(callback, "callback", "None or a function callback(model, row)")
    progress = check_bool(progress, "progress")
    if checkpoint_every is not None:
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", 1,
                                     "updates between checkpoints")
    state = resume if resume is not None else LoopState(order=permutation(n),
                                                         history={"update": []})
    if resume is not None and (len(resume.order) != n or resume.steps > updates):
        raise ValueError(
            f"the checkpoint is of a run on {len(resume.order)} rows that had done "
            f"{resume.steps} updates; this run has {n} rows and {updates} updates")
    bar = None
    if progress:  # a text bar, as the RBM's and the VAE's: a saved notebook keeps its last line
        from tqdm import tqdm  # (a Jupyter widget from tqdm.auto would keep only its first frame)

        bar = tqdm(total=updates, initial=state.steps, desc=desc, leave=False)
    with interrupt_between_steps() as interrupted:
        while state.steps < updates:
            if state.pos + batch_size > n:
                state.order, state.pos = permutation(n), 0
            batch = data[state.order[state.pos : state.pos + batch_size]]
            state.pos += batch_size
            start = time.perf_counter()
            state.window.append(dict(step(batch)))
            state.seconds += time.perf_counter() - start
            state.steps += 1
            if bar is not None:
                bar.update(1)
            if done() % log_every == 0 or state.steps == updates:
                _write_row(state, done(), extra, callback, model)
            stop = interrupted() if agree is None else agree(interrupted())
            if checkpoint is not None and (
                state.steps == updates or stop
                or (checkpoint_every and state.steps % checkpoint_every == 0)
            ):
                checkpoint(state)
            if stop:
                if bar is not None:
                    bar.close()
                raise KeyboardInterrupt(
                    f"interrupted after update {done()}"
                    + (" (checkpoint written)" if checkpoint is not None else ""))
    if bar is not None:
        bar.close()
    return state.history


def _write_row(state: LoopState, update: int, extra: Callable[[int], Mapping[str, Any]] | None,
               callback: Callable[[Any, dict[str, Any]], None] | None, model: Any) -> None:
    """One history row: the mean of each statistic over the steps since the last row."""
    window = state.window
    row: dict[str, Any] = {"update": update}
    row.update({k: float(np.mean([w[k] for w in window])) for k in window[0]})
    row["seconds"] = state.seconds
    if extra is not None:
        row.update(extra(state.steps))
    for key, value in row.items():
        state.history.setdefault(key, []).append(value)
    state.window = []
    if callback is not None:
        callback(model, row)


def train_epochs(
    step: Callable[[Any], Mapping[str, Any]],
    *,
    epochs: int,
    batch_size: int,
    begin: Callable[[int], tuple[Any, Any]],
    end: Callable[[int, dict[str, float], float], Mapping[str, Any]],
    rng: tuple[Callable[[], np.ndarray], Callable[[np.ndarray], None]],
    progress: Callable[[int, int], Any] | None = None,
    checkpoint: Callable[[LoopState], Any] | None = None,
    checkpoint_every: int | None = None,
    resume: LoopState | None = None,
    agree: Callable[[bool], bool] | None = None,
) -> dict[str, list]:
    """Run ``epochs`` passes over the rows in minibatches and return the history (a row per
    epoch), with the same checkpoints and Ctrl-C handling as :func:`train_updates`.

    Args:
        step: one update on a batch of rows; returns the batch means of its statistics
            (floats or 0-d tensors: they are summed, weighted by the batch's rows, and read
            once per epoch).
        epochs: passes over the rows, an int >= 1.
        batch_size: rows per update, an int >= 1 (the last batch of an epoch may be smaller).
        begin: ``begin(epoch)`` -> ``(rows, order)``: the epoch's rows [n, ...] (e.g. a fresh
            binarisation) and their random order [n], drawn from the model's generator.
        end: ``end(epoch, means, seconds)`` -> the epoch's history row, given the epoch's mean
            statistics and the cumulative training seconds (it may raise, e.g. on divergence).
        rng: ``(get, set)`` of the model's random state as an array: a checkpoint keeps the
            state at the epoch's start, so a resumed run draws the same epoch again.
        progress: ``progress(epoch, epochs)`` -> a context for the epoch's steps, or None.
        checkpoint, checkpoint_every, resume, agree: as :func:`train_updates` (``resume``
            continues inside the epoch where the checkpoint was written).

    Returns:
        One list per column of the rows ``end`` returns.
    """
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    get_rng, set_rng = rng
    state = resume
    with interrupt_between_steps() as interrupted:
        for epoch in range(1, epochs + 1):
            saved = state.window[0]["epoch"] if state is not None and state.window else None
            if saved is not None and saved > epoch:
                continue  # finished before the checkpoint
            if saved == epoch and state.pos > 0:  # resumed inside this epoch: its rows and
                now = get_rng()  # order drawn again from its start, then the saved state
                set_rng(state.epoch_rng)
                rows, order = begin(epoch)
                set_rng(now)
                sums = {k: v for k, v in state.window[0].items() if k != "epoch"}
            else:
                start_rng = get_rng()
                rows, order = begin(epoch)
                sums = {}
                state = LoopState(order=np.asarray(order), pos=0,
                                  steps=0 if state is None else state.steps,
                                  seconds=0.0 if state is None else state.seconds,
                                  history={} if state is None else state.history,
                                  epoch_rng=start_rng)
            n = len(order)
            bar = progress(epoch, epochs) if progress is not None else None
            while state.pos < n:
                batch = rows[order[state.pos : state.pos + batch_size]]
                start = time.perf_counter()
                for key, value in step(batch).items():
                    sums[key] = sums.get(key, 0.0) + value * len(batch)
                state.seconds += time.perf_counter() - start
                state.pos += len(batch)
                state.steps += 1
                if bar is not None:
                    bar.update(1)
                stop = interrupted() if agree is None else agree(interrupted())
                due = checkpoint is not None and (
                    (state.pos >= n and epoch == epochs) or stop
                    or (checkpoint_every and state.steps % checkpoint_every == 0))
                if not (due or stop or state.pos >= n):
                    continue  # the sums stay tensors: no read of them per step
                window = {"epoch": epoch, **{k: float(v) for k, v in sums.items()}}
                state.window = [window]
                saving = state
                if state.pos >= n:  # the epoch's row; a checkpoint now starts the next epoch
                    if bar is not None:
                        bar.close()
                    row = end(epoch, {k: v / n for k, v in window.items() if k != "epoch"},
                              state.seconds)
                    for key, value in row.items():
                        state.history.setdefault(key, []).append(value)
                    state.window = []
                    saving = LoopState(state.order, 0, state.steps, state.seconds,
                                       state.history, [{"epoch": epoch + 1}], get_rng())
                if due:
                    checkpoint(saving)
                if stop:
                    raise KeyboardInterrupt(
                        f"interrupted after update {state.steps} of this run"
                        + (" (checkpoint written)" if checkpoint is not None else ""))
    return state.history if state is not None else {}


@contextmanager
def interrupt_between_steps() -> Iterator[Callable[[], bool]]:
    """Ctrl-C (SIGINT) during the loop finishes the step under way; the loop then checkpoints
    and stops. Yields a function that says whether Ctrl-C was pressed. Outside the main
    thread (where Python cannot take signals) Ctrl-C acts as usual."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed.is_set
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if pressed.is_set():  # a second Ctrl-C: stop now
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        pressed.set()

    signal.signal(signal.SIGINT, handler)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)

