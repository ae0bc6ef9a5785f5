"""A variational autoencoder in PyTorch (week 3): Gaussian encoder, Bernoulli decoder.

The lecture's model: prior ``p(h) = N(0, I)``, encoder ``Q(h|x) = N(mu(x), diag(sigma^2(x)))``
returned as a :class:`torch.distributions.Normal` (as in the lecture's PyTorch code), decoder
``p(x_i = 1|h) = sigmoid(logits_i(h))``. Training maximises the ELBO::

    ELBO(x) = E_Q[log p(x|h)] - D[Q(h|x) || p(h)]
            ~ log p(x | z = mu + sigma * eps) - 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2)

with one ``eps ~ N(0, I)`` per image (the reparameterisation trick). The two terms are kept
separately in :meth:`VAE.fit`'s history. Two architectures through one class
(:mod:`coursekit.torch.vae_nets`):

* ``arch="mlp"``: ``L*L``-``hidden``-(2 x latent) / latent-``hidden``-``L*L`` with ReLU, the
  shape of the pytorch/examples VAE (hidden 400, latent 20);
* ``arch="conv"``: the keras.io convolutional VAE (two stride-2 convolutions 32 and 64, a dense
  layer of 16; mirrored by transposed convolutions; ``L`` a multiple of 4).

Images are square, ``L x L`` with ``L = image_side`` (28 for MNIST, the default; 16 for the
Ising lattices): rows ``x`` [n, L*L] (784 for MNIST) with values in [0, 1] (any of [n, L, L],
[n, L, L, 1], [n, 1, L, L] is accepted)::

    from coursekit.torch import VAE
    vae = VAE(latent_dim=20, arch="mlp", seed=0)
    history = vae.fit(x_train, epochs=10)               # dynamic binarisation per epoch
    vae.elbo(x_test)                                    # mean test ELBO, nats
    vae.log_likelihood(x_test, k=1000)                  # IWAE estimate of log p(x) per image
    images = vae.sample(64)                             # p(x=1|h), h ~ p(h): [64, 784]
    ising = VAE(latent_dim=2, image_side=16, seed=0)    # 16 x 16 spins as {0, 1}: [n, 256]

The module-level functions (:func:`kl_standard_normal`, :func:`bernoulli_log_prob`,
:func:`reparameterize`, :func:`elbo_terms`) are the same maths as
:mod:`coursekit.reference.vae` and :mod:`coursekit.keras.vae`, and are tested against both.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf
from tqdm import tqdm

from coursekit.checkpoint import loop_checkpoints
from coursekit.checks import TrainingDiverged, check_bool, check_int
from coursekit.common.vae import (
    DEFAULT_MAX_ROWS,
    DEFAULT_SIDE,
    LOG_2PI,
    check_image_side,
    check_images,
    check_k,
    check_latent,
    check_seed,
    check_settings,
    diverged_message,
)
from coursekit.loop import train_epochs
from coursekit.torch import distributed, fast
from coursekit.torch.checkpoint import TrainingState
from coursekit.torch.devices import OnDevice
from coursekit.torch.vae_file import TorchVAEFile
from coursekit.torch.vae_nets import decoder, encoder

__all__ = ["VAE", "bernoulli_log_prob", "elbo_terms", "kl_standard_normal", "reparameterize"]


# --------------------------------------------------------------------------------------------
# The ELBO's ingredients (same maths as coursekit.reference.vae)
# --------------------------------------------------------------------------------------------


def kl_standard_normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``D[N(mean, diag(exp(log_var))) || N(0, I)]`` per row [n], closed form."""
    return 0.5 * (log_var.exp() + mean.square() - 1.0 - log_var).sum(dim=-1)


