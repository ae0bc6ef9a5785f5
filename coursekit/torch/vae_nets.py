"""The networks of :class:`coursekit.torch.VAE` (week 3), for square ``L x L`` images.

Both take and give rows of ``L * L`` pixels (784 for MNIST's 28 x 28):

* ``arch="mlp"``: ``L*L``-``hidden``-(2 x latent) / latent-``hidden``-``L*L`` with ReLU, the
  shape of the pytorch/examples VAE (hidden 400, latent 20);
* ``arch="conv"``: the keras.io convolutional VAE: two stride-2 convolutions (32 and 64
  channels: ``L -> L/2 -> L/4``, 28 -> 14 -> 7), a dense layer of 16, ``(mean, log_var)``;
  the decoder mirrors it with transposed convolutions back to ``L x L`` logits. ``L`` must be
  a multiple of 4 (:func:`coursekit.common.vae.check_image_side`).

The encoder's output is ``[mean, log_var]`` side by side, ``[n, 2 * latent_dim]``; the
decoder's, logits ``[n, L*L]``. The convolutional nets keep their kernels channels-last
(:func:`coursekit.torch.fast.channels_last`); the decoder's transposed convolutions are
``nn.ConvTranspose2d`` with the bias added apart (:class:`coursekit.torch.fast.ConvTranspose2d`).
"""

from __future__ import annotations

from torch import nn

from coursekit.torch.fast import ConvTranspose2d, channels_last  # bias added apart

__all__ = ["decoder", "encoder"]


def encoder(arch: str, latent_dim: int, hidden: int, side: int = 28) -> nn.Module:
    """Rows ``[n, side * side]`` -> ``[mean, log_var]`` ``[n, 2 * latent_dim]``."""
    if arch == "mlp":
        return nn.Sequential(
            nn.Linear(side * side, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim)
        )
    quarter = side // 4  # 7 for 28 x 28
    return channels_last(nn.Sequential(
        nn.Unflatten(1, (1, side, side)),
        nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),   # [n, 32, L/2, L/2]
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),  # [n, 64, L/4, L/4]
        nn.Flatten(),
        nn.Linear(64 * quarter * quarter, 16), nn.ReLU(),
        nn.Linear(16, 2 * latent_dim),
    ))  # fmt: skip


def decoder(arch: str, latent_dim: int, hidden: int, side: int = 28) -> nn.Module:
    """Latent points ``[n, latent_dim]`` -> logits ``[n, side * side]``."""
    if arch == "mlp":
        return nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, side * side)
        )
    quarter = side // 4
    return channels_last(nn.Sequential(
        nn.Linear(latent_dim, 64 * quarter * quarter), nn.ReLU(),
        nn.Unflatten(1, (64, quarter, quarter)),
        ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        ConvTranspose2d(32, 1, 3, padding=1),  # logits [n, 1, L, L]
        nn.Flatten(),
    ))  # fmt: skip
