"""A binary-binary restricted Boltzmann machine in Keras 3 (week 1), for any Keras backend.

Notation (the lecture's): visible units ``x`` in {0,1}^n_v, hidden units ``h`` in {0,1}^n_h,
weights ``W`` [n_v, n_h], visible bias ``a`` [n_v], hidden bias ``b`` [n_h]::

    E(x, h)         = -a^T x - b^T h - x^T W h
    p(h_j = 1 | x)  = sigma(b_j + x^T W[:, j])
    p(x_i = 1 | h)  = sigma(a_i + W[i, :] h)
    F(x)            = -a^T x - sum_j softplus(b_j + x^T W[:, j])

Batches are rows: ``x`` [n, n_v], ``h`` [n, n_h]. Only ``keras.ops``, ``keras.random`` and
``keras.Variable`` (any backend); the maths is that of :mod:`coursekit.reference.rbm`::

    rbm = RBM(784, 500, k=1, eta=0.05, seed=0)
    history = rbm.fit(x_train, epochs=10)          # x_train float [n, 784] in [0, 1]
    images = rbm.sample(16, steps=1000)            # p(x | h) of the chain ends, [16, 784]

A Bernoulli(p) unit is ``(u < p)``, ``u ~ U[0, 1)``; every sampler takes the uniforms as an
optional argument, else draws them from the RBM's seeded generator (``keras.random`` on
tensorflow; on other backends a host :class:`~coursekit.common.uniforms.UniformStream`).
**The algorithm** is :meth:`RBM.gradient` (CD-k / PCD-k) and :meth:`RBM.update` (Hinton's
momentum rule, UTML TR 2010-003); :meth:`RBM.fit` runs that update through the fast path
:mod:`coursekit.keras.rbm_fast`, or with ``fast=False`` through :meth:`RBM.update`.
"""

from __future__ import annotations

import math
import os
import random
from typing import Any

import keras
import numpy as np
from keras import ops

from coursekit.checks import check_bool, check_seed, to_numpy
from coursekit.common import rbm as common  # the framework-free checks
from coursekit.common import rbm_fit  # fit's epoch loop and checkpoints
from coursekit.common.rbm import fixed_attribute, refuse_assignment, tunable_attribute
from coursekit.common.uniforms import UniformStream, check_gibbs_uniforms, check_uniform
from coursekit.keras.rbm_fast import FastPath
from coursekit.keras.rbm_file import FILE_FORMAT as FILE_FORMAT  # the saved file's tag
from coursekit.keras.rbm_file import KerasRBMFile
from coursekit.keras.tempering import parallel_tempering

__all__ = ["RBM"]

_PLL_BUDGET = 1 << 22  # float32 elements of the temporaries of the exact PLL

Uniforms = tuple[Any, Any]


