"""The course's digit classifier as a NumPy forward pass (no framework needed to evaluate it).

The weights are a small ``.npz`` file committed with the package, next to a JSON record of how
they were made (data, updates, command, test accuracy) and their SHA-256. Loading checks the
hash, so a damaged or swapped file is refused by name. The network (trained by
:mod:`coursekit.torch.classifier`, batch norm folded into the convolutions)::

    x [n, 28, 28] in [0, 1]
      -> conv3x3(1->32)   ReLU, maxpool 2   [n, 14, 14, 32]
      -> conv3x3(32->64)  ReLU, maxpool 2   [n, 7, 7, 64]
      -> conv3x3(64->128) ReLU, mean over space [n, 128]
      -> dense(128->128)  ReLU              [n, 128]  <- features (penultimate layer)
      -> dense(128->10)                     [n, 10]   <- logits

Convolutions are "same" (zero padding 1) and computed as one matrix product per layer
(im2col), in float32, in chunks of images to bound memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import numpy as np

from coursekit.checks import check_int
from coursekit.metrics.samples import check_samples

__all__ = [
    "DATASETS",
    "WEIGHTS_DIR",
    "NumpyClassifier",
    "WeightsError",
    "classifier_record",
    "load_classifier",
    "weights_path",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DATASETS = ("mnist", "fashion_mnist")
N_FEATURES = 128

# name -> expected shape ([out, in, kh, kw] for convolutions, [in, out] for dense layers)
_SHAPES: dict[str, tuple[int, ...]] = {
    "conv1_w": (32, 1, 3, 3),
    "conv1_b": (32,),
    "conv2_w": (64, 32, 3, 3),
    "conv2_b": (64,),
    "conv3_w": (128, 64, 3, 3),
    "conv3_b": (128,),
    "fc1_w": (128, N_FEATURES),
    "fc1_b": (N_FEATURES,),
    "fc2_w": (N_FEATURES, 10),
    "fc2_b": (10,),
}


class WeightsError(ValueError):
    """A classifier weights file is missing, damaged, or not what its record says."""


def _check_dataset(dataset: str) -> str:
    if dataset not in DATASETS:
        raise ValueError(
            f"dataset must be one of {', '.join(map(repr, DATASETS))}, got {dataset!r}."
        )
    return dataset


def weights_path(dataset: str = "mnist", folder: str | os.PathLike[str] = WEIGHTS_DIR) -> Path:
    """The weights file of ``dataset``'s classifier: ``<folder>/<dataset>_cnn.npz``."""
    return Path(folder) / f"{_check_dataset(dataset)}_cnn.npz"


def classifier_record(dataset: str = "mnist") -> dict:
    """The JSON record beside the weights: data, accuracy, SHA-256, the command that made them."""
    path = weights_path(dataset).with_suffix(".json")
    if not path.is_file():
        raise WeightsError(f"no classifier record at {path}; the package is incomplete.")
    return json.loads(path.read_text(encoding="utf-8"))


