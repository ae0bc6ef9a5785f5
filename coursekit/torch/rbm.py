"""A binary-binary restricted Boltzmann machine in PyTorch, trained with CD-k or PCD-k (week 1).

Notation (the lecture's): visible units ``x`` in {0,1}^n_v, hidden units ``h`` in {0,1}^n_h,
weights ``W`` [n_v, n_h], visible bias ``a`` [n_v], hidden bias ``b`` [n_h]::

    E(x, h)         = -a^T x - b^T h - x^T W h
    p(h_j = 1 | x)  = sigma(b_j + x^T W[:, j])
    p(x_i = 1 | h)  = sigma(a_i + W[i, :] h)
    F(x)            = -a^T x - sum_j softplus(b_j + x^T W[:, j])

A batch is a 2-D tensor with one example per row: ``x`` [n, n_v], ``h`` [n, n_h]. Parameters
are float32. The maths follows :mod:`coursekit.reference.rbm` (NumPy, float64) exactly, and the
tests check one against the other::

    from coursekit.torch import RBM
    rbm = RBM(784, 500, k=1, eta=0.05, seed=0)
    history = rbm.fit(x_train, epochs=10)          # x_train: float32 [n, 784] in [0, 1]
    images = rbm.sample(16, steps=1000)            # p(x | h) after 1000 Gibbs steps [16, 784]

**Sampling convention.** A Bernoulli(p) unit is ``(u < p)`` with ``u ~ U[0, 1)``. Every sampler
takes the uniforms ``u`` as an optional argument, which makes the PyTorch, Keras and NumPy
implementations comparable number for number. Otherwise they come from the RBM's own seeded
generator: on the CPU a :class:`coursekit.common.uniforms.UniformStream` (2-3 times faster than
``torch.rand``, whose draws took a third of a training step), on a GPU ``torch.rand``.

**Learning rule** (Hinton 2010, "A practical guide to training restricted Boltzmann machines",
UTML TR 2010-003): with the CD-k / PCD-k gradient estimate ``(dW, da, db)`` of the mean
log-likelihood (uphill),

    vW <- momentum vW + eta (dW - weight_decay W);   W <- W + vW
    va <- momentum va + eta da;                      a <- a + va     (likewise b, vb)

Everything runs without autograd: the parameters do not require gradients and the updates are
in-place tensor operations on preallocated work buffers (the data rows and the chains are
stacked in one [n + m, n_v] buffer, so that both outer products and the momentum are a single
``addmm_`` into ``vW``).
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

from coursekit.checks import check_int, check_seed
from coursekit.common.rbm import BINARIZE_MODES as BINARIZE_MODES  # what fit(binarize=) takes
from coursekit.common.rbm import (
    check_hyperparameter,
    check_hyperparameters,
    check_not_diverged,
    check_training_data,
    check_weights,
    eta_schedule,
    fixed_attribute,
)
from coursekit.common.uniforms import UniformStream
from coursekit.io import read_npz, write_npz
from coursekit.torch.tempering import parallel_tempering

__all__ = ["RBM"]

#: Rows of the training set that ``fit`` monitors when no validation set is given.
MONITOR_ROWS = 1000
#: Tag stored in saved files.
FILE_FORMAT = "coursekit.torch.RBM/1"
# Elements of the [n, block, n_h] temporary of the exact pseudo-log-likelihood.
_PLL_BUDGET = 1 << 22
_HYPERPARAMETERS = (
    "n_visible",
    "n_hidden",
    "k",
    "persistent",
    "n_chains",
    "eta",
    "momentum",
    "weight_decay",
    "init_std",
    "seed",
)

Array = Any  # a NumPy array, a torch tensor or nested lists


def _as_numpy(x: Array) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _is_binary(x: torch.Tensor) -> bool:
    return bool(((x == 0) | (x == 1)).all())


class RBM(nn.Module):
    """Restricted Boltzmann machine with binary visible and hidden units.

    Args:
        n_visible: number of visible units ``n_v`` (784 for MNIST).
        n_hidden: number of hidden units ``n_h``.
        k: Gibbs steps per gradient estimate (CD-k / PCD-k), an int >= 1.
        persistent: False for contrastive divergence (chains start at the data batch), True
            for persistent CD (chains carried over from one update to the next).
        n_chains: number of persistent chains; None uses the size of the first batch.
        eta: step size (learning rate), > 0.
        momentum: in [0, 1).
        weight_decay: L2 penalty on ``W`` (not on the biases), >= 0.
        init_std: ``W ~ N(0, init_std^2)`` at the start; ``a = b = 0`` (Hinton's guide, sec. 8).
        seed: seeds the RBM's ``torch.Generator`` (initial weights, sampling, shuffling,
            binarisation); None draws the seed from torch's global generator, so
            ``coursekit.seed_everything`` still makes runs repeatable.

    Attributes:
        W: weights, float32 [n_v, n_h]. a: visible bias [n_v]. b: hidden bias [n_h].
        vW, va, vb: the momentum "velocities", same shapes.
    """

    def __init__(
        self,
        n_visible: int,
        n_hidden: int,
        *,
        k: int = 1,
        persistent: bool = False,
        n_chains: int | None = None,
        eta: float = 0.05,
        momentum: float = 0.5,
        weight_decay: float = 1e-4,
        init_std: float = 0.01,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        hyper = check_hyperparameters(
            n_visible,
            n_hidden,
            k=k,
            persistent=persistent,
            n_chains=n_chains,
            eta=eta,
            momentum=momentum,
            weight_decay=weight_decay,
            init_std=init_std,
            seed=seed,
        )
        for name in ("n_visible", "n_hidden", "persistent", "n_chains", "init_std", "seed"):
            setattr(self, f"_{name}", hyper[name])  # read-only properties below
        self.k = hyper["k"]
        self.eta = hyper["eta"]
        self.momentum = hyper["momentum"]
        self.weight_decay = hyper["weight_decay"]
        start = self.seed if self.seed is not None else int(torch.randint(0, 2**62, (1,)))
        self._gen = torch.Generator().manual_seed(start)

        n_v, n_h = self.n_visible, self.n_hidden
        W = torch.randn(n_v, n_h, generator=self._gen) * self.init_std
        # Uniforms of the Bernoulli draws on the CPU; seeded from the generator above.
        self._stream = UniformStream(int(torch.randint(0, 2**62, (1,), generator=self._gen)))
        self._work_cache: dict[tuple, tuple[torch.Tensor, ...]] = {}
        self._coef_eta: dict[tuple, float] = {}  # work-buffer key -> the eta its coef holds
        self.W = nn.Parameter(W, requires_grad=False)
        self.a = nn.Parameter(torch.zeros(n_v), requires_grad=False)
        self.b = nn.Parameter(torch.zeros(n_h), requires_grad=False)
        self.register_buffer("vW", torch.zeros(n_v, n_h))
        self.register_buffer("va", torch.zeros(n_v))
        self.register_buffer("vb", torch.zeros(n_h))
        self.register_buffer("chains", None)  # persistent chains [m, n_v], made on first use

    # ----------------------------------------------------------------------------------------
    # Structure (read-only) and hyperparameters (checked when set)
    # ----------------------------------------------------------------------------------------

    n_visible = fixed_attribute("n_visible", "Number of visible units ``n_v`` (read-only).")
    n_hidden = fixed_attribute("n_hidden", "Number of hidden units ``n_h`` (read-only).")
    persistent = fixed_attribute("persistent", "True for PCD-k, False for CD-k (read-only).")
    n_chains = fixed_attribute(
        "n_chains", "Persistent chains asked for (None: the first batch size; read-only)."
    )
    init_std = fixed_attribute("init_std", "Scale of the initial weights (read-only).")
    seed = fixed_attribute("seed", "The seed given at construction, or None (read-only).")

    @property
    def k(self) -> int:
        """Gibbs steps per gradient estimate (int >= 1)."""
        return self._k

    @k.setter
    def k(self, value: int) -> None:
        self._k = check_hyperparameter("k", value)

    @property
    def eta(self) -> float:
        """Step size (> 0)."""
        return self._eta

    @eta.setter
    def eta(self, value: float) -> None:
        self._eta = check_hyperparameter("eta", value)

    @property
    def momentum(self) -> float:
        """Momentum coefficient in [0, 1)."""
        return self._momentum

    @momentum.setter
    def momentum(self, value: float) -> None:
        self._momentum = check_hyperparameter("momentum", value)

    @property
    def weight_decay(self) -> float:
        """L2 weight decay on ``W`` (>= 0)."""
        return self._weight_decay

    @weight_decay.setter
    def weight_decay(self, value: float) -> None:
        self._weight_decay = check_hyperparameter("weight_decay", value)

    def extra_repr(self) -> str:
        kind = f"PCD-{self.k}" if self.persistent else f"CD-{self.k}"
        return (
            f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, {kind}, eta={self.eta:g}, "
            f"momentum={self.momentum:g}, weight_decay={self.weight_decay:g}"
        )

    # ----------------------------------------------------------------------------------------
    # Weights in and out (NumPy)
    # ----------------------------------------------------------------------------------------

    def get_weights(self) -> dict[str, np.ndarray]:
        """Float32 NumPy copies ``{"W": [n_v, n_h], "a": [n_v], "b": [n_h]}``."""
        return {name: getattr(self, name).detach().cpu().numpy().copy() for name in "Wab"}

    def set_weights(
        self, W: Array | None = None, a: Array | None = None, b: Array | None = None
    ) -> None:
        """Overwrite any of ``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h] (shapes checked)."""
        weights = {"W": W, "a": a, "b": b}
        weights = {name: None if v is None else _as_numpy(v) for name, v in weights.items()}
        new = check_weights(self.n_visible, self.n_hidden, **weights)
        for name, arr in new.items():
            getattr(self, name).copy_(torch.from_numpy(arr))

    def init_visible_bias(self, x: Array) -> None:
        """Set ``a_i = log(p_i / (1 - p_i))`` from the pixel means ``p_i`` of ``x`` [n, n_v].

        Then ``p(x_i = 1 | h = 0)`` matches the data's mean (Hinton's guide, sec. 8). The means
        are clipped to [1e-3, 1 - 1e-3] so that always-off pixels get a large negative, not
        infinite, bias. ``x``: float in [0, 1].
        """
        x = check_training_data(_as_numpy(x), self.n_visible, "x")
        p = np.clip(x.mean(axis=0, dtype=np.float64), 1e-3, 1.0 - 1e-3)
        self.set_weights(a=np.log(p / (1.0 - p)))

    @property
    def persistent_chains(self) -> np.ndarray | None:
        """The persistent chains' visible states [m, n_v] (NumPy copy), or None before use.

        Assign a binary array [m, n_v] to set them (``m`` must equal ``n_chains`` if that was
        given), or None to have them drawn afresh at the next PCD update.
        """
        return None if self.chains is None else self.chains.cpu().numpy().copy()

    @persistent_chains.setter
    def persistent_chains(self, value: Array | None) -> None:
        if value is None:
            self.chains = None
            return
        chains = self._tensor(value, "visible", "persistent_chains")
        if not _is_binary(chains):
            raise ValueError("persistent_chains must be binary (every value 0 or 1)")
        if self.n_chains is not None and chains.shape[0] != self.n_chains:
            raise ValueError(
                f"persistent_chains has {chains.shape[0]} rows but n_chains={self.n_chains}"
            )
        self.chains = chains.clone()

    # ----------------------------------------------------------------------------------------
    # Conversions and the random generator
    # ----------------------------------------------------------------------------------------

    def _rng(self) -> torch.Generator:
        """The RBM's generator, on the device of the parameters (moved there when needed)."""
        device = self.W.device
        if self._gen.device != device:
            seed = int(torch.randint(0, 2**62, (1,), generator=self._gen))
            self._gen = torch.Generator(device=device).manual_seed(seed)
        return self._gen

    def _tensor(self, x: Array, layer: str, name: str) -> torch.Tensor:
        """``x`` as float32 [n, n_<layer>] on the parameters' device; ``layer``: visible|hidden."""
        n_cols = self.n_visible if layer == "visible" else self.n_hidden
        t = torch.as_tensor(x)
        if t.ndim != 2:
            raise ValueError(f"{name} must be 2-D [n, n_{layer}], got shape {tuple(t.shape)}")
        if t.shape[1] != n_cols:
            raise ValueError(f"{name} has {t.shape[1]} columns but the RBM has n_{layer}={n_cols}")
        return t.to(device=self.W.device, dtype=torch.float32)

    def _uniforms(
        self, u: Any, steps: int, m: int
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Check ``u = (u_h [steps, m, n_h], u_x [steps, m, n_v])``; None -> ``(None, None)``."""
        if u is None:
            return None, None
        shapes = ((steps, m, self.n_hidden), (steps, m, self.n_visible))
        if not isinstance(u, (tuple, list)) or len(u) != 2:
            raise ValueError(f"uniforms must be a pair (u_h, u_x) with shapes {shapes}")
        out = []
        for value, shape, name in zip(u, shapes, ("u_h", "u_x"), strict=True):
            t = torch.as_tensor(value).to(device=self.W.device, dtype=torch.float32)
            if tuple(t.shape) != shape:
                raise ValueError(f"uniforms: {name} must have shape {shape}, got {tuple(t.shape)}")
            if not bool(((t >= 0) & (t < 1)).all()):
                raise ValueError(f"uniforms: {name} must hold values in [0, 1)")
            out.append(t)
        return out[0], out[1]

    def _uniform(self, shape: tuple[int, ...]) -> torch.Tensor:
        """Fresh float32 uniforms in [0, 1) of ``shape`` on the parameters' device.

        On the CPU from the RBM's :class:`~coursekit.common.uniforms.UniformStream` (one NumPy call,
        no copy), elsewhere from ``torch.rand`` with the RBM's generator.
        """
        device = self.W.device
        if device.type == "cpu":
            return torch.from_numpy(self._stream.draw(math.prod(shape))).view(shape)
        return torch.rand(shape, generator=self._rng(), device=device)

    def _bernoulli(self, p: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """Binary float32 sample ``(u < p)``; ``u ~ U[0, 1)`` from the generator if not given."""
        if u is None:
            return self._uniform(tuple(p.shape)).lt_(p)
        return (u < p).to(p.dtype)

    # ----------------------------------------------------------------------------------------
    # Energies and conditionals
    # ----------------------------------------------------------------------------------------

    def _p_h(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.b, x, self.W).sigmoid_()  # sigma(b + x W)

    def _p_x(self, h: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.a, h, self.W.T).sigmoid_()  # sigma(a + h W^T)

    def _free_energy(self, x: torch.Tensor) -> torch.Tensor:
        return -(x @ self.a) - nnf.softplus(torch.addmm(self.b, x, self.W)).sum(dim=1)

    def p_h(self, x: Array) -> torch.Tensor:
        """``p(h_j = 1 | x) = sigma(b_j + x^T W[:, j])``: ``x`` [n, n_v] -> [n, n_h]."""
        return self._p_h(self._tensor(x, "visible", "x"))

    def p_x(self, h: Array) -> torch.Tensor:
        """``p(x_i = 1 | h) = sigma(a_i + W[i, :] h)``: ``h`` [n, n_h] -> [n, n_v]."""
        return self._p_x(self._tensor(h, "hidden", "h"))

    def energy(self, x: Array, h: Array) -> torch.Tensor:
        """``E(x, h) = -a^T x - b^T h - x^T W h`` per row: ``x`` [n, n_v], ``h`` [n, n_h] -> [n]."""
        x = self._tensor(x, "visible", "x")
        h = self._tensor(h, "hidden", "h")
        if x.shape[0] != h.shape[0]:
            raise ValueError(f"x and h must have the same number of rows, got {len(x)}, {len(h)}")
        return -(x @ self.a) - (h @ self.b) - ((x @ self.W) * h).sum(dim=1)

    def free_energy(self, x: Array) -> torch.Tensor:
        """``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])``: ``x`` [n, n_v] -> [n]."""
        return self._free_energy(self._tensor(x, "visible", "x"))

    # ----------------------------------------------------------------------------------------
    # Sampling
    # ----------------------------------------------------------------------------------------

    def sample_h(self, x: Array, u: Array | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(p_h [n, n_h], h [n, n_h])`` with ``h = (u < p(h | x))``; ``u`` [n, n_h] optional."""
        p = self.p_h(x)
        return p, self._bernoulli(p, self._single_uniform(u, p.shape))

    def sample_x(self, h: Array, u: Array | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(p_x [n, n_v], x [n, n_v])`` with ``x = (u < p(x | h))``; ``u`` [n, n_v] optional."""
        p = self.p_x(h)
        return p, self._bernoulli(p, self._single_uniform(u, p.shape))

    def _single_uniform(self, u: Array | None, shape: torch.Size) -> torch.Tensor | None:
        if u is None:
            return None
        t = torch.as_tensor(u).to(device=self.W.device, dtype=torch.float32)
        if t.shape != shape:
            raise ValueError(f"u must have shape {tuple(shape)}, got {tuple(t.shape)}")
        return t

    def gibbs(
        self,
        x0: Array,
        steps: int,
        *,
        u: Any = None,
        return_chain: bool = False,
        every: int = 1,
    ) -> torch.Tensor | tuple[torch.Tensor, np.ndarray]:
        """Run ``steps`` block-Gibbs steps ``x -> h ~ p(h|x) -> x ~ p(x|h)`` from ``x0`` [n, n_v].

        Args:
            x0: start states [n, n_v] (binary, or probabilities used as given).
            steps: number of Gibbs steps (>= 0).
            u: optional uniforms ``(u_h [steps, n, n_h], u_x [steps, n, n_v])``.
            return_chain: also return the "mean images" ``p(x | h)`` after steps ``every``,
                ``2 every``, ... as a NumPy array [steps // every, n, n_v].
            every: snapshot spacing (int >= 1).

        Returns:
            The final binary states ``x`` [n, n_v] (a tensor), and with ``return_chain`` the
            snapshots.
        """
        x = self._tensor(x0, "visible", "x0")
        steps = check_int(steps, "steps", 0)
        every = check_int(every, "every", 1)
        u_h, u_x = self._uniforms(u, steps, x.shape[0])
        if return_chain and steps and every > steps:
            raise ValueError(
                f"every (snapshot interval) must be <= steps={steps} to take a snapshot, "
                f"got {every}"
            )
        snapshots = []
        for s in range(steps):
            h = self._bernoulli(self._p_h(x), None if u_h is None else u_h[s])
            p_x = self._p_x(h)
            x = self._bernoulli(p_x, None if u_x is None else u_x[s])
            if return_chain and (s + 1) % every == 0:
                snapshots.append(p_x)
        if not return_chain:
            return x
        if not snapshots:
            return x, np.zeros((0, x.shape[0], self.n_visible), dtype=np.float32)
        return x, torch.stack(snapshots).cpu().numpy()

    def sample(
        self,
        n: int,
        *,
        steps: int,
        start: str | Array = "noise",
        every: int | None = None,
        u: Any = None,
    ) -> np.ndarray:
        """Draw ``n`` samples by running Gibbs chains for ``steps`` steps.

        Args:
            n: number of chains.
            steps: Gibbs steps (>= 1).
            start: ``"noise"`` (each visible unit Bernoulli(0.5)) or a binary array [n, n_v] to
                start from (e.g. test images).
            every: None to return the last step only; else the snapshot spacing, an int in
                [1, steps].
            u: optional uniforms ``(u_h [steps, n, n_h], u_x [steps, n, n_v])``.

        Returns:
            ``p(x | h)`` of the last step, float32 [n, n_v], or with ``every`` the snapshots
            [steps // every, n, n_v].

        Raises:
            ValueError: a bad argument, e.g. ``every=0`` or ``every > steps``.
        """
        n = check_int(n, "n", 1)
        steps = check_int(steps, "steps", 1)
        if every is not None:
            every = check_int(every, "every", 1)
            if every > steps:
                raise ValueError(
                    f"every (snapshot interval) must be <= steps={steps}, got {every}; "
                    "use every=None for the last step only"
                )
        if isinstance(start, str):
            if start != "noise":
                raise ValueError(f"start must be 'noise' or an array [n, n_v], got {start!r}")
            p = torch.full((n, self.n_visible), 0.5, device=self.W.device)
            x0 = self._bernoulli(p)
        else:
            x0 = self._tensor(start, "visible", "start")
            if x0.shape[0] != n:
                raise ValueError(f"start has {x0.shape[0]} rows but n={n}")
            if not _is_binary(x0):
                raise ValueError("start must be binary (every value 0 or 1)")
        _, chain = self.gibbs(x0, steps, u=u, return_chain=True, every=every or steps)
        return chain[-1] if every is None else chain

    # ----------------------------------------------------------------------------------------
    # Learning
    # ----------------------------------------------------------------------------------------

    def _start_chains(self, m: int) -> torch.Tensor:
        """The persistent chains, drawn as Bernoulli(0.5) noise on first use."""
        if self.chains is None:
            m = self.n_chains or m
            p = torch.full((m, self._n_visible), 0.5, device=self.W.device)
            self.chains = self._bernoulli(p)
        return self.chains

    def _n_chains_for(self, n: int) -> int:
        """Chains of an update on a batch of ``n`` rows: ``n`` (CD) or the persistent ones."""
        return self._start_chains(n).shape[0] if self._persistent else n

    def _work(self, n: int, m: int) -> tuple[torch.Tensor, ...]:
        """Work buffers of an update with ``n`` data rows and ``m`` chains (reused).

        ``X`` [n + m, n_v]: the data rows, then the chains' states; ``P`` [n + m, n_h]: their
        ``p(h | x)``; ``H`` [m, n_h]: sampled hidden states; ``PX`` [m, n_v]: ``p(x | h)``;
        ``coef`` [n + m] and ``ones`` [n + m]: per-row factors of the update (see :meth:`_step`);
        last, a dict of views of them that every update uses (made once: a view costs a few
        microseconds, a batch only a couple of milliseconds).
        """
        key = (n, m, self.W.device)
        bufs = self._work_cache.get(key)
        if bufs is None:
            if len(self._work_cache) > 3:  # e.g. a smaller last batch: keep only a few
                self._work_cache.clear()
                self._coef_eta.clear()
            new = {"device": self.W.device}
            bufs = (
                torch.empty(n + m, self._n_visible, **new),
                torch.empty(n + m, self._n_hidden, **new),
                torch.empty(m, self._n_hidden, **new),
                torch.empty(m, self._n_visible, **new),
                torch.empty(n + m, **new),
                torch.ones(n + m, **new),
            )
            X, P, coef = bufs[0], bufs[1], bufs[4]
            views = {
                "data": X[:n], "chain": X[n:], "p_data": P[:n], "p_chain": P[n:],
                "X_T": X.T, "P_T": P.T, "coef_col": coef[:, None],
            }  # fmt: skip
            bufs = (*bufs, views)
            self._work_cache[key] = bufs
        return bufs

    def _statistics(
        self,
        x: torch.Tensor,
        u_h: torch.Tensor | None = None,
        u_x: torch.Tensor | None = None,
        bufs: tuple[torch.Tensor, ...] | None = None,
        WT: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The sufficient statistics of CD-k / PCD-k for a binary batch ``x`` [n, n_v].

        Args:
            x: the batch (it may already be the first ``n`` rows of the work buffer ``X``).
            u_h, u_x: uniforms [k, m, n_h] and [k, m, n_v] (step ``s`` uses ``u_h[s]`` for
                ``h``, then ``u_x[s]`` for ``x``; a list of ``k`` such [m, n_*] views will
                do), or None to draw them (one draw for all).
            bufs: the work buffers ``self._work(n, m)`` when the caller has them already.
            WT: the view ``W.T`` when the caller has it already (the training loop makes it
                once per epoch).

        Returns:
            ``(X [n + m, n_v], P [n + m, n_h], p_x_1)``: ``X[:n]`` the data and ``X[n:]`` the
            chain ends ``x_k`` after ``k`` sampled Gibbs steps, ``P`` their ``p(h | x)``, and
            ``p_x_1`` [m, n_v] = ``p(x | h_1)`` of the first step (a reconstruction of the data
            for CD; None for PCD). ``X`` and ``P`` are work buffers, overwritten by the next
            call. Advances and stores the persistent chains.
        """
        n, n_h = x.shape[0], self._n_hidden
        if bufs is None:
            bufs = self._work(n, self._n_chains_for(n))
        X, P, H, PX = bufs[:4]
        views = bufs[6]
        m = X.shape[0] - n
        if x.data_ptr() != X.data_ptr():
            views["data"].copy_(x)
        W, a, b = self.W, self.a, self.b
        if WT is None:
            WT = W.T
        chain, p_chain = views["chain"], views["p_chain"]
        if self._persistent:
            if self.chains.data_ptr() != chain.data_ptr():
                # The chains move into the work buffer and live there from now on: the Gibbs
                # steps below advance them in place (no copy in and out per update).
                chain.copy_(self.chains)
                self.chains = chain
            p_h = torch.addmm(b, X, W, out=P).sigmoid_()[n:]  # data and chains: one GEMM
        else:  # the chains start at the data
            p_h = torch.addmm(b, views["data"], W, out=views["p_data"]).sigmoid_()
        if u_h is None or u_x is None:
            u = self._uniform((self._k, m, n_h + self._n_visible))
            u_h, u_x = u[..., :n_h], u[..., n_h:]
        p_x_1 = None
        for s in range(self._k):
            torch.lt(u_h[s], p_h, out=H)  # h ~ p(h | x)
            torch.addmm(a, H, WT, out=PX).sigmoid_()  # p(x | h)
            torch.lt(u_x[s], PX, out=chain)  # x ~ p(x | h)
            p_h = torch.addmm(b, chain, W, out=p_chain).sigmoid_()
            if s == 0 and not self._persistent:
                p_x_1 = PX if self._k == 1 else PX.clone()
        return X, P, p_x_1

    def gradient(
        self, x: Array, *, uniforms: Any = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """CD-k (or PCD-k) estimate of the mean log-likelihood gradient (uphill).

        ``dW = <x p(h|x)^T>_data - <x_k p(h|x_k)^T>_chains``, ``da = <x>_data - <x_k>_chains``,
        ``db = <p(h|x)>_data - <p(h|x_k)>_chains``, as :func:`coursekit.reference.rbm.cd_gradient`.

        Args:
            x: binary batch [n, n_v].
            uniforms: optional ``(u_h [k, m, n_h], u_x [k, m, n_v])``, ``m`` = n (CD) or the
                number of persistent chains (PCD).

        Returns:
            ``(dW [n_v, n_h], da [n_v], db [n_h])``. ``W, a, b`` are not changed; persistent
            chains are advanced.
        """
        x = self._tensor(x, "visible", "x")
        u_h, u_x = self._uniforms(uniforms, self.k, self._n_chains_for(x.shape[0]))
        X, P, _ = self._statistics(x, u_h, u_x)
        n = x.shape[0]
        m = X.shape[0] - n
        dW = X[:n].T @ P[:n] / n - X[n:].T @ P[n:] / m
        da = X[:n].mean(dim=0) - X[n:].mean(dim=0)
        db = P[:n].mean(dim=0) - P[n:].mean(dim=0)
        return dW, da, db

    def update(self, x: Array, *, uniforms: Any = None) -> dict[str, torch.Tensor]:
        """One learning step on the binary batch ``x`` [n, n_v] (momentum, weight decay).

        ``vW <- momentum vW + eta (dW - weight_decay W)``, ``W <- W + vW``; the biases
        likewise without decay. ``uniforms`` as in :meth:`gradient`. Only the shape of ``x``
        is checked (no look at its values, to stay fast).

        Returns:
            For CD, ``{"recon_error": e}``: the batch's mean squared error of the one-step
            reconstruction ``p(x | h_1)``, ``h_1 ~ p(h | x)``, a 0-d tensor computed from
            quantities at hand (``float(e)`` reads it). For PCD, ``{}``.
        """
        x = self._tensor(x, "visible", "x")
        u_h, u_x = self._uniforms(uniforms, self.k, self._n_chains_for(x.shape[0]))
        p_x_1 = self._step(x, u_h, u_x)
        if p_x_1 is None:
            return {}
        return {"recon_error": (x - p_x_1).square_().sum(dim=1).mean()}

    def _step(
        self,
        x: torch.Tensor,
        u_h: torch.Tensor | None = None,
        u_x: torch.Tensor | None = None,
        bufs: tuple[torch.Tensor, ...] | None = None,
        WT: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """The update on a float32 batch already on the device; returns ``p_x_1``.

        With ``c = eta/n`` on the data rows and ``-eta/m`` on the chain rows of ``X`` and ``P``
        (see :meth:`_statistics`), ``eta (dW)`` is ``X^T (c * P)``: one GEMM that also applies
        the momentum (``beta``). Likewise ``eta (da) = X^T c`` and ``eta (db) = (c * P)^T 1``.
        """
        n = x.shape[0]
        if bufs is None:
            bufs = self._work(n, self._n_chains_for(n))
        X, P, p_x_1 = self._statistics(x, u_h, u_x, bufs, WT)
        m = X.shape[0] - n
        eta, momentum = self._eta, self._momentum
        coef, ones = bufs[4:6]
        key = (n, m, coef.device)
        if self._coef_eta.get(key) != eta:  # refilled only when eta changes
            coef[:n].fill_(eta / n)
            coef[n:].fill_(-eta / m)
            self._coef_eta[key] = eta
        views = bufs[6]
        P.mul_(views["coef_col"])
        W, vW, weight_decay = self.W, self.vW, self._weight_decay
        # vW <- momentum vW + eta (<x p_h^T>_data - <x_k p_h^T>_model - weight_decay W)
        vW.addmm_(views["X_T"], P, beta=momentum)
        if weight_decay:
            vW.add_(W, alpha=-eta * weight_decay)
        W.add_(vW)
        self.a.add_(self.va.addmv_(views["X_T"], coef, beta=momentum))
        self.b.add_(self.vb.addmv_(views["P_T"], ones, beta=momentum))
        return p_x_1

    # ----------------------------------------------------------------------------------------
    # Training loop
    # ----------------------------------------------------------------------------------------

    def _data(self, x: Array, name: str, binarize: str | None = "dynamic") -> torch.Tensor:
        """Training-like data, checked by :func:`~coursekit.common.rbm.check_training_data`,
        as a float32 tensor on the parameters' device."""
        arr = check_training_data(_as_numpy(x), self.n_visible, name, binarize)
        return torch.from_numpy(arr).to(self.W.device)

    def _train_epoch(
        self, data: torch.Tensor, batch_size: int, shuffle: bool, dynamic: bool
    ) -> None:
        """One pass over ``data`` [N, n_v] in minibatches (a fresh random order if ``shuffle``).

        Each batch is one ``index_select`` of its rows (cheaper than reordering all of ``data``
        while it is still in the cache), and dynamic binarisation one comparison per batch.
        A batch's uniforms are one draw, into a buffer whose views are made once per batch
        size (and ``W.T`` once per epoch): a view costs a few microseconds, a batch only a few
        milliseconds.
        """
        if shuffle:
            order = torch.randperm(len(data), generator=self._rng(), device=data.device)
        else:
            order = torch.arange(len(data), device=data.device)
        WT = self.W.T
        size = plan = None
        for rows in order.split(batch_size):
            if rows.shape[0] != size:  # the first batch, or a smaller last one
                size = rows.shape[0]
                plan = self._batch_plan(size, dynamic)
            bufs, x, fill, u, u_data, u_h, u_x = plan
            torch.index_select(data, 0, rows, out=x)  # the batch, straight into the buffer
            fill(u)  # one draw for all the batch's uniforms
            if dynamic:  # x_i ~ Bernoulli(intensity_i), fresh every epoch
                x.gt_(u_data)
            self._step(x, u_h, u_x, bufs, WT)

    def _batch_plan(self, n: int, dynamic: bool) -> tuple:
        """What the training loop reuses for every batch of ``n`` rows.

        Returns ``(bufs, x, fill, u, u_data, u_h, u_x)``: the work buffers, ``x`` the batch's
        rows in them, ``fill(u)`` a refill of the uniform buffer ``u`` [n n_v dynamic +
        k m (n_h + n_v)] (the next numbers of the RBM's stream on the CPU; ``torch.rand``
        elsewhere), and its views: ``u_data`` [n, n_v] (dynamic binarisation, or None) and,
        for each Gibbs step ``s``, ``u_h[s]`` [m, n_h] and ``u_x[s]`` [m, n_v].
        """
        n_v, n_h, k = self._n_visible, self._n_hidden, self._k
        m = self._n_chains_for(n)
        bufs = self._work(n, m)
        size = n * n_v * dynamic + k * m * (n_h + n_v)
        device = self.W.device
        if device.type == "cpu":
            host = np.empty(size, dtype=np.float32)
            u = torch.from_numpy(host)

            def fill(_: torch.Tensor, draw=self._stream.draw, host=host, size=size) -> None:
                draw(size, out=host)

        else:
            u = torch.empty(size, device=device)
            generator = self._rng()

            def fill(target: torch.Tensor, gen=generator) -> None:
                torch.rand(target.shape, generator=gen, device=target.device, out=target)

        u_data = u[: n * n_v].view(n, n_v) if dynamic else None
        steps = u[n * n_v * dynamic :].view(k, m, n_h + n_v)
        u_h = [steps[s, :, :n_h] for s in range(k)]
        u_x = [steps[s, :, n_h:] for s in range(k)]
        return bufs, bufs[6]["data"], fill, u, u_data, u_h, u_x

    def _check_finite(self, epoch: int) -> None:
        """Stop with a message when W, a or b hold NaN/inf or have exploded."""
        largest = torch.stack([t.detach().abs().max() for t in (self.W, self.a, self.b)])
        check_not_diverged(dict(zip("Wab", largest.cpu().tolist(), strict=True)), epoch, self.eta)

    def fit(
        self,
        x: Array,
        *,
        epochs: int,
        batch_size: int = 100,
        binarize: str | None = "dynamic",
        shuffle: bool = True,
        validation: Array | None = None,
        monitor_every: int | None = 1,
        progress: bool = True,
        seed: int | None = None,
        eta_final: float | None = None,
    ) -> dict[str, list[float]]:
        """Train with CD-k / PCD-k on ``x`` [n, n_v] (float in [0, 1]) for ``epochs`` epochs.

        Args:
            x: training data, float [n, n_v] in [0, 1] (not uint8: see ``ck.data.to_float``).
            epochs: passes over the data.
            batch_size: rows per update (the last batch may be smaller).
            binarize: ``"dynamic"`` (each pixel 1 with probability its intensity, drawn anew
                every epoch), ``"static"`` (``x >= 0.5``), or None (``x`` must be 0/1 already).
            shuffle: reshuffle the rows every epoch.
            validation: optional data [n_val, n_v] in [0, 1] to monitor; otherwise a fixed
                random subset of at most 1,000 training rows. Monitored rows are binarised
                statically (``>= 0.5``) so that epochs are comparable.
            monitor_every: monitor after every ``monitor_every``-th epoch and after the last;
                0 or None: no monitoring (the monitors are NaN in the history, one entry per
                epoch), as the Keras RBM.
            progress: show a tqdm bar over epochs.
            seed: if given, reseeds the RBM's generator first (shuffling, binarisation, Gibbs
                sampling), so that a fresh RBM and ``fit`` with the same seeds repeat exactly.
            eta_final: None keeps the step size ``eta``; a number >= 0 decays it linearly
                from ``eta`` to ``eta_final`` over the epochs (epoch ``e`` uses the schedule's
                value at its midpoint, see ``common.rbm.eta_schedule``). ``eta`` is the
                schedule's start and is restored when ``fit`` returns.

        Returns:
            History, one entry per monitored epoch: ``"epoch"`` (1-based), ``"recon_error"``
            (mean-field reconstruction error, as ``reference.reconstruction_error``),
            ``"pll"`` (stochastic pseudo-log-likelihood, one flipped bit per row, the same
            bits every epoch), ``"seconds"`` (cumulative training time, monitoring excluded).

        Raises:
            ValueError: bad data or arguments. FloatingPointError: training diverged: the
            parameters became NaN or inf or grew beyond ``common.rbm.EXPLODED`` (checked after
            every epoch), or a monitor is not finite; the message suggests a smaller ``eta``.
        """
        epochs = check_int(epochs, "epochs", 1)
        batch_size = check_int(batch_size, "batch_size", 1)
        monitor_every = 0 if monitor_every is None else monitor_every
        monitor_every = check_int(monitor_every, "monitor_every", 0)
        etas = eta_schedule(self.eta, eta_final, epochs)
        data = self._data(x, "x", binarize)
        seed = check_seed(seed)
        if seed is not None:
            self._gen = torch.Generator(device=self.W.device).manual_seed(seed)
            self._stream = UniformStream(seed)
        gen = self._rng()
        device = self.W.device

        if binarize == "static":
            data = (data >= 0.5).float()
        if validation is not None:
            monitor = self._data(validation, "validation")
        else:
            rows = torch.randperm(len(data), generator=gen, device=device)[:MONITOR_ROWS]
            monitor = data[rows.sort().values]
        monitor = (monitor >= 0.5).float()
        pll_seed = int(torch.randint(0, 2**62, (1,), generator=gen, device=device))

        history: dict[str, list[float]] = {"epoch": [], "recon_error": [], "pll": [], "seconds": []}
        seconds = 0.0
        bar = tqdm(range(1, epochs + 1), desc="RBM", unit="epoch", disable=not progress)
        eta_start = self.eta
        try:
            for epoch in bar:
                if etas is not None:
                    self.eta = etas[epoch - 1]
                start = time.perf_counter()
                self._train_epoch(data, batch_size, bool(shuffle), binarize == "dynamic")
                self._check_finite(epoch)  # also waits for the device to finish the epoch
                seconds += time.perf_counter() - start
                if not monitor_every:
                    recon = pll = float("nan")
                elif epoch % monitor_every and epoch != epochs:
                    continue
                else:
                    pll_gen = torch.Generator(device=device).manual_seed(pll_seed)
                    recon = self._reconstruction_error(monitor)
                    pll = self._pll_stochastic(monitor, pll_gen)
                    monitors = {"recon_error": recon, "pll": pll}
                    check_not_diverged(monitors, epoch, self.eta, math.inf)
                    bar.set_postfix(recon=f"{recon:.3g}", pll=f"{pll:.4g}")
                for key, value in zip(history, (epoch, recon, pll, seconds), strict=True):
                    history[key].append(value)
        finally:
            self.eta = eta_start
        bar.close()
        return history

    # ----------------------------------------------------------------------------------------
    # Monitoring
    # ----------------------------------------------------------------------------------------

    def _reconstruction_error(self, x: torch.Tensor) -> float:
        r = self._p_x(self._p_h(x))
        return float((x - r).square_().sum(dim=1).mean())

    def _pll_stochastic(self, x: torch.Tensor, gen: torch.Generator) -> float:
        n, n_v = x.shape
        i = torch.randint(0, n_v, (n,), generator=gen, device=x.device)
        rows = torch.arange(n, device=x.device)
        x_flip = x.clone()
        x_flip[rows, i] = 1.0 - x_flip[rows, i]
        delta = self._free_energy(x_flip) - self._free_energy(x)  # log p(x) - log p(x~)
        return n_v * float(nnf.logsigmoid(delta).mean())

    def _pll_exact(self, x: torch.Tensor) -> float:
        c = torch.addmm(self.b, x, self.W)  # [n, n_h] hidden input b + x W
        softplus_c = nnf.softplus(c).sum(dim=1)
        d = 1.0 - 2.0 * x  # +1 turns a 0 on, -1 turns a 1 off
        n, n_v = x.shape
        block = max(1, _PLL_BUDGET // max(1, n * self.n_hidden))
        total = torch.zeros(n, dtype=torch.float64, device=x.device)
        for i0 in range(0, n_v, block):
            sl = slice(i0, min(i0 + block, n_v))
            c_flip = c[:, None, :] + d[:, sl, None] * self.W[None, sl, :]  # [n, block, n_h]
            delta = -d[:, sl] * self.a[sl] + softplus_c[:, None] - nnf.softplus(c_flip).sum(2)
            total += nnf.logsigmoid(delta).sum(dim=1)
        return float(total.mean())

    def reconstruct(self, x: Array) -> np.ndarray:
        """Mean-field reconstruction ``p(x | h = p(h | x))``: ``x`` [n, n_v] in [0, 1] -> NumPy."""
        x = self._data(x, "x")
        return self._p_x(self._p_h(x)).cpu().numpy()

    def reconstruction_error(self, x: Array) -> float:
        """``(1/n) sum_rows sum_i (x_i - r_i)^2`` with ``r`` = :meth:`reconstruct` ``(x)``."""
        x = self._data(x, "x")
        return self._reconstruction_error(x)

    def pseudo_log_likelihood(self, x: Array, *, exact: bool = False) -> float:
        """Mean pseudo-log-likelihood of the binary rows of ``x`` [n, n_v].

        ``exact=False``: one random bit per row, scaled by n_v (scikit-learn's
        ``BernoulliRBM.score_samples``; draws from the RBM's generator). ``exact=True``: the
        sum over all bits, as ``reference.pseudo_log_likelihood``.
        """
        x = self._data(x, "x", binarize=None)
        return self._pll_exact(x) if exact else self._pll_stochastic(x, self._rng())

    # ----------------------------------------------------------------------------------------
    # Saving and loading
    # ----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write weights, velocities, persistent chains, hyperparameters to ``path`` (.npz).

        Written atomically (a temporary file beside ``path`` is renamed over it), to exactly
        ``path`` (no ``.npz`` is appended). Returns the path. An error names ``path``.
        """
        arrays: dict[str, np.ndarray] = {"format": np.array(FILE_FORMAT)}
        for name in ("W", "a", "b", "vW", "va", "vb"):
            arrays[name] = getattr(self, name).detach().cpu().numpy()
        if self.chains is not None:
            arrays["persistent_chains"] = self.chains.cpu().numpy()
        for name in _HYPERPARAMETERS:
            value = getattr(self, name)
            arrays[name] = np.array(-1 if value is None else value)
        if self._gen.device.type == "cpu":
            arrays["rng_state"] = self._gen.get_state().numpy()
        arrays["uniform_state"] = np.array(self._stream.state)
        return write_npz(path, arrays, "RBM")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RBM:
        """Restore an RBM written by :meth:`save` (on the CPU; ``.to(device)`` moves it).

        Raises:
            FileNotFoundError: nothing at ``path``.
            ValueError: not a file written by :meth:`save` (another format, a ``.npy`` array,
                other bytes, an incomplete file); the message names the file and what was
                expected.
        """
        path = Path(path)
        z = read_npz(path, "RBM", file_format=FILE_FORMAT, writer="coursekit.torch.RBM.save")
        try:
            hyper = {name: z[name].item() for name in _HYPERPARAMETERS}
            for name in ("n_chains", "seed"):
                hyper[name] = None if hyper[name] == -1 else hyper[name]
            rbm = cls(hyper.pop("n_visible"), hyper.pop("n_hidden"), **hyper)
            rbm.set_weights(W=z["W"], a=z["a"], b=z["b"])
            for name in ("vW", "va", "vb"):
                velocity = getattr(rbm, name)
                velocity.copy_(torch.from_numpy(z[name]).reshape(velocity.shape))
            if "persistent_chains" in z:
                rbm.persistent_chains = z["persistent_chains"]
            if "rng_state" in z:
                rbm._gen.set_state(torch.from_numpy(z["rng_state"]))
            if "uniform_state" in z:
                rbm._stream.state = str(z["uniform_state"])
        except (KeyError, ValueError, TypeError, RuntimeError) as err:
            raise ValueError(
                f"the RBM file {path} is incomplete or inconsistent: {err} (expected a file "
                "written by coursekit.torch.RBM.save)"
            ) from err
        return rbm

    # ----------------------------------------------------------------------------------------
    # Parallel tempering (coursekit.torch.tempering)
    # ----------------------------------------------------------------------------------------

    def sample_tempered(
        self,
        n: int,
        *,
        steps: int,
        betas: Any = None,
        base_a: Any = None,
        start: Any = "noise",
        every: int | None = None,
        seed: int | None = None,
    ) -> Any:
        """``n`` samples by parallel tempering: see
        :func:`coursekit.torch.tempering.parallel_tempering` (returns a ``TemperingResult``:
        ``.samples`` [n, n_v] or snapshots, ``.betas``, ``.swap_rates``)."""
        return parallel_tempering(
            self, n, steps=steps, betas=betas, base_a=base_a, start=start, every=every, seed=seed
        )