class RBM(KerasRBMFile):
    """Binary-binary RBM trained by contrastive divergence (CD-k) or persistent CD (PCD-k).

    Parameters are float32 ``keras.Variable`` s: ``W`` [n_v, n_h] ~ N(0, init_std^2), ``a = 0``,
    ``b = 0`` (Hinton's guide, section 8).

    Args:
        n_visible, n_hidden: numbers of visible and hidden units ``n_v``, ``n_h``.
        k: Gibbs steps per gradient estimate (CD-k / PCD-k), an int >= 1.
        persistent: PCD: the chains persist across updates instead of restarting at the data.
        n_chains: number of persistent chains; None uses the batch size of the first update.
        eta: step size, > 0. momentum: in [0, 1). weight_decay: L2 penalty on ``W``, >= 0.
        init_std: standard deviation of the initial weights, >= 0.
        seed: seeds the initial weights and every random draw; None takes one from Python's
            ``random`` (seeded by ``coursekit.seed_everything``).
    """

    def __init__(
        self, n_visible: int, n_hidden: int, *, k: int = 1, persistent: bool = False,
        n_chains: int | None = None, eta: float = 0.05, momentum: float = 0.5,
        weight_decay: float = 1e-4, init_std: float = 0.01, seed: int | None = None,
    ) -> None:  # fmt: skip
        hyper = common.check_hyperparameters(
            n_visible, n_hidden, k=k, persistent=persistent, n_chains=n_chains, eta=eta,
            momentum=momentum, weight_decay=weight_decay, init_std=init_std, seed=seed,
        )  # fmt: skip
        for name, value in hyper.items():
            setattr(self, f"_{name}", value)  # read through the properties below
        self._seed = random.randrange(2**31) if self._seed is None else self._seed
        # Host-side generator: initial weights, shuffling, monitoring rows and PLL bits.
        self._rng = np.random.default_rng(self._seed)
        # The Bernoulli draws: keras.random on tensorflow (inside its graphs), else the host.
        self._seed_gen = keras.random.SeedGenerator(self._seed)
        self._host_uniforms = keras.backend.backend() != "tensorflow"
        self._stream = UniformStream(self._seed)
        self._fast = FastPath(self)  # fit's training loop (compiled on tensorflow)

        n_v, n_h = self.n_visible, self.n_hidden
        w0 = self._rng.normal(0.0, self._init_std, (n_v, n_h)).astype(np.float32)
        self._W = self._variable(w0, "W")
        for name, shape in (("a", n_v), ("b", n_h), ("vW", (n_v, n_h)), ("va", n_v), ("vb", n_h)):
            setattr(self, f"_{name}", self._variable(np.zeros(shape, np.float32), name))
        # Hyperparameters in variables, so that a compiled step sees their current values.
        for name in ("eta", "momentum", "weight_decay"):
            setattr(self, f"_{name}", self._variable(np.float32(hyper[name]), name))
        self._chains: keras.Variable | None = None  # PCD state [m, n_v], made on first use

    @staticmethod
    def _variable(value: np.ndarray, name: str) -> keras.Variable:
        return keras.Variable(value, dtype="float32", trainable=False, name=name)

    # --- Properties ---------------------------------------------------------------------------
    n_visible = fixed_attribute("n_visible", "Number of visible units ``n_v`` (read-only).")
    n_hidden = fixed_attribute("n_hidden", "Number of hidden units ``n_h`` (read-only).")
    persistent = fixed_attribute("persistent", "True for PCD-k, False for CD-k (read-only).")
    k = tunable_attribute("k", "Gibbs steps per gradient estimate (int >= 1).")
    eta = tunable_attribute("eta", "Step size (> 0).")
    momentum = tunable_attribute("momentum", "Momentum in [0, 1).")
    weight_decay = tunable_attribute("weight_decay", "L2 penalty on ``W`` (>= 0).")
    W = property(lambda self: self._W, doc="Weights ``W`` [n_v, n_h] (a ``keras.Variable``).")
    a = property(lambda self: self._a, doc="Visible bias ``a`` [n_v].")
    b = property(lambda self: self._b, doc="Hidden bias ``b`` [n_h].")

    n_chains = property(
        lambda self: self._n_chains if self._chains is None else int(self._chains.shape[0]),
        refuse_assignment("n_chains"), doc="Number of persistent chains (None until known).",
    )  # fmt: skip

    @property
    def persistent_chains(self) -> np.ndarray | None:
        """PCD chain states [m, n_v] as a NumPy copy (None before the first PCD update); set
        it with a binary array [m, n_v] to choose the chains' state."""
        return None if self._chains is None else to_numpy(self._chains).copy()

    @persistent_chains.setter
    def persistent_chains(self, value: Any) -> None:
        if value is None:
            self._chains = None
            self._fast.reset()
            return
        chains = common.check_chains(value, self.n_visible)
        if self._chains is not None and tuple(self._chains.shape) == chains.shape:
            self._chains.assign(chains)
        else:
            self._chains = self._variable(chains, "persistent_chains")
            self._fast.reset()  # a compiled step holds on to the old variable

    def __repr__(self) -> str:
        kind = "PCD" if self._persistent else "CD"
        return (f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}, {kind}-{self._k}, "
                f"eta={self.eta:g}, momentum={self.momentum:g}, weight_decay="
                f"{self.weight_decay:g}, backend={keras.backend.backend()!r})")  # fmt: skip

    # --- Weights in and out (NumPy) -----------------------------------------------------------
    def get_weights(self) -> dict[str, np.ndarray]:
        """``{"W": [n_v, n_h], "a": [n_v], "b": [n_h]}`` as float32 NumPy copies."""
        return {name: to_numpy(getattr(self, name)).astype(np.float32, copy=True) for name in "Wab"}

    def set_weights(self, W: Any = None, a: Any = None, b: Any = None) -> None:
        """Set any of ``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h] (shapes checked)."""
        weights = {"W": W, "a": a, "b": b}
        weights = {name: None if v is None else to_numpy(v) for name, v in weights.items()}
        for name, arr in common.check_weights(self.n_visible, self.n_hidden, **weights).items():
            getattr(self, f"_{name}").assign(arr)  # all checked before any is changed

    def init_visible_bias(self, x: Any, clip: float = 1e-3) -> None:
        """Set ``a_i = log(p_i / (1 - p_i))`` from the column means ``p_i`` of ``x`` [n, n_v] in
        [0, 1] (clipped to ``[clip, 1 - clip]``): ``common.rbm.visible_bias_from_data``."""
        self._a.assign(common.visible_bias_from_data(x, self.n_visible, clip))

    # --- Tensors and random numbers -----------------------------------------------------------
    def _x(self, x: Any, name: str = "x", layer: str = "visible") -> Any:
        """A float32 backend tensor [n, n_<layer>]; only the shape is checked (no host sync)."""
        t = ops.convert_to_tensor(x, dtype="float32")
        common.check_columns(tuple(t.shape), getattr(self, f"n_{layer}"), name, layer)
        return t

    def _uniform(self, shape: tuple[Any, ...]) -> Any:
        """Uniforms in [0, 1) of ``shape`` (dims may be dynamic in a tensorflow graph)."""
        if self._host_uniforms:
            return ops.convert_to_tensor(self._stream.draw(math.prod(shape)).reshape(shape))
        return keras.random.uniform(shape, seed=self._seed_gen)

    def _bernoulli(self, p: Any, u: Any = None) -> Any:
        """Binary float32 sample ``(u < p)``; ``u ~ U[0, 1)`` drawn if not given."""
        u = self._uniform(ops.shape(p)) if u is None else ops.convert_to_tensor(u)
        return ops.cast(u < p, "float32")

    def _gibbs_uniforms(self, uniforms: Any, steps: int, chain: Any) -> Uniforms:
        """``(u_h [steps, m, n_h], u_x [steps, m, n_v])`` for the chains ``chain`` [m, n_v]:
        ``uniforms`` checked, or one draw [steps, m, n_h + n_v] cut in two."""
        n_v, n_h = self.n_visible, self.n_hidden
        if uniforms is not None:
            u_h, u_x = check_gibbs_uniforms(uniforms, steps, int(chain.shape[0]), n_v, n_h)
            return ops.convert_to_tensor(u_h), ops.convert_to_tensor(u_x)
        u = self._uniform((steps, ops.shape(chain)[0], n_h + n_v))
        return u[:, :, :n_h], u[:, :, n_h:]

    # --- Energies and conditionals ------------------------------------------------------------
    def _p_h(self, x: Any) -> Any:
        return ops.sigmoid(x @ self._W.value + self._b.value)

    def _p_x(self, h: Any) -> Any:
        return ops.sigmoid(h @ ops.transpose(self._W.value) + self._a.value)

    def _free_energy(self, x: Any) -> Any:
        hidden_input = ops.matmul(x, self._W) + self._b  # [n, n_h]
        return -ops.matmul(x, self._a) - ops.sum(ops.softplus(hidden_input), axis=1)

    def p_h(self, x: Any) -> Any:
        """``p(h_j = 1 | x) = sigma(b_j + x^T W[:, j])``: [n, n_v] -> [n, n_h]."""
        return self._p_h(self._x(x))

    def p_x(self, h: Any) -> Any:
        """``p(x_i = 1 | h) = sigma(a_i + W[i, :] h)``: [n, n_h] -> [n, n_v]."""
        return self._p_x(self._x(h, "h", "hidden"))

    def energy(self, x: Any, h: Any) -> Any:
        """``E(x, h) = -a^T x - b^T h - x^T W h`` of each row pair: [n, n_v], [n, n_h] -> [n]."""
        x, h = self._x(x), self._x(h, "h", "hidden")
        xW = ops.matmul(x, self._W)  # [n, n_h]
        return -ops.matmul(x, self._a) - ops.matmul(h, self._b) - ops.sum(xW * h, axis=1)

    def free_energy(self, x: Any) -> Any:
        """``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])``: [n, n_v] -> [n]."""
        return self._free_energy(self._x(x))

    # --- Sampling -----------------------------------------------------------------------------
    def sample_h(self, x: Any, u: Any = None) -> tuple[Any, Any]:
        """``(p(h | x) [n, n_h], h [n, n_h])`` with ``h = (u < p)``; ``u`` [n, n_h] or None."""
        p = self._p_h(self._x(x))
        return p, self._bernoulli(p, None if u is None else check_uniform(u, p.shape))

    def sample_x(self, h: Any, u: Any = None) -> tuple[Any, Any]:
        """``(p(x | h) [n, n_v], x [n, n_v])`` with ``x = (u < p)``; ``u`` [n, n_v] or None."""
        p = self._p_x(self._x(h, "h", "hidden"))
        return p, self._bernoulli(p, None if u is None else check_uniform(u, p.shape))

    def gibbs(
        self, x0: Any, steps: int, *, u: Uniforms | None = None, return_chain: bool = False,
        every: int = 1,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """``steps`` block-Gibbs steps ``x -> h -> x`` from ``x0`` [n, n_v] (``u``: optional
        uniforms ``(u_h [steps, n, n_h], u_x [steps, n, n_v])``) -> the final binary states
        [n, n_v] (NumPy), and with ``return_chain`` the snapshots ``p(x | h)`` after steps
        ``every, 2 every, ...`` [steps // every, n, n_v]."""
        steps, every = common.check_gibbs_arguments(steps, every, return_chain)
        x = self._x(x0, "x0")
        u_h, u_x = (None, None) if u is None else self._gibbs_uniforms(u, steps, x)
        snapshots = []
        for s in range(steps):
            h = self._bernoulli(self._p_h(x), None if u_h is None else u_h[s])
            p_x = self._p_x(h)
            x = self._bernoulli(p_x, None if u_x is None else u_x[s])
            if return_chain and (s + 1) % every == 0:
                snapshots.append(to_numpy(p_x))
        if not return_chain:
            return to_numpy(x)
        chain = np.stack(snapshots) if snapshots else np.zeros((0, *x.shape), np.float32)
        return to_numpy(x), chain

    def sample(
        self, n: int, *, steps: int, start: str | Any = "noise", every: int | None = None,
        u: Uniforms | None = None,
    ) -> np.ndarray:  # fmt: skip
        """Draw ``n`` samples by running Gibbs chains for ``steps`` (>= 1) steps from ``start``:
        ``"noise"`` (Bernoulli(0.5) units) or binary states [n, n_v]; ``u`` as in :meth:`gibbs`.
        Returns NumPy float32 ``p(x | h)`` (the "mean images") of the last step [n, n_v], or
        with ``every`` (in [1, steps]) the snapshots [steps // every, n, n_v]."""
        n, steps, every, x0 = common.check_sample_arguments(n, steps, every, start, self.n_visible)
        if x0 is None:
            x0 = self._bernoulli(0.5, self._uniform((n, self.n_visible)))
        _, chain = self.gibbs(x0, steps, u=u, return_chain=True, every=every or steps)
        return chain[-1] if every is None else chain

    # --- The algorithm: CD-k / PCD-k and the momentum rule ------------------------------------
    def gradient(self, x: Any, *, uniforms: Uniforms | None = None) -> tuple[Any, Any, Any]:
        """CD-k (PCD-k) estimate of the mean log-likelihood gradient (uphill) on the binary
        batch ``x`` [n, n_v] -> backend tensors ``(dW [n_v, n_h], da [n_v], db [n_h])``, as
        :func:`coursekit.reference.rbm.cd_gradient`. ``uniforms``: optional ``(u_h [k, m, n_h],
        u_x [k, m, n_v])``, ``m`` = n (CD) or ``n_chains`` (PCD). Leaves ``W, a, b`` alone;
        advances the persistent chains."""
        x = self._x(x)
        x_k = self._start_chains(x)  # CD: the chains start at the data
        u_h, u_x = self._gibbs_uniforms(uniforms, self._k, x_k)
        p_data = self._p_h(x)  # positive phase: p(h | x) at the data
        for s in range(self._k):  # k block-Gibbs steps x_k -> h -> x_k, draws (u < p)
            h = self._bernoulli(self._p_h(x_k), u_h[s])
            x_k = self._bernoulli(self._p_x(h), u_x[s])
        p_model = self._p_h(x_k)  # negative phase: p(h | x_k) at the chain ends
        if self._persistent:
            self._chains.assign(x_k)  # PCD: the next estimate continues from here
        n, m = int(x.shape[0]), int(x_k.shape[0])
        dW = ops.transpose(x) @ p_data / n - ops.transpose(x_k) @ p_model / m
        da = ops.mean(x, axis=0) - ops.mean(x_k, axis=0)
        db = ops.mean(p_data, axis=0) - ops.mean(p_model, axis=0)
        return dW, da, db

    def update(self, x: Any, *, uniforms: Uniforms | None = None) -> dict[str, Any]:
        """One learning step on the binary batch ``x`` [n, n_v], Hinton's momentum rule::

            vW <- momentum vW + eta (dW - weight_decay W);   W <- W + vW
            va <- momentum va + eta da;                      a <- a + va     (likewise b)

        with ``(dW, da, db)`` from :meth:`gradient` (``uniforms`` as there). Returns for CD
        ``{"recon_error": e}``, the mean squared error of the one-step reconstruction
        ``p(x | h_1)``, ``h_1 = (u_h[0] < p(h | x))`` (a 0-d tensor); for PCD ``{}``."""
        x = self._x(x)
        u_h, u_x = self._gibbs_uniforms(uniforms, self._k, self._start_chains(x))
        monitors = {}
        if not self._persistent:  # the first Gibbs step of CD, as a reconstruction of x
            p_x_1 = self._p_x(self._bernoulli(self._p_h(x), u_h[0]))
            monitors["recon_error"] = ops.mean(ops.sum(ops.square(x - p_x_1), axis=1))
        dW, da, db = self.gradient(x, uniforms=(u_h, u_x))
        eta, momentum, decay = self._eta.value, self._momentum.value, self._weight_decay.value
        self._vW.assign(momentum * self._vW.value + eta * (dW - decay * self._W.value))
        self._va.assign(momentum * self._va.value + eta * da)
        self._vb.assign(momentum * self._vb.value + eta * db)
        for param, velocity in ((self._W, self._vW), (self._a, self._va), (self._b, self._vb)):
            param.assign(param.value + velocity.value)
        return monitors

    def _start_chains(self, x: Any) -> Any:
        """The chains of an update on the batch ``x``: ``x`` (CD) or the persistent chains
        (``n_chains`` or ``len(x)``), Bernoulli(0.5) noise on first use."""
        if self._persistent and self._chains is None:
            u = self._uniform((self._n_chains or int(x.shape[0]), self.n_visible))
            self._chains = self._variable(to_numpy(self._bernoulli(0.5, u)), "persistent_chains")
            self._fast.reset()
        return self._chains.value if self._persistent else x

    # --- Training loop ------------------------------------------------------------------------
    def _data(self, x: Any, name: str, binarize: str | None = "dynamic") -> np.ndarray:
        """Training-like data as float32 NumPy (checked by ``common.rbm.check_training_data``)."""
        return common.check_training_data(to_numpy(x), self.n_visible, name, binarize)

    def _train_epoch(self, data: Any, order: np.ndarray, batch_size: int, dynamic: bool) -> None:
        """One pass over ``data`` [N, n_v] in the row order ``order`` with :meth:`update` per
        batch (``fit(fast=False)``), with the fast path's batches and random numbers."""
        for start in range(0, len(order), batch_size):
            x = ops.take(data, ops.convert_to_tensor(order[start : start + batch_size]), axis=0)
            u_data, uniforms = self._fast.batch_uniforms(x, dynamic)  # the fast path's draws
            if dynamic:  # x_i ~ Bernoulli(intensity_i), fresh every epoch
                x = self._bernoulli(x, u_data)
            self.update(x, uniforms=uniforms)

    def _check_finite(self, epoch: int) -> None:
        """Stop with a message when W, a or b hold NaN/inf or have exploded."""
        common.check_finite_parameters({"W": self._W, "a": self._a, "b": self._b}, epoch, self.eta)

    def fit(
        self, x: Any, *, epochs: int, batch_size: int = 100, binarize: str | None = "dynamic",
        shuffle: bool = True, validation: Any = None, monitor_every: int | None = 1,
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
        path :mod:`coursekit.keras.rbm_fast` (slower; the same random numbers, the same result up
        to float rounding: for study, and to check the fast path).

        ``checkpoint``: a file to write the whole training state to, atomically (weights,
        velocities, persistent chains, generators, monitored rows, history). The fast path runs
        an epoch in one call (one graph on tensorflow), so checkpoints fall at epochs' ends:
        after each epoch in which the update count reaches a multiple of ``checkpoint_every``
        (None: none such), after the last epoch, and on Ctrl-C (the epoch under way finishes
        first; a second Ctrl-C stops at once). ``resume``: such a checkpoint of this RBM's run
        on the same ``x``, settings and backend (``seed`` is then not used): the run continues
        after its last epoch and ends as the uninterrupted run would have, bitwise on one CPU
        process (:mod:`coursekit.common.rbm_fit`).

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
        n = data.shape[0]
        if binarize == "static":
            data = (data >= 0.5).astype(np.float32)
        data_t = ops.convert_to_tensor(data)

        def prepare() -> dict[str, np.ndarray]:
            """The draws before the first epoch: the monitored rows (sorted), the PCD chains."""
            if seed is not None:
                self._rng = np.random.default_rng(seed)
                state = self._seed_gen.state
                state.assign(ops.convert_to_tensor([seed, 0], dtype=state.dtype))
                self._stream = UniformStream(seed)
            rows = np.zeros(0, np.int64)
            if val is None:
                rows = np.sort(self._rng.choice(n, min(n, common.MONITOR_ROWS), replace=False))
            self._start_chains(data_t[:batch_size])  # PCD: the chains, before the first epoch
            return {"monitor_rows": rows}

        settings = {"rows": n, "epochs": epochs, "batch_size": batch_size, "binarize": binarize,
                    "shuffle": bool(shuffle), "monitor_every": monitor_every,
                    "validation": None if val is None else len(val), "eta_final": eta_final,
                    "fast": fast, "backend": keras.backend.backend()}  # fmt: skip
        hyper = {name: getattr(self, name) for name in rbm_fit.TRAINING_HYPERPARAMETERS}
        drawn, saving = rbm_fit.fit_checkpoints(
            "coursekit.keras.RBM", {**hyper, "n_chains": self._n_chains}, settings, checkpoint,
            checkpoint_every, resume, state=self._state, restore=self._set_state,
            prepare=prepare)  # fmt: skip
        monitor = data[drawn["monitor_rows"]] if val is None else val
        monitor = ops.convert_to_tensor((monitor >= 0.5).astype(np.float32))

        def epoch() -> None:
            order = (self._rng.permutation(n) if shuffle else np.arange(n)).astype(np.int32)
            train_epoch(data_t, order, batch_size, binarize == "dynamic")

        def monitors() -> tuple[float, float]:
            recon = float(to_numpy(self._recon_error(monitor)))
            bits = self._rng.integers(self.n_visible, size=int(monitor.shape[0]))
            return recon, float(to_numpy(self._pll_stochastic(monitor, bits)))

        history = rbm_fit.train_epochs(
            self, epoch, monitors, epochs=epochs, etas=etas, monitor_every=monitor_every,
            progress=progress, updates_per_epoch=-(-n // batch_size), **saving)
        history["epoch"] = [float(e) for e in history["epoch"]]  # floats, as Keras records them
        return history

    # --- Monitoring ---------------------------------------------------------------------------
    def reconstruct(self, x: Any) -> np.ndarray:
        """Mean-field reconstruction ``p(x | h = p(h | x))``: ``x`` [n, n_v] -> NumPy [n, n_v]."""
        return to_numpy(self._p_x(self._p_h(self._x(x))))

    def reconstruction_error(self, x: Any) -> float:
        """``mean_rows sum_i (x_i - r_i)^2`` with ``r`` from :meth:`reconstruct` -> float."""
        return float(to_numpy(self._recon_error(self._x(x))))

    def _recon_error(self, x: Any) -> Any:
        r = self._p_x(self._p_h(x))
        return ops.mean(ops.sum(ops.square(x - r), axis=1))

    def pseudo_log_likelihood(self, x: Any, *, exact: bool = False) -> float:
        """Mean pseudo-log-likelihood of the binary rows of ``x`` [n, n_v]: ``exact=False``, one
        random bit per row times n_v (scikit-learn's ``BernoulliRBM.score_samples``); ``exact``,
        the sum over all bits (``reference.pseudo_log_likelihood``)."""
        x = self._data(x, "x", binarize=None)
        if exact:
            return self._pll_exact(x)
        bits = self._rng.integers(self.n_visible, size=x.shape[0])
        return float(to_numpy(self._pll_stochastic(ops.convert_to_tensor(x), bits)))

    def _pll_stochastic(self, x: Any, bits: np.ndarray) -> Any:
        flip = ops.one_hot(ops.convert_to_tensor(bits, dtype="int32"), self.n_visible)
        x_flip = ops.abs(x - flip)  # bit i flipped in each row
        delta = self._free_energy(x_flip) - self._free_energy(x)  # F(x~) - F(x)
        return self.n_visible * ops.mean(ops.log_sigmoid(delta))

    def _pll_exact(self, x: np.ndarray) -> float:
        n, n_v = x.shape
        xt = ops.convert_to_tensor(x)
        c = ops.matmul(xt, self._W) + self._b  # [n, n_h] hidden input
        sp_c = ops.sum(ops.softplus(c), axis=1)  # [n]
        d = 1.0 - 2.0 * xt  # [n, n_v]: flipping bit i adds d_i W[i, :] to c
        block = max(1, _PLL_BUDGET // max(1, n * self.n_hidden))
        total = 0.0
        for i0 in range(0, n_v, block):
            i1 = min(i0 + block, n_v)
            d_blk = d[:, i0:i1]
            c_flip = c[:, None, :] + d_blk[:, :, None] * self._W[i0:i1][None, :, :]
            delta = -d_blk * self._a[i0:i1] + sp_c[:, None] - ops.sum(ops.softplus(c_flip), 2)
            total += float(to_numpy(ops.sum(ops.log_sigmoid(delta))))
        return total / n

    # --- Parallel tempering (coursekit.keras.tempering) ---------------------------------------
    def sample_tempered(
        self, n: int, *, steps: int, betas: Any = None, base_a: Any = None, start: Any = "noise",
        every: int | None = None, seed: int | None = None,
    ) -> Any:  # fmt: skip
        """``n`` samples by parallel tempering: :func:`coursekit.keras.tempering.parallel_tempering`
        (a ``TemperingResult``: ``.samples`` [n, n_v] or snapshots, ``.betas``, ``.swap_rates``)."""
        return parallel_tempering(
            self, n, steps=steps, betas=betas, base_a=base_a, start=start, every=every, seed=seed
        )
