"""A Keras 3 ``PyDataset`` over uint8 NumPy images, with the course's pixel transforms.

Backend-agnostic: batches are NumPy arrays, so ``model.fit(dataset)`` works with the tensorflow
and the torch backend alike::

    from coursekit.data import load_mnist
    from coursekit.keras import make_dataset
    x, y = load_mnist("train")
    ds = make_dataset(x, y, batch_size=128, transform="binary", seed=0, flatten=True)
    model.fit(ds, epochs=5)
"""

from __future__ import annotations

import random

import keras
import numpy as np

from coursekit.data.preprocess import binarize, check_loader_inputs, dynamic_binarize, to_float

__all__ = ["TRANSFORMS", "ArrayDataset", "make_dataset"]

#: transform name -> what a batch holds.
TRANSFORMS: dict[str | None, str] = {
    "float": "float32 in [0, 1]",
    "tanh": "float32 in [-1, 1]",
    "binary": "float32 0/1, pixel >= 128 (static)",
    "dynamic": "float32 0/1, Bernoulli(pixel / 255), drawn afresh every epoch",
    None: "uint8 0..255, unchanged",
}


class ArrayDataset(keras.utils.PyDataset):
    """Batches of transformed ``images`` (and ``labels``), reshuffled at every epoch end.

    Every random draw is a function of ``(seed, epoch, batch index)``, so the batches do not
    depend on the order in which Keras asks for them (it fetches a few ahead of time, and with
    ``workers > 1`` from several threads).

    Args:
        images: ``uint8 [n, H, W]`` or ``[n, D]``.
        labels: integers ``[n]`` or None.
        batch_size: images per batch; the last batch may be smaller.
        shuffle: new order at every epoch.
        transform: a key of :data:`TRANSFORMS`.
        seed: base seed of every draw; None picks one from Python's ``random`` (seeded by
            ``coursekit.seed_everything``).
        flatten: batches ``[b, H*W]`` instead of ``[b, H, W]``.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None,
        batch_size: int,
        shuffle: bool,
        transform: str | None,
        seed: int | None,
        flatten: bool,
    ) -> None:
        super().__init__()
        self.images = images
        self.labels = labels
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.transform = transform
        self.seed = int(seed) if seed is not None else random.getrandbits(63)
        self.flatten = bool(flatten)
        self.epoch = 0
        self._order = self._make_order()

    def _make_order(self) -> np.ndarray | None:
        if not self.shuffle:
            return None
        return np.random.default_rng([self.seed, self.epoch, 0]).permutation(len(self.images))

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, index: int) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        n_batches = len(self)
        if index < 0:
            index += n_batches
        if not 0 <= index < n_batches:
            raise IndexError(f"batch index {index} out of range for {n_batches} batches")
        start, stop = index * self.batch_size, min((index + 1) * self.batch_size, len(self.images))
        idx = np.arange(start, stop) if self._order is None else self._order[start:stop]
        x = self.images[idx]
        if self.flatten:
            x = x.reshape(len(idx), -1)
        if self.transform == "float":
            x = to_float(x)
        elif self.transform == "tanh":
            x = to_float(x, (-1.0, 1.0))
        elif self.transform == "binary":
            x = binarize(x)
        elif self.transform == "dynamic":
            x = dynamic_binarize(x, np.random.default_rng([self.seed, self.epoch, 1, index]))
        if self.labels is None:
            return x
        return x, self.labels[idx]

    def on_epoch_end(self) -> None:
        """Advance the epoch: new order (if shuffling) and new dynamic binarisation."""
        self.epoch += 1
        self._order = self._make_order()


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    batch_size: int = 128,
    shuffle: bool = True,
    transform: str | None = "float",
    seed: int | None = None,
    flatten: bool = False,
) -> ArrayDataset:
    """A ``keras.utils.PyDataset`` of transformed batches, for ``model.fit``/``predict``.

    Args:
        images: ``uint8 [n, H, W]`` (or ``[n, D]``), intensities 0..255, e.g. from ``load_mnist``.
        labels: integer class labels ``[n]``, or None for images only.
        batch_size: images per batch (the last batch may be smaller).
        shuffle: reshuffle at the end of every epoch.
        transform: ``"float"`` ([0, 1]), ``"tanh"`` ([-1, 1]), ``"binary"`` (pixel >= 128),
            ``"dynamic"`` (each pixel 1 with probability intensity, new draws every epoch),
            or None (raw uint8).
        seed: makes order and dynamic binarisation reproducible; None: random (but fixed by
            ``coursekit.seed_everything``).
        flatten: batches of vectors ``[b, H*W]`` instead of images ``[b, H, W]``.

    Returns:
        An :class:`ArrayDataset`; ``ds[i]`` is ``x`` or ``(x, y)`` with ``x`` float32
        (uint8 for ``transform=None``) and ``y`` int64 ``[b]``; ``len(ds)`` is the number of
        batches per epoch.
    """
    images, labels = check_loader_inputs(images, labels, transform, batch_size, TRANSFORMS)
    return ArrayDataset(images, labels, batch_size, shuffle, transform, seed, flatten)
