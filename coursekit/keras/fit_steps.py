"""The fast path of the VAE's ``fit`` on the tensorflow backend: several updates per compiled call.

Keras' ``fit`` calls its compiled training function once per ``steps_per_execution`` batches
(``compile``'s argument, 1 by default). With one batch per call, the call itself (entering the
function, the iterator, the callbacks, reading the logs back) is a share of every update that
grows as the model shrinks; with 8 batches per call it is paid once per 8 updates. Inside one
call the batches run one after another in a ``tf.while_loop``, with the same operations and
the same draws from the same seed generators, so the weights and the history are the same as
with one batch per call (tested bitwise in ``tests/test_vae.py``).

What changes is what callbacks see: ``on_train_batch_begin`` and ``on_train_batch_end`` come
once per call, with the index of its first and its last batch. A fit whose callbacks must act
after every update (the checkpoints inside an epoch of
:func:`coursekit.keras.checkpoint.fit_with_checkpoints`) runs with one batch per call
(:func:`one_batch_per_call`). The torch backend has no compiled function to put a loop in, and
Keras refuses another value there.

:class:`StopOnNonFiniteLoss` is the VAE's divergence guard; it reads the update count from the
optimizer, so it names the right update whatever the batches per call.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import keras
import numpy as np

__all__ = ["STEPS_PER_EXECUTION", "StopOnNonFiniteLoss", "default_steps", "one_batch_per_call"]

#: Batches per compiled call on tensorflow (the gain levels off beyond about 8).
STEPS_PER_EXECUTION = 8


def default_steps() -> int:
    """``steps_per_execution`` for a new model: :data:`STEPS_PER_EXECUTION` on tensorflow, 1 on
    other backends (torch refuses any other value)."""
    return STEPS_PER_EXECUTION if keras.backend.backend() == "tensorflow" else 1


def _set_steps(model: keras.Model, steps: int) -> None:
    if model.steps_per_execution == steps:
        return
    model.steps_per_execution = steps
    # the compiled functions and the cached validation iterator read it when built
    model.train_function = model.test_function = None
    model._eval_epoch_iterator = None


@contextmanager
def one_batch_per_call(model: keras.Model, active: bool = True) -> Iterator[None]:
    """Inside, ``model.fit`` calls its compiled function once per batch (when ``active``), so
    callbacks see every update; the model's own ``steps_per_execution`` is put back after (the
    next ``fit`` then compiles its function again)."""
    steps = model.steps_per_execution
    if active:
        _set_steps(model, 1)
    try:
        yield
    finally:
        _set_steps(model, steps)


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops ``fit`` at the first call whose loss is NaN or infinite, remembers the loss and the
    update count, and puts back the weights (and the optimizer's state) of the start of that
    epoch. With several batches per call, ``update`` is the last update of the call in which
    the loss (Keras' running mean over the epoch) stopped being finite."""

    def __init__(self) -> None:
        super().__init__()
        self.loss: float | None = None
        self.update = 0
        self._good: tuple[list, list] | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        self._good = ([np.array(v) for v in self.model.weights],
                      [np.array(v) for v in optimizer.variables] if optimizer else [])  # fmt: skip

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.loss = float(loss)
        self.update = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        self.model.stop_training = True
        if self._good is not None:
            weights, slots = self._good
            for variable, value in zip(self.model.weights, weights, strict=True):
                variable.assign(value)
            for variable, value in zip(self.model.optimizer.variables, slots, strict=False):
                variable.assign(value)
