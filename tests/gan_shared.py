"""Shared helpers of the DCGAN tests (torch and Keras): small sizes, synthetic images in [-1, 1]."""

from __future__ import annotations

import numpy as np

SMALL = {"generator_channels": (16, 8, 4), "discriminator_channels": (4, 8)}
LATENT = 8


def bar_images(n: int, seed: int = 0) -> np.ndarray:
    """``n`` images [n, 28, 28] in [-1, 1]: a bright vertical bar at a random column on -1."""
    rng = np.random.default_rng(seed)
    x = -np.ones((n, 28, 28), np.float32)
    for i, c in enumerate(rng.integers(4, 22, n)):
        x[i, 4:24, c : c + 3] = 1.0
    return x


def random_weights(model, seed: int = 0) -> dict[str, np.ndarray]:
    """Random weights in the shared layout, with non-trivial batch-norm statistics."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, w in model.get_weights().items():
        if name.endswith("moving_variance"):
            out[name] = rng.uniform(0.5, 2.0, w.shape).astype(np.float32)
        elif name.endswith(("moving_mean", "beta", "bias")):
            out[name] = rng.normal(0, 0.2, w.shape).astype(np.float32)
        elif name.endswith("gamma"):
            out[name] = rng.uniform(0.5, 1.5, w.shape).astype(np.float32)
        else:
            out[name] = rng.normal(0, 0.1, w.shape).astype(np.float32)
    return out
