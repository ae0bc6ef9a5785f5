"""Train the course's digit classifier, the yardstick behind :mod:`coursekit.metrics`.

A compact CNN (about 120k parameters) trained with light augmentation (random shifts, small
rotations and scalings). Its weights are exported to a framework-free ``.npz`` file, with
batch normalisation folded into the convolutions, and evaluated everywhere by the NumPy
forward pass in :mod:`coursekit.metrics.classifier`; a test checks that both passes agree.

Architecture (shapes for one image)::

    x [1, 28, 28] -> conv3x3(32) BN ReLU -> maxpool2 -> [32, 14, 14]
                  -> conv3x3(64) BN ReLU -> maxpool2 -> [64, 7, 7]
                  -> conv3x3(128) BN ReLU -> global average pool -> [128]
                  -> dense(128) ReLU           (the penultimate layer: the FID features)
                  -> dense(10)                 (class logits)

Re-make the committed weights (the command is recorded in the weights' JSON file)::

    python -m coursekit.torch.classifier --dataset mnist
    python -m coursekit.torch.classifier --dataset fashion_mnist
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf

from coursekit import data, threads
from coursekit.io import atomic_path, atomic_write_text
from coursekit.metrics.classifier import WEIGHTS_DIR, NumpyClassifier, weights_path

__all__ = ["DigitCNN", "augment", "export_weights", "main", "train_classifier"]


class DigitCNN(nn.Module):
    """The classifier in PyTorch. Input ``x`` [n, 1, 28, 28] in [0, 1]; output logits [n, 10]."""

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(128)
        self.fc1 = nn.Linear(128, 128)
        self.fc2 = nn.Linear(128, n_classes)
        self.dropout = nn.Dropout(0.3)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features [n, 128] of images ``x`` [n, 1, 28, 28]."""
        x = nnf.max_pool2d(nnf.relu(self.bn1(self.conv1(x))), 2)
        x = nnf.max_pool2d(nnf.relu(self.bn2(self.conv2(x))), 2)
        x = nnf.relu(self.bn3(self.conv3(x))).mean(dim=(2, 3))
        return nnf.relu(self.fc1(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.dropout(self.features(x)))


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random affine jitter of a batch ``x`` [n, 1, 28, 28]: shift <= 2 px, rotation <= 10
    degrees, scale 0.9-1.1 (bilinear resampling, zero padding)."""
    n = x.shape[0]
    u = torch.rand(n, 4, generator=generator)
    angle = (u[:, 0] * 2 - 1) * math.radians(10)
    scale = 0.9 + 0.2 * u[:, 1]
    shift = (u[:, 2:] * 2 - 1) * (2 / 14)  # 2 px in affine_grid's [-1, 1] coordinates
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = nnf.affine_grid(theta, list(x.shape), align_corners=False)
    return nnf.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    updates: int = 3000,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    verbose: bool = True,
) -> DigitCNN:
    """Train :class:`DigitCNN` with Adam and a one-cycle cosine schedule.

    Args:
        images: uint8 [n, 28, 28] training images.
        labels: integer [n] class labels.
        updates: parameter updates (minibatches), so runs on 4,000 or 60,000 images take the
            same time.
    """
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape [n, 28, 28], got {images.shape}.")
    if len(labels) != len(images):
        raise ValueError(f"labels has {len(labels)} entries for {len(images)} images.")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    model = DigitCNN(int(y.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=updates)
    model.train()
    order, pos, start = torch.randperm(len(x), generator=gen), 0, time.perf_counter()
    for step in range(updates):
        if pos + batch_size > len(x):
            order, pos = torch.randperm(len(x), generator=gen), 0
        idx = order[pos : pos + batch_size]
        pos += batch_size
        loss = nnf.cross_entropy(model(augment(x[idx], gen)), y[idx], label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if verbose and (step + 1) % max(1, updates // 10) == 0:
            print(
                f"  update {step + 1:>6,}/{updates:,}  loss {loss.item():.3f}  "
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
    return model.eval()


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[np.ndarray, np.ndarray]:
    """Fold an eval-mode batch norm into the convolution before it: (weight, bias)."""
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight.detach() * scale[:, None, None, None]
    bias = bn.bias.detach() - bn.running_mean * scale
    return weight.numpy().astype(np.float32), bias.numpy().astype(np.float32)


def export_weights(model: DigitCNN) -> dict[str, np.ndarray]:
    """The model's weights as the NumPy arrays :class:`NumpyClassifier` takes (BN folded)."""
    out: dict[str, np.ndarray] = {}
    for i, (conv, bn) in enumerate(
        [(model.conv1, model.bn1), (model.conv2, model.bn2), (model.conv3, model.bn3)], 1
    ):
        out[f"conv{i}_w"], out[f"conv{i}_b"] = _fold(conv, bn)
    for name in ("fc1", "fc2"):
        layer = getattr(model, name)
        out[f"{name}_w"] = layer.weight.detach().numpy().T.astype(np.float32).copy()  # [in, out]
        out[f"{name}_b"] = layer.bias.detach().numpy().astype(np.float32)
    return out


def _accuracy(clf: NumpyClassifier, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(clf.predict(images.astype(np.float32) / 255.0) == labels))


def _portable(text: str) -> str:
    """``text`` with the home folder written as ``~``, so a committed record names no user."""
    return text.replace(str(Path.home()), "~")


def main(argv: list[str] | None = None) -> int:
    """Train and export a classifier; write ``<dataset>_cnn.npz`` and its JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["mnist", "fashion_mnist"], default="mnist")
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args(argv)
    torch.set_num_threads(threads.num_threads())

    train_x, train_y = data.load(args.dataset, "train")
    test_x, test_y = data.load(args.dataset, "test")
    train_src = _portable(data.source(args.dataset, "train"))
    test_src = _portable(data.source(args.dataset, "test"))
    print(f"training on {len(train_x):,} images ({train_src})", flush=True)
    start = time.perf_counter()
    model = train_classifier(
        train_x, train_y, updates=args.updates, batch_size=args.batch_size, seed=args.seed
    )
    seconds = time.perf_counter() - start
    weights = export_weights(model)
    clf = NumpyClassifier(weights)
    acc = _accuracy(clf, test_x, test_y)
    print(f"test accuracy {acc:.4f} on {len(test_x):,} images ({test_src}); {seconds:.0f} s")

    path = weights_path(args.dataset, args.out)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **weights)
    record = {
        "dataset": args.dataset,
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "bytes": path.stat().st_size,
        "parameters": int(sum(v.size for v in weights.values())),
        "train_data": f"{len(train_x):,} images: {train_src}",
        "test_data": f"{len(test_x):,} images: {test_src}",
        "test_accuracy": round(acc, 4),
        "updates": args.updates,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
        "command": f"python -m coursekit.torch.classifier --dataset {args.dataset} "
        f"--updates {args.updates} --batch-size {args.batch_size} --seed {args.seed}",
    }
    atomic_write_text(path.with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
