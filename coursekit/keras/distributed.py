"""Data parallelism for the Keras models, with each backend's own engine.

**tensorflow**: ``tf.distribute`` strategies. Build the model inside ``strategy.scope()`` (a
``MirroredStrategy`` over several devices, a ``MultiWorkerMirroredStrategy`` across machines)
and call ``fit`` with the global batch. Each replica holds an equal share of every batch; the
Keras optimizer adds the replicas' gradients, so each replica's mean loss is divided by the
number of replicas (:func:`replicas`), as Keras' own compiled losses are.

**torch**: ``DistributedDataParallel`` under ``torchrun``, as for :mod:`coursekit.torch`. Seeded
alike, every process draws the same order of rows; each takes its share of every global batch
(:class:`coursekit.parallel.Shard`), and the training step's forward pass runs through DDP around
the model's trainable variables (torch Parameters on this backend: :func:`data_parallel`), which
averages the gradients over the processes in ``backward``.

On both, two more things keep R replicas (or W processes) equal to one device with the global
batch, to float rounding: random numbers drawn per row (the VAE's binarisation and noise, the
DCGAN's noise and dropout masks) are drawn for the whole global batch and cut to each share
(:func:`share_of_draw`), and batch norm takes the global batch's statistics
(:func:`batch_norm_moments`). Every batch must split evenly over the replicas or processes.
See week 7, "Training beyond one laptop".
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import keras

__all__ = ["active", "batch_norm_moments", "check_even", "data_parallel", "mean_over_processes",
           "replicas",
           "share_of_draw", "sharded", "torch_shard", "wrapper"]

#: The torch processes' shard while a Keras model trains data-parallel (:func:`sharded`).
_ACTIVE: list[Any] = []
#: model -> its DDP wrapper while it trains data-parallel (:func:`data_parallel`)
_WRAPPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def replicas() -> int:
    """Replicas of the ``tf.distribute`` strategy in use (1 without one, and on torch)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def _replica() -> tuple[int, int]:
    """``(index, count)`` of the part of a global batch this code works on: the
    ``tf.distribute`` replica on tensorflow, the ``torchrun`` process on torch."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        ctx = tf.distribute.get_replica_context()
        if ctx is None:  # cross-replica context: the whole batch
            return 0, 1
        return ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync
    if _ACTIVE:
        return _ACTIVE[-1].rank, _ACTIVE[-1].world
    return 0, 1


def share_of_draw(shape: tuple[Any, ...], draw: Callable[[tuple[Any, ...]], Any]) -> Any:
    """``draw(shape)``; with R replicas or processes (each holding an equal share of a global
    batch of ``R * shape[0]`` rows), this one's rows of a draw for the whole global batch: all
    draw the same numbers from the same generator state, so together they see the draw one
    device with the global batch makes."""
    r, count = _replica()
    if count == 1:
        return draw(shape)
    n = shape[0]
    full = draw((count * n, *shape[1:]))
    return full[r * n : (r + 1) * n]


def torch_shard() -> Any:
    """This process's :class:`coursekit.parallel.Shard` on the torch backend (the process
    group started from ``torchrun``'s environment); one process elsewhere."""
    from coursekit.parallel import Shard

    if keras.backend.backend() != "torch":
        return Shard()
    from coursekit.parallel import current

    return current()


def check_even(shard: Any, batch_size: int, rows: int | None = None) -> None:
    """Every global batch (the last of an epoch of ``rows`` too) must split evenly over the
    processes: one clear error otherwise."""
    shard.check(batch_size)
    last = None if rows is None else rows % batch_size
    if batch_size % shard.world or (last and last % shard.world):
        extra = f" and the last batch of an epoch ({last} of {rows} rows)" if last else ""
        raise ValueError(f"batch_size ({batch_size}){extra} must split evenly over the "
                         f"{shard.world} processes (each draws its share of the batch's "
                         f"random numbers), got batch_size={batch_size}")


def active() -> Any:
    """The torch processes' shard while a model trains data-parallel, else None."""
    return _ACTIVE[-1] if _ACTIVE else None


@contextmanager
def sharded(shard: Any) -> Iterator[None]:
    """Within the block, draws are cut from the global batch's and batch norm is global
    (with more than one process; nothing changes with one)."""
    if shard.world == 1:
        yield
        return
    _ACTIVE.append(shard)
    try:
        yield
    finally:
        _ACTIVE.pop()


def batch_norm_moments(x: Any, axes: Sequence[int]) -> tuple[Any, Any] | None:
    """The mean and (biased) variance of ``x`` over ``axes`` and over the global batch, or None
    with one replica (the caller then computes its own). Two passes, as one device's moments:
    the sum, then the centred squares, each added over the replicas (on torch by an all-reduce
    whose backward adds the gradients; on tensorflow by the replica context's)."""
    count = _replica()[1]
    if count == 1:
        return None
    axes = list(axes)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        ctx = tf.distribute.get_replica_context()
        n = tf.cast(tf.reduce_prod(tf.gather(tf.shape(x), axes)) * count, x.dtype)
        mean = ctx.all_reduce("sum", tf.reduce_sum(x, axes)) / n
        var = ctx.all_reduce("sum", tf.reduce_sum(tf.square(x - mean), axes)) / n
        return mean, var
    from coursekit.parallel import all_reduce_sum

    n = float(count * math.prod(int(x.shape[a]) for a in axes))
    mean = all_reduce_sum(x.sum(axes)) / n
    view = [1 if i in axes else -1 for i in range(x.ndim)]
    var = all_reduce_sum((x - mean.view(view)).square().sum(axes)) / n
    return mean, var


def mean_over_processes(values: Any) -> Any:
    """The mean over the torch processes of a tensor (detached; no gradient), the tensor
    itself with one process. Shares are equal, so this is the global batch's mean."""
    shard = active()
    if shard is None:
        return values
    import torch.distributed as dist

    out = values.detach().clone()
    dist.all_reduce(out)
    return out / shard.world


def wrapper(model: Any) -> Any:
    """The DDP wrapper of ``model``'s training forward pass while it trains data-parallel."""
    return _WRAPPERS.get(model)


@contextmanager
def data_parallel(model: Any, variables: Sequence[keras.Variable],
                  forward: Callable[..., Any], shard: Any, key: Any = None) -> Iterator[Any]:
    """``DistributedDataParallel`` around ``forward`` (a function of tensors) whose parameters
    are ``variables`` (a Keras model's trainable variables: torch Parameters on this backend,
    the very objects the optimizer updates). Calling the wrapper runs ``forward`` and makes the
    next ``backward`` average these variables' gradients over the processes. Kept as
    :func:`wrapper` ``(key or model)`` within the block; with one process, ``forward`` itself."""
    if shard.world == 1:
        yield forward
        return
    import torch

    from coursekit.parallel import ddp

    params = [v.value for v in variables]
    if not all(isinstance(p, torch.nn.Parameter) for p in params):
        raise TypeError("data_parallel needs Keras variables on the torch backend")

    class Variables(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.params = torch.nn.ParameterList(params)

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return forward(*args, **kwargs)

    wrapped = ddp(Variables())
    _WRAPPERS[key if key is not None else model] = wrapped
    try:
        yield wrapped
    finally:
        _WRAPPERS.pop(key if key is not None else model, None)
