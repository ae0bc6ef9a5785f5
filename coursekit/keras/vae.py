"""A variational autoencoder in Keras 3 (week 3) that trains with ``fit`` on any backend.

The convolutional VAE of the keras.io example ("Variational AutoEncoder", F. Chollet, 2020/2023;
the lecture's Keras code), rewritten without TensorFlow: the sampling uses
``keras.random.normal`` with a ``keras.random.SeedGenerator``, the maths ``keras.ops``, and the
loss comes from :meth:`VAE.compute_loss`, which Keras' own ``train_step`` calls on every backend
(the example overrides ``train_step`` with a ``tf.GradientTape`` and so runs on TensorFlow only).
Two further changes: the decoder returns **logits** and the reconstruction term is
``sum_i x_i l_i - softplus(l_i)`` (stable where ``log(sigmoid)`` underflows), and the training
images are binarised dynamically inside the model (a fresh Bernoulli draw per batch).

Model: prior ``p(h) = N(0, I)``, encoder ``Q(h|x) = N(mean, diag(exp(log_var)))``, Bernoulli
decoder. Loss per batch: the negative one-sample ELBO,
``mean(D[Q(h|x) || p(h)] - log p(x|z))`` with ``z = mean + exp(log_var / 2) * eps``.
``fit`` reports ``loss``, ``reconstruction`` (mean ``log p(x|z)``, nats) and ``kl`` (nats).

Images are square, ``L x L`` with ``L = image_side`` (28 for MNIST, the default; 16 for the
Ising lattices): rows [n, L*L] (784 for MNIST) in [0, 1] (also [n, L, L], [n, L, L, 1],
[n, 1, L, L])::

    from coursekit.keras import VAE
    vae = VAE(latent_dim=2, arch="conv", seed=0)
    history = vae.fit(x_train, epochs=10, batch_size=128)
    vae.log_likelihood(x_test_binary, k=1000)        # IWAE estimate of log p(x) per image
    ising = VAE(2, arch="mlp", image_side=16, seed=0)  # 16 x 16 spins as {0, 1}: [n, 256]

The networks are in :mod:`coursekit.keras.vae_nets`. The module-level functions are the same
maths as :mod:`coursekit.reference.vae` and :mod:`coursekit.torch.vae` (tested against both).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from coursekit.checks import TrainingDiverged, check_bool, check_int, to_numpy
from coursekit.common.vae import (
    DEFAULT_MAX_ROWS,
    DEFAULT_SIDE,
    LOG_2PI,
    VAEFile,
    check_config,
    check_image_side,
    check_images,
    check_k,
    check_latent,
    check_seed,
    check_settings,
    diverged_message,
)
from coursekit.io import read_npz, write_npz
from coursekit.keras import distributed, draws, fit_steps  # draws: keras.random, fast on torch
from coursekit.keras.checkpoint import fit_with_checkpoints
from coursekit.keras.fused_adam import Adam  # keras.optimizers.Adam, fused on torch
from coursekit.keras.native import native
from coursekit.keras.vae_nets import Initializers, decoder, encoder

__all__ = ["VAE", "bernoulli_log_prob", "elbo_terms", "kl_standard_normal", "reparameterize"]

#: Tag stored in saved files.
FILE_FORMAT = "coursekit.keras.VAE/1"


# --------------------------------------------------------------------------------------------
# The ELBO's ingredients (same maths as coursekit.reference.vae)
# --------------------------------------------------------------------------------------------


def kl_standard_normal(mean: Any, log_var: Any) -> Any:
    """``D[N(mean, diag(exp(log_var))) || N(0, I)]`` per row [n], closed form."""
    mean, log_var = ops.convert_to_tensor(mean), ops.convert_to_tensor(log_var)
    return 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)


def bernoulli_log_prob(x: Any, logits: Any) -> Any:
    """``log p(x|h) = sum_i x_i l_i - softplus(l_i)`` per row (minus the binary cross-entropy)."""
    x, logits = ops.convert_to_tensor(x), ops.convert_to_tensor(logits)
    return ops.sum(x * logits - ops.softplus(logits), axis=-1)


def reparameterize(mean: Any, log_var: Any, eps: Any) -> Any:
    """``z = mean + exp(log_var / 2) * eps``."""
    mean, log_var, eps = (ops.convert_to_tensor(a) for a in (mean, log_var, eps))
    return mean + ops.exp(0.5 * log_var) * eps


def elbo_terms(x: Any, mean: Any, log_var: Any, logits: Any) -> tuple[Any, Any]:
    """``(log p(x|z), D[Q(h|x) || p(h)])`` per row; the one-sample ELBO is their difference."""
    return bernoulli_log_prob(x, logits), kl_standard_normal(mean, log_var)


class VAE(keras.Model, VAEFile):
    """A VAE with a Gaussian encoder and a Bernoulli decoder over square ``L x L`` images.

    Args:
        latent_dim: number of latent variables (>= 1; 2 for pictures of the latent space).
        arch: ``"conv"`` (the keras.io shape) or ``"mlp"`` (``L*L``-``hidden``-latent and back).
        hidden: units of the MLP's hidden layer (ignored by ``"conv"``).
        image_side: ``L``, the side of the images, an int >= 2 (28 for MNIST; a multiple of 4
            for ``"conv"``, whose two stride-2 convolutions give ``L/4 x L/4``, 7 x 7 for
            MNIST). The model takes images as rows [n, L*L] or as [n, L, L], [n, L, L, 1],
            [n, 1, L, L], and returns rows [n, L*L] (``sample``, ``decode_mean``,
            ``reconstruct``; the ``decoder`` network gives logits [n, L*L]).
        dense: units of the ``"conv"`` encoder's dense layer before ``(mean, log_var)``
            (keras.io: 16; ignored by ``"mlp"``). With a 2-D latent space and a few thousand
            updates on the 4,000 offline digits, 16 ReLU units train to a near-collapsed
            encoder (week 3 lab: the KL term starts near 0.7 nats, the decoded grid shows two
            or three digits); 128 units, at about the same cost per update, do not.
        binarize: ``"dynamic"`` (training images become a fresh Bernoulli draw in every batch)
            or None (train on the values given).
        learning_rate: Adam's step size; the model is compiled with it (``compile`` again to
            change the optimiser; pass ``steps_per_execution`` there too, or ``fit`` runs one
            batch per compiled call, slower, to the same numbers: :mod:`coursekit.keras.fit_steps`).
        jit_compile: passed to ``compile`` (``"auto"``: XLA where Keras supports it).
        seed: seeds the weights and every random draw; None takes one from Python's ``random``
            (seeded by ``coursekit.seed_everything``).
    """

    def __init__(
        self,
        latent_dim: int = 2,
        *,
        arch: str = "conv",
        hidden: int = 400,
        image_side: int = DEFAULT_SIDE,
        dense: int = 16,
        binarize: str | None = "dynamic",
        learning_rate: float = 1e-3,
        jit_compile: Any = "auto",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        latent_dim, arch, hidden, learning_rate, seed = check_settings(
            latent_dim, arch, hidden, learning_rate, seed
        )
        if binarize not in ("dynamic", None):
            raise ValueError(f"binarize must be 'dynamic' or None, got {binarize!r}")
        dense = check_int(dense, "dense", 1, "units of the conv encoder's dense layer")
        image_side = check_image_side(image_side, arch)
        super().__init__(**kwargs)
        self.latent_dim, self.arch, self.hidden, self.dense = latent_dim, arch, hidden, dense
        self.image_side = image_side
        self.binarize, self.learning_rate = binarize, learning_rate
        self.seed = random.randrange(2**31) if seed is None else seed
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        init = Initializers(self.seed)  # seeded weights, no global seed touched
        self.encoder = encoder(arch, latent_dim, hidden, init, dense, image_side)
        self.decoder = decoder(arch, latent_dim, hidden, init, image_side)
        # the forward passes (plain torch on the torch backend: keras.native)
        self._encode, self._decode = native(self.encoder), native(self.decoder)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        # tensorflow: 8 updates per compiled call, the same numbers (coursekit.keras.fit_steps)
        self.compile(optimizer=Adam(learning_rate), jit_compile=jit_compile,
                     steps_per_execution=fit_steps.default_steps())
        self.built = True

    @property
    def config(self) -> dict[str, Any]:
        """The architecture (what a checkpoint must match); ``dense`` for ``"conv"``,
        ``image_side`` when not 28."""
        config = {"arch": self.arch, "latent_dim": self.latent_dim, "hidden": self.hidden}
        if self.arch == "conv":
            config["dense"] = self.dense
        if self.image_side != DEFAULT_SIDE:  # files of 28 x 28 models as before
            config["image_side"] = self.image_side
        return config

    # ----------------------------------------------------------------------------------------
    # The model
    # ----------------------------------------------------------------------------------------

    def encoder_params(self, x: Any) -> tuple[Any, Any]:
        """``(mean, log_var)`` of ``Q(h|x)``, each [n, latent_dim], from rows ``x`` [n, L*L]."""
        out = self._encode(x)
        return out[:, : self.latent_dim], out[:, self.latent_dim :]

    def call(self, x: Any, training: bool = False) -> dict[str, Any]:
        """One pass: ``target`` (the binarised input when training), ``mean``, ``log_var``,
        ``z = mean + exp(log_var / 2) * eps`` and the decoder's ``logits``. Training under
        ``torchrun``, through ``DistributedDataParallel`` (:mod:`coursekit.keras.distributed`)."""
        parallel = distributed.wrapper(self) if training else None
        if parallel is not None:
            return parallel(x)
        return self._forward(x, training)

    def _forward(self, x: Any, training: bool = False) -> dict[str, Any]:
        target = x
        if training and self.binarize == "dynamic":
            u = draws.uniform(ops.shape(x), self.seed_generator)
            target = ops.cast(ops.less(u, x), "float32")
        mean, log_var = self.encoder_params(target)
        eps = draws.normal(ops.shape(mean), self.seed_generator)
        z = reparameterize(mean, log_var, eps)
        return {"target": target, "mean": mean, "log_var": log_var, "z": z,
                "logits": self._decode(z)}  # fmt: skip

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        """The negative one-sample ELBO, averaged over the batch; tracks its two terms."""
        rec, kl = elbo_terms(y_pred["target"], y_pred["mean"], y_pred["log_var"], y_pred["logits"])
        rec, kl = ops.mean(rec), ops.mean(kl)
        loss = kl - rec
        if distributed.active() is not None:  # torchrun: report the global batch's means
            rec, kl = ops.unstack(distributed.mean_over_processes(ops.stack([rec, kl])))
            loss = loss + ops.stop_gradient(kl - rec - loss)  # its value; DDP averages grads
        self.reconstruction_tracker.update_state(rec)
        self.kl_tracker.update_state(kl)
        return loss / distributed.replicas()  # tf.distribute adds the replicas' gradients

    def fit(self, x: Any = None, y: Any = None, *,
            checkpoint: str | os.PathLike[str] | None = None, checkpoint_every: int | None = None,
            resume: str | os.PathLike[str] | None = None,
            **kwargs: Any) -> keras.callbacks.History:  # fmt: skip
        """``keras.Model.fit`` after checking ``x`` (images in [0, 1]; see the class docstring).

        Defaults: ``batch_size=128``. ``x`` may also be a ``keras.utils.PyDataset`` or a
        ``tf.data.Dataset`` (then not checked). History keys: ``loss``, ``reconstruction``,
        ``kl`` (and ``val_*`` with ``validation_data``).

        ``checkpoint`` (a file), ``checkpoint_every`` (updates) and ``resume`` (a checkpoint
        of this run) write and continue the run as :meth:`coursekit.torch.VAE.fit` does: the
        weights, Adam's state, the seed generators, the epoch's metric sums, the position
        (inside an epoch too) and the history, written atomically every ``checkpoint_every``
        updates, at the end and on Ctrl-C (after the update under way); a resumed run ends
        with the weights and history of one never interrupted (bitwise on one CPU process,
        on either backend), whatever seed the resuming model was built with; resumed inside
        an epoch, Keras' ``fit`` runs twice (that epoch's rest, then the other epochs), so
        callbacks see two ``on_train_begin``. With any of the three, ``x`` must be an array,
        and each epoch's order of the rows is drawn by
        :func:`coursekit.keras.checkpoint.fit_with_checkpoints` from the model's seed (saved)
        rather than by Keras' ``shuffle`` (TensorFlow's or torch's global generator): such a
        run takes other batches than one without them. ``y``, ``initial_epoch``,
        ``steps_per_epoch``, ``validation_split``, ``sample_weight`` and ``class_weight`` are
        then refused.

        On the tensorflow backend the VAE trains data-parallel under a ``tf.distribute``
        strategy: build and compile it inside ``strategy.scope()`` (e.g. a
        ``MirroredStrategy`` over several devices) and call ``fit`` with the global batch;
        each replica's loss is divided by the number of replicas and the per-row draws are
        cut from the global batch's (:mod:`coursekit.keras.distributed`), so it trains as one
        device with that batch would, to float rounding. On the torch backend the same ``fit``
        runs unchanged under ``torchrun``: each process trains on its share of every batch
        through ``DistributedDataParallel``, the rows' order drawn from the model's seed as
        with ``checkpoint``; every batch, the last of an epoch too, must split evenly.

        Raises:
            TrainingDiverged: a batch's loss is NaN or infinite (training stops there).
        """
        kwargs.setdefault("batch_size", 128)
        # Keras itself runs 0 epochs, or guesses a batch of 32 for None; a dataset (not an
        # array) brings its own batches, and batch_size=None is then what Keras wants
        if "epochs" in kwargs:
            check_int(kwargs["epochs"], "epochs", 1)
        if kwargs["batch_size"] is not None or _is_array(x):
            check_int(kwargs["batch_size"], "batch_size", 1)
        if _is_array(x):
            x = check_images(x, "x", self.image_side)
        validation = kwargs.get("validation_data")
        if _is_array(validation):
            kwargs["validation_data"] = check_images(validation, "validation_data",
                                                     self.image_side)
        guard = fit_steps.StopOnNonFiniteLoss()
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), guard]
        shard = distributed.torch_shard()  # torchrun's processes (one without it)
        if shard.world > 1:
            if not isinstance(x, np.ndarray):
                raise ValueError(f"x must be an array of rows under torchrun (every process "
                                 f"draws their order), got {type(x).__name__}")
            distributed.check_even(shard, kwargs["batch_size"], len(x))
            if not shard.main:
                kwargs["verbose"] = 0
        if checkpoint is None and checkpoint_every is None and resume is None and shard.world == 1:
            history = super().fit(x, y, **kwargs)
        else:
            meta = {"model": "coursekit.keras.VAE", "backend": keras.backend.backend(),
                    **self.config, "binarize": self.binarize, "learning_rate": self.learning_rate}
            with (distributed.sharded(shard), fit_steps.one_batch_per_call(self),
                  distributed.data_parallel(self, self.trainable_variables,
                                            lambda x: self._forward(x, True), shard)):
                history = fit_with_checkpoints(
                    self, super().fit, x, {"y": y, **kwargs}, checkpoint=checkpoint,
                    checkpoint_every=checkpoint_every, resume=resume, seed=self.seed,
                    meta=meta, what="VAE", shard=shard)
        if guard.loss is not None:
            raise TrainingDiverged(diverged_message(f"update {guard.update}", guard.loss,
                                                    self.learning_rate))  # fmt: skip
        return history

    # ----------------------------------------------------------------------------------------
    # Evaluation
    # ----------------------------------------------------------------------------------------

    def elbo(self, x: Any, *, batch_size: int = 1000, terms: bool = False) -> Any:
        """Mean one-sample ELBO (nats per image) of images ``x`` as given (binarise first).

        With ``terms=True`` returns ``(elbo, reconstruction, kl)``.
        """
        data = check_images(x, "x", self.image_side)
        batch_size = check_int(batch_size, "batch_size", 1)
        terms = check_bool(terms, "terms")
        rec_total = kl_total = 0.0
        for i in range(0, len(data), batch_size):
            out = self(data[i : i + batch_size], training=False)
            rec, kl = elbo_terms(out["target"], out["mean"], out["log_var"], out["logits"])
            rec_total += float(to_numpy(ops.sum(rec)))
            kl_total += float(to_numpy(ops.sum(kl)))
        rec, kl = rec_total / len(data), kl_total / len(data)
        return (rec - kl, rec, kl) if terms else rec - kl

    def log_likelihood(
        self,
        x: Any,
        *,
        k: int = 1000,
        max_rows: int | None = None,
        seed: int | None = 0,
        eps: Any = None,
    ) -> np.ndarray:
        """Importance-weighted estimate of ``log p(x)`` per image (Burda et al. 2015) [n].

        ``log (1/K) sum_k p(x, h_k) / Q(h_k|x)`` with ``h_k ~ Q(h|x)``; ``K = 1`` is the ELBO,
        larger ``K`` a tighter bound. The decoder sees at most ``max_rows`` latent points per
        pass (default by architecture: :data:`DEFAULT_MAX_ROWS`), so ``K = 1000`` fits in
        memory. ``seed`` fixes the noise (None: the model's generator); ``eps`` [n, k,
        latent_dim] gives it explicitly (to compare implementations number for number).
        """
        data = check_images(x, "x", self.image_side)
        k = check_k(k)
        max_rows = DEFAULT_MAX_ROWS[self.arch] if max_rows is None else max_rows
        max_rows = check_int(max_rows, "max_rows", 1, "decoder rows per pass")
        gen = self.seed_generator if seed is None else keras.random.SeedGenerator(check_seed(seed))
        noise = None
        if eps is not None:
            noise = np.asarray(eps, dtype=np.float32)
            if noise.shape != (len(data), k, self.latent_dim):
                raise ValueError(
                    f"eps must have shape {(len(data), k, self.latent_dim)}, got {noise.shape}"
                )
        per_chunk = max(1, max_rows // k)
        k_chunk = min(k, max_rows)
        out = []
        for i in range(0, len(data), per_chunk):
            xb = ops.convert_to_tensor(data[i : i + per_chunk])
            n = int(xb.shape[0])
            mean, log_var = self.encoder_params(xb)
            weights = []
            for j in range(0, k, k_chunk):
                kk = min(k_chunk, k - j)
                if noise is None:
                    eps = keras.random.normal((n, kk, self.latent_dim), seed=gen)
                else:
                    eps = ops.convert_to_tensor(noise[i : i + per_chunk, j : j + kk])
                z = reparameterize(mean[:, None], log_var[:, None], eps)
                logits = ops.reshape(
                    self.decoder(ops.reshape(z, (-1, self.latent_dim))), (n, kk, -1)
                )
                log_px = bernoulli_log_prob(xb[:, None], logits)
                log_pz = -0.5 * ops.sum(ops.square(z) + LOG_2PI, axis=-1)
                log_q = -0.5 * ops.sum(ops.square(eps) + log_var[:, None] + LOG_2PI, axis=-1)
                weights.append(to_numpy(log_px + log_pz - log_q).astype(np.float64))
            log_w = np.concatenate(weights, axis=1)
            top = log_w.max(axis=1, keepdims=True)
            out.append(top[:, 0] + np.log(np.mean(np.exp(log_w - top), axis=1)))
        return np.concatenate(out)

    def sample(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``p(x = 1|h)`` for ``n`` draws ``h ~ p(h) = N(0, I)``: [n, L*L] in [0, 1]."""
        n = check_int(n, "n", 1, "number of samples")
        gen = self.seed_generator if seed is None else keras.random.SeedGenerator(check_seed(seed))
        z = keras.random.normal((n, self.latent_dim), seed=gen)
        return to_numpy(ops.sigmoid(self.decoder(z)))

    def decode_mean(self, z: Any) -> np.ndarray:
        """``p(x = 1|h = z)`` [n, L*L] at given latent points ``z`` [n, latent_dim]."""
        z = check_latent(z, self.latent_dim)
        return to_numpy(ops.sigmoid(self.decoder(z)))

    def embed(self, x: Any, *, batch_size: int = 2000) -> np.ndarray:
        """Encoder means ``mu(x)`` [n, latent_dim]."""
        data = check_images(x, "x", self.image_side)
        batch_size = check_int(batch_size, "batch_size", 1, "images per forward pass")
        return np.concatenate(
            [
                to_numpy(self.encoder_params(data[i : i + batch_size])[0])
                for i in range(0, len(data), batch_size)
            ]
        )

    def reconstruct(self, x: Any) -> np.ndarray:
        """``p(x = 1|h = mu(x))`` [n, L*L]: decode the encoder mean."""
        return self.decode_mean(self.embed(x))

    @property
    def updates(self) -> int:
        """Parameter updates made so far (the optimiser's iteration count)."""
        return int(to_numpy(self.optimizer.iterations))

    # ----------------------------------------------------------------------------------------
    # Saving and loading
    # ----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> Path:
        """Write the architecture and weights to ``path`` (.npz), atomically.

        A path ending in ``.keras`` or ``.h5`` goes to Keras' own ``Model.save`` instead (its
        format; Keras' ``ModelCheckpoint`` callback saves that way), with ``args``/``kwargs``.
        """
        if str(path).endswith((".keras", ".h5")):
            return super().save(path, *args, **kwargs)
        names = [v.path for v in self.weights]
        arrays = {
            "format": np.array(FILE_FORMAT),
            "config": np.array(json.dumps({**self.config, "learning_rate": self.learning_rate})),
            "names": np.array(json.dumps(names)),
        }
        for i, value in enumerate(self.get_weights()):
            arrays[f"w{i}"] = value
        return write_npz(path, arrays, "VAE")

    @staticmethod
    def _read(path: str | os.PathLike[str]) -> tuple[dict, list[np.ndarray]]:
        z = read_npz(path, "VAE", file_format=FILE_FORMAT, writer="coursekit.keras.VAE.save")
        count = len(json.loads(str(z["names"])))
        return json.loads(str(z["config"])), [z[f"w{i}"] for i in range(count)]

    @classmethod
    def _saved_config(cls, path: str | os.PathLike[str]) -> dict[str, Any]:
        return cls._read(path)[0]

    @classmethod
    def load(cls, path: Any, **settings: Any) -> VAE:
        """A VAE built with the file's settings (``image_side`` and the conv encoder's
        ``dense`` width included), holding its weights. ``settings`` (e.g. ``learning_rate``,
        ``seed``) override the saved ones."""
        config = cls._saved_config(path)
        if config.get("arch") == "conv":
            settings = {"dense": config.get("dense", 16), **settings}
        return super().load(path, **settings)

    def _load_into(self, path: str | os.PathLike[str]) -> VAE:
        """This model, with the weights of the file at ``path`` (same architecture only)."""
        config, weights = self._read(path)
        check_config(config, self.config, path)
        if self.arch == "conv" and config.get("dense", 16) != self.dense:
            saved = config.get("dense", 16)
            raise ValueError(f"the checkpoint {path} holds a conv VAE with dense={saved!r}, but "
                             f"this model has dense={self.dense!r}; use VAE.load(path), which "
                             "builds the model the file describes")
        self.set_weights(weights)
        return self


def _is_array(x: Any) -> bool:
    if x is None or isinstance(x, (keras.utils.PyDataset, tuple, dict)):
        return False
    return isinstance(x, (np.ndarray, list)) or hasattr(x, "shape")