def _conv_same(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3x3 "same" convolution of ``x`` [n, H, W, C] with ``w`` [out, C, 3, 3] -> [n, H, W, out].

    im2col: the nine shifted copies of ``x`` side by side ([n, H, W, 9C], order (kh, kw, C)),
    then one matrix product with the kernel reshaped to [9C, out].
    """
    n, h, wd, c = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = np.concatenate(
        [padded[:, i : i + h, j : j + wd, :] for i in range(3) for j in range(3)], axis=3
    )
    kernel = w.transpose(2, 3, 1, 0).reshape(9 * c, w.shape[0])
    return (cols.reshape(n * h * wd, 9 * c) @ kernel + b).reshape(n, h, wd, w.shape[0])


def _maxpool2(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class NumpyClassifier:
    """The digit classifier, evaluated with NumPy.

    Args:
        weights: arrays named as in the module docstring (``conv1_w`` ... ``fc2_b``).
    """

    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        missing = sorted(set(_SHAPES) - set(weights))
        if missing:
            raise WeightsError(f"classifier weights lack {', '.join(missing)}.")
        self.weights: dict[str, np.ndarray] = {}
        for name, shape in _SHAPES.items():
            arr = np.asarray(weights[name], dtype=np.float32)
            if arr.shape != shape:
                raise WeightsError(
                    f"classifier weight {name} has shape {arr.shape}, expected {shape}."
                )
            if not np.all(np.isfinite(arr)):
                raise WeightsError(f"classifier weight {name} holds NaN or infinite values.")
            self.weights[name] = arr
        self._memo: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], sha256: str | None = None) -> NumpyClassifier:
        """Load weights from an ``.npz`` file, refusing it if its SHA-256 is not ``sha256``."""
        path = Path(path)
        try:
            payload = path.read_bytes()
        except OSError as err:
            raise WeightsError(f"cannot read classifier weights {path}: {err.strerror}.") from err
        if sha256 is not None:
            digest = hashlib.sha256(payload).hexdigest()
            if digest != sha256:
                raise WeightsError(
                    f"classifier weights {path} have SHA-256 {digest[:16]}..., but the record "
                    f"says {sha256[:16]}...: the file is damaged or was replaced. Restore it "
                    f"(git checkout) or re-make it with the command in its .json record."
                )
        try:
            with np.load(path, allow_pickle=False) as npz:
                weights = {k: npz[k] for k in npz.files}
        except (ValueError, OSError) as err:
            raise WeightsError(f"{path} is not a classifier weights .npz file ({err}).") from err
        return cls(weights)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = self.weights
        h = x.reshape(-1, 28, 28, 1).astype(np.float32, copy=False)
        h = _maxpool2(np.maximum(_conv_same(h, w["conv1_w"], w["conv1_b"]), 0))
        h = _maxpool2(np.maximum(_conv_same(h, w["conv2_w"], w["conv2_b"]), 0))
        h = np.maximum(_conv_same(h, w["conv3_w"], w["conv3_b"]), 0).mean(axis=(1, 2))
        feats = np.maximum(h @ w["fc1_w"] + w["fc1_b"], 0)
        return feats, feats @ w["fc2_w"] + w["fc2_b"]

    def features_and_logits(
        self, x: np.ndarray, batch_size: int = 64
    ) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate features [n, 128] and logits [n, 10] of images ``x`` [n, 28, 28] or
        [n, 784] (or with a channel axis of 1) in [0, 1]; anything else is refused with the
        message of :func:`coursekit.metrics.check_samples` (uint8 pixels, [-1, 1] images, NaN).

        The results (read-only float32 arrays) of the last few distinct inputs are kept, keyed
        by the images' hash, so the real test digits are passed through the network once
        however often a notebook compares against them. Small batches keep the im2col
        matrices in cache (64 images was the fastest on a 2-core machine).
        """
        x = np.ascontiguousarray(check_samples(x, "x"))
        batch_size = check_int(batch_size, "batch_size", 1, "images per forward pass")
        key = (hashlib.sha1(x.data).hexdigest(), x.shape)
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        n = x.shape[0]
        feats = np.empty((n, N_FEATURES), dtype=np.float32)
        logits = np.empty((n, 10), dtype=np.float32)
        for i in range(0, n, batch_size):
            feats[i : i + batch_size], logits[i : i + batch_size] = self._forward(
                x[i : i + batch_size]
            )
        feats.setflags(write=False)
        logits.setflags(write=False)
        self._memo[key] = (feats, logits)
        while len(self._memo) > 8:
            self._memo.popitem(last=False)
        return feats, logits

    def features(self, x: np.ndarray) -> np.ndarray:
        """Penultimate-layer features [n, 128] (float32)."""
        return self.features_and_logits(x)[0]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities [n, 10] (softmax of the logits)."""
        logits = self.features_and_logits(x)[1].astype(np.float64)  # a writable copy
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted classes [n] (int64)."""
        return self.features_and_logits(x)[1].argmax(axis=1)


def load_classifier(dataset: str = "mnist") -> NumpyClassifier:
    """The committed classifier of ``dataset`` (``"mnist"`` or ``"fashion_mnist"``), its
    SHA-256 checked against its record. Loaded once per process: ``load_classifier()`` and
    ``load_classifier("mnist")`` are the same object."""
    return _load_classifier(_check_dataset(dataset))


@cache
def _load_classifier(dataset: str) -> NumpyClassifier:
    record = classifier_record(dataset)
    return NumpyClassifier.from_file(weights_path(dataset), sha256=record["sha256"])
