"""A Keras model's training state as NumPy arrays, for :mod:`coursekit.checkpoint`, and back;
and Keras' own ``fit`` with checkpoints (the VAE's). Tensorflow and torch backends.

The state is what a resumed run needs to take exactly the updates an uninterrupted one takes
(the twin of :mod:`coursekit.torch.checkpoint`):

* every variable of the models (``model.variables``: weights, batch-norm statistics, and the
  state of every ``keras.random.SeedGenerator`` a layer holds, e.g. a ``Dropout``'s), of the
  optimizers (``optimizer.variables``: the iteration count, Adam's moments) and of whatever
  else is named (a Keras model's metric trackers, summed over the epoch so far);
* the state of the model's own seed generators (``seeds``) and, on the torch backend, of the
  torch generator :mod:`coursekit.keras.draws` keeps behind each seed generator;
* Python-side counters (the update count).

Arrays are named ``<group>/<i>`` in the order of the group's ``variables`` (Keras names layers
``dense_3`` or ``dense_7`` by how many were built before, so names would not match between
two processes; the order does), ``seed/<name>``, ``draws/<name>/...`` and ``count/<name>``.
A checkpoint of another network is refused before anything is assigned, naming the array.

:func:`fit_with_checkpoints` runs ``keras.Model.fit`` on an array of rows with checkpoints
every ``checkpoint_every`` updates, at the end and on Ctrl-C, and resumes inside an epoch: the
rows' order of each epoch is then drawn by this module (from a key saved in the checkpoint)
instead of by Keras, whose shuffle draws from TensorFlow's or torch's global generator.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import keras
import numpy as np

from coursekit.checkpoint import LoopState, loop_checkpoints
from coursekit.checks import check_bool, check_int
from coursekit.keras import draws
from coursekit.loop import interrupt_between_steps

__all__ = ["TrainingState", "fit_with_checkpoints", "seed_generators"]

Counter = tuple[Callable[[], int], Callable[[int], None]]


def seed_generators(layer: keras.layers.Layer) -> list[keras.random.SeedGenerator]:
    """The seed generators of ``layer`` and of every layer inside it, in Keras' order (that of
    ``layer.variables``). Keras keeps them in each layer's ``_seed_generators`` list."""
    found: list[keras.random.SeedGenerator] = []
    for sub in layer._flatten_layers(include_self=True):
        found += [sg for sg in getattr(sub, "_seed_generators", []) if sg not in found]
    return found


def _values(variable: keras.Variable) -> np.ndarray:
    """A copy of ``variable``'s value (on the CPU, detached)."""
    value = variable.value
    if keras.backend.backend() == "tensorflow":  # a tf.distribute variable: its value here
        value = value.read_value()
    return np.array(keras.ops.convert_to_numpy(value), copy=True)


