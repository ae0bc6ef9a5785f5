"""A DCGAN in PyTorch (week 4): the TensorFlow DCGAN tutorial's networks for square L x L images
(``image_side`` L, 28 by default), same API and weights as :class:`coursekit.keras.DCGAN`.

Networks (tensorflow.org/tutorials/generative/dcgan; Radford et al. 2016, "Unsupervised
representation learning with deep convolutional GANs", ICLR), with channel widths and the image
side as arguments (the tutorial's are ``generator_channels=(256, 128, 64)``,
``discriminator_channels=(64, 128)`` and 28 x 28 MNIST digits); with ``s = L / 4`` (7 for 28,
4 for the 16 x 16 Ising lattices):

* generator ``z [n, latent_dim] -> x [n, 1, L, L]`` in [-1, 1]: Dense (no bias) to
  s x s x c0, batch norm, leaky ReLU; transposed convolutions 5 x 5 to c1 (stride 1, s x s) and
  c2 (stride 2, 2s x 2s), each with batch norm and leaky ReLU; a last one to 1 channel (stride
  2, L x L) and tanh;
* discriminator ``x -> logit [n]``: 5 x 5 convolutions with stride 2 to d1 (2s x 2s, 14 x 14
  for 28) and d2 (s x s), each with leaky ReLU (slope 0.3, the Keras default the tutorial uses)
  and dropout 0.3; a dense layer from s^2 d2 to one logit, ``D(x) = sigmoid(logit)``.

Padding reproduces Keras' ``padding="same"`` exactly (TensorFlow pads one pixel before and two
after for a 5 x 5 kernel with stride 2), and the dense layers read channels-last order, so that
the same weights (:meth:`DCGAN.set_weights`) give the same images as the Keras model.

Training: each :meth:`DCGAN.train_step` draws ``z``, makes fakes, evaluates the discriminator
on real and fake once, and updates both networks from that one pass (as the tutorial's
``train_step`` does with two gradient tapes): the discriminator on ``-v`` (binary
cross-entropy), the generator on the chosen loss (:mod:`coursekit.reference.gan`)::

    from coursekit.torch import DCGAN
    gan = DCGAN(latent_dim=100, generator_channels=(64, 32, 16), seed=0)
    history = gan.fit(2 * x_train - 1, updates=2000, batch_size=128)   # images in [-1, 1]
    images = gan.sample(64)                                            # [64, 28, 28] in [0, 1]

    ising = DCGAN(latent_dim=32, image_side=16, seed=0)   # spins in {-1, +1} as [n, 1, 16, 16]
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf

from coursekit.checkpoint import loop_checkpoints
from coursekit.checks import TrainingDiverged, check_bool, check_int, check_seed
from coursekit.common.gan import (
    BATCH_NORM,
    BN_EPS,
    DEFAULT_SIDE,
    LEAKY_SLOPE,
    DCGANBase,
    check_loss,
    check_z,
    diverged_message,
)
from coursekit.loop import train_updates
from coursekit.torch import distributed, fast
from coursekit.torch.checkpoint import TrainingState
from coursekit.torch.devices import OnDevice

__all__ = ["DCGAN", "Discriminator", "Generator", "TrainingDiverged"]

#: Keras' moving-average momentum 0.99 of the batch-norm statistics, in torch's convention.
BN_MOMENTUM = 0.01
_BN_TORCH = ("weight", "bias", "running_mean", "running_var")


def _same_pad_stride2() -> nn.ZeroPad2d:
    return nn.ZeroPad2d((1, 2, 1, 2))  # (left, right, top, bottom) as TensorFlow's "same"


class Generator(nn.Module):
    """``z [n, latent_dim] -> images [n, 1, L, L]`` in [-1, 1], ``L = image_side`` (see the
    module docstring)."""

    def __init__(
        self, latent_dim: int, channels: tuple[int, int, int], image_side: int = DEFAULT_SIDE
    ) -> None:
        super().__init__()
        c0, c1, c2 = channels
        self.c0, self.side = c0, image_side
        cells = (image_side // 4) ** 2
        self.dense = nn.Linear(latent_dim, cells * c0, bias=False)
        self.bn0 = nn.BatchNorm1d(cells * c0, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.deconv1 = nn.ConvTranspose2d(c0, c1, 5, stride=1, padding=2, bias=False)
        self.bn1 = nn.BatchNorm2d(c1, eps=BN_EPS, momentum=BN_MOMENTUM)
        # padding=1 then dropping the last row and column = TensorFlow's "same" (1 before)
        self.deconv2 = nn.ConvTranspose2d(c1, c2, 5, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c2, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.deconv3 = nn.ConvTranspose2d(c2, 1, 5, stride=2, padding=1, bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        side, s = self.side, self.side // 4
        h = nnf.leaky_relu(self.bn0(self.dense(z)), LEAKY_SLOPE)
        h = h.view(-1, s, s, self.c0).permute(0, 3, 1, 2)  # channels-last order, as Keras
        h = nnf.leaky_relu(self.bn1(self.deconv1(h)), LEAKY_SLOPE)  # [n, c1, s, s]
        # crop: h[..., :2s, :2s] (TensorFlow's "same"), its gradient kept channels-last
        h = nnf.leaky_relu(self.bn2(fast.crop(self.deconv2(h), 2 * s, 2 * s)), LEAKY_SLOPE)
        return torch.tanh(fast.crop(self.deconv3(h), side, side))  # [n, 1, L, L]


class Discriminator(nn.Module):
    """``images [n, 1, L, L] -> logits [n]``, ``L = image_side``; ``D(x) = sigmoid(logit)``."""

    def __init__(
        self, channels: tuple[int, int], dropout: float = 0.3, image_side: int = DEFAULT_SIDE
    ) -> None:
        super().__init__()
        d1, d2 = channels
        self.pad = _same_pad_stride2()
        self.conv1 = nn.Conv2d(1, d1, 5, stride=2)  # L -> L/2 (28 -> 14)
        self.conv2 = nn.Conv2d(d1, d2, 5, stride=2)  # L/2 -> L/4 (14 -> 7)
        self.drop = fast.Dropout(dropout)  # nn.Dropout's law, cheaper draws
        self.dense = nn.Linear((image_side // 4) ** 2 * d2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(nnf.leaky_relu(self.conv1(self.pad(x)), LEAKY_SLOPE))
        h = self.drop(nnf.leaky_relu(self.conv2(self.pad(h)), LEAKY_SLOPE))
        h = h.permute(0, 2, 3, 1).flatten(1)  # channels-last order, as Keras' Flatten
        return self.dense(h)[:, 0]


def generator_loss(logit_fake: torch.Tensor, loss: str) -> torch.Tensor:
    """Mean generator loss from the discriminator's logits on fakes (see reference.gan)."""
    if loss == "saturating":
        return -nnf.softplus(logit_fake).mean()  # mean log(1 - D(G(z)))
    return nnf.softplus(-logit_fake).mean()  # -mean log D(G(z))