def bernoulli_log_prob(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``log p(x|h) = sum_i x_i l_i - softplus(l_i)`` per row (minus the binary cross-entropy)."""
    x = x.expand_as(logits)
    return -nnf.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def reparameterize(mean: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """``z = mean + exp(log_var / 2) * eps``."""
    return mean + (0.5 * log_var).exp() * eps


def elbo_terms(
    x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor, logits: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log p(x|z), D[Q(h|x) || p(h)])`` per row; the one-sample ELBO is their difference."""
    return bernoulli_log_prob(x, logits), kl_standard_normal(mean, log_var)


class VAE(nn.Module, OnDevice, TorchVAEFile):
    """A VAE with a Gaussian encoder and a Bernoulli decoder over square ``L x L`` images.

    Args:
        latent_dim: number of latent variables ``k`` (>= 1; 2 for pictures of the latent space).
        arch: ``"mlp"`` or ``"conv"`` (see the module docstring).
        hidden: units of the MLP's hidden layer (ignored by ``"conv"``).
        image_side: ``L``, the side of the images, an int >= 2 (28 for MNIST; a multiple of 4
            for ``"conv"``). The model takes images as rows [n, L*L] or as [n, L, L],
            [n, L, L, 1], [n, 1, L, L], and returns rows [n, L*L] (``sample``,
            ``decode_mean``, ``reconstruct``; ``decode`` gives logits [n, L*L]).
        learning_rate: Adam's step size (Kingma and Ba 2015; 1e-3 as in pytorch/examples).
        seed: seeds the initial weights and the VAE's own generator (shuffling, binarisation,
            the noise ``eps``), leaving torch's global generator alone; None draws both from
            the global generator (seeded by ``coursekit.seed_everything``).
    """

    def __init__(
        self,
        latent_dim: int = 20,
        *,
        arch: str = "mlp",
        hidden: int = 400,
        image_side: int = DEFAULT_SIDE,
        learning_rate: float = 1e-3,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.latent_dim, self.arch, self.hidden, self.learning_rate, self.seed = check_settings(
            latent_dim, arch, hidden, learning_rate, seed
        )
        self.image_side = check_image_side(image_side, self.arch)
        side = self.image_side
        # a seed fixes the initial weights without touching torch's global generator
        with torch.random.fork_rng(devices=[], enabled=self.seed is not None):
            if self.seed is not None:
                torch.manual_seed(self.seed)
            self.encoder = encoder(self.arch, self.latent_dim, self.hidden, side)
            self.decoder = decoder(self.arch, self.latent_dim, self.hidden, side)
            own_seed = self.seed if self.seed is not None else int(torch.randint(0, 2**62, (1,)))
        self._gen = torch.Generator()
        self._gen.manual_seed(own_seed)
        self.optimizer: torch.optim.Optimizer | None = None
        self.updates = 0
        self._ddp: tuple[nn.Module, ...] = ()  # during a data-parallel fit: its DDP wrapper

    # ----------------------------------------------------------------------------------------
    # The model
    # ----------------------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """The architecture (what a checkpoint must match); ``image_side`` when not 28."""
        config = {"arch": self.arch, "latent_dim": self.latent_dim, "hidden": self.hidden}
        if self.image_side != DEFAULT_SIDE:  # files of 28 x 28 models as before
            config["image_side"] = self.image_side
        return config

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())

    def _generator(self, seed: int | None) -> torch.Generator:
        """A fresh generator seeded with ``seed``, or the VAE's own when ``seed`` is None."""
        if seed is None:
            return self._rng()
        return torch.Generator(device=self.device).manual_seed(check_seed(seed))

    def _tensor(self, x: Any, name: str = "x") -> torch.Tensor:
        if (
            isinstance(x, torch.Tensor)
            and x.dtype == torch.float32
            and x.dim() == 2
            and (x.shape[1] == self.image_side**2)
        ):
            rows = x
            if rows.numel() and (rows.min() < 0 or rows.max() > 1 or rows.isnan().any()):
                check_images(x, name, self.image_side)  # raises with the message
        else:
            rows = torch.from_numpy(check_images(x, name, self.image_side))
        return rows.to(self.device)

    def encoder_params(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, log_var)`` of ``Q(h|x)``, each [n, latent_dim], from rows ``x`` [n, L*L]."""
        out = self.encoder(x)
        return out[:, : self.latent_dim], out[:, self.latent_dim :]

    def encode(self, x: torch.Tensor) -> torch.distributions.Normal:
        """``Q(h|x)`` as ``torch.distributions.Normal(mean, exp(log_var / 2))`` [n, latent_dim]."""
        mean, log_var = self.encoder_params(x)
        return torch.distributions.Normal(loc=mean, scale=(0.5 * log_var).exp())

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder logits [n, L*L] at latent points ``z`` [n, latent_dim]."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """One pass: ``mean``, ``log_var``, ``z`` (reparameterised) and ``logits``.

        ``eps`` [n, latent_dim] is the noise (drawn from the VAE's generator if None).
        """
        mean, log_var = self.encoder_params(x)
        if eps is None:
            eps = torch.randn(mean.shape, generator=self._rng(), device=mean.device)
        z = reparameterize(mean, log_var, eps)
        return {"mean": mean, "log_var": log_var, "z": z, "logits": self.decode(z)}

    def loss_terms(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> tuple[Any, Any]:
        """Batch means of the reconstruction term ``log p(x|z)`` and of the KL term (``eps``
        [n, latent_dim]: the noise, drawn from the VAE's generator if None)."""
        out = self(x, eps)
        rec, kl = elbo_terms(x, out["mean"], out["log_var"], out["logits"])
        return rec.mean(), kl.mean()

    def train_step(self, x: torch.Tensor, eps: torch.Tensor | None = None, *,
                   weight: float = 1.0) -> tuple[Any, Any]:
        """One Adam step down the negative ELBO of the batch ``x`` [n, L*L] (the algorithm; the
        lab's notebook writes the same): returns the batch means ``(log p(x|z), KL)``.
        (``weight`` scales the loss: a data-parallel process's share, see ``fit``.)"""
        out = (self._ddp[0] if self._ddp else self)(x, eps)  # DDP in a data-parallel fit
        rec, kl = elbo_terms(x, out["mean"], out["log_var"], out["logits"])
        rec, kl = rec.mean(), kl.mean()
        opt = self._optimizer()
        opt.zero_grad(set_to_none=True)
        ((kl - rec) * weight).backward()
        opt.step()
        self.updates += 1
        return rec.detach(), kl.detach()

    # ----------------------------------------------------------------------------------------
    # Training
    # ----------------------------------------------------------------------------------------

    def _optimizer(self) -> torch.optim.Optimizer:
        if self.optimizer is None:
            self.optimizer = fast.adam(self.parameters(), self.learning_rate)  # fused kernel
        return self.optimizer

    def fit(
        self,
        x: Any,
        *,
        epochs: int,
        batch_size: int = 128,
        binarize: str | None = "dynamic",
        validation: Any = None,
        progress: bool = True,
        seed: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int | None = None,
        resume: str | os.PathLike[str] | None = None,
    ) -> dict[str, list[float]]:
        """Train with Adam on the negative ELBO of ``x`` [n, L*L] (floats in [0, 1]).

        Args:
            x: training images; with ``binarize="dynamic"`` each epoch sees a fresh binary
                draw, pixel ``i`` being 1 with probability ``x_i``; ``"static"`` thresholds
                at 0.5 once; None trains on ``x`` as given (Bernoulli cross-entropy on grey
                values).
            epochs: passes over ``x``.
            batch_size: images per parameter update (under ``torchrun``, split over the
                processes: see :mod:`coursekit.torch.distributed`).
            validation: optional test images (already binary, or thresholded here at 0.5):
                their one-sample ELBO is recorded after every epoch.
            progress: a tqdm bar over each epoch's updates.
            seed: reseeds the VAE's generator (shuffling, binarisation, noise) first.
            checkpoint, checkpoint_every, resume: write the whole training state every
                ``checkpoint_every`` updates, at the end and on Ctrl-C, and continue from such
                a file, as :meth:`coursekit.torch.DCGAN.fit` does (a resumed run ends as an
                uninterrupted one; the weights a diverged epoch rolls back to are then those
                at the resume).

        Returns:
            History, one entry per epoch: ``epoch``, ``updates`` (cumulative), ``loss`` (mean
            negative ELBO over the epoch's batches), ``reconstruction`` (mean ``log p(x|z)``),
            ``kl`` (mean ``D[Q(h|x) || p(h)]``), ``val_elbo`` (NaN without validation),
            ``seconds`` (cumulative training time).

        Raises:
            TrainingDiverged: the loss of an epoch is NaN or infinite.
        """
        epochs, batch_size = check_int(epochs, "epochs", 1), check_int(batch_size, "batch_size", 1)
        progress = check_bool(progress, "progress")
        if binarize not in ("dynamic", "static", None):
            raise ValueError(f"binarize must be 'dynamic', 'static' or None, got {binarize!r}")
        data = self._tensor(x, "x")
        if binarize == "static":
            data = (data >= 0.5).float()
        val = None if validation is None else self._tensor(validation, "validation") >= 0.5
        seed = check_seed(seed)
        if seed is not None:
            self._gen = torch.Generator(device=self.device).manual_seed(seed)
        gen = self._rng()
        shard = distributed.current()
        shard.check(min(batch_size, len(data) % batch_size or batch_size),
                    "every batch (the last of an epoch has n mod batch_size rows)")
        good: dict[str, torch.Tensor] = {}

        def begin(epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
            """The epoch's rows (a fresh binarisation) and order; the weights to roll back to."""
            self.train()
            good.update({k: v.detach().clone() for k, v in self.state_dict().items()})
            rows = data
            if binarize == "dynamic":
                rows = (torch.rand(data.shape, generator=gen, device=data.device) < data).float()
            return rows, torch.randperm(len(data), generator=gen, device=data.device)

        def step(batch: torch.Tensor) -> dict[str, torch.Tensor]:
            # the whole batch's noise, drawn as one process would, then this process's share
            eps = torch.randn((len(batch), self.latent_dim), generator=gen, device=batch.device)
            rec, kl = self.train_step(shard.take(batch), shard.take(eps),
                                      weight=shard.weight(len(batch)))
            return shard.mean_tensors({"reconstruction": rec, "kl": kl}, len(batch))

        def end(epoch: int, means: dict[str, float], seconds: float) -> dict[str, float]:
            rec, kl = means["reconstruction"], means["kl"]
            if not math.isfinite(rec + kl):
                self.load_state_dict(good)  # the last good weights, and a fresh Adam
                self.optimizer = None
                raise TrainingDiverged(diverged_message(f"epoch {epoch}", kl - rec,
                                                        self.learning_rate))  # fmt: skip
            val_elbo = self._elbo(val.float(), 1000)[0] if val is not None else float("nan")
            self.train()
            return {"epoch": epoch, "updates": self.updates, "loss": kl - rec,
                    "reconstruction": rec, "kl": kl, "val_elbo": val_elbo, "seconds": seconds}

        def bar(epoch: int, epochs: int) -> tqdm:
            return tqdm(total=-(-len(data) // batch_size), desc=f"VAE epoch {epoch}/{epochs}",
                        unit="update", leave=False)

        state = TrainingState(modules={"vae": self}, optimizers={"adam": self._optimizer()},
                              generators={"vae": gen}, counters={"updates": (
                                  lambda: self.updates, lambda v: setattr(self, "updates", v))})
        meta = {"model": "coursekit.torch.VAE", **self.config,
                "learning_rate": self.learning_rate, "rows": len(data),
                "batch_size": batch_size, "binarize": binarize}
        saving = loop_checkpoints(checkpoint, checkpoint_every, resume, arrays=state.arrays,
                                  restore=state.restore, meta=meta, what="VAE")
        if not shard.main:
            saving["checkpoint"], progress = None, False
        rng = (lambda: gen.get_state().numpy().copy(),
               lambda a: gen.set_state(torch.from_numpy(np.array(a))))
        with distributed.data_parallel(shard, self) as (net,):
            self._ddp = (net,) if shard.world > 1 else ()
            try:
                history = train_epochs(step, epochs=epochs, batch_size=batch_size, begin=begin,
                                       end=end, rng=rng, progress=bar if progress else None,
                                       agree=shard.any, **saving)
            finally:
                self._ddp = ()
        self.eval()
        return history

    # ----------------------------------------------------------------------------------------
    # Evaluation
    # ----------------------------------------------------------------------------------------

    @torch.no_grad()
    def _elbo(self, x: torch.Tensor, batch_size: int) -> tuple[float, float, float]:
        rec_total, kl_total = 0.0, 0.0
        for i in range(0, len(x), batch_size):
            rec, kl = self.loss_terms(x[i : i + batch_size])
            rec_total += float(rec) * len(x[i : i + batch_size])
            kl_total += float(kl) * len(x[i : i + batch_size])
        rec_mean, kl_mean = rec_total / len(x), kl_total / len(x)
        return rec_mean - kl_mean, rec_mean, kl_mean

    def elbo(self, x: Any, *, batch_size: int = 1000, terms: bool = False) -> Any:
        """Mean one-sample ELBO (nats per image) of images ``x`` taken as they are.

        ``x`` should be binary for a likelihood in nats (binarise it first). With
        ``terms=True`` returns ``(elbo, reconstruction, kl)``.
        """
        data = self._tensor(x, "x")
        batch_size, terms = check_int(batch_size, "batch_size", 1), check_bool(terms, "terms")
        self.eval()
        out = self._elbo(data, batch_size)
        return out if terms else out[0]

    @torch.no_grad()
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

        ``log (1/K) sum_k p(x, h_k) / Q(h_k|x)`` with ``h_k ~ Q(h|x)``: a lower bound on
        ``log p(x)`` in expectation that rises with ``K`` (``K = 1`` is the ELBO). The decoder
        sees at most ``max_rows`` latent points per pass, so ``K = 1000`` fits in memory.

        Args:
            x: images in [0, 1] (binary for nats: binarise first).
            k: importance samples per image, >= 1.
            max_rows: decoder rows per pass (default by architecture: ``DEFAULT_MAX_ROWS``).
            seed: seeds the noise, so repeated calls agree; None uses the VAE's generator.
            eps: optional noise [n, k, latent_dim] (then ``seed`` is unused), e.g. to compare
                implementations number for number.
        """
        data = self._tensor(x, "x")
        k = check_k(k)
        max_rows = DEFAULT_MAX_ROWS[self.arch] if max_rows is None else max_rows
        max_rows = check_int(max_rows, "max_rows", 1, "decoder rows per pass")
        gen = self._generator(seed)
        noise = None if eps is None else self._noise(eps, (len(data), k, self.latent_dim))
        self.eval()
        per_chunk = max(1, max_rows // k)  # images per pass when K fits
        k_chunk = min(k, max_rows)
        out = []
        for i in range(0, len(data), per_chunk):
            xb = data[i : i + per_chunk]
            mean, log_var = self.encoder_params(xb)
            weights = []
            for j in range(0, k, k_chunk):
                kk = min(k_chunk, k - j)
                if noise is None:
                    eps = torch.randn((len(xb), kk, self.latent_dim), generator=gen,
                                      device=xb.device)  # fmt: skip
                else:
                    eps = noise[i : i + per_chunk, j : j + kk]
                z = reparameterize(mean[:, None], log_var[:, None], eps)
                logits = self.decode(z.reshape(-1, self.latent_dim)).reshape(len(xb), kk, -1)
                log_px = bernoulli_log_prob(xb[:, None], logits)
                log_pz = -0.5 * (z.square() + LOG_2PI).sum(-1)
                log_q = -0.5 * (eps.square() + log_var[:, None] + LOG_2PI).sum(-1)
                weights.append(log_px + log_pz - log_q)
            log_w = torch.cat(weights, dim=1).double()
            out.append(torch.logsumexp(log_w, dim=1) - math.log(k))
        return torch.cat(out).cpu().numpy()

    def _noise(self, eps: Any, shape: tuple[int, ...]) -> torch.Tensor:
        eps = torch.as_tensor(np.asarray(eps, dtype=np.float32), device=self.device)
        if tuple(eps.shape) != shape:
            raise ValueError(f"eps must have shape {shape}, got {tuple(eps.shape)}")
        return eps

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``p(x = 1|h)`` for ``n`` draws ``h ~ p(h) = N(0, I)``: [n, L*L] in [0, 1]."""
        n = check_int(n, "n", 1, "number of samples")
        gen = self._generator(seed)
        self.eval()
        z = torch.randn((n, self.latent_dim), generator=gen, device=self.device)
        return torch.sigmoid(self.decode(z)).cpu().numpy()

    @torch.no_grad()
    def decode_mean(self, z: Any) -> np.ndarray:
        """``p(x = 1|h = z)`` [n, L*L] at given latent points ``z`` [n, latent_dim]."""
        z = torch.as_tensor(check_latent(z, self.latent_dim), device=self.device)
        self.eval()
        return torch.sigmoid(self.decode(z)).cpu().numpy()

    @torch.no_grad()
    def embed(self, x: Any, *, batch_size: int = 2000) -> np.ndarray:
        """Encoder means ``mu(x)`` [n, latent_dim]."""
        data = self._tensor(x, "x")
        batch_size = check_int(batch_size, "batch_size", 1, "images per forward pass")
        self.eval()
        means = [self.encoder_params(data[i : i + batch_size])[0]
                 for i in range(0, len(data), batch_size)]  # fmt: skip
        return torch.cat(means).cpu().numpy()

    def reconstruct(self, x: Any) -> np.ndarray:
        """``p(x = 1|h = mu(x))`` [n, L*L]: decode the encoder mean."""
        return self.decode_mean(self.embed(x))
