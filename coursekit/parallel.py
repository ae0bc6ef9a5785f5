"""Data parallelism's framework-level pieces on ``torch.distributed``, shared by the torch models
(:mod:`coursekit.torch.distributed`) and the Keras models on the torch backend
(:mod:`coursekit.keras.distributed`), which never import each other.

:class:`Shard` is a process's place among the ``torchrun`` processes and what follows from it
(its rows of a global batch, the weight of its share's loss, averages over the processes);
:func:`current` starts the process group from ``torchrun``'s environment; :func:`all_reduce_sum`
is a sum over the processes that autograd differentiates (the global batch norm's). Nothing here
knows a model. See :mod:`coursekit.torch.distributed` for why W processes train as one.

torch is imported only where a process group is used (more than one process): one process,
Keras' tensorflow backend included, never imports it here.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["Shard", "all_reduce_sum", "close", "current", "ddp"]


@dataclass(frozen=True)
class Shard:
    """This process's place among ``world`` processes: ``rank`` in ``[0, world)``."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """Whether this process logs, records and saves (rank 0)."""
        return self.rank == 0

    def bounds(self, n: int) -> tuple[int, int]:
        """``(start, stop)`` of this rank's rows of a global batch of ``n`` rows: the first
        ``n % world`` ranks take one row more (``torch.tensor_split``'s rule)."""
        size, extra = divmod(n, self.world)
        start = self.rank * size + min(self.rank, extra)
        return start, start + size + (self.rank < extra)

    def take(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's rows of a global batch [n, ...] (all of it with one process)."""
        if self.world == 1:
            return batch
        start, stop = self.bounds(len(batch))
        return batch[start:stop]

    def weight(self, n: int) -> float:
        """``world * n_r / n``: the factor on this rank's mean loss that makes DDP's average of
        the ranks' gradients the gradient of the global batch's mean loss."""
        start, stop = self.bounds(n)
        return self.world * (stop - start) / n

    def check(self, batch_size: int, what: str = "batch_size") -> None:
        """Every rank needs at least one row of a batch: one clear error otherwise."""
        if batch_size < self.world:
            raise ValueError(
                f"{what} must be at least the number of processes ({self.world}, from "
                f"torchrun's WORLD_SIZE) so that every process has a share of each batch, "
                f"got {batch_size}")

    def mean(self, stats: Mapping[str, float], n: int) -> dict[str, float]:
        """Statistics of this rank's rows -> those of the global batch (row-weighted means)."""
        if self.world == 1:
            return dict(stats)
        import torch
        import torch.distributed as dist

        start, stop = self.bounds(n)
        values = torch.tensor([float(v) * (stop - start) / n for v in stats.values()],
                              dtype=torch.float64)
        dist.all_reduce(values)
        return dict(zip(stats, values.tolist(), strict=True))

    def mean_tensors(self, stats: Mapping[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
        """:meth:`mean` for 0-d tensors, kept on their device (one all-reduce, no read)."""
        if self.world == 1:
            return dict(stats)
        import torch
        import torch.distributed as dist

        start, stop = self.bounds(n)
        values = torch.stack([v.detach().double() for v in stats.values()]) * ((stop - start) / n)
        dist.all_reduce(values)
        return dict(zip(stats, values.float().unbind(), strict=True))

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is set on any rank (all ranks stop together on Ctrl-C)."""
        if self.world == 1:
            return flag
        import torch
        import torch.distributed as dist

        value = torch.tensor([int(flag)])
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())


def current() -> Shard:
    """This process's :class:`Shard`. Under ``torchrun`` (``WORLD_SIZE`` > 1 in the
    environment) the process group is started here if nobody has yet: NCCL when CUDA is
    available, else gloo. Without it: one process, rank 0."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1 and "torch.distributed" not in sys.modules:  # nobody started a group
        return Shard()
    import torch.distributed as dist

    if world > 1 and not dist.is_initialized():
        dist.init_process_group()
    if not dist.is_initialized():
        return Shard()
    return Shard(dist.get_rank(), dist.get_world_size())


def close() -> None:
    """End the process group :func:`current` started (at the end of a ``torchrun`` job)."""
    if "torch.distributed" not in sys.modules:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """``sum_r x_r`` over the processes (every rank gets it), differentiable: the gradient
    with respect to each rank's ``x_r`` is the sum of the ranks' output gradients."""
    return _all_reduce_sum_function().apply(x)


@functools.cache
def _all_reduce_sum_function() -> Any:
    import torch
    import torch.distributed as dist

    class AllReduceSum(torch.autograd.Function):
        """``sum_r x_r`` over the ranks; the backward adds the ranks' output gradients likewise
        (each rank's loss depends on every rank's input through the sum)."""

        @staticmethod
        def forward(ctx: object, x: torch.Tensor) -> torch.Tensor:
            out = x.clone()
            dist.all_reduce(out)
            return out

        @staticmethod
        def backward(ctx: object, grad: torch.Tensor) -> torch.Tensor:
            grad = grad.clone()
            dist.all_reduce(grad)
            return grad

    return AllReduceSum


def ddp(module: nn.Module) -> nn.Module:
    """``DistributedDataParallel(module)`` without the buffers' broadcast at every forward pass
    (the batch norms' statistics are equal on every rank already)."""
    from torch import nn

    names = inspect.signature(nn.parallel.DistributedDataParallel).parameters
    key = "forward_sync_buffers" if "forward_sync_buffers" in names else "broadcast_buffers"
    return nn.parallel.DistributedDataParallel(module, **{key: False})