def discriminator_loss(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    """``-v = mean softplus(-l_real) + mean softplus(l_fake)``."""
    return nnf.softplus(-logit_real).mean() + nnf.softplus(logit_fake).mean()


class DCGAN(nn.Module, OnDevice, DCGANBase):
    """Generator and discriminator of the DCGAN tutorial, trained together with two Adams.

    Args:
        latent_dim: dimension of the noise ``z ~ N(0, I)`` (the tutorial: 100).
        generator_channels: ``(c0, c1, c2)``, the tutorial's ``(256, 128, 64)``.
        discriminator_channels: ``(d1, d2)``, the tutorial's ``(64, 128)``.
        loss: the generator's loss, ``"non_saturating"`` (default, Goodfellow et al. 2014) or
            ``"saturating"`` (the minimax game).
        learning_rate: Adam's step size for both networks (the tutorial: 1e-4).
        beta_1: Adam's first-moment decay (the tutorial: Keras' default 0.9; Radford et al.
            2016 use 0.5).
        dropout: the discriminator's dropout rate (0.3).
        seed: seeds the initial weights (the same as the Keras model's with that seed) and the
            model's own generator of noise; None draws one from torch's global generator.
        image_side: the side L of the square images, an int >= 8 and a multiple of 4: 28
            (default, MNIST; bit for bit the tutorial's networks), 16 for the Ising lattices.
            Images are given as ``[n, L*L]``, ``[n, L, L]``, ``[n, L, L, 1]`` or
            ``[n, 1, L, L]`` in [-1, 1] (e.g. spins in {-1, +1}); the generator makes
            ``[n, 1, L, L]`` (``generate`` and ``sample`` return ``[n, L, L]``) from a first grid
            of ``L/4 x L/4`` (7 x 7 for 28, 4 x 4 for 16), and the discriminator's dense layer
            reads ``(L/4)^2 d2`` numbers.

    ``gan.to("cuda")`` (or any device) moves both networks; the noise is then drawn there and
    ``fit`` copies the images there once. Results are reproducible per device, not across
    devices (the noise comes from another stream).
    """

    def __init__(
        self,
        latent_dim: int = 100,
        *,
        generator_channels: tuple[int, int, int] = (256, 128, 64),
        discriminator_channels: tuple[int, int] = (64, 128),
        loss: str = "non_saturating",
        learning_rate: float = 1e-4,
        beta_1: float = 0.9,
        dropout: float = 0.3,
        seed: int | None = None,
        image_side: int = DEFAULT_SIDE,
    ) -> None:
        super().__init__()
        seed = self._settings(latent_dim, generator_channels, discriminator_channels, loss,
                              learning_rate, beta_1, dropout, seed, image_side)  # fmt: skip
        self.seed = int(torch.randint(0, 2**31 - 1, (1,))) if seed is None else seed
        self.generator = Generator(self.latent_dim, self.generator_channels, self.image_side)
        self.discriminator = Discriminator(
            self.discriminator_channels, self.dropout, self.image_side
        )
        self.set_weights(self._initial_weights())
        fast.channels_last(self)  # oneDNN's layout: no conversions in the steps
        self._gen = torch.Generator().manual_seed(self.seed)
        betas = (self.beta_1, 0.999)
        self.g_optimizer = fast.adam(self.generator.parameters(), self.learning_rate, betas)
        self.d_optimizer = fast.adam(self.discriminator.parameters(), self.learning_rate, betas)
        self.updates = 0
        # under torchrun, during fit: this process's share and the DDP-wrapped networks
        self._shard, self._nets = distributed.Shard(), (self.generator, self.discriminator)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in {**self.config, "loss": self.loss}.items())

    # ----------------------------------------------------------------------------------------
    # Generating and discriminating
    # ----------------------------------------------------------------------------------------

    def noise(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``z ~ N(0, I)`` [n, latent_dim] from the model's generator (or a fresh ``seed``),
        on the model's device."""
        n = check_int(n, "n", 1, "number of samples")
        gen = (self._rng() if seed is None
               else torch.Generator(device=self.device).manual_seed(check_seed(seed)))
        return torch.randn((n, self.latent_dim), generator=gen, device=gen.device)

    def _z(self, z: Any) -> torch.Tensor:
        return torch.as_tensor(check_z(z, self.latent_dim), device=self.device)

    @torch.no_grad()
    def generate(self, z: Any) -> np.ndarray:
        """Generator output (eval mode: batch norm's moving statistics) for noise ``z``
        [n, latent_dim]: images [n, L, L] in [-1, 1] (``L = image_side``, 28 by default)."""
        self.generator.eval()
        return self.generator(self._z(z))[:, 0].cpu().numpy()

    def sample(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` generated images [n, L, L] mapped to [0, 1] (for ``coursekit.metrics``)."""
        return (self.generate(self.noise(n, seed)) + 1.0) / 2.0

    @torch.no_grad()
    def discriminate(self, x: Any) -> np.ndarray:
        """``D(x)`` [n] (eval mode, no dropout) for ``L x L`` images in [-1, 1]."""
        self.discriminator.eval()
        data = torch.as_tensor(self._images(x, "x", "nchw"), device=self.device)
        return torch.sigmoid(self.discriminator(data)).cpu().numpy()

    # ----------------------------------------------------------------------------------------
    # Training
    # ----------------------------------------------------------------------------------------

    def _losses(self, real: torch.Tensor, z: torch.Tensor, loss: str,
                update_generator: bool = True) -> tuple:
        generator, discriminator = self._nets
        if not update_generator:  # no backward into it: its DDP wrapper would wait for one
            generator = self.generator
        fake = generator(z)
        # two calls, as the tutorial: the generator's gradient then never runs through the reals
        lr, lf = discriminator(real), discriminator(fake)
        return discriminator_loss(lr, lf), generator_loss(lf, loss), lr, lf

    def train_step(self, x_real: Any, *, update_generator: bool = True) -> dict[str, float]:
        """One update of each network on a batch of real images in [-1, 1].

        With ``update_generator=False`` only the discriminator is updated (the inner
        discriminator steps of Goodfellow et al.'s Algorithm 1); ``updates`` counts generator
        updates.

        Returns ``d_loss`` (``-v``), ``g_loss``, ``d_real`` and ``d_fake`` (mean ``D`` on the
        batch and on the fakes, before the update). Raises :class:`TrainingDiverged` (weights
        unchanged) if a loss is NaN or infinite. ``x_real`` (array or tensor, any accepted
        layout) is checked as ``fit`` checks its data: shape, NaN, the range [-1, 1].
        """
        real = torch.as_tensor(self._images(x_real, "x_real", "nchw"), device=self.device)
        return self._update(real, check_bool(update_generator, "update_generator"))

    def _update(self, real: torch.Tensor, update_generator: bool = True) -> dict[str, float]:
        """:meth:`train_step` on a checked batch [B, 1, L, L] (what ``fit`` passes)."""
        self.generator.train()
        self.discriminator.train()
        n, shard = len(real), self._shard
        gen = self._rng()
        z = torch.randn((n, self.latent_dim), generator=gen, device=gen.device)  # whole batch
        real, z = shard.take(real), shard.take(z)  # this process's share (all with one process)
        d_loss, g_loss, lr, lf = self._losses(real, z, self.loss, update_generator)
        stats = shard.mean_tensors({
            "d_loss": d_loss.detach(),
            "g_loss": g_loss.detach(),
            "d_real": torch.sigmoid(lr.detach()).mean(),
            "d_fake": torch.sigmoid(lf.detach()).mean(),
        }, n)
        # read once per update from the device (the divergence check needs the values)
        stats = dict(zip(stats, torch.stack(list(stats.values())).tolist(), strict=True))
        if not all(math.isfinite(v) for v in stats.values()):
            raise TrainingDiverged(
                diverged_message(self.updates + 1, stats, self.learning_rate, self.loss)
            )
        # both gradients from the one pass, then both updates; under DDP backward also
        # averages each network's gradient over the processes
        weight = shard.weight(n)
        (d_loss * weight).backward(inputs=list(self.discriminator.parameters()),
                                   retain_graph=update_generator)
        if update_generator:
            (g_loss * weight).backward(inputs=list(self.generator.parameters()))
        for opt in (self.d_optimizer, self.g_optimizer)[: 1 + update_generator]:
            opt.step()
            opt.zero_grad(set_to_none=True)
        if update_generator:
            self.updates += 1
        return stats

    def fit(
        self,
        x: Any,
        *,
        updates: int,
        batch_size: int = 256,
        log_every: int | None = None,
        grid_size: int = 16,
        callback: Callable[[DCGAN, dict[str, Any]], None] | None = None,
        progress: bool = True,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int | None = None,
        resume: str | os.PathLike[str] | None = None,
    ) -> dict[str, list]:
        """Train for ``updates`` updates of each network on images ``x`` in [-1, 1].

        Args:
            x: real ``L x L`` images in [-1, 1] (``2 * x - 1`` for [0, 1] images; Ising
                spins as they are), any accepted shape.
            updates: parameter updates of each network (the training length).
            batch_size: real images per update (the tutorial: 256).
            log_every: updates per history row (an "epoch"; default one pass over ``x``).
            grid_size: images in the fixed-noise grid kept at each row (noise from ``seed``,
                the same in both frameworks).
            callback: ``callback(model, row)`` after each row (e.g. a sample report).
            progress: a tqdm bar over updates.
            checkpoint: a file to write the whole training state to (weights, both Adam
                states, the random generators, the loop's position, the history): every
                ``checkpoint_every`` updates, at the end, and on Ctrl-C (after the update
                under way). Atomic: an interrupted write leaves the previous checkpoint.
            checkpoint_every: updates between checkpoints (None: only at the end and on
                Ctrl-C).
            resume: a checkpoint of this model's run on the same ``x`` and settings: the run
                continues from it to ``updates`` and ends with the same weights and history
                as a run that was never interrupted (bitwise on one CPU process).

        Returns:
            One entry per row: ``update`` (cumulative), ``epoch`` (passes over ``x``),
            ``d_real`` and ``d_fake`` (mean ``D`` on real and fake batches over the row),
            ``d_loss``, ``g_loss``, ``seconds`` (cumulative training time) and ``grid`` (the
            fixed-noise images [grid_size, L, L] in [-1, 1]).
        """
        data = torch.as_tensor(self._images(x, "x", "nchw"), device=self.device)  # once
        gen = self._rng()  # on the model's device, before the checkpoint takes it
        if log_every is None:  # one row per pass over x
            log_every = max(1, len(data) // check_int(batch_size, "batch_size", 1))
        grid_size = check_int(grid_size, "grid_size", 1, "images in the fixed-noise grid")
        grid_z = np.random.default_rng(self.seed).standard_normal((grid_size, self.latent_dim))

        def extra(steps: int) -> dict[str, Any]:
            return {"epoch": steps * batch_size / len(data), "grid": self.generate(grid_z)}

        shard = distributed.current()
        shard.check(batch_size)
        if batch_size % shard.world:
            raise ValueError(f"batch_size must split evenly over the {shard.world} processes "
                             f"(dropout's masks are drawn per share), got {batch_size}")
        state = self._training_state()
        meta = {"model": "coursekit.torch.DCGAN", **self.config, "loss": self.loss,
                "learning_rate": self.learning_rate, "beta_1": self.beta_1,
                "dropout": self.dropout, "seed": self.seed, "rows": len(data),
                "batch_size": batch_size, "log_every": log_every, "grid_size": grid_size}
        saving = loop_checkpoints(checkpoint, checkpoint_every, resume, arrays=state.arrays,
                                  restore=state.restore, meta=meta, what="DCGAN")
        if not shard.main:  # rank 0 writes the checkpoints, shows progress, calls back
            saving["checkpoint"], callback, progress = None, None, False
        with distributed.data_parallel(shard, self.generator, self.discriminator) as nets:
            self._shard, self._nets = shard, nets
            try:
                return train_updates(
                    self._update, data, updates=updates, batch_size=batch_size,
                    log_every=log_every, model=self, done=lambda: self.updates,
                    permutation=lambda n: torch.randperm(n, generator=gen, device=gen.device),
                    extra=extra,
                    callback=callback, progress=progress, desc="DCGAN updates",
                    agree=shard.any, **saving)
            finally:
                self._shard, self._nets = distributed.Shard(), (self.generator,
                                                                self.discriminator)

    def _training_state(self) -> TrainingState:
        """What a checkpoint holds: both networks, both Adams, the generators, the count."""
        def put(value: int) -> None:
            self.updates = value

        return TrainingState(
            modules={"generator": self.generator, "discriminator": self.discriminator},
            optimizers={"g_adam": self.g_optimizer, "d_adam": self.d_optimizer},
            generators={"model": self._gen}, counters={"updates": (lambda: self.updates, put)})

    def generator_gradient_norm(
        self, n: int = 256, *, loss: str | None = None, seed: int = 0
    ) -> float:
        """Euclidean norm of the gradient of the generator's loss (``loss``, default the
        model's) with respect to the generator's weights, on ``n`` fresh fakes (train mode,
        dropout off). Nothing is updated."""
        loss = self.loss if loss is None else check_loss(loss)
        self.generator.train()
        self.discriminator.eval()
        z = self.noise(n, seed)
        logits = self.discriminator(self.generator(z))
        grads = torch.autograd.grad(generator_loss(logits, loss), self.generator.parameters())
        return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))

    # ----------------------------------------------------------------------------------------
    # Weights in the shared layout, saving and loading
    # ----------------------------------------------------------------------------------------

    def _pairs(self) -> list[tuple[str, torch.Tensor, str]]:
        """(canonical name, tensor, conversion) for every weight."""
        g, d = self.generator, self.discriminator
        pairs = [("g/dense/kernel", g.dense.weight, "dense")]
        for i, bn in enumerate((g.bn0, g.bn1, g.bn2)):
            names = zip(BATCH_NORM, _BN_TORCH, strict=True)
            pairs += [(f"g/bn{i}/{k}", getattr(bn, t), "") for k, t in names]
        pairs += [(f"g/deconv{i}/kernel", m.weight, "deconv")
                  for i, m in ((1, g.deconv1), (2, g.deconv2), (3, g.deconv3))]  # fmt: skip
        for name, m in (("conv1", d.conv1), ("conv2", d.conv2)):
            pairs += [(f"d/{name}/kernel", m.weight, "conv"), (f"d/{name}/bias", m.bias, "")]
        pairs += [("d/dense/kernel", d.dense.weight, "dense"), ("d/dense/bias", d.dense.bias, "")]
        return pairs

    def get_weights(self) -> dict[str, np.ndarray]:
        """All weights as NumPy arrays in the shared Keras layout (:mod:`coursekit.common.gan`)."""
        out = {}
        for name, t, kind in self._pairs():
            a = t.detach().cpu().numpy()
            if kind == "dense":  # torch [out, in] -> Keras [in, out]
                a = a.T
            elif kind == "conv":  # torch [out, in, kh, kw] -> Keras [kh, kw, in, out]
                a = a.transpose(2, 3, 1, 0)
            elif kind == "deconv":  # torch [in, out, kh, kw] -> Keras [kh, kw, out, in]
                a = a.transpose(2, 3, 1, 0)
            out[name] = np.array(a, dtype=np.float32, order="C", copy=True)  # no aliasing
        return out

    @torch.no_grad()
    def set_weights(self, weights: dict[str, Any]) -> DCGAN:
        """Load weights in the shared layout (e.g. from the Keras model's ``get_weights``)."""
        weights = self._check_weights(weights)
        for name, t, kind in self._pairs():
            a = weights[name]
            if kind == "dense":
                a = a.T
            elif kind in ("conv", "deconv"):
                a = a.transpose(3, 2, 0, 1)
            t.copy_(torch.from_numpy(np.ascontiguousarray(a)))
        return self
