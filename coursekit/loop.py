"""The update-counted training loop of the EBMs and the DCGANs, in both frameworks.

Models trained for a number of parameter *updates* (rather than epochs) share one loop: it
draws minibatches from a random order of the rows (a new order when the rows run out), calls
the model's ``train_step`` on each, and every ``log_every`` updates writes one history row,
the mean of the steps' statistics since the last row::

    history = train_updates(model.train_step, data, updates=2000, batch_size=128,
                            log_every=100, permutation=rng.permutation, model=model)

The model keeps the framework-specific parts: its ``train_step`` (the algorithm of its week)
and how it draws a random order of the rows (``permutation``), so that each framework's random
numbers stay its own. Framework-free (the rows are indexed with ``data[order[i:j]]``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

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
    history: dict[str, list] = {"update": []}
    bar = None
    if progress:  # a text bar, as the RBM's and the VAE's: a saved notebook keeps its last line
        from tqdm import tqdm  # (a Jupyter widget from tqdm.auto would keep only its first frame)

        bar = tqdm(total=updates, desc=desc, leave=False)
    order, pos, seconds, window = permutation(n), 0, 0.0, []
    for i in range(updates):
        if pos + batch_size > n:
            order, pos = permutation(n), 0
        batch = data[order[pos : pos + batch_size]]
        pos += batch_size
        start = time.perf_counter()
        window.append(step(batch))
        seconds += time.perf_counter() - start
        if bar is not None:
            bar.update(1)
        if done() % log_every == 0 or i == updates - 1:
            row: dict[str, Any] = {"update": done()}
            row.update({k: float(np.mean([w[k] for w in window])) for k in window[0]})
            row["seconds"] = seconds
            if extra is not None:
                row.update(extra(i + 1))
            for key, value in row.items():
                history.setdefault(key, []).append(value)
            window = []
            if callback is not None:
                callback(model, row)
    if bar is not None:
        bar.close()
    return history
