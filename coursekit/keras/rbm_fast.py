"""The fast path of :class:`coursekit.keras.RBM`'s training loop: the readable
:meth:`RBM.update <coursekit.keras.RBM.update>`, arranged for speed on each backend.

``RBM.fit`` runs each epoch's minibatch updates here; ``fit(fast=False)`` runs the readable
``RBM.update`` per batch instead. Both draw the same random numbers in the same order
(:meth:`FastPath.batch_uniforms`) and compute the same update up to float rounding (the sums run in
another order); the tests train one RBM each way and compare, and check every layout of
:class:`FastOptions` against the NumPy reference. What differs from the readable page, and why:

* **One compiled graph per epoch (tensorflow).** The epoch's full minibatches are one
  ``keras.ops.fori_loop`` in a ``tf.function``: no Python between batches, the uniforms drawn in
  the graph with ``keras.random``.
* **Independent work for TensorFlow's inter-op threads** (``halves``, ``split_phases``).
  TensorFlow runs a matmul of these small shapes on about one core, so the graph is given
  chains of ops that can run side by side: the batch's chains in two halves, each a CD-k /
  PCD-k computation of its own, and the positive phase's matmul apart from the negative one's
  (it needs only ``p(h | x)``, so it runs while the Gibbs chain still does). The minus sign
  rides on the small factor, so that the update only adds: grappler merges the terms into one
  ``AddN``, one pass over ``W``-sized memory.
* **TensorFlow's fused momentum kernel** (``fused_momentum``): ``ResourceApplyMomentum`` does
  ``accum = momentum accum + grad; var -= lr accum`` in one pass over the variables; with
  ``lr = -1`` and ``grad = eta (dW - weight_decay W)`` that is the momentum rule.
* **In place on the torch backend** (``in_place``). ``Variable.assign`` copies every new tensor
  into the variable; torch's multi-tensor in-place operations update the variables' tensors
  directly, as Keras' own torch optimizers do. Both phases' sums are one matmul
  ``[x; x_k]^T [p(h|x) / n; -p(h|x_k) / m]`` (the scale on the small factors, not on ``W``),
  written with the tensors' own operators: each ``keras.ops`` call costs microseconds of Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from coursekit.common.uniforms import batch_uniform_count, split_batch_uniforms

__all__ = ["FastOptions", "FastPath"]


@dataclass(frozen=True)
class FastOptions:
    """The layout of the fast path's update. Every layout computes the same update up to float
    rounding (they only reorder sums); :meth:`for_backend` picks the fastest of each backend.

    Attributes:
        split_phases: ``dW`` as two matmuls, ``x^T p(h|x) / n`` and ``-x_k^T p(h|x_k) / m``,
            kept apart until the update adds them (else one matmul over ``[x; x_k]``).
        halves: the batch as two independent halves (with ``split_phases``; batches and
            chains of at least 2 rows).
        fused_momentum: the momentum rule with TensorFlow's ``ResourceApplyMomentum`` kernel
            (tensorflow backend only).
        in_place: the momentum rule in place with torch's multi-tensor operations (torch
            backend only; takes precedence over ``fused_momentum``).
    """

    split_phases: bool = False
    halves: bool = False
    fused_momentum: bool = False
    in_place: bool = False

    @classmethod
    def for_backend(cls, backend: str) -> FastOptions:
        """The layout ``RBM.fit`` uses on ``backend`` (``keras.backend.backend()``)."""
        if backend == "tensorflow":
            return cls(split_phases=True, halves=True, fused_momentum=True)
        return cls(in_place=backend == "torch")


def _bernoulli(p: Any, u: Any) -> Any:
    return ops.cast(u < p, "float32")


def _rows(t: Any) -> Any:
    """Number of rows of ``t`` as a float: a Python number when static, else a 0-d tensor."""
    n = t.shape[0]
    return float(n) if n is not None else ops.cast(ops.shape(t)[0], "float32")


class FastPath:
    """The training loop of one :class:`coursekit.keras.RBM` (compiled on tensorflow).

    Args:
        rbm: the RBM whose variables it updates.
        options: the layout; None: :meth:`FastOptions.for_backend` of the current backend.
    """

    def __init__(self, rbm: Any, options: FastOptions | None = None) -> None:
        self.rbm = rbm
        self.options = options or FastOptions.for_backend(keras.backend.backend())
        self._compiled: dict[tuple[str, int], Callable[..., Any]] = {}
        self._factor_cache: dict[tuple[int, int], np.ndarray] = {}

    def reset(self) -> None:
        """Forget the compiled steps (a new chains variable; they hold on to the old one)."""
        self._compiled.clear()

    def batch_uniforms(self, x: Any, dynamic: bool) -> tuple[Any, tuple[Any, Any]]:
        """The uniforms of one minibatch ``x`` [n, n_v] of ``fit``, as this path draws them (the
        readable loop draws the same): ``u_data`` [n, n_v] (dynamic binarisation; else None),
        then ``(u_h [k, m, n_h], u_x [k, m, n_v])``. On tensorflow ``keras.random`` (in the
        graph: the shapes may be dynamic), elsewhere one host draw, cut by
        :func:`~coursekit.common.uniforms.split_batch_uniforms`."""
        rbm = self.rbm
        chain = rbm._chains.value if rbm.persistent else x
        if not rbm._host_uniforms:
            u_data = rbm._uniform(ops.shape(x)) if dynamic else None
            return u_data, rbm._gibbs_uniforms(None, rbm.k, chain)
        layout = (int(x.shape[0]), int(chain.shape[0]), rbm.k, rbm.n_visible, rbm.n_hidden)
        u = rbm._stream.draw(batch_uniform_count(*layout, dynamic))
        u_data, u_h, u_x = split_batch_uniforms(u, *layout, dynamic)
        u_data = None if u_data is None else ops.convert_to_tensor(u_data)
        return u_data, (ops.convert_to_tensor(u_h), ops.convert_to_tensor(u_x))

    def train_epoch(self, data: Any, order: np.ndarray, batch_size: int, dynamic: bool) -> None:
        """One pass over ``data`` [N, n_v] in the row order ``order`` (int32 [N]): the full
        batches in one loop (one graph on tensorflow), then the last, smaller one."""
        n_full = len(order) // batch_size
        if n_full:
            batches = order[: n_full * batch_size].reshape(n_full, batch_size)
            self._fn("fit_epoch")(data, ops.convert_to_tensor(batches), dynamic)
        if n_full * batch_size < len(order):
            rest = ops.convert_to_tensor(order[n_full * batch_size :])
            self._fn("fit_step")(data, rest, dynamic)

    def update(self, x: Any, uniforms: tuple[Any, Any]) -> None:
        """One update on the binary batch ``x`` [n, n_v] with the uniforms ``(u_h [k, m, n_h],
        u_x [k, m, n_v])``, as ``RBM.update`` (for tests of each layout)."""
        u_h, u_x = (ops.convert_to_tensor(u, "float32") for u in uniforms)
        self._fn("update")(ops.convert_to_tensor(x, "float32"), (u_h, u_x))

    def _fn(self, name: str) -> Callable[..., Any]:
        """The step ``name``, compiled with ``tf.function`` on the tensorflow backend."""
        fn = self._compiled.get((name, self.rbm.k))  # the steps unroll the k Gibbs steps
        if fn is None:
            fn = {"fit_epoch": self._fit_epoch, "fit_step": self._fit_step, "update": self._update}
            fn = fn[name]
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf  # only on this backend

                fn = tf.function(fn, reduce_retracing=True, autograph=False)
            self._compiled[name, self.rbm.k] = fn
        return fn

    def _fit_epoch(self, data: Any, batches: Any, dynamic: bool) -> None:
        """The batches ``batches`` int32 [n_batches, B] of an epoch, in one ``fori_loop``."""

        def body(i: Any, carry: Any) -> Any:
            self._fit_step(data, batches[i], dynamic)
            return carry

        ops.fori_loop(0, ops.shape(batches)[0], body, 0)

    def _fit_step(self, data: Any, idx: Any, dynamic: bool) -> None:
        """One minibatch: gather its rows, draw its uniforms, binarise (dynamic), update."""
        x = ops.take(data, idx, axis=0)
        u_data, uniforms = self.batch_uniforms(x, dynamic)
        if dynamic:
            x = _bernoulli(x, u_data)
        self._update(x, uniforms)

    def _update(self, x: Any, uniforms: tuple[Any, Any]) -> None:
        self._apply(*self._statistics(x, uniforms, self.rbm._eta.value))

    # --- The statistics ------------------------------------------------------------------------

    def _statistics(self, x: Any, uniforms: tuple[Any, Any], scale: Any) -> tuple[Any, Any, Any]:
        """``scale`` times the CD-k / PCD-k estimate ``(dW, da, db)`` (``dW`` a tuple of terms
        to add with ``split_phases``); advances the persistent chains."""
        rbm = self.rbm
        W, a, b = rbm.W.value, rbm.a.value, rbm.b.value
        chain = rbm._chains.value if rbm.persistent else x  # CD: the chains start at the data
        u_h, u_x = uniforms
        rows = (x.shape[0], chain.shape[0])
        if self.options.halves and None not in rows and min(int(r) for r in rows) >= 2:
            return self._in_halves(x, chain, u_h, u_x, scale)
        W_t = ops.transpose(W)
        ph_data = ops.sigmoid(x @ W + b)  # [n, n_h]
        ph = None if rbm.persistent else ph_data  # CD: p(h | x) at the chain start is known
        for s in range(rbm.k):
            if ph is None:
                ph = ops.sigmoid(chain @ W + b)
            h = _bernoulli(ph, u_h[s])
            chain, ph = _bernoulli(ops.sigmoid(h @ W_t + a), u_x[s]), None
        ph_model = ops.sigmoid(chain @ W + b)  # [m, n_h]
        if rbm.persistent:
            rbm._chains.assign(chain)
        if self.options.split_phases:
            return self._phases_apart(x, ph_data, chain, ph_model, scale)
        coef = self._row_factors(x, chain) * scale  # [n+m, 1]: scale/n (data), -scale/m (chains)
        hidden = ops.concatenate([ph_data, ph_model], axis=0) * coef  # [n+m, n_h]
        both_t = ops.transpose(ops.concatenate([x, chain], axis=0))  # [n_v, n+m]
        dW = both_t @ hidden
        da = (both_t @ coef)[:, 0]  # scale (<x>_data - <x_k>_chains)
        db = ops.sum(hidden, axis=0)  # scale (<p(h|x)>_data - <p(h|x_k)>_chains)
        return dW, da, db

    def _in_halves(
        self, x: Any, chain: Any, u_h: Any, u_x: Any, scale: Any
    ) -> tuple[tuple[Any, ...], Any, Any]:
        """The statistics from two independent halves of the chains (for CD with the half of
        the data they start from; PCD's data rows run whole, beside the first half). A data
        row weighs ``scale / n``, a chain ``scale / m``; ``dW`` comes as a tuple of terms."""
        rbm = self.rbm
        W, a, b = rbm.W.value, rbm.a.value, rbm.b.value
        W_t = ops.transpose(W)
        n, m = int(x.shape[0]), int(chain.shape[0])
        pos, neg = scale / float(n), scale / float(m)
        terms, da, db, chain_parts = [], [], [], []
        for half in (0, 1):
            links = slice(None, m // 2) if half == 0 else slice(m // 2, None)  # chain rows
            data = ph_data = None
            if not rbm.persistent:  # CD: half of the data, where half of the chains start
                data = x[slice(None, n // 2) if half == 0 else slice(n // 2, None)]
            elif half == 0:  # PCD: the data whole, beside the first half of the chains
                data = x
            if data is not None:
                ph_data = ops.sigmoid(data @ W + b)
                terms.append(ops.transpose(data) @ (ph_data * pos))
                da.append(ops.sum(data, axis=0) * pos)
                db.append(ops.sum(ph_data, axis=0) * pos)
            part, ph = (chain[links], None) if rbm.persistent else (data, ph_data)
            for s in range(rbm.k):
                if ph is None:
                    ph = ops.sigmoid(part @ W + b)
                h = _bernoulli(ph, u_h[s][links])
                part, ph = _bernoulli(ops.sigmoid(h @ W_t + a), u_x[s][links]), None
            ph_model = ops.sigmoid(part @ W + b)
            terms.append(ops.transpose(part) @ (ph_model * -neg))
            da.append(ops.sum(part, axis=0) * -neg)
            db.append(ops.sum(ph_model, axis=0) * -neg)
            chain_parts.append(part)
        if rbm.persistent:
            rbm._chains.assign(ops.concatenate(chain_parts, axis=0))
        return tuple(terms), sum(da[1:], da[0]), sum(db[1:], db[0])

    def _phases_apart(
        self, x: Any, ph_data: Any, chain: Any, ph_model: Any, scale: Any
    ) -> tuple[tuple[Any, Any], Any, Any]:
        """The statistics with ``dW`` as the terms ``scale <x p_h^T>_data`` and
        ``-scale <x_k p_h^T>_chains``: only the second waits for the chain."""
        pos_scale = scale / _rows(x)
        neg_scale = scale / _rows(chain)
        dW = (
            ops.transpose(x) @ (ph_data * pos_scale),
            ops.transpose(chain) @ (ph_model * -neg_scale),
        )
        da = ops.sum(x, axis=0) * pos_scale - ops.sum(chain, axis=0) * neg_scale
        db = ops.sum(ph_data, axis=0) * pos_scale - ops.sum(ph_model, axis=0) * neg_scale
        return dW, da, db

    def _row_factors(self, x: Any, chain: Any) -> Any:
        """``[1/n] * n + [-1/m] * m`` as a column [n + m, 1] (a cached constant when the
        numbers of rows are known; inside a tensorflow graph they may not be)."""
        n, m = x.shape[0], chain.shape[0]
        if n is None or m is None:
            n_t, m_t = ops.shape(x)[0], ops.shape(chain)[0]
            return ops.concatenate(
                [ops.ones((n_t, 1)) / _rows(x), -ops.ones((m_t, 1)) / _rows(chain)], axis=0
            )
        key = (int(n), int(m))
        factors = self._factor_cache.get(key)
        if factors is None:
            n_, m_ = key
            factors = np.concatenate([np.full(n_, 1.0 / n_), np.full(m_, -1.0 / m_)])
            factors = factors.astype(np.float32)[:, None]
            self._factor_cache[key] = factors
        return ops.convert_to_tensor(factors)

    # --- The momentum rule ---------------------------------------------------------------------

    def _apply(self, eta_dW: Any, eta_da: Any, eta_db: Any) -> None:
        """``vW = momentum vW + eta (dW - weight_decay W); W += vW`` (likewise ``a``, ``b``
        without decay), given ``eta`` times the estimate; in the layout of :attr:`options`."""
        if self.options.in_place:
            self._apply_in_place(eta_dW, eta_da, eta_db)
            return
        if self.options.fused_momentum:
            self._apply_fused(eta_dW, eta_da, eta_db)
            return
        rbm = self.rbm
        momentum = rbm._momentum.value
        vW = rbm._vW.value * momentum + self._decayed_gradient(eta_dW)
        va = rbm._va.value * momentum + eta_da
        vb = rbm._vb.value * momentum + eta_db
        for velocity, param, step in (
            (rbm._vW, rbm._W, vW),
            (rbm._va, rbm._a, va),
            (rbm._vb, rbm._b, vb),
        ):
            velocity.assign(step)
            param.assign(param.value + step)

    def _decayed_gradient(self, eta_dW: Any) -> Any:
        """``eta (dW - weight_decay W)`` from ``eta dW`` (a tensor or a tuple of terms): only
        additions, one ``AddN`` on tensorflow."""
        rbm = self.rbm
        terms = eta_dW if isinstance(eta_dW, tuple) else (eta_dW,)
        grad = rbm._W.value * -(rbm._eta.value * rbm._weight_decay.value)
        for term in terms:
            grad = grad + term
        return grad

    def _apply_fused(self, eta_dW: Any, eta_da: Any, eta_db: Any) -> None:
        """:meth:`_apply` with TensorFlow's ``ResourceApplyMomentum`` (``lr = -1``)."""
        import tensorflow as tf  # only on this backend

        rbm = self.rbm
        grad_W = self._decayed_gradient(eta_dW)
        lr = tf.constant(-1.0, tf.float32)
        momentum = rbm._momentum.value
        for velocity, param, grad in (
            (rbm._vW, rbm._W, grad_W),
            (rbm._va, rbm._a, eta_da),
            (rbm._vb, rbm._b, eta_db),
        ):
            tf.raw_ops.ResourceApplyMomentum(
                var=param.handle, accum=velocity.handle, lr=lr, grad=grad, momentum=momentum
            )

    def _apply_in_place(self, eta_dW: Any, eta_da: Any, eta_db: Any) -> None:
        """:meth:`_apply` in place on the variables' torch tensors (no copies into them)."""
        import torch  # only on the torch backend

        rbm = self.rbm
        velocities = [rbm._vW.value, rbm._va.value, rbm._vb.value]
        params = [rbm._W.value, rbm._a.value, rbm._b.value]
        eta_decay = rbm._eta.value * rbm._weight_decay.value  # a 0-d tensor
        with torch.no_grad():
            torch._foreach_mul_(velocities, rbm._momentum.value)
            torch._foreach_add_(velocities, [eta_dW, eta_da, eta_db])
            velocities[0].addcmul_(params[0], eta_decay, value=-1.0)  # - eta weight_decay W
            torch._foreach_add_(params, velocities)
