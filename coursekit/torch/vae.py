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
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf
from tqdm import tqdm

from coursekit.checks import TrainingDiverged, check_bool, check_int
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
from coursekit.torch import fast
from coursekit.torch.vae_nets import decoder, encoder

__all__ = ["VAE", "bernoulli_log_prob", "elbo_terms", "kl_standard_normal", "reparameterize"]

#: Tag stored in saved files.
FILE_FORMAT = "coursekit.torch.VAE/1"


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


class VAE(nn.Module, VAEFile):
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

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def _rng(self) -> torch.Generator:
        if self._gen.device != self.device:  # moved with .to(device): follow with a new stream
            seed = int(torch.randint(0, 2**62, (1,), generator=self._gen))
            self._gen = torch.Generator(device=self.device).manual_seed(seed)
        return self._gen

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

    def train_step(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> tuple[Any, Any]:
        """One Adam step down the negative ELBO of the batch ``x`` [n, L*L] (the algorithm; the
        lab's notebook writes the same): returns the batch means ``(log p(x|z), KL)``."""
        rec, kl = self.loss_terms(x, eps)
        opt = self._optimizer()
        opt.zero_grad(set_to_none=True)
        (kl - rec).backward()
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
    ) -> dict[str, list[float]]:
        """Train with Adam on the negative ELBO of ``x`` [n, L*L] (floats in [0, 1]).

        Args:
            x: training images; with ``binarize="dynamic"`` each epoch sees a fresh binary
                draw, pixel ``i`` being 1 with probability ``x_i``; ``"static"`` thresholds
                at 0.5 once; None trains on ``x`` as given (Bernoulli cross-entropy on grey
                values).
            epochs: passes over ``x``.
            batch_size: images per parameter update.
            validation: optional test images (already binary, or thresholded here at 0.5):
                their one-sample ELBO is recorded after every epoch.
            progress: a tqdm bar over epochs.
            seed: reseeds the VAE's generator (shuffling, binarisation, noise) first.

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
        n = len(data)
        keys = ("epoch", "updates", "loss", "reconstruction", "kl", "val_elbo", "seconds")
        history: dict[str, list[float]] = {k: [] for k in keys}
        seconds = 0.0
        bar = tqdm(range(1, epochs + 1), desc="VAE", unit="epoch", disable=not progress)
        for epoch in bar:
            self.train()
            good = {k: v.detach().clone() for k, v in self.state_dict().items()}
            start = time.perf_counter()
            epoch_data = data
            if binarize == "dynamic":
                epoch_data = torch.rand(data.shape, generator=gen, device=data.device) < data
                epoch_data = epoch_data.float()
            order = torch.randperm(n, generator=gen, device=data.device)
            rec_sum = torch.zeros((), device=data.device)
            kl_sum = torch.zeros((), device=data.device)
            for i in range(0, n, batch_size):
                batch = epoch_data[order[i : i + batch_size]]
                rec, kl = self.train_step(batch)
                rec_sum += rec * len(batch)
                kl_sum += kl * len(batch)
            rec_mean, kl_mean = float(rec_sum) / n, float(kl_sum) / n
            seconds += time.perf_counter() - start
            if not math.isfinite(rec_mean + kl_mean):
                self.load_state_dict(good)  # the last good weights, and a fresh Adam
                self.optimizer = None
                raise TrainingDiverged(diverged_message(f"epoch {epoch}", kl_mean - rec_mean,
                                                        self.learning_rate))  # fmt: skip
            val_elbo = self._elbo(val.float(), 1000)[0] if val is not None else float("nan")
            row = (epoch, self.updates, kl_mean - rec_mean, rec_mean, kl_mean, val_elbo, seconds)
            for key, value in zip(keys, row, strict=True):
                history[key].append(value)
            bar.set_postfix(rec=f"{rec_mean:.1f}", kl=f"{kl_mean:.1f}")
        bar.close()
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

    # ----------------------------------------------------------------------------------------
    # Saving and loading
    # ----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the architecture, weights and update count to ``path`` (.npz), atomically."""
        arrays = {"format": np.array(FILE_FORMAT), "updates": np.array(self.updates)}
        for key, value in self.config.items():
            arrays[f"config/{key}"] = np.array(value)
        arrays["config/learning_rate"] = np.array(self.learning_rate)
        for name, tensor in self.state_dict().items():
            arrays[f"weights/{name}"] = tensor.detach().cpu().numpy()
        return write_npz(path, arrays, "VAE")

    @staticmethod
    def _read(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
        return read_npz(path, "VAE", file_format=FILE_FORMAT, writer="coursekit.torch.VAE.save")

    @classmethod
    def _saved_config(cls, path: str | os.PathLike[str]) -> dict[str, Any]:
        z = cls._read(path)
        return {k.split("/", 1)[1]: z[k].item() for k in z if k.startswith("config/")}

    def _load_into(self, path: str | os.PathLike[str]) -> VAE:
        """This model, with the weights of the file at ``path`` (same architecture only)."""
        check_config(self._saved_config(path), self.config, path)
        z = self._read(path)
        state = {k.split("/", 1)[1]: torch.from_numpy(v) for k, v in z.items()
                 if k.startswith("weights/")}  # fmt: skip
        missing = sorted(set(self.state_dict()) - set(state))
        if missing:
            raise ValueError(f"{path} lacks the weights {missing} of the VAE its config "
                             "describes: the file is damaged")
        self.load_state_dict(state)
        self.updates = int(z["updates"])
        return self
