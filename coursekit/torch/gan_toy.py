"""A GAN on the real line (week 4's lecture): small MLPs, a data density we know, the whole game
plotted in seconds.

The generator maps ``z ~ N(0, 1)`` (``latent_dim`` of them) to one number; the discriminator maps
a number to a logit. With the data density known, the discriminator can be compared with the
optimal one, ``d*(x) = p_data / (p_data + p_model)`` (:mod:`coursekit.reference.gan`), and the
generator's density (a kernel density estimate of its samples) with the data's, frame by
frame::

    toy = ToyGAN1D(seed=0)
    frames = toy.train(sample_data, updates=2000, frame_every=100, grid=np.linspace(-4, 4, 201))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf

from coursekit.checks import check_int
from coursekit.common.gan import check_latent_dim, check_loss, check_lr, check_seed

__all__ = ["ToyGAN1D", "kde"]

Sampler = Callable[[int, np.random.Generator], np.ndarray]


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, n_out),
    )  # fmt: skip


def kde(samples: np.ndarray, grid: np.ndarray, bandwidth: float | None = None) -> np.ndarray:
    """Gaussian kernel density estimate of 1-D ``samples`` at ``grid`` (Silverman's bandwidth
    ``0.9 min(std, IQR/1.34) n^(-1/5)`` unless given)."""
    s = np.asarray(samples, dtype=np.float64).ravel()
    if bandwidth is None:
        iqr = np.subtract(*np.percentile(s, [75, 25]))
        spread = min(s.std(), iqr / 1.34) if iqr > 0 else s.std()
        bandwidth = max(0.9 * spread * len(s) ** -0.2, 1e-3)
    u = (np.asarray(grid, dtype=np.float64)[:, None] - s[None, :]) / bandwidth
    return np.exp(-0.5 * u**2).sum(1) / (len(s) * bandwidth * math.sqrt(2 * math.pi))


class ToyGAN1D:
    """A generator and a discriminator on the real line (two hidden layers, leaky ReLU).

    Args:
        hidden: units per hidden layer of both networks.
        latent_dim: dimension of the generator's noise.
        loss: the generator's loss, ``"non_saturating"`` or ``"saturating"``.
        learning_rate: Adam's step size for both networks.
        seed: seeds the weights and every draw (NumPy and torch).
        bandwidth: of the kernel density estimate of the generator's density in the frames
            (None: Silverman's rule, too wide for several modes).
    """

    def __init__(
        self,
        hidden: int = 32,
        *,
        latent_dim: int = 1,
        loss: str = "non_saturating",
        learning_rate: float = 1e-3,
        seed: int = 0,
        bandwidth: float | None = 0.08,
    ) -> None:
        self.bandwidth = bandwidth
        self.hidden = check_int(hidden, "hidden", 1, "units per hidden layer")
        self.latent_dim = check_latent_dim(latent_dim)
        self.loss = check_loss(loss)
        self.learning_rate = check_lr(learning_rate)
        self.seed = check_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.generator = _mlp(self.latent_dim, self.hidden, 1)
            self.discriminator = _mlp(1, self.hidden, 1)
        self.rng = np.random.default_rng(self.seed)
        self._gen = torch.Generator().manual_seed(self.seed)
        betas = (0.5, 0.999)  # Radford et al. 2016
        self.g_opt = torch.optim.Adam(self.generator.parameters(), self.learning_rate, betas=betas)
        self.d_opt = torch.optim.Adam(
            self.discriminator.parameters(), self.learning_rate, betas=betas
        )
        self.updates = 0

    @torch.no_grad()
    def discriminator_prob(self, x: Any) -> np.ndarray:
        """``D(x)`` at points ``x`` [n]."""
        t = torch.as_tensor(np.asarray(x, dtype=np.float32).reshape(-1, 1))
        return torch.sigmoid(self.discriminator(t))[:, 0].numpy().astype(np.float64)

    @torch.no_grad()
    def generate(self, n: int) -> np.ndarray:
        """``n`` samples of the generator [n]."""
        z = torch.randn((check_int(n, "n", 1), self.latent_dim), generator=self._gen)
        return self.generator(z)[:, 0].numpy().astype(np.float64)

    def generator_gradient_norm(self, loss: str, n: int = 4096) -> float:
        """Norm of the gradient of the generator's ``loss`` w.r.t. its weights on ``n`` fakes."""
        loss = check_loss(loss)
        z = torch.randn((check_int(n, "n", 1), self.latent_dim), generator=self._gen)
        lf = self.discriminator(self.generator(z))
        value = -nnf.softplus(lf).mean() if loss == "saturating" else nnf.softplus(-lf).mean()
        grads = torch.autograd.grad(value, list(self.generator.parameters()))
        return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))

    def _d_step(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        logits = self.discriminator(torch.cat([real, fake]))
        lr, lf = logits[: len(real)], logits[len(real) :]
        loss = nnf.softplus(-lr).mean() + nnf.softplus(lf).mean()
        self.d_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.d_opt.step()
        return float(loss.detach())

    def train_discriminator(
        self, sample_data: Sampler, sample_model: Sampler, *, steps: int, batch_size: int = 512
    ) -> list[float]:
        """Train only the discriminator to tell two fixed samplers apart; its losses [steps].

        ``sample_data(n, rng)`` and ``sample_model(n, rng)`` return ``n`` numbers each. Its
        optimum is ``d*``; the loss then approaches ``ln 4 - 2 JS``.
        """
        steps = check_int(steps, "steps", 1)
        losses = []
        for _ in range(steps):
            real = torch.as_tensor(sample_data(batch_size, self.rng), dtype=torch.float32)
            fake = torch.as_tensor(sample_model(batch_size, self.rng), dtype=torch.float32)
            losses.append(self._d_step(real.reshape(-1, 1), fake.reshape(-1, 1)))
        return losses

    def train(
        self,
        sample_data: Sampler,
        *,
        updates: int,
        batch_size: int = 256,
        d_steps: int = 1,
        frame_every: int = 100,
        grid: Any = None,
        n_density: int = 4000,
    ) -> list[dict[str, Any]]:
        """The game: per update, ``d_steps`` discriminator steps then one generator step
        (Goodfellow et al. 2014, Algorithm 1, with Adam).

        Returns frames (one every ``frame_every`` updates and one at the start): ``update``,
        ``d`` (``D`` on ``grid``), ``p_model`` (a KDE of ``n_density`` generator samples on
        ``grid``), ``d_loss``, ``g_loss``, ``d_real``, ``d_fake`` (the last step's means), and
        ``samples`` (the generator samples).
        """
        updates = check_int(updates, "updates", 1, "generator updates")
        d_steps = check_int(d_steps, "d_steps", 1, "discriminator steps per update")
        frame_every = check_int(frame_every, "frame_every", 1)
        grid = np.linspace(-4, 4, 201) if grid is None else np.asarray(grid, dtype=np.float64)
        frames = [self._frame(grid, n_density, {})]
        for _ in range(updates):
            for _ in range(d_steps):
                real = torch.as_tensor(sample_data(batch_size, self.rng), dtype=torch.float32)
                with torch.no_grad():
                    z = torch.randn((batch_size, self.latent_dim), generator=self._gen)
                    fake = self.generator(z)
                d_loss = self._d_step(real.reshape(-1, 1), fake)
            z = torch.randn((batch_size, self.latent_dim), generator=self._gen)
            lf = self.discriminator(self.generator(z))
            if self.loss == "saturating":
                g_loss = -nnf.softplus(lf).mean()
            else:
                g_loss = nnf.softplus(-lf).mean()
            self.g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_opt.step()
            self.updates += 1
            if not math.isfinite(d_loss + float(g_loss.detach())):
                raise FloatingPointError(
                    f"toy GAN diverged at update {self.updates}: try a smaller learning_rate"
                )
            if self.updates % frame_every == 0:
                with torch.no_grad():
                    d_real = float(torch.sigmoid(self.discriminator(real.reshape(-1, 1))).mean())
                stats = {"d_loss": d_loss, "g_loss": float(g_loss.detach()), "d_real": d_real,
                         "d_fake": float(torch.sigmoid(lf.detach()).mean())}  # fmt: skip
                frames.append(self._frame(grid, n_density, stats))
        return frames

    def _frame(self, grid: np.ndarray, n_density: int, stats: dict[str, float]) -> dict:
        samples = self.generate(n_density)
        p_model = kde(samples, grid, self.bandwidth)
        return {"update": self.updates, "grid": grid, "d": self.discriminator_prob(grid),
                "p_model": p_model, "samples": samples, **stats}  # fmt: skip
