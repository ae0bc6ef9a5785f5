"""The fast path of :class:`coursekit.torch.RBM`'s training loop: the readable
:meth:`RBM.update <coursekit.torch.RBM.update>`, arranged for speed.

``RBM.fit`` runs each epoch's minibatch updates here; ``fit(fast=False)`` runs the readable
``RBM.update`` per batch instead. Both consume the same random numbers in the same order and
compute the same update up to float rounding (the sums run in another order); the tests train
one RBM each way and compare. What this module does differently from the readable page, and why:

* **Data and chains in one work buffer.** The batch's rows and the chains' states are stacked in
  ``X`` [n + m, n_v], their ``p(h | x)`` in ``P`` [n + m, n_h]. With the row factors
  ``c = eta / n`` on the data rows and ``-eta / m`` on the chains,
  ``eta dW = X^T (c * P)``: the positive and the negative statistics are one matrix product,
  which also applies the momentum (``vW.addmm_(X^T, c * P, beta=momentum)``); likewise
  ``eta da = X^T c`` and ``eta db = (c * P)^T 1``. For PCD, the data's and the chains'
  ``p(h | x)`` are one product too.
* **No allocations per batch.** The buffers (:class:`WorkBuffers`) are made once per batch shape
  and reused; every result is written in place (``out=``, ``addmm_``, ``sigmoid_``). The PCD
  chains live in the buffer and are advanced there, not copied in and out.
* **One draw of uniforms per batch**, into a reused buffer (:class:`BatchPlan`) whose views are
  made once per batch size (and ``W.T`` once per epoch): a view costs microseconds, a batch
  milliseconds. The layout is the readable loop's: ``[u_data (n, n_v) if dynamic
  binarisation][k, m, n_h + n_v]``, each Gibbs step's ``u_h`` the first ``n_h`` columns of its
  block and ``u_x`` the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from coursekit.common.uniforms import batch_uniform_count, split_batch_uniforms

__all__ = ["BatchPlan", "FastPath", "WorkBuffers"]

Steps = list[torch.Tensor]  # one [m, n_*] view of the batch's uniforms per Gibbs step


@dataclass
class WorkBuffers:
    """The tensors one update with ``n`` data rows and ``m`` chains works in, and their views.

    ``X`` [n + m, n_v]: the data rows, then the chains' states; ``P`` [n + m, n_h]: their
    ``p(h | x)`` (scaled in place by the row factors before the update); ``H`` [m, n_h]: the
    sampled hidden states; ``PX`` [m, n_v]: ``p(x | h)``; ``coef`` [n + m]: the row factors
    ``eta / n`` (data) and ``-eta / m`` (chains), for the step size ``coef_eta``; ``ones``
    [n + m]. The views (``data = X[:n]``, ``chain = X[n:]``, ...) are made once.
    """

    n: int
    X: torch.Tensor
    P: torch.Tensor
    H: torch.Tensor
    PX: torch.Tensor
    coef: torch.Tensor
    ones: torch.Tensor
    coef_eta: float | None = None
    data: torch.Tensor = field(init=False)
    chain: torch.Tensor = field(init=False)
    p_data: torch.Tensor = field(init=False)
    p_chain: torch.Tensor = field(init=False)
    X_T: torch.Tensor = field(init=False)
    P_T: torch.Tensor = field(init=False)
    coef_col: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        n = self.n
        self.data, self.chain = self.X[:n], self.X[n:]
        self.p_data, self.p_chain = self.P[:n], self.P[n:]
        self.X_T, self.P_T, self.coef_col = self.X.T, self.P.T, self.coef[:, None]

    @classmethod
    def allocate(cls, n: int, m: int, n_v: int, n_h: int, device: torch.device) -> WorkBuffers:
        """Uninitialised buffers for ``n`` data rows and ``m`` chains on ``device``."""
        new = {"device": device}
        return cls(
            n=n,
            X=torch.empty(n + m, n_v, **new),
            P=torch.empty(n + m, n_h, **new),
            H=torch.empty(m, n_h, **new),
            PX=torch.empty(m, n_v, **new),
            coef=torch.empty(n + m, **new),
            ones=torch.ones(n + m, **new),
        )


@dataclass
class BatchPlan:
    """What the training loop reuses for every batch of ``n`` rows with ``m`` chains.

    ``fill()`` refills the flat uniform buffer ``u`` [n n_v dynamic + k m (n_h + n_v)] with the
    RBM's next numbers (its :class:`~coursekit.common.uniforms.UniformStream` on the CPU,
    ``torch.rand`` with its generator elsewhere); ``u_data`` [n, n_v] (dynamic binarisation, or
    None), ``u_h[s]`` [m, n_h] and ``u_x[s]`` [m, n_v] (Gibbs step ``s``) are views of it.
    """

    buffers: WorkBuffers
    u: torch.Tensor
    fill: Callable[[], None]
    u_data: torch.Tensor | None
    u_h: Steps
    u_x: Steps


class FastPath:
    """The training loop of one :class:`coursekit.torch.RBM`, with its reused buffers.

    Args:
        rbm: the RBM whose ``W``, ``a``, ``b``, velocities and chains it updates.
    """

    def __init__(self, rbm: Any) -> None:
        self.rbm = rbm
        self._buffers: dict[tuple, WorkBuffers] = {}

    def train_epoch(
        self, data: torch.Tensor, batch_size: int, shuffle: bool, dynamic: bool
    ) -> None:
        """One pass over ``data`` [N, n_v] in minibatches (a fresh random order if ``shuffle``).

        Each batch is one ``index_select`` of its rows into the work buffer (cheaper than
        reordering all of ``data``), one draw of its uniforms, and with dynamic binarisation
        one comparison ``x > u``.
        """
        rbm = self.rbm
        if shuffle:
            order = torch.randperm(len(data), generator=rbm._rng(), device=data.device)
        else:
            order = torch.arange(len(data), device=data.device)
        WT = rbm.W.T
        size = plan = None
        for rows in order.split(batch_size):
            if rows.shape[0] != size:  # the first batch, or a smaller last one
                size = rows.shape[0]
                plan = self._plan(size, dynamic)
            x = plan.buffers.data
            torch.index_select(data, 0, rows, out=x)  # the batch, straight into the buffer
            plan.fill()  # one draw for all the batch's uniforms
            if dynamic:  # x_i ~ Bernoulli(intensity_i), fresh every epoch
                x.gt_(plan.u_data)
            self._step(plan.buffers, plan.u_h, plan.u_x, WT)

    def _plan(self, n: int, dynamic: bool) -> BatchPlan:
        """The :class:`BatchPlan` of batches of ``n`` rows (draws the PCD chains on first use)."""
        rbm = self.rbm
        m = rbm._n_chains_for(n)
        buffers = self._work(n, m)
        layout = (n, m, rbm.k, rbm.n_visible, rbm.n_hidden, dynamic)
        size = batch_uniform_count(*layout)
        device = rbm.W.device
        if device.type == "cpu":
            host = np.empty(size, dtype=np.float32)
            u = torch.from_numpy(host)

            def fill(draw=rbm._stream.draw, host=host, size=size) -> None:
                draw(size, out=host)

        else:
            u = torch.empty(size, device=device)
            generator = rbm._rng()

            def fill(u=u, gen=generator) -> None:
                torch.rand(u.shape, generator=gen, device=u.device, out=u)

        u_data, u_h, u_x = split_batch_uniforms(u, *layout)
        return BatchPlan(buffers, u, fill, u_data, list(u_h), list(u_x))

    def _work(self, n: int, m: int) -> WorkBuffers:
        """The :class:`WorkBuffers` of ``n`` data rows and ``m`` chains (made once, reused)."""
        rbm = self.rbm
        key = (n, m, rbm.W.device)
        buffers = self._buffers.get(key)
        if buffers is None:
            if len(self._buffers) > 3:  # e.g. a smaller last batch: keep only a few
                self._buffers.clear()
            buffers = WorkBuffers.allocate(n, m, rbm.n_visible, rbm.n_hidden, rbm.W.device)
            self._buffers[key] = buffers
        return buffers

    def _step(self, bufs: WorkBuffers, u_h: Steps, u_x: Steps, WT: torch.Tensor) -> None:
        """The update on the batch in ``bufs.data``: the statistics, then
        ``vW <- momentum vW + X^T (c * P) - eta weight_decay W`` (one GEMM), ``W <- W + vW``,
        and the biases likewise."""
        self._statistics(bufs, u_h, u_x, WT)
        rbm = self.rbm
        n, m = bufs.n, bufs.X.shape[0] - bufs.n
        eta, momentum = rbm.eta, rbm.momentum
        if bufs.coef_eta != eta:  # refilled only when eta changes
            bufs.coef[:n].fill_(eta / n)
            bufs.coef[n:].fill_(-eta / m)
            bufs.coef_eta = eta
        P = bufs.P.mul_(bufs.coef_col)
        W, vW, weight_decay = rbm.W, rbm.vW, rbm.weight_decay
        # vW <- momentum vW + eta (<x p_h^T>_data - <x_k p_h^T>_model - weight_decay W)
        vW.addmm_(bufs.X_T, P, beta=momentum)
        if weight_decay:
            vW.add_(W, alpha=-eta * weight_decay)
        W.add_(vW)
        rbm.a.add_(rbm.va.addmv_(bufs.X_T, bufs.coef, beta=momentum))
        rbm.b.add_(rbm.vb.addmv_(bufs.P_T, bufs.ones, beta=momentum))

    def _statistics(self, bufs: WorkBuffers, u_h: Steps, u_x: Steps, WT: torch.Tensor) -> None:
        """CD-k / PCD-k in the buffers: ``X[n:]`` becomes the chain ends ``x_k``, ``P`` the
        ``p(h | x)`` of the data rows and of ``x_k``. Advances and stores the persistent chains
        (in the buffer, from the first call on)."""
        rbm = self.rbm
        n = bufs.n
        W, a, b = rbm.W, rbm.a, rbm.b
        chain, p_chain = bufs.chain, bufs.p_chain
        if rbm.persistent:
            if rbm.chains.data_ptr() != chain.data_ptr():
                # The chains move into the work buffer and live there from now on: the Gibbs
                # steps below advance them in place (no copy in and out per update).
                chain.copy_(rbm.chains)
                rbm.chains = chain
            p_h = torch.addmm(b, bufs.X, W, out=bufs.P).sigmoid_()[n:]  # data and chains
        else:  # the chains start at the data
            p_h = torch.addmm(b, bufs.data, W, out=bufs.p_data).sigmoid_()
        H, PX = bufs.H, bufs.PX
        for s in range(rbm.k):
            torch.lt(u_h[s], p_h, out=H)  # h ~ p(h | x)
            torch.addmm(a, H, WT, out=PX).sigmoid_()  # p(x | h)
            torch.lt(u_x[s], PX, out=chain)  # x ~ p(x | h)
            p_h = torch.addmm(b, chain, W, out=p_chain).sigmoid_()
