"""Energy-based models in PyTorch (week 2): a CNN energy for MNIST (or other square images), an
MLP energy for 2-D toys, and contrastive training with Langevin negatives from a replay buffer.

``p(x) = exp(-E(x)) / Z``. The gradient of the mean log-likelihood with respect to the
parameters is a data term minus a model term (the positive and negative phases of week 1),

    grad log p = -<grad E(x)>_data + <grad E(x)>_model,

and the model term is estimated with Langevin samples. The loss minimised per update
(Du and Mordatch 2019, eq. 6 and section 3.3) is

    L = mean E(x_data) - mean E(x_sample) + alpha * (mean E(x_data)^2 + mean E(x_sample)^2),

whose gradient is the negative log-likelihood gradient plus a penalty that keeps energies near
zero (without it they drift without bound). The defaults are those of the uvadlc EBM tutorial
(P. Lippe, "Tutorial 8: Deep energy-based generative models", 2022) for MNIST in [-1, 1]: 60
steps of size 10 with noise 0.005, gradient elements clipped at 0.03, a buffer of 8,192 with 5%
restarts, alpha 0.1, Adam with lr 1e-4 and beta1 = 0 (Du and Mordatch, appendix), and the
parameter gradient's norm clipped at 0.1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from coursekit.checks import check_int, check_seed, to_numpy
from coursekit.common.ebm import EBMBase, check_optimizer, check_rows, cnn_final_side
from coursekit.torch.checkpoint import TrainingState
from coursekit.torch.fast import adam, channels_last
from coursekit.torch.langevin import LangevinResult, langevin

__all__ = ["EBM", "CNNEnergy", "MLPEnergy", "contrastive_loss"]


def contrastive_loss(
    e_data: torch.Tensor, e_fake: torch.Tensor, alpha: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The week's loss from the energies of data [B] and of (detached) samples [B']:
    ``(loss, cdiv, reg)`` with ``cdiv = mean E_data - mean E_fake`` and ``reg = alpha (mean
    E_data^2 + mean E_fake^2)``, ``loss = cdiv + reg`` (scalars)."""
    cdiv = e_data.mean() - e_fake.mean()
    reg = alpha * (e_data.pow(2).mean() + e_fake.pow(2).mean())
    return cdiv + reg, cdiv, reg


class CNNEnergy(nn.Module):
    """A small CNN energy ``E(x)`` for images [n, 1, L, L] in [-1, 1] -> [n], Swish activations.

    The architecture of the uvadlc tutorial: four strided convolutions (16, 32, 64, 64 channels),
    then ``f^2 * c4 -> hidden -> 1``. Swish (SiLU) is smooth, so ``grad_x E`` is too.

    Args:
        channels: the four convolutions' channels ``(c1, c2, c3, c4)``.
        hidden: units of the hidden linear layer.
        image_side: the side ``L`` of the square images, an int >= 8 (keyword only): 28 for
            MNIST (the default, the tutorial's network), 8 for the Ising lattices of week 6.
            Each convolution maps a side ``s`` to ``floor((s + 2p - k) / 2) + 1`` (the first
            ``k = 5, p = 4``, the others ``k = 3, p = 1``), so the last map is ``f x f`` with
            ``f = coursekit.common.ebm.cnn_final_side(L)``: 2 for L = 13 to 28 (28 -> 16 -> 8
            -> 4 -> 2), 1 for L = 8 to 12 (8 -> 6 -> 3 -> 2 -> 1), 3 for L = 29 to 44.
    """

    def __init__(self, channels: Sequence[int] = (16, 32, 64, 64), hidden: int = 64, *,
                 image_side: int = 28) -> None:  # fmt: skip
        final = cnn_final_side(image_side)
        super().__init__()
        self.image_side = int(image_side)
        c1, c2, c3, c4 = channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 5, stride=2, padding=4), nn.SiLU(),   # 28 -> 16
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.SiLU(),  # -> 8
            nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.SiLU(),  # -> 4
            nn.Conv2d(c3, c4, 3, stride=2, padding=1), nn.SiLU(),  # -> 2 = final
            nn.Flatten(),
            nn.Linear(final * final * c4, hidden), nn.SiLU(),
            nn.Linear(hidden, 1),
        )
        channels_last(self)  # oneDNN's layout (coursekit.torch.fast)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


