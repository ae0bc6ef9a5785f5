"""The networks of :class:`coursekit.keras.VAE` (week 3), for square ``L x L`` images.

Both take and give rows of ``L * L`` pixels (784 for MNIST's 28 x 28):

* ``arch="conv"``: the keras.io convolutional VAE: two stride-2 convolutions (32 and 64
  channels: ``L -> L/2 -> L/4``, 28 -> 14 -> 7), a dense layer (``dense`` units, 16 in
  keras.io), ``(mean, log_var)``; the decoder mirrors it with transposed convolutions back to
  ``L x L`` logits. ``L`` must be a multiple of 4 (:func:`coursekit.common.vae.check_image_side`).
* ``arch="mlp"``: ``L*L``-``hidden``-(2 x latent) / latent-``hidden``-``L*L`` with ReLU.

The encoder's output is ``[mean, log_var]`` side by side, ``[n, 2 * latent_dim]``; the
decoder's, logits ``[n, L*L]``. Every kernel is Glorot-uniform with its own seed, derived from
the model's one seed (:class:`Initializers`).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers

__all__ = ["Initializers", "decoder", "encoder"]


class Initializers:
    """Glorot-uniform kernel initialisers with seeds derived from one seed, one per layer."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def __call__(self) -> dict[str, Any]:
        seed = int(self._rng.integers(0, 2**31 - 1))
        return {"kernel_initializer": keras.initializers.GlorotUniform(seed=seed)}


def encoder(
    arch: str, latent_dim: int, hidden: int, init: Initializers, dense: int = 16, side: int = 28
) -> keras.Sequential:
    """Rows [n, side * side] -> ``[mean, log_var]`` [n, 2 * latent_dim]."""
    if arch == "mlp":
        body = [layers.Dense(hidden, activation="relu", **init())]
    else:  # keras.io: two stride-2 convolutions (L -> L/2 -> L/4), then a dense layer (16)
        body = [
            layers.Reshape((side, side, 1)),
            layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", **init()),
            layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", **init()),
            layers.Flatten(),
            layers.Dense(dense, activation="relu", **init()),
        ]
    # one layer for [mean, log_var] (keras.io has two Dense layers; the same function)
    return keras.Sequential(
        [keras.Input((side * side,)), *body, layers.Dense(2 * latent_dim, **init())],
        name="encoder",
    )


def decoder(
    arch: str, latent_dim: int, hidden: int, init: Initializers, side: int = 28
) -> keras.Sequential:
    """Latent points [n, latent_dim] -> logits [n, side * side]."""
    if arch == "mlp":
        body = [
            layers.Dense(hidden, activation="relu", **init()),
            layers.Dense(side * side, **init()),
        ]
    else:
        quarter = side // 4  # 7 for 28 x 28
        body = [
            layers.Dense(quarter * quarter * 64, activation="relu", **init()),
            layers.Reshape((quarter, quarter, 64)),
            layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu", **init()),
            layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu", **init()),
            layers.Conv2DTranspose(1, 3, padding="same", **init()),  # logits, no sigmoid
            layers.Reshape((side * side,)),
        ]
    return keras.Sequential([keras.Input((latent_dim,)), *body], name="decoder")
