"""A DCGAN in Keras 3 (week 4) that trains on the tensorflow and the torch backend: the twin of
:class:`coursekit.torch.DCGAN` (same networks, losses, API and weights).

The networks are the TensorFlow DCGAN tutorial's (tensorflow.org/tutorials/generative/dcgan,
the lecture's code) with configurable widths; see :mod:`coursekit.torch.gan`. The tutorial's
``train_step`` uses two ``tf.GradientTape`` s and so runs on TensorFlow only; here the maths is
``keras.ops`` / ``keras.random`` and the one backend-specific part, the gradients, comes from
:func:`coursekit.keras.autodiff.two_losses_and_grads`. Images are square, of side
``L = image_side`` (28 by default, 16 for the Ising lattices), channels-last
``[n, L, L, 1]`` in [-1, 1]; :meth:`DCGAN.generate` and :meth:`DCGAN.sample` return
``[n, L, L]`` as the torch model does::

    from coursekit.keras import DCGAN
    gan = DCGAN(latent_dim=100, generator_channels=(64, 32, 16), seed=0)
    history = gan.fit(2 * x_train - 1, updates=2000, batch_size=128)
    ising = DCGAN(latent_dim=32, image_side=16, seed=0)   # spins in {-1, +1} as [n, 16, 16, 1]
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from coursekit.checkpoint import loop_checkpoints, rng_array, set_rng
from coursekit.checks import TrainingDiverged, check_bool, check_int, check_seed, to_numpy
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
from coursekit.keras import distributed, draws  # draws: keras.random, fast on torch
from coursekit.keras.autodiff import compile_fn, loss_and_grads, two_losses_and_grads
from coursekit.keras.checkpoint import TrainingState
from coursekit.keras.fused_adam import Adam  # keras.optimizers.Adam, fused on torch
from coursekit.keras.native import native
from coursekit.loop import train_updates

__all__ = ["DCGAN", "TrainingDiverged", "build_discriminator", "build_generator"]

#: Keras' default moving-average momentum of the batch-norm statistics.
BN_MOMENTUM = 0.99


def build_generator(
    latent_dim: int, channels: tuple[int, int, int], image_side: int = DEFAULT_SIDE
) -> keras.Model:
    """The tutorial's generator: ``z [n, latent_dim] -> [n, L, L, 1]`` in [-1, 1], ``L =
    image_side``: from an ``L/4 x L/4`` grid (7 x 7 for 28), doubled twice ("same" padding)."""
    c0, c1, c2 = channels
    s = image_side // 4
    z = keras.Input((latent_dim,))
    h = layers.Dense(s * s * c0, use_bias=False, name="dense")(z)
    h = layers.BatchNormalization(epsilon=BN_EPS, momentum=BN_MOMENTUM, name="bn0")(h)
    h = layers.LeakyReLU(LEAKY_SLOPE)(h)
    h = layers.Reshape((s, s, c0))(h)
    for i, (c, stride) in enumerate(((c1, 1), (c2, 2)), start=1):
        h = layers.Conv2DTranspose(c, 5, strides=stride, padding="same", use_bias=False,
                                   name=f"deconv{i}")(h)  # fmt: skip
        h = layers.BatchNormalization(epsilon=BN_EPS, momentum=BN_MOMENTUM, name=f"bn{i}")(h)
        h = layers.LeakyReLU(LEAKY_SLOPE)(h)
    out = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                                 activation="tanh", name="deconv3")(h)  # fmt: skip
    return keras.Model(z, out, name="generator")


def build_discriminator(
    channels: tuple[int, int], dropout: float = 0.3, image_side: int = DEFAULT_SIDE
) -> keras.Model:
    """The tutorial's discriminator: ``[n, L, L, 1] -> logits [n]``, ``L = image_side``; two
    stride-2 convolutions ("same": L -> L/2 -> L/4), a dense layer from ``(L/4)^2 d2``."""
    d1, d2 = channels
    x = keras.Input((image_side, image_side, 1))
    h = x
    for i, c in enumerate((d1, d2), start=1):
        h = layers.Conv2D(c, 5, strides=2, padding="same", name=f"conv{i}")(h)
        h = layers.LeakyReLU(LEAKY_SLOPE)(h)
        h = layers.Dropout(dropout)(h)
    h = layers.Flatten()(h)
    out = layers.Reshape(())(layers.Dense(1, name="dense")(h))
    return keras.Model(x, out, name="discriminator")



def _in_strategy() -> bool:
    """Inside a ``tf.distribute`` strategy's scope (tensorflow only)."""
    import tensorflow as tf

    return tf.distribute.has_strategy()


