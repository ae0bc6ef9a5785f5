"""A binary-binary restricted Boltzmann machine in PyTorch, trained with CD-k or PCD-k (week 1).

Notation (the lecture's): visible units ``x`` in {0,1}^n_v, hidden units ``h`` in {0,1}^n_h,
weights ``W`` [n_v, n_h], visible bias ``a`` [n_v], hidden bias ``b`` [n_h]::

    E(x, h)         = -a^T x - b^T h - x^T W h
    p(h_j = 1 | x)  = sigma(b_j + x^T W[:, j])
    p(x_i = 1 | h)  = sigma(a_i + W[i, :] h)
    F(x)            = -a^T x - sum_j softplus(b_j + x^T W[:, j])

Batches are float32 rows: ``x`` [n, n_v], ``h`` [n, n_h]. The maths is that of
:mod:`coursekit.reference.rbm` (NumPy), which the tests check it against::

    rbm = RBM(784, 500, k=1, eta=0.05, seed=0)
    history = rbm.fit(x_train, epochs=10)          # x_train: float32 [n, 784] in [0, 1]
    images = rbm.sample(16, steps=1000)            # p(x | h) after 1000 Gibbs steps [16, 784]

A Bernoulli(p) unit is ``(u < p)``, ``u ~ U[0, 1)``; every sampler takes the uniforms as an
optional argument (to compare implementations number for number), else draws them from the
RBM's seeded generator. **The algorithm** is :meth:`RBM.gradient` (CD-k / PCD-k) and
:meth:`RBM.update` (Hinton's momentum rule, UTML TR 2010-003); :meth:`RBM.fit` runs that update
through the fast path :mod:`coursekit.torch.rbm_fast`, or with ``fast=False`` through
:meth:`RBM.update`. No autograd: the parameters do not require gradients.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as nnf

from coursekit.checks import check_bool, check_seed, to_numpy
from coursekit.common import rbm as common  # the framework-free checks
from coursekit.common import rbm_fit  # fit's epoch loop and checkpoints
from coursekit.common.rbm import BINARIZE_MODES as BINARIZE_MODES  # what fit(binarize=) takes
from coursekit.common.rbm import fixed_attribute, tunable_attribute
from coursekit.common.uniforms import (
    UniformStream,
    batch_uniform_count,
    check_gibbs_uniforms,
    check_uniform,
    split_batch_uniforms,
)
from coursekit.torch.rbm_fast import FastPath
from coursekit.torch.rbm_file import FILE_FORMAT as FILE_FORMAT  # the saved file's tag
from coursekit.torch.rbm_file import TorchRBMFile
from coursekit.torch.tempering import parallel_tempering

__all__ = ["RBM"]

_PLL_BUDGET = 1 << 22  # elements of the [n, block, n_h] temporary of the exact PLL

Array = Any  # a NumPy array, a torch tensor or nested lists
Tensor = torch.Tensor


class RBM(TorchRBMFile, nn.Module):
    """Restricted Boltzmann machine with binary visible and hidden units.

    Args:
        n_visible, n_hidden: numbers of visible and hidden units ``n_v``, ``n_h``.
        k: Gibbs steps per gradient estimate (CD-k / PCD-k), an int >= 1.
        persistent: False: contrastive divergence (the chains start at the data batch); True:
            persistent CD (the chains carry over from one update to the next).
        n_chains: number of persistent chains; None uses the size of the first batch.
        eta: step size, > 0. momentum: in [0, 1). weight_decay: L2 penalty on ``W``, >= 0.
        init_std: ``W ~ N(0, init_std^2)`` at the start; ``a = b = 0`` (Hinton's guide, sec. 8).
        seed: seeds the RBM's ``torch.Generator``; None draws the seed from torch's global
            generator (so ``coursekit.seed_everything`` still makes runs repeatable).

    Attributes: ``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h] (float32); ``vW, va, vb`` velocities.
    """

    def __init__(
        self, n_visible: int, n_hidden: int, *, k: int = 1, persistent: bool = False,
        n_chains: int | None = None, eta: float = 0.05, momentum: float = 0.5,
        weight_decay: float = 1e-4, init_std: float = 0.01, seed: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        hyper = common.check_hyperparameters(
            n_visible, n_hidden, k=k, persistent=persistent, n_chains=n_chains, eta=eta,
            momentum=momentum, weight_decay=weight_decay, init_std=init_std, seed=seed,
        )  # fmt: skip
        for name, value in hyper.items():
            setattr(self, f"_{name}", value)  # read through the properties below
        start = self.seed if self.seed is not None else int(torch.randint(0, 2**62, (1,)))
        self._gen = torch.Generator().manual_seed(start)
        n_v, n_h = self.n_visible, self.n_hidden
        W = torch.randn(n_v, n_h, generator=self._gen) * self.init_std
        # Uniforms of the Bernoulli draws on the CPU; seeded from the generator above.
        self._stream = UniformStream(int(torch.randint(0, 2**62, (1,), generator=self._gen)))
        self._fast = FastPath(self)  # fit's training loop, with its work buffers
        self.W = nn.Parameter(W, requires_grad=False)
        self.a = nn.Parameter(torch.zeros(n_v), requires_grad=False)
        self.b = nn.Parameter(torch.zeros(n_h), requires_grad=False)
        self.register_buffer("vW", torch.zeros(n_v, n_h))
        self.register_buffer("va", torch.zeros(n_v))
        self.register_buffer("vb", torch.zeros(n_h))
        self.register_buffer("chains", None)  # persistent chains [m, n_v], made on first use

    # --- Structure (read-only) and hyperparameters (checked when set) ------------------------
    n_visible = fixed_attribute("n_visible", "Number of visible units ``n_v`` (read-only).")
    n_hidden = fixed_attribute("n_hidden", "Number of hidden units ``n_h`` (read-only).")
    persistent = fixed_attribute("persistent", "True for PCD-k, False for CD-k (read-only).")
    n_chains = fixed_attribute("n_chains", "Persistent chains (None: the first batch size).")
    init_std = fixed_attribute("init_std", "Scale of the initial weights (read-only).")
    seed = fixed_attribute("seed", "The seed given at construction, or None (read-only).")
    k = tunable_attribute("k", "Gibbs steps per gradient estimate (int >= 1).")
    eta = tunable_attribute("eta", "Step size (> 0).")
    momentum = tunable_attribute("momentum", "Momentum coefficient in [0, 1).")
    weight_decay = tunable_attribute("weight_decay", "L2 weight decay on ``W`` (>= 0).")

    def extra_repr(self) -> str:
        kind = f"PCD-{self.k}" if self.persistent else f"CD-{self.k}"
        return (f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, {kind}, eta={self.eta:g}, "
                f"momentum={self.momentum:g}, weight_decay={self.weight_decay:g}")  # fmt: skip

    # --- Weights and chains in and out (NumPy) ------------------------------------------------
    def get_weights(self) -> dict[str, np.ndarray]:
        """Float32 NumPy copies ``{"W": [n_v, n_h], "a": [n_v], "b": [n_h]}``."""
        return {name: to_numpy(getattr(self, name)).copy() for name in "Wab"}

    def set_weights(self, W: Array = None, a: Array = None, b: Array = None) -> None:
        """Overwrite any of ``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h] (shapes checked)."""
        weights = {"W": W, "a": a, "b": b}
        weights = {name: None if v is None else to_numpy(v) for name, v in weights.items()}
        for name, arr in common.check_weights(self.n_visible, self.n_hidden, **weights).items():
            getattr(self, name).copy_(torch.from_numpy(arr))

    def init_visible_bias(self, x: Array) -> None:
        """Set ``a_i = log(p_i / (1 - p_i))`` from the pixel means ``p_i`` of ``x`` [n, n_v] in
        [0, 1] (clipped to [1e-3, 1 - 1e-3]): ``common.rbm.visible_bias_from_data``."""
        self.set_weights(a=common.visible_bias_from_data(x, self.n_visible))

    @property
    def persistent_chains(self) -> np.ndarray | None:
        """The persistent chains' states [m, n_v] (NumPy copy), or None before use. Assign a
        binary array [m, n_v] (``m = n_chains`` if given), or None to draw them afresh."""
        return None if self.chains is None else to_numpy(self.chains).copy()

    @persistent_chains.setter
    def persistent_chains(self, value: Array | None) -> None:
        if value is None:
            self.chains = None
            return
        chains = common.check_chains(value, self.n_visible, self.n_chains)
        self.chains = torch.tensor(chains, device=self.W.device)

    # --- Tensors and random numbers -----------------------------------------------------------
    def _tensor(self, x: Array, layer: str, name: str) -> Tensor:
        """``x`` as float32 [n, n_<layer>] on the parameters' device; ``layer``: visible|hidden."""
        t = torch.as_tensor(x)
        common.check_columns(tuple(t.shape), getattr(self, f"n_{layer}"), name, layer)
        return t.to(device=self.W.device, dtype=torch.float32)

    def _rng(self) -> torch.Generator:
        """The RBM's generator, on the parameters' device (moved there when needed)."""
        device = self.W.device
        if self._gen.device != device:
            seed = int(torch.randint(0, 2**62, (1,), generator=self._gen))
            self._gen = torch.Generator(device=device).manual_seed(seed)
        return self._gen

    def _uniform(self, shape: tuple[int, ...]) -> Tensor:
        """Float32 uniforms in [0, 1) of ``shape``: ``UniformStream`` (CPU) or ``torch.rand``."""
        device = self.W.device
        if device.type == "cpu":
            return torch.from_numpy(self._stream.draw(math.prod(shape))).view(shape)
        return torch.rand(shape, generator=self._rng(), device=device)

    def _bernoulli(self, p: Tensor, u: Tensor | None = None) -> Tensor:
        """Binary float32 sample ``(u < p)``; ``u ~ U[0, 1)`` from the generator if not given."""
        if u is None:
            return self._uniform(tuple(p.shape)).lt_(p)
        return (u < p).to(p.dtype)

    def _given(self, u: np.ndarray) -> Tensor:
        """Checked uniforms (float32 NumPy) on the parameters' device."""
        return torch.from_numpy(u).to(self.W.device)

    def _gibbs_uniforms(self, uniforms: Any, steps: int, m: int) -> tuple[Tensor, Tensor]:
        """``(u_h [steps, m, n_h], u_x [steps, m, n_v])``: ``uniforms`` checked, or one draw
        [steps, m, n_h + n_v] cut in two (the layout of the training loop's draws)."""
        if uniforms is not None:
            u_h, u_x = check_gibbs_uniforms(uniforms, steps, m, self.n_visible, self.n_hidden)
            return self._given(u_h), self._given(u_x)
        u = self._uniform((steps, m, self.n_hidden + self.n_visible))
        return u[..., : self.n_hidden], u[..., self.n_hidden :]

    # --- Energies and conditionals ------------------------------------------------------------
    def _p_h(self, x: Tensor) -> Tensor:
        return torch.addmm(self.b, x, self.W).sigmoid_()  # sigma(b + x W)

    def _p_x(self, h: Tensor) -> Tensor:
        return torch.addmm(self.a, h, self.W.T).sigmoid_()  # sigma(a + h W^T)

    def _free_energy(self, x: Tensor) -> Tensor:
        return -(x @ self.a) - nnf.softplus(torch.addmm(self.b, x, self.W)).sum(dim=1)

    def p_h(self, x: Array) -> Tensor:
        """``p(h_j = 1 | x) = sigma(b_j + x^T W[:, j])``: ``x`` [n, n_v] -> [n, n_h]."""
        return self._p_h(self._tensor(x, "visible", "x"))

    def p_x(self, h: Array) -> Tensor:
        """``p(x_i = 1 | h) = sigma(a_i + W[i, :] h)``: ``h`` [n, n_h] -> [n, n_v]."""
        return self._p_x(self._tensor(h, "hidden", "h"))

    def energy(self, x: Array, h: Array) -> Tensor:
        """``E(x, h) = -a^T x - b^T h - x^T W h`` per row: ``x`` [n, n_v], ``h`` [n, n_h] -> [n]."""
        x, h = self._tensor(x, "visible", "x"), self._tensor(h, "hidden", "h")
        if x.shape[0] != h.shape[0]:
            raise ValueError(f"x and h must have the same number of rows, got {len(x)}, {len(h)}")
        return -(x @ self.a) - (h @ self.b) - ((x @ self.W) * h).sum(dim=1)

    def free_energy(self, x: Array) -> Tensor:
        """``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])``: ``x`` [n, n_v] -> [n]."""
        return self._free_energy(self._tensor(x, "visible", "x"))

    # --- Sampling -----------------------------------------------------------------------------
    def sample_h(self, x: Array, u: Array | None = None) -> tuple[Tensor, Tensor]:
        """``(p_h [n, n_h], h [n, n_h])``, ``h = (u < p(h | x))``; ``u`` [n, n_h] optional."""
        p = self.p_h(x)
        return p, self._bernoulli(p, None if u is None else self._given(check_uniform(u, p.shape)))

    def sample_x(self, h: Array, u: Array | None = None) -> tuple[Tensor, Tensor]:
        """``(p_x [n, n_v], x [n, n_v])`` with ``x = (u < p(x | h))``; ``u`` [n, n_v] optional."""
        p = self.p_x(h)
        return p, self._bernoulli(p, None if u is None else self._given(check_uniform(u, p.shape)))

    def gibbs(
        self, x0: Array, steps: int, *, u: Any = None, return_chain: bool = False, every: int = 1
    ) -> Tensor | tuple[Tensor, np.ndarray]:
        """``steps`` block-Gibbs steps ``x -> h ~ p(h|x) -> x ~ p(x|h)`` from ``x0`` [n, n_v]
        (``u``: optional uniforms ``(u_h [steps, n, n_h], u_x [steps, n, n_v])``) -> the final
        binary ``x`` [n, n_v], and with ``return_chain`` the "mean images" ``p(x | h)`` after
        steps ``every, 2 every, ...`` (NumPy [steps // every, n, n_v])."""
        x = self._tensor(x0, "visible", "x0")
        steps, every = common.check_gibbs_arguments(steps, every, return_chain)
        u_h, u_x = (None, None) if u is None else self._gibbs_uniforms(u, steps, x.shape[0])
        snapshots = []
        for s in range(steps):
            h = self._bernoulli(self._p_h(x), None if u_h is None else u_h[s])
            p_x = self._p_x(h)
            x = self._bernoulli(p_x, None if u_x is None else u_x[s])
            if return_chain and (s + 1) % every == 0:
                snapshots.append(p_x)
        if not return_chain:
            return x
        empty = np.zeros((0, x.shape[0], self.n_visible), dtype=np.float32)
        return x, to_numpy(torch.stack(snapshots)) if snapshots else empty

    def sample(
        self, n: int, *, steps: int, start: str | Array = "noise", every: int | None = None,
        u: Any = None,
    ) -> np.ndarray:  # fmt: skip
        """Draw ``n`` samples by running Gibbs chains for ``steps`` (>= 1) steps from ``start``:
        ``"noise"`` (Bernoulli(0.5) units) or binary states [n, n_v] (e.g. test images); ``u``
        as in :meth:`gibbs`. Returns ``p(x | h)`` of the last step, float32 [n, n_v], or with
        ``every`` (in [1, steps]) the snapshots [steps // every, n, n_v]."""
        n, steps, every, x0 = common.check_sample_arguments(n, steps, every, start, self.n_visible)
        if x0 is None:
            x0 = self._bernoulli(torch.full((n, self.n_visible), 0.5, device=self.W.device))
        _, chain = self.gibbs(x0, steps, u=u, return_chain=True, every=every or steps)
        return chain[-1] if every is None else chain

    # --- The algorithm: CD-k / PCD-k and the momentum rule ------------------------------------
    def gradient(self, x: Array, *, uniforms: Any = None) -> tuple[Tensor, Tensor, Tensor]:
        """CD-k (PCD-k) estimate of the mean log-likelihood gradient (uphill) on the binary
        batch ``x`` [n, n_v] -> ``(dW [n_v, n_h], da [n_v], db [n_h])``, as
        :func:`coursekit.reference.rbm.cd_gradient`. ``uniforms``: optional ``(u_h [k, m, n_h],
        u_x [k, m, n_v])``, ``m`` = n (CD) or the number of persistent chains (PCD). Leaves
        ``W, a, b`` alone; advances the persistent chains."""
        x = self._tensor(x, "visible", "x")
        x_k = self._start_chains(len(x)) if self.persistent else x  # CD: start at the data
        u_h, u_x = self._gibbs_uniforms(uniforms, self.k, len(x_k))
        p_data = self._p_h(x)  # positive phase: p(h | x) at the data
        for s in range(self.k):  # k block-Gibbs steps x_k -> h -> x_k, draws (u < p)
            h = (u_h[s] < self._p_h(x_k)).float()
            x_k = (u_x[s] < self._p_x(h)).float()
        p_model = self._p_h(x_k)  # negative phase: p(h | x_k) at the chain ends
        if self.persistent:
            self.chains = x_k  # PCD: the next estimate continues from here
        n, m = len(x), len(x_k)
        dW = x.T @ p_data / n - x_k.T @ p_model / m
        da = x.mean(dim=0) - x_k.mean(dim=0)
        db = p_data.mean(dim=0) - p_model.mean(dim=0)
        return dW, da, db

    def update(self, x: Array, *, uniforms: Any = None) -> dict[str, Tensor]:
        """One learning step on the binary batch ``x`` [n, n_v], Hinton's momentum rule::

            vW <- momentum vW + eta (dW - weight_decay W);   W <- W + vW
            va <- momentum va + eta da;                      a <- a + va     (likewise b)

        with ``(dW, da, db)`` from :meth:`gradient` (``uniforms`` as there). Returns for CD
        ``{"recon_error": e}``, the mean squared error of the one-step reconstruction
        ``p(x | h_1)``, ``h_1 = (u_h[0] < p(h | x))`` (a 0-d tensor); for PCD ``{}``."""
        x = self._tensor(x, "visible", "x")
        u_h, u_x = self._gibbs_uniforms(uniforms, self.k, self._n_chains_for(len(x)))
        monitors = {}
        if not self.persistent:  # the first Gibbs step of CD, as a reconstruction of x
            p_x_1 = self._p_x((u_h[0] < self._p_h(x)).float())
            monitors["recon_error"] = (x - p_x_1).square().sum(dim=1).mean()
        dW, da, db = self.gradient(x, uniforms=(u_h, u_x))
        self.vW.mul_(self.momentum).add_(self.eta * (dW - self.weight_decay * self.W))
        self.va.mul_(self.momentum).add_(self.eta * da)
        self.vb.mul_(self.momentum).add_(self.eta * db)
        self.W.add_(self.vW)
        self.a.add_(self.va)
        self.b.add_(self.vb)
        return monitors

    def _start_chains(self, m: int) -> Tensor:
        """The persistent chains (``n_chains`` or ``m``), Bernoulli(0.5) noise on first use."""
        if self.chains is None:
            p = torch.full((self.n_chains or m, self.n_visible), 0.5, device=self.W.device)
            self.chains = self._bernoulli(p)
        return self.chains

    def _n_chains_for(self, n: int) -> int:
        """Chains of an update on a batch of ``n`` rows: ``n`` (CD) or the persistent ones."""
        return self._start_chains(n).shape[0] if self.persistent else n

    # --- Training loop ------------------------------------------------------------------------
    def _data(self, x: Array, name: str, binarize: str | None = "dynamic") -> Tensor:
        """Training-like data (checked by ``common.rbm.check_training_data``) on the device."""
        arr = common.check_training_data(to_numpy(x), self.n_visible, name, binarize)
        return torch.from_numpy(arr).to(self.W.device)

    def _train_epoch(self, data: Tensor, batch_size: int, shuffle: bool, dynamic: bool) -> None:
        """One pass over ``data`` [N, n_v] with :meth:`update` per batch (``fit(fast=False)``),
        with the fast path's random numbers: the shuffle, then one draw per batch."""
        n_rows, device = len(data), data.device
        order = (torch.randperm(n_rows, generator=self._rng(), device=device) if shuffle
                 else torch.arange(n_rows, device=device))  # fmt: skip
        for rows in order.split(batch_size):
            x, n = data[rows], len(rows)
            layout = (n, self._n_chains_for(n), self.k, self.n_visible, self.n_hidden, dynamic)
            u = self._uniform((batch_uniform_count(*layout),))  # (PCD: after the chains' draw)
            u_data, u_h, u_x = split_batch_uniforms(u, *layout)
            if dynamic:  # x_i ~ Bernoulli(intensity_i), fresh every epoch
                x = (u_data < x).float()
            self.update(x, uniforms=(u_h, u_x))

    def _check_finite(self, epoch: int) -> None:
        """Stop with a message when W, a or b hold NaN/inf or have exploded."""
        common.check_finite_parameters({"W": self.W, "a": self.a, "b": self.b}, epoch, self.eta)

    def fit(
        self, x: Array, *, epochs: int, batch_size: int = 100, binarize: str | None = "dynamic",
        shuffle: bool = True, validation: Array | None = None, monitor_every: int | None = 1,
        progress: bool = True, seed: int | None = None, eta_final: float | None = None,
        fast: bool = True, checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int | None = None, resume: str | os.PathLike[str] | None = None,
    ) -> dict[str, list[float]]:  # fmt: skip
        """Train for ``epochs`` passes over ``x`` [n, n_v] (floats in [0, 1], not uint8) in
        minibatches of ``batch_size`` rows (the last may be smaller).

        ``binarize``: ``"dynamic"`` (fresh Bernoulli(x) states every epoch), ``"static"``
        (``x >= 0.5``) or None (``x`` is binary). The monitors run on ``validation`` (else on at
        most 1,000 training rows), binarised ``>= 0.5``, every ``monitor_every`` epochs and after
        the last (0 or None: never). ``seed`` reseeds the RBM's generators first; ``eta_final``
        decays the step size linearly from ``eta`` to it (``common.rbm.eta_schedule``; ``eta`` is
        restored at the end). ``fast=False`` runs :meth:`update` per batch instead of the fast
        path :mod:`coursekit.torch.rbm_fast` (slower; the same random numbers, the same result up
        to float rounding: for study, and to check the fast path).

        ``checkpoint``: a file to write the whole training state to, atomically (weights,
        velocities, persistent chains, generators, monitored rows, history). The fast path runs
        an epoch in one call, so checkpoints fall at epochs' ends: after each epoch in which
        the update count reaches a multiple of ``checkpoint_every`` (None: none such), after
        the last epoch, and on Ctrl-C (the epoch under way finishes first; a second Ctrl-C
        stops at once). ``resume``: such a checkpoint of this RBM's run on the same ``x`` and
        settings (``seed`` is then not used): the run continues after its last epoch and ends
        as the uninterrupted run would have, bitwise on one CPU process
        (:mod:`coursekit.common.rbm_fit`).

        Returns the history of ``common.rbm_fit.train_epochs`` (``"epoch"``, ``"recon_error"``,
        ``"pll"``, ``"seconds"``). Raises ``ValueError`` (bad arguments, a checkpoint of another
        model or settings), ``FileNotFoundError`` (no checkpoint at ``resume``),
        ``FloatingPointError`` (training diverged; the message suggests a smaller ``eta``)."""
        epochs, batch_size, monitor_every, etas = rbm_fit.check_fit_arguments(
            epochs, batch_size, monitor_every, self.eta, eta_final
        )
        data = self._data(x, "x", binarize)
        seed, fast = check_seed(seed), check_bool(fast, "fast")
        train_epoch = self._fast.train_epoch if fast else self._train_epoch
        val = None if validation is None else self._data(validation, "validation")
        device = self.W.device
        if binarize == "static":
            data = (data >= 0.5).float()

        def prepare() -> dict[str, np.ndarray]:
            """The draws before the first epoch: the monitored rows (sorted), the PLL's seed."""
            if seed is not None:
                self._gen = torch.Generator(device=device).manual_seed(seed)
                self._stream = UniformStream(seed)
            gen, rows = self._rng(), torch.zeros(0, dtype=torch.int64)
            if val is None:
                rows = torch.randperm(len(data), generator=gen, device=device)
                rows = rows[: common.MONITOR_ROWS].sort().values
            pll_seed = int(torch.randint(0, 2**62, (1,), generator=gen, device=device))
            return {"monitor_rows": to_numpy(rows), "pll_seed": np.array(pll_seed)}

        settings = {"rows": len(data), "epochs": epochs, "batch_size": batch_size,
                    "binarize": binarize, "shuffle": bool(shuffle), "monitor_every": monitor_every,
                    "validation": None if val is None else len(val), "eta_final": eta_final,
                    "fast": fast, "device": device.type}  # fmt: skip
        hyper = {name: getattr(self, name) for name in common.HYPERPARAMETERS}
        drawn, saving = rbm_fit.fit_checkpoints(
            "coursekit.torch.RBM", hyper, settings, checkpoint, checkpoint_every, resume,
            state=self._state, restore=self._set_state, prepare=prepare)  # fmt: skip
        if val is None:
            val = data[torch.from_numpy(drawn["monitor_rows"]).to(device)]
        monitor, pll_seed = (val >= 0.5).float(), int(drawn["pll_seed"])

        def epoch() -> None:
            train_epoch(data, batch_size, bool(shuffle), binarize == "dynamic")

        def monitors() -> tuple[float, float]:
            pll_gen = torch.Generator(device=device).manual_seed(pll_seed)  # the same bits
            return self._reconstruction_error(monitor), self._pll_stochastic(monitor, pll_gen)

        return rbm_fit.train_epochs(
            self, epoch, monitors, epochs=epochs, etas=etas, monitor_every=monitor_every,
            progress=progress, updates_per_epoch=-(-len(data) // batch_size), **saving)

    # --- Monitoring ---------------------------------------------------------------------------
    def _reconstruction_error(self, x: Tensor) -> float:
        r = self._p_x(self._p_h(x))
        return float((x - r).square_().sum(dim=1).mean())

    def _pll_stochastic(self, x: Tensor, gen: torch.Generator) -> float:
        n, n_v = x.shape
        i = torch.randint(0, n_v, (n,), generator=gen, device=x.device)
        rows = torch.arange(n, device=x.device)
        x_flip = x.clone()
        x_flip[rows, i] = 1.0 - x_flip[rows, i]
        delta = self._free_energy(x_flip) - self._free_energy(x)  # log p(x) - log p(x~)
        return n_v * float(nnf.logsigmoid(delta).mean())

    def _pll_exact(self, x: Tensor) -> float:
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
        return to_numpy(self._p_x(self._p_h(self._data(x, "x"))))

    def reconstruction_error(self, x: Array) -> float:
        """``(1/n) sum_rows sum_i (x_i - r_i)^2`` with ``r`` = :meth:`reconstruct` ``(x)``."""
        return self._reconstruction_error(self._data(x, "x"))

    def pseudo_log_likelihood(self, x: Array, *, exact: bool = False) -> float:
        """Mean pseudo-log-likelihood of the binary rows of ``x`` [n, n_v]: ``exact=False``, one
        random bit per row times n_v (scikit-learn's ``BernoulliRBM.score_samples``); ``exact``,
        the sum over all bits (``reference.pseudo_log_likelihood``)."""
        x = self._data(x, "x", binarize=None)
        return self._pll_exact(x) if exact else self._pll_stochastic(x, self._rng())

    # --- Parallel tempering (coursekit.torch.tempering) ---------------------------------------
    def sample_tempered(
        self, n: int, *, steps: int, betas: Any = None, base_a: Any = None, start: Any = "noise",
        every: int | None = None, seed: int | None = None,
    ) -> Any:  # fmt: skip
        """``n`` samples by parallel tempering: :func:`coursekit.torch.tempering.parallel_tempering`
        (a ``TemperingResult``: ``.samples`` [n, n_v] or snapshots, ``.betas``, ``.swap_rates``)."""
        return parallel_tempering(
            self, n, steps=steps, betas=betas, base_a=base_a, start=start, every=every, seed=seed
        )
