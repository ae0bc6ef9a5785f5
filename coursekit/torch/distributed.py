"""Data parallelism for the torch models with torch's own engine (``torch.distributed``, DDP).

Launched with ``torchrun --nproc_per_node=W ...`` (or a cluster job that sets the same
environment), each of the ``W`` processes (its *rank*) holds the whole model and the whole
data set. Seeded alike, every rank draws the same order of rows and the same noise for each
*global* batch of ``B`` rows; each takes its share of the batch (:meth:`Shard.take`), and
``DistributedDataParallel`` averages the gradients over the ranks during ``backward``. So W
processes take the same updates as one process with batch ``B``, to float rounding: data
parallelism is a larger batch split over workers, not another algorithm.

Three things keep that equality exact:

* each rank's loss is weighted by ``W n_r / B`` (:meth:`Shard.weight`, ``n_r`` its rows), so
  the average of the ranks' gradients is the gradient of the mean over the global batch even
  when ``B`` does not split evenly;
* batch normalisation takes its statistics over the global batch (:func:`global_batch_norm`:
  the ranks' sums are added with an all-reduce whose backward adds the gradients too); torch's
  ``SyncBatchNorm`` does the same but only on GPUs;
* random numbers drawn per row (the noise, dropout's masks) are drawn for the global batch on
  every rank and cut to the rank's share, so every generator stays in step with a one-process
  run.

Gloo runs on CPUs, NCCL on CUDA GPUs. Only rank 0 shows progress, writes checkpoints and calls
callbacks. See week 7, "Training beyond one laptop" (``notebooks/week7_scale``).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial

import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as nnf
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["Shard", "close", "current", "data_parallel", "global_batch_norm"]


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
        start, stop = self.bounds(n)
        values = torch.tensor([float(v) * (stop - start) / n for v in stats.values()],
                              dtype=torch.float64)
        dist.all_reduce(values)
        return dict(zip(stats, values.tolist(), strict=True))

    def mean_tensors(self, stats: Mapping[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
        """:meth:`mean` for 0-d tensors, kept on their device (one all-reduce, no read)."""
        if self.world == 1:
            return dict(stats)
        start, stop = self.bounds(n)
        values = torch.stack([v.detach().double() for v in stats.values()]) * ((stop - start) / n)
        dist.all_reduce(values)
        return dict(zip(stats, values.float().unbind(), strict=True))

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is set on any rank (all ranks stop together on Ctrl-C)."""
        if self.world == 1:
            return flag
        value = torch.tensor([int(flag)])
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())


def current() -> Shard:
    """This process's :class:`Shard`. Under ``torchrun`` (``WORLD_SIZE`` > 1 in the
    environment) the process group is started here if nobody has yet: NCCL when CUDA is
    available, else gloo. Without it: one process, rank 0."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group()
    if not dist.is_initialized():
        return Shard()
    return Shard(dist.get_rank(), dist.get_world_size())


def close() -> None:
    """End the process group :func:`current` started (at the end of a ``torchrun`` job)."""
    if dist.is_initialized():
        dist.destroy_process_group()


class _AllReduceSum(torch.autograd.Function):
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


def _global_batch_norm(bn: _BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """Batch norm of ``x`` [n_r, C, ...] with the mean and variance of the global batch."""
    if not bn.training:
        return nnf.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False,
                              0.0, bn.eps)
    dims = [0, *range(2, x.dim())]
    view = (1, -1) + (1,) * (x.dim() - 2)
    count = torch.tensor([x.numel() / x.shape[1]], dtype=torch.float64, device=x.device)
    dist.all_reduce(count)
    total = float(count.item())
    mean = _AllReduceSum.apply(x.sum(dims)) / total
    centred = x - mean.view(view)
    var = _AllReduceSum.apply(centred.square().sum(dims)) / total
    with torch.no_grad():  # the moving statistics, as torch's BatchNorm keeps them
        bn.num_batches_tracked.add_(1)
        m = bn.momentum
        bn.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
        bn.running_var.mul_(1 - m).add_(var.detach() * (total / (total - 1)), alpha=m)
    scale = bn.weight * torch.rsqrt(var + bn.eps)
    return centred * scale.view(view) + bn.bias.view(view)


@contextmanager
def global_batch_norm(module: nn.Module) -> Iterator[None]:
    """Within the block, every batch-norm layer of ``module`` normalises with the statistics
    of the global batch over all ranks (same parameters and buffers; undone on exit)."""
    layers = [m for m in module.modules() if isinstance(m, _BatchNorm)]
    for bn in layers:
        bn.forward = partial(_global_batch_norm, bn)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for bn in layers:
            del bn.forward


def _ddp(module: nn.Module) -> nn.Module:
    """``DistributedDataParallel(module)`` without the buffers' broadcast at every forward pass
    (the batch norms' statistics are equal on every rank already)."""
    names = inspect.signature(nn.parallel.DistributedDataParallel).parameters
    key = "forward_sync_buffers" if "forward_sync_buffers" in names else "broadcast_buffers"
    return nn.parallel.DistributedDataParallel(module, **{key: False})


@contextmanager
def data_parallel(shard: Shard, *modules: nn.Module) -> Iterator[tuple[nn.Module, ...]]:
    """``modules`` wrapped in ``DistributedDataParallel`` (with global batch norm and, for
    :class:`coursekit.torch.fast.Dropout`, masks drawn for the global batch: the batch must
    then split evenly), or as they are with one process. The wrappers average gradients in
    ``backward``; use them for the forward passes of the training step."""
    if shard.world == 1:
        yield modules
        return
    from coursekit.torch.fast import Dropout

    drops = [m for module in modules for m in module.modules() if isinstance(m, Dropout)]
    for drop in drops:
        drop.shard = (shard.rank, shard.world)
    try:
        with ExitStack() as stack:
            for module in modules:
                stack.enter_context(global_batch_norm(module))
            yield tuple(_ddp(m) for m in modules)
    finally:
        for drop in drops:
            drop.shard = None
