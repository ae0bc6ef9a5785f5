"""Energy-based models in Keras 3 (week 2), on the tensorflow or the torch backend: the twin of
:mod:`coursekit.torch.ebm` (same architecture, loss, sampler, buffer and defaults).

Images are channels-last here, ``[n, L, L, 1]`` in [-1, 1] (``L = 28`` for MNIST). See
:mod:`coursekit.torch.ebm` for the maths and the references; the loss per update is

    L = mean E(x_data) - mean E(x_sample) + alpha * (mean E(x_data)^2 + mean E(x_sample)^2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from coursekit.checks import check_int, to_numpy
from coursekit.common.ebm import EBMBase, check_optimizer, check_rows, cnn_final_side
from coursekit.keras import draws  # keras.random, one torch generator on torch
from coursekit.keras.autodiff import compile_fn, loss_and_grads
from coursekit.keras.checkpoint import TrainingState
from coursekit.keras.fused_adam import Adam  # keras.optimizers.Adam, fused on torch
from coursekit.keras.langevin import LangevinResult, langevin
from coursekit.keras.native import native

__all__ = ["EBM", "cnn_energy", "contrastive_loss", "mlp_energy", "torch_init"]


def contrastive_loss(e_data: Any, e_fake: Any, alpha: float) -> tuple[Any, Any, Any]:
    """The week's loss from the energies of data [B] and of (held fixed) samples [B']:
    ``(loss, cdiv, reg)`` with ``cdiv = mean E_data - mean E_fake`` and ``reg = alpha (mean
    E_data^2 + mean E_fake^2)``, ``loss = cdiv + reg`` (scalars)."""
    cdiv = ops.mean(e_data) - ops.mean(e_fake)
    reg = alpha * (ops.mean(ops.square(e_data)) + ops.mean(ops.square(e_fake)))
    return cdiv + reg, cdiv, reg


def torch_init(fan_in: int) -> dict[str, keras.initializers.Initializer]:
    """The initialisers of torch's ``nn.Conv2d`` / ``nn.Linear`` for a layer with ``fan_in`` inputs
    (kernel height x width x input channels, or input features): weights and biases uniform on
    ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]`` (torch's ``kaiming_uniform_(a=sqrt(5))`` is exactly that).

    Keras' defaults (Glorot-uniform weights, zero biases) start the deeper layers of the CNN energy
    with about twice the weight scale, so ``grad_x E`` is ten times larger at the start and the
    Langevin chains (step 10, gradients clipped at 0.03) behave differently from the torch twin's;
    with these initialisers both frameworks run the same algorithm from the same distribution.
    """
    bound = 1.0 / math.sqrt(fan_in)
    return {"kernel_initializer": keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
            "bias_initializer": keras.initializers.RandomUniform(-bound, bound)}


def cnn_energy(channels: Sequence[int] = (16, 32, 64, 64), hidden: int = 64, *,
               image_side: int = 28) -> keras.Model:  # fmt: skip
    """The CNN energy of :class:`coursekit.torch.CNNEnergy` in Keras: [n, L, L, 1] -> [n].

    Explicit zero padding reproduces torch's ``padding=4`` and ``padding=1`` exactly, and the
    initialisers are torch's (:func:`torch_init`).

    ``image_side`` is the side ``L`` of the square images, an int >= 8 (keyword only): 28 for
    MNIST (the default, the tutorial's network), 8 for the Ising lattices of week 6. Each
    convolution maps a side ``s`` to ``floor((s + 2p - k) / 2) + 1`` (the first ``k = 5, p = 4``,
    the others ``k = 3, p = 1``), so the last map is ``f x f`` with
    ``f = coursekit.common.ebm.cnn_final_side(L)`` (2 for L = 13 to 28, 1 for L = 8 to 12) and the
    first dense layer takes ``f^2 * c4`` inputs. The model keeps the side as ``model.image_side``.
    """
    final = cnn_final_side(image_side)
    c1, c2, c3, c4 = channels
    inp = keras.Input((image_side, image_side, 1))
    h = layers.ZeroPadding2D(4)(inp)
    h = layers.Conv2D(c1, 5, strides=2, activation="silu", **torch_init(25))(h)  # 28 -> 16
    for c_in, c in ((c1, c2), (c2, c3), (c3, c4)):
        h = layers.ZeroPadding2D(1)(h)
        h = layers.Conv2D(c, 3, strides=2, activation="silu", **torch_init(9 * c_in))(h)  # 8, 4, 2
    h = layers.Flatten()(h)
    h = layers.Dense(hidden, activation="silu", **torch_init(final * final * c4))(h)
    out = layers.Reshape(())(layers.Dense(1, **torch_init(hidden))(h))
    model = keras.Model(inp, out, name="cnn_energy")
    model.image_side = int(image_side)  # names the side in the EBM's message on other states
    return model


def mlp_energy(dim: int = 2, hidden: int = 64) -> keras.Model:
    """An MLP energy for points [n, dim] -> [n], Swish activations, torch's initialisers."""
    inp = keras.Input((dim,))
    h = layers.Dense(hidden, activation="silu", **torch_init(dim))(inp)
    h = layers.Dense(hidden, activation="silu", **torch_init(hidden))(h)
    out = layers.Reshape(())(layers.Dense(1, **torch_init(hidden))(h))
    return keras.Model(inp, out, name="mlp_energy")


class EBM(EBMBase):
    """An energy network trained contrastively with Langevin negatives from a replay buffer.

    The arguments are those of :class:`coursekit.torch.EBM` (``shape`` channels-last here).
    """

    def __init__(
        self,
        energy: keras.Model,
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
        if not (callable(energy) and hasattr(energy, "trainable_variables")):
            raise ValueError(
                "energy must be a keras.Model mapping a batch [n, *shape] to energies [n] (e.g. "
                f"cnn_energy() or mlp_energy(dim)), got {type(energy).__name__}"
            )
        lr, betas = check_optimizer(lr, betas)
        self.energy = energy
        self._energy = native(energy)  # plain torch on the torch backend (keras.native)
        self._settings(
            shape, step_size=step_size, noise_scale=noise_scale, n_steps=n_steps,
            grad_clip=grad_clip, clamp=clamp, init_range=init_range, buffer_size=buffer_size,
            restart=restart, alpha=alpha, clip_norm=clip_norm, data_noise=data_noise,
            max_energy=max_energy, seed=seed,
        )  # fmt: skip
        # epsilon 1e-8 as torch.optim.Adam (Keras' default is 1e-7)
        self._check_energy()
        self.optimizer = Adam(learning_rate=lr, beta_1=betas[0], beta_2=betas[1],
                                               epsilon=1e-8)
        self.optimizer.build(energy.trainable_variables)
        self.seed_gen = keras.random.SeedGenerator(seed)
        self._grads = compile_fn(self._loss_and_grads)
        self._apply = compile_fn(self._apply_grads)

    # ---- energies and samples ---------------------------------------------------------------

    def log_prob(self, x: Any) -> Any:
        """``-E(x)``: the unnormalised log density [n]."""
        return -self._energy(x)

    def energies(self, x: Any, batch_size: int = 512) -> np.ndarray:
        """Energies of ``x`` [n, *shape] (array or tensor) as a NumPy float64 array [n]."""
        check_rows(x, self.shape, training=False)
        batch_size = check_int(batch_size, "batch_size", 1, "states per forward pass")
        x = np.asarray(to_numpy(x), dtype=np.float32).reshape(-1, *self.shape)
        return np.concatenate([
            np.asarray(to_numpy(self.energy(x[i:i + batch_size])), dtype=np.float64)
            for i in range(0, len(x), batch_size)])

    def sample(self, n: int, *, n_steps: int | None = None, start: Any = None,
               return_chain: bool = False, stride: int = 1) -> LangevinResult:
        """Langevin chains with the training sampler's settings, from noise (or ``start``)."""
        x0 = self._start(n, start)
        return langevin(self.log_prob, x0, **self._sampler_settings(n_steps),
                        return_chain=return_chain, stride=stride, seed=self.seed_gen)

    # ---- training ---------------------------------------------------------------------------

    def _loss_and_grads(self, x_data: Any, x_fake: Any) -> tuple[Any, Any, list[Any]]:
        n = ops.shape(x_data)[0]

        def loss_fn():
            e = self._energy(ops.concatenate([x_data, x_fake], axis=0), training=True)
            e_data, e_fake = e[:n], e[n:]
            loss, cdiv, reg = contrastive_loss(e_data, e_fake, self.alpha)
            stats = ops.stack([loss, cdiv, reg, ops.mean(e_data), ops.mean(e_fake),
                               ops.max(ops.abs(e))])
            return loss, stats

        _, stats, grads = loss_and_grads(loss_fn, self.energy.trainable_variables)
        sq = ops.sum(ops.stack([ops.sum(ops.square(g)) for g in grads]))
        return stats, ops.sqrt(sq), grads

    def _apply_grads(self, grads: list[Any], norm: Any) -> None:
        if self.clip_norm is not None:
            scale = ops.minimum(1.0, self.clip_norm / (norm + 1e-6))
            grads = [g * scale for g in grads]
        self.optimizer.apply(grads, self.energy.trainable_variables)

    def train_step(self, x_data: Any) -> dict[str, float]:
        """One update on a batch of data [B, *shape]; returns the loss and mean energies."""
        self._check_data(x_data, "x_data")
        self._check_batch_size(len(x_data), "x_data's rows")
        x_data = np.asarray(to_numpy(x_data), dtype=np.float32).reshape(-1, *self.shape)
        n = x_data.shape[0]
        x0, idx = self.buffer.sample(n)
        x_fake = langevin(self.log_prob, x0, **self.sampler, seed=self.seed_gen).x
        self.buffer.update(idx, to_numpy(x_fake))
        x_data = ops.convert_to_tensor(x_data)
        if self.data_noise:
            x_data = x_data + self.data_noise * draws.normal(ops.shape(x_data), self.seed_gen)
            if self.sampler["clamp"] is not None:
                x_data = ops.clip(x_data, *self.sampler["clamp"])
        stats, norm, grads = self._grads(x_data, x_fake)
        values = np.asarray(to_numpy(stats), dtype=np.float64)
        names = ("loss", "cdiv", "reg", "e_data", "e_fake")
        out = dict(zip(names, values[:5].tolist(), strict=True))
        self._guard("the loss", out["loss"])
        self._guard("the largest |energy|", float(values[5]))
        norm_value = float(to_numpy(norm))
        if not math.isfinite(norm_value):
            self._guard("the gradient norm", norm_value)
        self._apply(grads, norm)
        self.updates += 1
        return out

    def _training_state(self) -> TrainingState:
        """A checkpoint's Keras part: the energy's variables (the seed generators of any
        dropout layers in it included), its Adam, the model's seed generator (and the torch
        generator behind it on the torch backend), the update count."""
        def put(value: int) -> None:
            self.updates = value

        return TrainingState(variables={"energy": self.energy, "adam": self.optimizer},
                             seeds={"model": self.seed_gen},
                             counters={"updates": (lambda: self.updates, put)})

    def _checkpoint_meta(self) -> dict[str, Any]:
        """The backend: another backend draws other random numbers from the same states."""
        return {"backend": keras.backend.backend()}

    def _training_rows(self, x: Any) -> np.ndarray:
        return np.asarray(to_numpy(x), dtype=np.float32).reshape(-1, *self.shape)