class MLPEnergy(nn.Module):
    """An MLP energy for 2-D points [n, d] -> [n], Swish activations."""

    def __init__(self, dim: int = 2, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden),
                                 nn.SiLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


class EBM(EBMBase):
    """An energy network trained contrastively with Langevin negatives from a replay buffer.

    Args:
        energy: a module mapping [n, *shape] to energies [n].
        shape: shape of one sample, e.g. ``(1, 28, 28)`` or ``(2,)``.
        step_size, noise_scale, n_steps, grad_clip, clamp: the Langevin sampler of the negative
            phase (see :func:`coursekit.torch.langevin`).
        buffer_size, restart: the replay buffer (:class:`coursekit.common.ebm.ReplayBuffer`); its
            noise is uniform on ``init_range``.
        alpha: weight of the energy regularisation.
        lr, betas: Adam's settings (beta1 = 0 as in Du and Mordatch 2019).
        clip_norm: bound on the parameter gradient's norm (None: no clipping).
        data_noise: standard deviation of noise added to data images (uvadlc: 0.005).
        max_energy: the divergence guard: training stops when an energy's magnitude exceeds it.
        seed: seeds the weights, the buffer and the chains.

    ``ebm.to("cuda")`` (before training) moves the energy; the chains, the data and the noise
    then live there. The replay buffer is a NumPy array shared with the Keras twin
    (:class:`coursekit.common.ebm.ReplayBuffer`): each update copies its start states to the
    device and the chains' ends back, ``B x prod(shape)`` numbers each way.
    """

    def __init__(
        self,
        energy: nn.Module,
        shape: Sequence[int],
        *,
        step_size: float = 10.0,
        noise_scale: float | None = 0.005,
        n_steps: int = 60,
        grad_clip: float | None = 0.03,
        clamp: tuple[float, float] | None = (-1.0, 1.0),
        init_range: tuple[float, float] = (-1.0, 1.0),
        buffer_size: int = 8192,
        restart: float = 0.05,
        alpha: float = 0.1,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.0, 0.999),
        clip_norm: float | None = 0.1,
        data_noise: float = 0.005,
        max_energy: float = 1e3,
        seed: int = 0,
    ) -> None:
        if not isinstance(energy, nn.Module):
            raise ValueError(
                "energy must be a torch.nn.Module mapping a batch [n, *shape] to energies [n] "
                f"(e.g. CNNEnergy() or MLPEnergy(dim)), got {type(energy).__name__}"
            )
        lr, betas = check_optimizer(lr, betas)
        check_seed(seed)
        torch.manual_seed(seed)
        self.energy = energy
        self._settings(
            shape, step_size=step_size, noise_scale=noise_scale, n_steps=n_steps,
            grad_clip=grad_clip, clamp=clamp, init_range=init_range, buffer_size=buffer_size,
            restart=restart, alpha=alpha, clip_norm=clip_norm, data_noise=data_noise,
            max_energy=max_energy, seed=seed,
        )  # fmt: skip
        training = energy.training
        energy.eval()  # the probe must not move batch-norm statistics
        try:
            self._check_energy()
        finally:
            energy.train(training)
        self.optimizer = adam(energy.parameters(), lr, betas)  # fused (coursekit.torch.fast)
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def device(self) -> torch.device:
        """Where the energy network is."""
        return next(self.energy.parameters()).device

    def to(self, device: Any) -> EBM:
        """Move the energy network to ``device`` (e.g. ``"cuda"``); draws follow it."""
        self.energy.to(device)
        return self

    def _rng(self) -> torch.Generator:
        """The model's generator, on the energy's device (seeded anew from the old one after a
        move: reproducible per device)."""
        if self.generator.device != self.device:
            seed = int(torch.randint(0, 2**62, (1,), generator=self.generator))
            self.generator = torch.Generator(device=self.device).manual_seed(seed)
        return self.generator

    # ---- energies and samples ---------------------------------------------------------------

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``-E(x)``: the unnormalised log density [n]."""
        return -self.energy(x)

    @torch.no_grad()
    def energies(self, x: Any, batch_size: int = 512) -> np.ndarray:
        """Energies of ``x`` [n, *shape] (array or tensor) as a NumPy float64 array [n]."""
        check_rows(x, self.shape, training=False)
        batch_size = check_int(batch_size, "batch_size", 1, "states per forward pass")
        x = torch.as_tensor(np.ascontiguousarray(to_numpy(x), dtype=np.float32),
                            device=self.device).reshape(-1, *self.shape)
        return np.concatenate([self.energy(x[i:i + batch_size]).double().cpu().numpy()
                               for i in range(0, len(x), batch_size)])

    def sample(self, n: int, *, n_steps: int | None = None, start: Any = None,
               return_chain: bool = False, stride: int = 1) -> LangevinResult:
        """Langevin chains with the training sampler's settings, from noise (or ``start``)."""
        x0 = torch.as_tensor(self._start(n, start), device=self.device)
        return langevin(self.log_prob, x0, **self._sampler_settings(n_steps),
                        return_chain=return_chain, stride=stride, generator=self._rng())

    # ---- training ---------------------------------------------------------------------------

    def train_step(self, x_data: torch.Tensor) -> dict[str, float]:
        """One update on a batch of data [B, *shape]; returns the loss and mean energies."""
        self._check_data(x_data, "x_data")
        self._check_batch_size(len(x_data), "x_data's rows")
        return self._update(self._training_rows(to_numpy(x_data)))

    def _update(self, x_data: torch.Tensor) -> dict[str, float]:
        """:meth:`train_step` on checked data [B, *shape] on the model's device (``fit``'s)."""
        n, gen = x_data.shape[0], self._rng()
        x0, idx = self.buffer.sample(n)
        x0 = torch.as_tensor(x0, device=x_data.device)
        x_fake = langevin(self.log_prob, x0, **self.sampler, generator=gen).x
        self.buffer.update(idx, x_fake)  # back to the host buffer
        if self.data_noise:
            noise = torch.randn(x_data.shape, generator=gen, device=gen.device)
            x_data = x_data + self.data_noise * noise
            if self.sampler["clamp"] is not None:
                x_data = x_data.clamp(*self.sampler["clamp"])
        e = self.energy(torch.cat([x_data, x_fake]))
        e_data, e_fake = e[:n], e[n:]
        loss, cdiv, reg = contrastive_loss(e_data, e_fake, self.alpha)
        values = torch.stack([loss, cdiv, reg, e_data.mean(), e_fake.mean(),
                              e.abs().max()]).detach().tolist()  # one read from the device
        stats = dict(zip(("loss", "cdiv", "reg", "e_data", "e_fake"), values, strict=False))
        self._guard("the loss", stats["loss"])
        self._guard("the largest |energy|", values[-1])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        params = [p for p in self.energy.parameters() if p.grad is not None]
        if self.clip_norm is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(params, self.clip_norm))
        else:
            norm = float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])))
        if not math.isfinite(norm):
            self._guard("the gradient norm", norm)
        self.optimizer.step()
        self.updates += 1
        return stats

    def _training_state(self) -> TrainingState:
        """A checkpoint's torch part: the energy, its Adam, the generators, the count."""
        def put(value: int) -> None:
            self.updates = value

        return TrainingState(modules={"energy": self.energy}, optimizers={"adam": self.optimizer},
                             generators={"model": self.generator},
                             counters={"updates": (lambda: self.updates, put)})

    def _training_rows(self, x: Any) -> torch.Tensor:
        """``x`` as float32 [n, *shape] on the model's device (``fit`` copies its data once)."""
        self._rng()  # on the model's device before a checkpoint takes it
        return torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32),
                               device=self.device).reshape(-1, *self.shape)
