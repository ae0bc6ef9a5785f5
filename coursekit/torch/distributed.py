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

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial

import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as nnf
from torch.nn.modules.batchnorm import _BatchNorm

from coursekit.parallel import Shard, all_reduce_sum, close, current, ddp

__all__ = ["Shard", "close", "current", "data_parallel", "global_batch_norm"]


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
    mean = all_reduce_sum(x.sum(dims)) / total
    centred = x - mean.view(view)
    var = all_reduce_sum(centred.square().sum(dims)) / total
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
            yield tuple(ddp(m) for m in modules)
    finally:
        for drop in drops:
            drop.shard = None
