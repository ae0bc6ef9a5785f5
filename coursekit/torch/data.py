"""PyTorch ``DataLoader`` over uint8 NumPy images, with the course's pixel transforms.

Batches are built whole: a batch sampler yields index lists, and the dataset gathers and
transforms a whole batch with one tensor operation each (no per-sample Python work)::

    from coursekit.data import load_mnist
    from coursekit.torch import make_loader
    x, y = load_mnist("train")
    loader = make_loader(x, y, batch_size=128, transform="dynamic", seed=0, flatten=True)
    for xb, yb in loader:   # float32 [128, 784] of 0/1, int64 [128]
        ...
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from coursekit.data.preprocess import check_loader_inputs

__all__ = ["TRANSFORMS", "BatchDataset", "make_loader"]

#: transform name -> what a batch holds.
TRANSFORMS: dict[str | None, str] = {
    "float": "float32 in [0, 1]",
    "tanh": "float32 in [-1, 1]",
    "binary": "float32 0/1, pixel >= 128 (static)",
    "dynamic": "float32 0/1, Bernoulli(pixel / 255) drawn afresh for every batch",
    None: "uint8 0..255, unchanged",
}


class BatchDataset(Dataset):
    """Indexed by a list of sample indices; returns the transformed batch.

    Args:
        images: ``uint8 [n, ...]``; kept as a tensor on ``device``.
        labels: integers ``[n]`` or None.
        transform: a key of :data:`TRANSFORMS`.
        flatten: return ``[b, D]`` instead of the image shape.
        generator: torch generator on ``device`` for ``"dynamic"``; None uses torch's global RNG.
        device: where the data and batches live.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None,
        transform: str | None,
        flatten: bool,
        generator: torch.Generator | None,
        device: torch.device,
    ) -> None:
        self.images = torch.from_numpy(np.ascontiguousarray(images)).to(device)
        self.labels = None if labels is None else torch.from_numpy(labels).to(device)
        self.transform = transform
        self.flatten = flatten
        self.generator = generator
        self.device = device

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, indices: Sequence[int]) -> torch.Tensor | tuple[torch.Tensor, ...]:
        idx = torch.as_tensor(indices, dtype=torch.int64, device=self.device)
        x = self.images[idx]
        if self.flatten:
            x = x.reshape(len(idx), -1)
        if self.transform == "float":
            x = x.float().div_(255.0)
        elif self.transform == "tanh":
            x = x.float().div_(127.5).sub_(1.0)
        elif self.transform == "binary":
            x = (x >= 128).float()
        elif self.transform == "dynamic":
            x = torch.bernoulli(x.float().div_(255.0), generator=self.generator)
        if self.labels is None:
            return x
        return x, self.labels[idx]


def make_loader(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    batch_size: int = 128,
    shuffle: bool = True,
    transform: str | None = "float",
    seed: int | None = None,
    drop_last: bool = False,
    device: str | torch.device | None = None,
    flatten: bool = False,
) -> DataLoader:
    """A ``DataLoader`` of transformed batches of ``images`` (and ``labels``).

    Args:
        images: ``uint8 [n, H, W]`` (or ``[n, D]``), intensities 0..255, e.g. from ``load_mnist``.
        labels: integer class labels ``[n]``, or None for images only.
        batch_size: images per batch.
        shuffle: reshuffle at every epoch.
        transform: ``"float"`` ([0, 1]), ``"tanh"`` ([-1, 1]), ``"binary"`` (pixel >= 128, i.e.
            intensity >= 0.5, as ``coursekit.data.binarize``), ``"dynamic"`` (each pixel 1
            with probability intensity, drawn again every time a batch is made), or None
            (raw uint8).
        seed: makes shuffling and dynamic binarisation reproducible (a fresh loader with the
            same seed yields the same batches, epoch after epoch); None uses torch's global RNG,
            so ``coursekit.seed_everything`` applies.
        drop_last: drop the last, smaller batch.
        device: put the data (once) and the batches on this device, e.g. ``"cuda"``;
            None means the CPU.
        flatten: batches of vectors ``[b, H*W]`` instead of images ``[b, H, W]``.

    Returns:
        A DataLoader yielding ``x`` or ``(x, y)``: ``x`` float32 (uint8 for ``transform=None``)
        of shape ``[b, H, W]`` or ``[b, H*W]``, ``y`` int64 ``[b]``. ``len(loader)`` is the
        number of batches.
    """
    images, labels = check_loader_inputs(images, labels, transform, batch_size, TRANSFORMS)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    order_gen = pixel_gen = None
    if seed is not None:
        # Separate streams: how much the pixels draw never changes the shuffling.
        order_gen = torch.Generator().manual_seed(int(seed))
        pixel_gen = torch.Generator(device=dev).manual_seed(int(seed) + 1)
    dataset = BatchDataset(images, labels, transform, bool(flatten), pixel_gen, dev)
    base = RandomSampler(dataset, generator=order_gen) if shuffle else SequentialSampler(dataset)
    batches = BatchSampler(base, batch_size=int(batch_size), drop_last=bool(drop_last))
    # batch_size=None: each "sample" the sampler yields is already a list of indices, and the
    # dataset returns finished batches; the default (no-op) conversion leaves them as they are.
    return DataLoader(dataset, sampler=batches, batch_size=None)
