"""Fast paths for the torch models, kept apart from the models that use them.

Each piece here is a drop-in for a plain PyTorch one, equal in value or in distribution, so a
model's own code reads as the textbook does and gains the speed by one call. Every choice is
measured by the scripts in ``benchmarks/`` (time per update against the machine's peak and the
tutorial the model replaces), not asserted here.

* :func:`channels_last`: convolution weights stored channels-last (NHWC), the layout oneDNN's
  CPU convolutions work in; with contiguous (NCHW) weights every convolution and its gradients
  convert to and from it.
* :class:`Dropout`: the mask drawn as ``rand >= p`` (uniform float32 numbers) instead of
  ``nn.Dropout``'s per-element Bernoulli draws, which on the CPU cost about twice as much as the
  rest of the layer (in a DCGAN step at batch 256 the draws were about a tenth of the step).
* :func:`crop`: keep the first rows and columns of an image batch by a negative padding, whose
  gradient is written in the input's layout; a slice's gradient is a zero-filled contiguous
  tensor, which the channels-last convolution before it then converts back.
* :class:`ConvTranspose2d`: ``nn.ConvTranspose2d`` with its bias added after the convolution;
  torch 2.13's channels-last transposed convolution is slower, forward and backward, with a
  bias than without one plus an addition.
* :func:`adam`: ``torch.optim.Adam`` with ``fused=True`` where the device has the kernel (one
  pass per tensor instead of about ten ``_foreach`` passes, each writing a temporary); the
  same update to float rounding.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as nnf

from coursekit.checks import check_float

__all__ = ["ConvTranspose2d", "Dropout", "adam", "channels_last", "crop"]


class ConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` (same arguments, parameters and values) whose bias is added after
    the convolution rather than inside it."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if self.bias is None:
            return super().forward(x, output_size)
        output_padding = self._output_padding(x, output_size, self.stride, self.padding,
                                              self.kernel_size, 2, self.dilation)  # fmt: skip
        y = nnf.conv_transpose2d(x, self.weight, None, self.stride, self.padding, output_padding,
                                 self.groups, self.dilation)  # fmt: skip
        return y + self.bias.view(1, -1, 1, 1)


def crop(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``x[..., :height, :width]`` of images [n, c, h, w] (``height <= h``, ``width <= w``), as
    a new tensor in ``x``'s memory layout; its gradient keeps that layout too."""
    return nnf.pad(x, (0, width - x.shape[-1], 0, height - x.shape[-2]))


def adam(params: Any, lr: float, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Adam:
    """``torch.optim.Adam(params, lr, betas)``, fused where this build and device allow it."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover  (a device or build without it)
        return torch.optim.Adam(params, lr=lr, betas=betas)


def channels_last(module: nn.Module) -> nn.Module:
    """``module`` with its 4-D weights (convolution kernels) moved to channels-last memory, in
    place; values, shapes and the ``[n, c, h, w]`` indexing of its tensors are unchanged."""
    return module.to(memory_format=torch.channels_last)


def _share_of_uniforms(x: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    """Rows ``rank`` of ``world`` equal shares of uniforms drawn for ``world * len(x)`` rows in
    ``x``'s memory layout (the order a one-process ``rand_like`` fills them in)."""
    layout = (torch.channels_last if x.dim() == 4 and x.is_contiguous(
        memory_format=torch.channels_last) else torch.contiguous_format)
    full = torch.empty((world * len(x), *x.shape[1:]), dtype=x.dtype, device=x.device,
                       memory_format=layout).uniform_()
    return full[rank * len(x):(rank + 1) * len(x)]


class Dropout(nn.Module):
    """``nn.Dropout(p)`` with the mask drawn from uniforms: in training each element is kept with
    probability ``1 - p`` and scaled by ``1 / (1 - p)``; in evaluation (or ``p = 0``) the input
    passes unchanged. Uses torch's global generator, as ``nn.Dropout`` does.

    ``shard = (rank, world)`` (set by :func:`coursekit.torch.distributed.data_parallel`): ``x``
    is this rank's equal share of a global batch, and the uniforms are drawn for the whole
    global batch and cut, so the masks are those of one process with the global batch.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = check_float(p, "p", "in [0, 1)", "dropout rate")
        self.shard: tuple[int, int] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        uniforms = torch.rand_like(x) if self.shard is None else _share_of_uniforms(x, *self.shard)
        # uniforms -> 1.0 where kept (P = 1 - p), else 0.0 -> scaled: one float mask, in place
        mask = uniforms.ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"