class TrainingState:
    """The named variables, seed generators and counters of one model, saved and restored
    together (see the module docstring).

    Args:
        variables: group name -> a layer or model, an optimizer or a metric (anything with
            ``.variables``, read at each save and restore, so that an optimizer built later
            is seen), or a function returning a list of ``keras.Variable`` s.
        seeds: name -> a seed generator the model holds outside its layers.
        counters: name -> ``(get, set)`` of a Python int (e.g. the update count).
    """

    def __init__(self, *, variables: Mapping[str, Any],
                 seeds: Mapping[str, keras.random.SeedGenerator] | None = None,
                 counters: Mapping[str, Counter] | None = None) -> None:
        self.variables = dict(variables)
        self.seeds = dict(seeds or {})
        self.counters = dict(counters or {})

    def _group(self, name: str) -> list[keras.Variable]:
        holder = self.variables[name]
        return list(holder.variables if hasattr(holder, "variables") else holder())

    def _generators(self) -> dict[str, keras.random.SeedGenerator]:
        """Every seed generator: the named ones, then each layer group's own."""
        out = dict(self.seeds)
        for name, holder in self.variables.items():
            if isinstance(holder, keras.layers.Layer):
                out.update({f"{name}/{i}": sg for i, sg in enumerate(seed_generators(holder))})
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as arrays (copies)."""
        out: dict[str, np.ndarray] = {}
        for name in self.variables:
            out.update({f"{name}/{i}": _values(v) for i, v in enumerate(self._group(name))})
        for name, sg in self.seeds.items():
            out[f"seed/{name}"] = _values(sg.state)
        for name, sg in self._generators().items():
            out[f"draws/{name}/from"], out[f"draws/{name}/state"] = draws.torch_state(sg)
        for name, (get, _) in self.counters.items():
            out[f"count/{name}"] = np.array(int(get()))
        return out

    def restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Put back what :meth:`arrays` saved. Every group's count and every array's shape are
        checked first: a checkpoint of another network changes nothing and raises one
        ``ValueError`` naming the array."""
        pairs: list[tuple[keras.Variable, np.ndarray]] = []
        for name in self.variables:
            group = self._group(name)
            saved = [key for key in arrays if key.startswith(f"{name}/")
                     and key[len(name) + 1:].isdigit()]
            if len(saved) != len(group):
                raise ValueError(f"the checkpoint holds {len(saved)} {name} variables, this "
                                 f"model {len(group)}: it is of another network or optimizer")
            for i, variable in enumerate(group):
                value = np.asarray(arrays[f"{name}/{i}"])
                if value.shape != tuple(variable.shape):
                    raise ValueError(
                        f"the checkpoint's {name}/{i} has shape {value.shape}, this model's "
                        f"({variable.path}) {tuple(variable.shape)}: it is of another network")
                pairs.append((variable, value))
        pairs += [(sg.state, np.asarray(arrays[f"seed/{name}"]))
                  for name, sg in self.seeds.items()]
        for variable, value in pairs:
            variable.assign(value.astype(variable.dtype))
        for name, sg in self._generators().items():  # after the seed generators' states
            draws.set_torch_state(sg, arrays[f"draws/{name}/from"],
                                  arrays[f"draws/{name}/state"])
        for name, (_, put) in self.counters.items():
            put(int(arrays[f"count/{name}"]))


# --------------------------------------------------------------------------------------------
# Keras' fit with checkpoints
# --------------------------------------------------------------------------------------------

#: fit's arguments that a checkpointed run cannot take, and why.
_REFUSED = {
    "y": "the model is trained on x alone",
    "initial_epoch": "the checkpoint says where the run stands",
    "steps_per_epoch": "an epoch is one pass over x",
    "validation_split": "pass validation_data",
    "sample_weight": "every row weighs the same",
    "class_weight": "every row weighs the same",
}