def generator_loss(logit_fake: Any, loss: str) -> Any:
    """Mean generator loss from the discriminator's logits on fakes (see reference.gan)."""
    if loss == "saturating":
        return -ops.mean(ops.softplus(logit_fake))
    return ops.mean(ops.softplus(-logit_fake))


def discriminator_loss(logit_real: Any, logit_fake: Any) -> Any:
    """``-v = mean softplus(-l_real) + mean softplus(l_fake)``."""
    return ops.mean(ops.softplus(-logit_real)) + ops.mean(ops.softplus(logit_fake))


class DCGAN(DCGANBase):
    """Generator and discriminator of the DCGAN tutorial, trained together with two Adams.

    The arguments are those of :class:`coursekit.torch.DCGAN`; the same ``seed`` gives the same
    initial weights in both frameworks.

    ``image_side``: the side L of the square images, an int >= 8 and a multiple of 4 (28, the
    default, for MNIST; 16 for the Ising lattices). Images are given as ``[n, L*L]``,
    ``[n, L, L]``, ``[n, L, L, 1]`` or ``[n, 1, L, L]`` in [-1, 1]; the generator makes
    ``[n, L, L, 1]`` from an ``L/4 x L/4`` grid, and ``generate``, ``sample`` and the fit
    history's grids are ``[n, L, L]``.
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
        seed = self._settings(latent_dim, generator_channels, discriminator_channels, loss,
                              learning_rate, beta_1, dropout, seed, image_side)  # fmt: skip
        self.seed = random.randrange(2**31) if seed is None else seed
        self.generator = build_generator(
            self.latent_dim, self.generator_channels, self.image_side
        )
        self.discriminator = build_discriminator(
            self.discriminator_channels, self.dropout, self.image_side
        )
        self.set_weights(self._initial_weights())
        # the training step's forward passes (plain torch on the torch backend: keras.native)
        self._g, self._d = native(self.generator), native(self.discriminator)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.g_optimizer = Adam(self.learning_rate, beta_1=self.beta_1)
        self.d_optimizer = Adam(self.learning_rate, beta_1=self.beta_1)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.updates = 0
        self._grads = compile_fn(self._losses_and_grads)
        self._apply = compile_fn(self._apply_grads)
        self._apply_d = compile_fn(self._apply_d_grads)
        self._step = (compile_fn(self._checked_step)
                      if keras.backend.backend() == "tensorflow" else None)
        self._raw_steps = {self._grads: self._losses_and_grads, self._apply: self._apply_grads,
                           self._apply_d: self._apply_d_grads}
        self._strategy_steps: dict[tuple[int, Any], Callable[..., Any]] = {}

    # ----------------------------------------------------------------------------------------
    # Generating and discriminating
    # ----------------------------------------------------------------------------------------

    def noise(self, n: int, seed: int | None = None) -> Any:
        """``z ~ N(0, I)`` [n, latent_dim] from the model's seed generator (or a fresh ``seed``)."""
        n = check_int(n, "n", 1, "number of samples")
        gen = self.seed_generator if seed is None else keras.random.SeedGenerator(check_seed(seed))
        return keras.random.normal((n, self.latent_dim), seed=gen)

    def generate(self, z: Any) -> np.ndarray:
        """Generator output (inference mode: batch norm's moving statistics) for noise ``z``
        [n, latent_dim]: images [n, L, L] in [-1, 1] (``L = image_side``, 28 by default)."""
        z = check_z(z, self.latent_dim)
        return to_numpy(self.generator(z, training=False))[..., 0]

    def sample(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` generated images [n, L, L] mapped to [0, 1] (for ``coursekit.metrics``)."""
        return (self.generate(self.noise(n, seed)) + 1.0) / 2.0

    def discriminate(self, x: Any) -> np.ndarray:
        """``D(x)`` [n] (inference mode, no dropout) for ``L x L`` images in [-1, 1]."""
        data = self._images(x, "x", "nhwc")
        return to_numpy(ops.sigmoid(self.discriminator(data, training=False)))

    # ----------------------------------------------------------------------------------------
    # Training
    # ----------------------------------------------------------------------------------------

    def _losses_and_grads(self, real: Any) -> tuple[Any, list[Any], list[Any]]:
        n = ops.shape(real)[0]
        # the noise of this share of the batch (the whole batch on one device)
        z = draws.normal((n, self.latent_dim), self.seed_generator)
        # under torchrun, the forward passes through DDP (it averages the gradients)
        g = distributed.wrapper(self.generator) or self._g
        d = distributed.wrapper(self.discriminator) or self._d
        scale = 1.0 / distributed.replicas()  # tf.distribute adds the replicas' gradients

        def fn():
            fake = g(z, training=True)
            # real and fake apart (as the tutorial): the generator's gradient skips the real half
            lr, lf = d(real, training=True), d(fake, training=True)
            d_loss = discriminator_loss(lr, lf)
            g_loss = generator_loss(lf, self.loss)
            stats = ops.stack([d_loss, g_loss, ops.mean(ops.sigmoid(lr)),
                               ops.mean(ops.sigmoid(lf))])  # fmt: skip
            return d_loss * scale, g_loss * scale, stats

        return two_losses_and_grads(
            fn, self.discriminator.trainable_variables, self.generator.trainable_variables,
            backward=distributed.active() is not None,
        )

    def _apply_grads(self, d_grads: list[Any], g_grads: list[Any]) -> None:
        self.d_optimizer.apply(d_grads, self.discriminator.trainable_variables)
        self.g_optimizer.apply(g_grads, self.generator.trainable_variables)

    def _apply_d_grads(self, d_grads: list[Any]) -> None:
        self.d_optimizer.apply(d_grads, self.discriminator.trainable_variables)

    def _replicated(self, fn: Callable[..., Any], *args: Any, split: bool = True) -> Any:
        """``fn(*args)`` (``fn`` one of the compiled steps); under a ``tf.distribute`` strategy
        (one replica or several), ``fn`` on every replica (``strategy.run`` inside one compiled
        function), each given its equal share of the rows of ``args`` when ``split`` (else
        ``args`` are per-replica values already), and the statistics (the first result, if
        any) averaged over the replicas."""
        if keras.backend.backend() != "tensorflow":
            return fn(*args)
        import tensorflow as tf

        if not tf.distribute.has_strategy():  # the default: one device
            return fn(*args)
        strategy = tf.distribute.get_strategy()
        count = strategy.num_replicas_in_sync
        if count == 1:  # strategy.run hands one replica's gradients on without a device
            raise ValueError(f"the DCGAN trains under a tf.distribute strategy only with several "
                             f"replicas; {type(strategy).__name__} has one here: train without "
                             "it (outside strategy.scope())")
        key = (id(strategy), fn)
        if key not in self._strategy_steps:  # merge_call needs strategy.run in the function
            raw = self._raw_steps[fn]
            self._strategy_steps[key] = compile_fn(lambda *a: strategy.run(raw, args=a))
        if split:
            def share(ctx: Any, a: Any) -> Any:
                m, r = a.shape[0] // count, ctx.replica_id_in_sync_group
                return a[r * m : (r + 1) * m]

            args = tuple(strategy.experimental_distribute_values_from_function(
                lambda ctx, a=a: share(ctx, a)) for a in args)  # fmt: skip
        out = self._strategy_steps[key](*args)
        if out is None:
            return None
        stats, *rest = out
        return (strategy.reduce("MEAN", stats, axis=None), *rest)

    def train_step(self, x_real: Any, *, update_generator: bool = True) -> dict[str, float]:
        """One update of each network (of the discriminator only with
        ``update_generator=False``) on a batch of real images in [-1, 1]; see
        :meth:`coursekit.torch.DCGAN.train_step`. ``x_real`` (array or tensor, any accepted
        layout) is checked as ``fit`` checks its data: shape, NaN, the range [-1, 1]."""
        real = self._images(x_real, "x_real", "nhwc")
        return self._update(real, check_bool(update_generator, "update_generator"))

    def _update(self, real: Any, update_generator: bool = True) -> dict[str, float]:
        """:meth:`train_step` on a checked batch [B, L, L, 1] (what ``fit`` passes); data-parallel
        under a ``tf.distribute`` strategy or ``torchrun`` (:mod:`coursekit.keras.distributed`)."""
        real = ops.convert_to_tensor(real, "float32")
        shard, run = distributed.active(), self._replicated
        if shard is not None:  # this process's rows of the global batch
            real = shard.take(real)
        if self._step is not None and distributed.replicas() == 1 and not _in_strategy():
            stats = self._step(real, update_generator)  # tensorflow: the whole step compiled
            d_grads = g_grads = None
        else:
            stats, d_grads, g_grads = run(self._grads, real)
        if shard is not None:
            stats = distributed.mean_over_processes(stats)
        values = to_numpy(stats).astype(np.float64).tolist()
        out = dict(zip(("d_loss", "g_loss", "d_real", "d_fake"), values, strict=True))
        if not all(math.isfinite(v) for v in values):
            raise TrainingDiverged(
                diverged_message(self.updates + 1, out, self.learning_rate, self.loss)
            )
        if update_generator:
            if d_grads is not None:
                run(self._apply, d_grads, g_grads, split=False)
            self.updates += 1
        elif d_grads is not None:
            run(self._apply_d, d_grads, split=False)
        return out

    def _checked_step(self, real: Any, update_generator: bool) -> Any:
        """tensorflow's step as one compiled function: the gradients, then the updates only if
        every statistic is finite (a diverged step leaves the weights as they were)."""
        import tensorflow as tf

        stats, d_grads, g_grads = self._losses_and_grads(real)

        def apply() -> Any:
            if update_generator:
                self._apply_grads(d_grads, g_grads)
            else:
                self._apply_d_grads(d_grads)
            return tf.constant(True)

        tf.cond(tf.reduce_all(tf.math.is_finite(stats)), apply, lambda: tf.constant(False))
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
        """Train for ``updates`` updates of each network on images ``x`` in [-1, 1]; the
        arguments and the history are those of :meth:`coursekit.torch.DCGAN.fit`.

        ``checkpoint``, ``checkpoint_every`` and ``resume`` write the whole training state
        (both networks' variables with the dropout layers' seed generators, both Adams, the
        model's seed generator and the torch generators behind them on the torch backend, the
        rows' order and its generator, the loop's position and the history) and continue
        from it as the torch model's do; the resumed run ends with the weights and history of
        one never interrupted (bitwise on one CPU process). Unlike the torch model's, the
        checkpoint also sets the model's ``seed`` (of the fixed-noise grid and the rows'
        order): a model built with another seed resumes the run as it was.

        Data-parallel (:mod:`coursekit.keras.distributed`), equal to one device with the same
        global ``batch_size`` to float rounding: on tensorflow, build the model and call
        ``fit`` inside the ``scope()`` of a ``tf.distribute`` strategy with several replicas
        (each update runs on every replica with ``strategy.run``); on torch, the same ``fit``
        under ``torchrun`` (DDP; process 0 alone writes checkpoints, shows progress and calls
        back). ``batch_size`` must split evenly over the replicas or processes. The dropout
        layers draw from Keras' global seed (``keras.utils.set_random_seed``, which
        ``coursekit.seed_everything`` calls): seed it alike to compare runs.
        """
        data = self._images(x, "x", "nhwc")
        if log_every is None:  # one row per pass over x
            log_every = max(1, len(data) // check_int(batch_size, "batch_size", 1))
        grid_size = check_int(grid_size, "grid_size", 1, "images in the fixed-noise grid")
        rng = np.random.default_rng(self.seed + self.updates)  # the rows' order
        saving = {}
        if checkpoint is not None or checkpoint_every is not None or resume is not None:
            saving = self._checkpoints(checkpoint, checkpoint_every, resume, rng, {
                "rows": len(data), "batch_size": batch_size, "log_every": log_every,
                "grid_size": grid_size})
        grid_z = np.random.default_rng(self.seed).standard_normal((grid_size, self.latent_dim))

        def extra(steps: int) -> dict[str, Any]:
            return {"epoch": steps * batch_size / len(data), "grid": self.generate(grid_z)}

        shard = distributed.torch_shard()  # torchrun's processes (one without it)
        distributed.check_even(shard, batch_size)
        if batch_size % distributed.replicas():
            raise ValueError(f"batch_size must split evenly over the "
                             f"{distributed.replicas()} replicas of the tf.distribute "
                             f"strategy, got {batch_size}")
        if not shard.main:  # rank 0 writes the checkpoints, shows progress, calls back
            saving["checkpoint"], callback, progress = None, None, False
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        with (distributed.sharded(shard),
              distributed.data_parallel(self.generator, g_vars, self._g, shard),
              distributed.data_parallel(self.discriminator, d_vars, self._d, shard)):
            return train_updates(
                self._update, data, updates=updates, batch_size=batch_size,
                log_every=log_every, permutation=rng.permutation, model=self,
                done=lambda: self.updates, extra=extra, callback=callback, progress=progress,
                desc="DCGAN updates", agree=shard.any, **saving,
            )

    def _checkpoints(self, checkpoint: Any, every: Any, resume: Any, rng: np.random.Generator,
                     run: dict[str, Any]) -> dict[str, Any]:
        """``train_updates``' checkpoint arguments: both networks, both Adams, the seed
        generators, the update count and the seed, and the generator of the rows' order."""
        def put_updates(value: int) -> None:
            self.updates = value

        def put_seed(value: int) -> None:
            self.seed = value

        state = TrainingState(
            variables={"generator": self.generator, "discriminator": self.discriminator,
                       "g_adam": self.g_optimizer, "d_adam": self.d_optimizer},
            seeds={"model": self.seed_generator},
            counters={"updates": (lambda: self.updates, put_updates),
                      "seed": (lambda: self.seed, put_seed)})

        def restore(saved: Any) -> None:
            state.restore(saved)
            set_rng(rng, saved["order/rng"])

        meta = {"model": "coursekit.keras.DCGAN", "backend": keras.backend.backend(),
                **self.config, "loss": self.loss, "learning_rate": self.learning_rate,
                "beta_1": self.beta_1, "dropout": self.dropout, **run}
        return loop_checkpoints(
            checkpoint, every, resume, meta=meta, what="DCGAN", restore=restore,
            arrays=lambda: {**state.arrays(), "order/rng": rng_array(rng)})

    def generator_gradient_norm(
        self, n: int = 256, *, loss: str | None = None, seed: int = 0
    ) -> float:
        """Norm of the gradient of the generator's loss w.r.t. its weights on ``n`` fresh fakes
        (generator in training mode, discriminator without dropout); nothing is updated."""
        loss = self.loss if loss is None else check_loss(loss)
        z = self.noise(n, seed)

        def fn():
            logits = self.discriminator(self.generator(z, training=True), training=False)
            return generator_loss(logits, loss), None

        _, _, grads = loss_and_grads(fn, self.generator.trainable_variables)
        return float(math.sqrt(sum(float(to_numpy(ops.sum(ops.square(g)))) for g in grads)))

    # ----------------------------------------------------------------------------------------
    # Weights in the shared layout, saving and loading
    # ----------------------------------------------------------------------------------------

    def _pairs(self) -> list[tuple[str, keras.Variable]]:
        g, d = self.generator, self.discriminator
        pairs = [("g/dense/kernel", g.get_layer("dense").kernel)]
        for i in range(3):
            bn = g.get_layer(f"bn{i}")
            pairs += [(f"g/bn{i}/{k}", getattr(bn, k)) for k in BATCH_NORM]
        pairs += [(f"g/deconv{i}/kernel", g.get_layer(f"deconv{i}").kernel) for i in (1, 2, 3)]
        for name in ("conv1", "conv2", "dense"):
            layer = d.get_layer(name)
            pairs += [(f"d/{name}/kernel", layer.kernel), (f"d/{name}/bias", layer.bias)]
        return pairs

    def get_weights(self) -> dict[str, np.ndarray]:
        """All weights as NumPy arrays in the shared layout (:mod:`coursekit.common.gan`)."""
        return {name: np.array(to_numpy(v), dtype=np.float32) for name, v in self._pairs()}

    def set_weights(self, weights: dict[str, Any]) -> DCGAN:
        """Load weights in the shared layout (e.g. from the torch model's ``get_weights``)."""
        weights = self._check_weights(weights)
        for name, v in self._pairs():
            v.assign(weights[name])
        return self
