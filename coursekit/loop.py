"""The update-counted training loop of the EBMs and the DCGANs, in both frameworks.

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

__all__ = ["train_updates"]


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
    with _interrupt_between_steps() as interrupted:
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
            if checkpoint is not None and (
                state.steps == updates or interrupted()
                or (checkpoint_every and state.steps % checkpoint_every == 0)
            ):
                checkpoint(state)
            if interrupted():
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


@contextmanager
def _interrupt_between_steps() -> Iterator[Callable[[], bool]]:
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