def _batches(x: np.ndarray, batch_size: int, order: Callable[[int], np.ndarray],
             start: tuple[int, int], end: int, shard: Any = None) -> Iterator[tuple[np.ndarray]]:
    """The batches ``(rows [<= batch_size, ...],)`` from batch ``start[1]`` of epoch
    ``start[0]`` to the end of epoch ``end - 1`` (Keras takes ``steps_per_epoch`` of them per
    epoch, all in one iterator)."""
    epoch, batch = start
    while epoch < end:
        rows = order(epoch)
        for j in range(batch, -(-len(x) // batch_size)):
            batch = x[rows[j * batch_size : (j + 1) * batch_size]]
            yield (batch if shard is None else shard.take(batch),)  # this process's rows
        epoch, batch = epoch + 1, 0


def _dataset(x: np.ndarray, batch_size: int, order: Callable[[int], np.ndarray],
             start: tuple[int, int], end: int, shard: Any = None) -> Any:
    """:func:`_batches` as Keras' ``fit`` takes it: a ``tf.data.Dataset`` on tensorflow (whose
    batch dimension is declared variable: the last batch of an epoch may be smaller), the
    generator itself elsewhere."""
    if keras.backend.backend() != "tensorflow":
        return _batches(x, batch_size, order, start, end, shard)
    import tensorflow as tf

    spec = (tf.TensorSpec((None, *x.shape[1:]), tf.as_dtype(x.dtype)),)
    return tf.data.Dataset.from_generator(
        lambda: _batches(x, batch_size, order, start, end), output_signature=spec
    ).prefetch(tf.data.AUTOTUNE)


class _Checkpoints(keras.callbacks.Callback):
    """Counts the updates and the epochs' rows, keeps the history, writes the checkpoints
    (every ``every`` updates, at each epoch's end where one falls due in its last batch, at
    the run's end, on Ctrl-C) and, in the epoch a run resumes inside, puts back the metric
    trackers that Keras has just reset."""

    def __init__(self, *, save: Callable[[LoopState], Any] | None, every: int | None,
                 epochs: int, batch_size: int, per_epoch: int,
                 order: Callable[[int], np.ndarray], start: tuple[int, int], steps: int,
                 history: dict[str, list], metrics: list[np.ndarray]) -> None:
        super().__init__()
        self.save, self.every, self.epochs = save, every, epochs
        self.batch_size, self.per_epoch, self.order = batch_size, per_epoch, order
        self.start, self.steps, self.history, self.metrics = start, steps, history, metrics
        self.epoch = self.done = 0
        self.due = self.halted = False
        self.interrupted: Callable[[], bool] = lambda: False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self.done, self.due = epoch, 0, False
        if epoch == self.start[0] and self.start[1]:
            self.done = self.start[1]  # resumed inside this epoch: its sums so far
            for variable, value in zip(self.model.metrics_variables, self.metrics, strict=True):
                variable.assign(value)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.done += 1
        self.steps += 1
        if self.model.stop_training:  # a callback before this one stopped (a diverged loss)
            self.halted = True
            return
        due = bool(self.every) and self.steps % self.every == 0
        if self.done >= self.per_epoch:  # the epoch's last update: written after its row
            self.due = due
            return
        stop = self.interrupted()
        if self.save is not None and (due or stop):
            self._write(self.epoch, self.done * self.batch_size)
        if stop:
            self._stop()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.halted:
            return
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        stop = self.interrupted()
        last = epoch == self.epochs - 1 or self.model.stop_training  # or early stopping
        if self.save is not None and (self.due or stop or last):
            self._write(epoch + 1, 0)
        if stop:
            self._stop()

    def _write(self, epoch: int, pos: int) -> None:
        self.save(LoopState(order=self.order(epoch), pos=pos, steps=self.steps,
                            history=self.history, window=[{"epoch": epoch}]))

    def _stop(self) -> None:
        raise KeyboardInterrupt(f"interrupted after update {self.steps} of this run"
                                + (" (checkpoint written)" if self.save is not None else ""))


def fit_with_checkpoints(
    model: keras.Model, fit: Callable[..., keras.callbacks.History], x: np.ndarray,
    kwargs: dict[str, Any], *, checkpoint: str | os.PathLike[str] | None,
    checkpoint_every: int | None, resume: str | os.PathLike[str] | None, seed: int,
    meta: Mapping[str, Any], what: str, shard: Any = None,
) -> keras.callbacks.History:
    """Keras' ``fit`` (``fit``, the model's ``super().fit``) of ``model`` on rows ``x``
    [n, ...] with ``kwargs`` (``epochs``, ``batch_size``, ``shuffle``, ``callbacks``,
    ``validation_data``, ``verbose``, ...), writing checkpoints and resuming from one.

    ``checkpoint``: the file; ``checkpoint_every``: updates between checkpoints (None: at the
    end and on Ctrl-C only); ``resume``: a checkpoint of this run, which continues where it
    stopped, inside an epoch too (Keras then runs that epoch's remaining batches as one
    ``fit``, the other epochs as a second: callbacks see two ``on_train_begin``). The rows'
    order of epoch ``e`` is a permutation drawn from ``(seed, updates at the start, e)``,
    saved in the checkpoint; ``shuffle=False`` keeps the rows' order. ``meta``: what a
    checkpoint must match (the run's rows, batch size and shuffle are added); ``what`` names
    the model in errors. Returns the History of the whole run (the checkpoint's epochs
    first).

    ``shard`` (a :class:`coursekit.parallel.Shard`, under ``torchrun``): each process trains
    on its share of every batch of that order; only process 0 writes checkpoints, and all stop
    after the same update on Ctrl-C.
    """
    for name, why in _REFUSED.items():
        value = kwargs.pop(name, None)
        if value is not None and not (isinstance(value, (int, float)) and value == 0):
            shown = f"a {type(value).__name__}" if hasattr(value, "shape") else repr(value)
            raise ValueError(f"{name} cannot be given with checkpoint or resume ({why}); got "
                             f"{name}={shown}")
    if not isinstance(x, np.ndarray):
        raise ValueError(f"x must be an array of rows with checkpoint or resume (the model "
                         f"draws their order), got {type(x).__name__}")
    if getattr(model, "steps_per_execution", 1) != 1:
        raise ValueError("checkpoints need steps_per_execution=1 (compile's argument), got "
                         f"{model.steps_per_execution}")
    epochs = check_int(kwargs.pop("epochs", 1), "epochs", 1)
    batch_size = check_int(kwargs.pop("batch_size"), "batch_size", 1)
    shuffle = check_bool(kwargs.pop("shuffle", True), "shuffle")
    per_epoch = -(-len(x) // batch_size)
    if not model.optimizer.built:  # its variables must exist to be restored
        model.optimizer.build(model.trainable_variables)
    key = [int(seed), int(keras.ops.convert_to_numpy(model.optimizer.iterations))]

    def order(epoch: int) -> np.ndarray:
        if not shuffle:
            return np.arange(len(x))
        return np.random.default_rng([*key, epoch]).permutation(len(x))

    state = TrainingState(
        variables={"model": model, "optimizer": model.optimizer,
                   "metrics": lambda: model.metrics_variables},
        counters={"order_seed": (lambda: key[0], lambda v: key.__setitem__(0, v)),
                  "order_start": (lambda: key[1], lambda v: key.__setitem__(1, v))})
    metrics: list[np.ndarray] = []

    def restore(saved: Mapping[str, np.ndarray]) -> None:
        state.restore(saved)
        count = len(model.metrics_variables)
        metrics[:] = [np.asarray(saved[f"metrics/{i}"]) for i in range(count)]

    saving = loop_checkpoints(
        checkpoint, checkpoint_every, resume, arrays=state.arrays, restore=restore,
        meta={**meta, "rows": len(x), "batch_size": batch_size, "shuffle": shuffle}, what=what)
    if shard is not None and not shard.main:  # process 0 writes
        saving["checkpoint"] = None
    loop: LoopState | None = saving["resume"]
    epoch, batch, steps, history = 0, 0, 0, {}
    if loop is not None:
        epoch, batch = int(loop.window[0]["epoch"]), loop.pos // batch_size
        steps, history = loop.steps, loop.history
        if epoch + (batch > 0) > epochs:
            raise ValueError(f"{resume} is a checkpoint of a run that had done {epoch} epochs"
                             f"{f' and {batch} updates' if batch else ''}; this run has only "
                             f"epochs={epochs}")
    saver = _Checkpoints(save=saving["checkpoint"], every=saving["checkpoint_every"],
                         epochs=epochs, batch_size=batch_size, per_epoch=per_epoch, order=order,
                         start=(epoch, batch), steps=steps, history=history,
                         metrics=metrics)
    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), saver]
    result = None
    with interrupt_between_steps() as interrupted:
        saver.interrupted = interrupted if shard is None else lambda: shard.any(interrupted())
        if batch and epoch < epochs:  # resumed inside an epoch: its remaining batches first
            result = fit(_dataset(x, batch_size, order, (epoch, batch), epoch + 1, shard),
                         epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                         steps_per_epoch=per_epoch - batch, **kwargs)
            epoch += 1
        if epoch < epochs and not (result is not None and model.stop_training):
            result = fit(_dataset(x, batch_size, order, (epoch, 0), epochs, shard), epochs=epochs,
                         initial_epoch=epoch, shuffle=False, steps_per_epoch=per_epoch,
                         **kwargs)
    if result is None:  # the checkpoint had done every epoch
        result = keras.callbacks.History()
        result.set_model(model)
    result.history = saver.history
    result.epoch = list(range(len(next(iter(saver.history.values()), []))))
    return result
