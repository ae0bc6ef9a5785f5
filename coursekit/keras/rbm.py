"""A binary-binary restricted Boltzmann machine in Keras 3 (week 1), for any Keras backend.

Notation of the lecture: visible units ``x`` in {0,1}^n_v, hidden units ``h`` in {0,1}^n_h,
weights ``W`` [n_v, n_h], visible bias ``a`` [n_v], hidden bias ``b`` [n_h],

* energy ``E(x, h) = -a^T x - b^T h - x^T W h``,
* conditionals ``p(h_j = 1 | x) = sigma(b_j + x^T W[:, j])`` and
  ``p(x_i = 1 | h) = sigma(a_i + W[i, :] h)``,
* free energy ``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])``.

Batches are rows: ``x`` [n, n_v], ``h`` [n, n_h]. The maths uses only ``keras.ops``,
``keras.random`` and ``keras.Variable``, so the class runs on the tensorflow and the torch
backend alike; on tensorflow the training step is compiled with ``tf.function``. Every result
agrees with the NumPy reference :mod:`coursekit.reference.rbm` (same conventions for CD-k)::

    import coursekit as ck
    from coursekit.keras import RBM
    rbm = RBM(784, 500, k=1, eta=0.05, seed=0)
    history = rbm.fit(x_train, epochs=10)          # x_train float [n, 784] in [0, 1]
    images = rbm.sample(16, steps=1000)            # p(x | h) of the chain ends, [16, 784]

Sampling with explicit uniforms: a Bernoulli sample is ``(u < p)`` as float32 with
``u ~ U[0, 1)``. Every sampling method takes optional uniforms (``u=`` / ``uniforms=``) so that
results can be compared number for number with another implementation; without them the
uniforms come from the RBM's own seeded generator: ``keras.random`` inside the compiled graphs
of the tensorflow backend, a :class:`coursekit.common.uniforms.UniformStream` on the host for the
other backends (``keras.random.uniform`` on torch seeds a fresh Mersenne twister per call and
rescales its output: three passes where one will do).

Speed: on tensorflow a whole epoch is one compiled graph. TensorFlow runs a matmul of these
small shapes on about one core, so the graph is shaped to give its inter-op threads
independent work: the chains in two independent halves (for CD with the data rows they start
from), and the positive phase's statistics apart from the negative one's. On the torch backend every
``keras.ops`` call costs some microseconds of Python before any work, so the hot path writes
the maths with the backend tensors' own operators (``x @ W + b``, the same on both backends)
and as few operations as it can, and the momentum update runs in place with torch's
multi-tensor operations, as Keras' own torch optimizers do. ``benchmarks/rbm.py`` measures
the cost against the machine's peak.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops
from tqdm import tqdm

from coursekit.checks import check_int, check_seed
from coursekit.common.rbm import (
    check_hyperparameter,
    check_hyperparameters,
    check_not_diverged,
    check_rows,
    check_training_data,
    check_weights,
    eta_schedule,
    refuse_assignment,
)
from coursekit.common.uniforms import UniformStream
from coursekit.io import read_npz, write_npz
from coursekit.keras.tempering import parallel_tempering

__all__ = ["RBM"]

#: Tag stored in every saved file, checked by :meth:`RBM.load`.
FILE_FORMAT = "coursekit.keras.RBM/1"

_MONITOR_ROWS = 1000
_PLL_BUDGET = 1 << 22  # float32 elements of the temporaries of the exact PLL

Uniforms = tuple[Any, Any]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _to_numpy(t: Any) -> np.ndarray:
    """A backend tensor, a ``keras.Variable`` or an array-like -> NumPy array."""
    if isinstance(t, keras.Variable):
        t = t.value
    return np.asarray(ops.convert_to_numpy(t))


def _host(x: Any) -> Any:
    """``x`` unchanged if it is a NumPy array, else as one (for the checks of common.rbm)."""
    return x if isinstance(x, np.ndarray) else _to_numpy(x)


def _bernoulli(p: Any, u: Any) -> Any:
    """Binary float32 sample ``(u < p)`` of the same shape as ``p``."""
    return ops.cast(u < p, "float32")


def _rows(t: Any) -> Any:
    """Number of rows of ``t`` as a float: a Python number when static, else a 0-d tensor."""
    n = t.shape[0]
    return float(n) if n is not None else ops.cast(ops.shape(t)[0], "float32")


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


class RBM:
    """Binary-binary RBM trained by contrastive divergence (CD-k) or persistent CD (PCD-k).

    Parameters are float32 ``keras.Variable`` s: ``W`` [n_v, n_h] ~ N(0, init_std^2), ``a = 0``,
    ``b = 0``, as recommended in G. Hinton, "A practical guide to training restricted Boltzmann
    machines", UTML TR 2010-003 (2010), section 8; :meth:`init_visible_bias` sets ``a`` from the
    pixel means (same section).

    Learning step (:meth:`update`), with ``(dW, da, db)`` the CD-k estimate of the gradient of the
    mean log-likelihood (uphill)::

        vW = momentum * vW + eta * (dW - weight_decay * W);  W += vW
        va = momentum * va + eta * da;                       a += va    (likewise b)

    Args:
        n_visible: number of visible units ``n_v``.
        n_hidden: number of hidden units ``n_h``.
        k: Gibbs steps per gradient estimate (CD-k / PCD-k), an int >= 1.
        persistent: PCD: the negative-phase chains persist across updates instead of
            restarting at the data.
        n_chains: number of persistent chains; None uses the batch size of the first update.
        eta: step size (learning rate), > 0.
        momentum: in [0, 1).
        weight_decay: L2 penalty on ``W`` (not on the biases), >= 0.
        init_std: standard deviation of the initial weights, >= 0.
        seed: seeds the initial weights and every random draw; None takes one from Python's
            ``random`` (seeded by ``coursekit.seed_everything``).
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
        n_v, n_h = hyper["n_visible"], hyper["n_hidden"]
        self._k = hyper["k"]
        self._persistent = hyper["persistent"]
        self._n_chains = hyper["n_chains"]
        self._init_std = hyper["init_std"]
        self._seed = random.randrange(2**31) if hyper["seed"] is None else hyper["seed"]

        # Host-side generator: initial weights, shuffling, monitoring rows and PLL bits.
        self._rng = np.random.default_rng(self._seed)
        # Device-side generator: every Bernoulli draw of the Gibbs chains and binarisation,
        # on tensorflow; on other backends the host stream below draws them (faster there).
        self._seed_gen = keras.random.SeedGenerator(self._seed)
        self._host_uniforms = keras.backend.backend() != "tensorflow"
        # The update in place on the variables' tensors (torch backend, see _apply_in_place);
        # the two phases' matmuls apart, to run beside each other (tensorflow graphs, see
        # _split_statistics).
        self._in_place = keras.backend.backend() == "torch"
        self._split_phases = keras.backend.backend() == "tensorflow"
        # and the batch as two independent halves (see _statistics_in_halves).
        self._halves = self._split_phases
        # TensorFlow's fused momentum kernel for the update (see _apply_fused).
        self._fused_momentum = keras.backend.backend() == "tensorflow"
        self._stream = UniformStream(self._seed)
        self._factor_cache: dict[tuple[int, int], np.ndarray] = {}

        w0 = self._rng.normal(0.0, self._init_std, (n_v, n_h)).astype(np.float32)
        self._W = self._variable(w0, "W")
        self._a = self._variable(np.zeros(n_v, np.float32), "a")
        self._b = self._variable(np.zeros(n_h, np.float32), "b")
        self._vW = self._variable(np.zeros((n_v, n_h), np.float32), "vW")
        self._va = self._variable(np.zeros(n_v, np.float32), "va")
        self._vb = self._variable(np.zeros(n_h, np.float32), "vb")
        # Hyperparameters live in variables so that a compiled step sees their current values.
        self._eta = self._variable(np.float32(1.0), "eta")
        self._momentum = self._variable(np.float32(0.0), "momentum")
        self._weight_decay = self._variable(np.float32(0.0), "weight_decay")
        self.eta = hyper["eta"]
        self.momentum = hyper["momentum"]
        self.weight_decay = hyper["weight_decay"]
        self._chains: keras.Variable | None = None  # PCD state [m, n_v], made on first use
        self._compiled: dict[str, Callable[..., Any]] = {}

    @staticmethod
    def _variable(value: np.ndarray, name: str) -> keras.Variable:
        return keras.Variable(value, dtype="float32", trainable=False, name=name)

    # ---------------------------------------------------------------------- properties

    @property
    def n_visible(self) -> int:
        """Number of visible units ``n_v`` (read-only)."""
        return int(self._W.shape[0])

    n_visible = n_visible.setter(refuse_assignment("n_visible"))

    @property
    def n_hidden(self) -> int:
        """Number of hidden units ``n_h`` (read-only)."""
        return int(self._W.shape[1])

    n_hidden = n_hidden.setter(refuse_assignment("n_hidden"))

    @property
    def W(self) -> keras.Variable:
        """Weights ``W`` [n_v, n_h] (a ``keras.Variable``)."""
        return self._W

    @property
    def a(self) -> keras.Variable:
        """Visible bias ``a`` [n_v]."""
        return self._a

    @property
    def b(self) -> keras.Variable:
        """Hidden bias ``b`` [n_h]."""
        return self._b

    @property
    def k(self) -> int:
        """Gibbs steps per gradient estimate."""
        return self._k

    @k.setter
    def k(self, value: int) -> None:
        self._k = check_hyperparameter("k", value)
        self._compiled.clear()

    @property
    def persistent(self) -> bool:
        """True for PCD-k, False for CD-k (fixed at construction)."""
        return self._persistent

    persistent = persistent.setter(refuse_assignment("persistent"))

    @property
    def n_chains(self) -> int | None:
        """Number of persistent chains (None until known: the first batch size is used)."""
        if self._chains is not None:
            return int(self._chains.shape[0])
        return self._n_chains

    n_chains = n_chains.setter(refuse_assignment("n_chains"))

    @property
    def eta(self) -> float:
        """Step size (> 0)."""
        return float(_to_numpy(self._eta))

    @eta.setter
    def eta(self, value: float) -> None:
        self._eta.assign(check_hyperparameter("eta", value))

    @property
    def momentum(self) -> float:
        """Momentum in [0, 1)."""
        return float(_to_numpy(self._momentum))

    @momentum.setter
    def momentum(self, value: float) -> None:
        self._momentum.assign(check_hyperparameter("momentum", value))

    @property
    def weight_decay(self) -> float:
        """L2 penalty on ``W`` (>= 0)."""
        return float(_to_numpy(self._weight_decay))

    @weight_decay.setter
    def weight_decay(self, value: float) -> None:
        self._weight_decay.assign(check_hyperparameter("weight_decay", value))

    @property
    def persistent_chains(self) -> np.ndarray | None:
        """PCD chain states [m, n_v] as a NumPy copy (None before the first PCD update).

        Set it with a binary array [m, n_v] to choose the chains' state.
        """
        return None if self._chains is None else _to_numpy(self._chains).copy()

    @persistent_chains.setter
    def persistent_chains(self, value: Any) -> None:
        if value is None:
            self._chains = None
            self._compiled.clear()
            return
        chains = check_rows(_host(value), self.n_visible, "persistent_chains", binary=True)
        if self._chains is not None and tuple(self._chains.shape) == chains.shape:
            self._chains.assign(chains)
        else:
            self._chains = self._variable(chains, "persistent_chains")
            self._compiled.clear()  # a compiled step holds on to the old variable

    def __repr__(self) -> str:
        kind = "PCD" if self._persistent else "CD"
        return (
            f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}, {kind}-{self._k}, "
            f"eta={self.eta:g}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}, "
            f"backend={keras.backend.backend()!r})"
        )

    # ---------------------------------------------------------------------- weights

    def get_weights(self) -> dict[str, np.ndarray]:
        """``{"W": [n_v, n_h], "a": [n_v], "b": [n_h]}`` as float32 NumPy copies."""
        return {name: _to_numpy(v).astype(np.float32, copy=True) for name, v in self._params()}

    def set_weights(self, W: Any = None, a: Any = None, b: Any = None) -> None:
        """Set any of ``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h] from arrays (shape-checked).

        The momentum velocities are left as they are.
        """
        weights = {"W": W, "a": a, "b": b}
        weights = {name: None if v is None else _host(v) for name, v in weights.items()}
        new = check_weights(self.n_visible, self.n_hidden, **weights)
        for name, arr in new.items():  # all checked before any is changed
            getattr(self, f"_{name}").assign(arr)

    def init_visible_bias(self, x: Any, clip: float = 1e-3) -> None:
        """Set ``a_i = log(p_i / (1 - p_i))`` with ``p_i`` the mean of column ``i`` of ``x``.

        ``x`` [n, n_v] in [0, 1]; the means are clipped to ``[clip, 1 - clip]`` so that always-off
        pixels get a large negative, finite bias (Hinton's guide, section 8).
        """
        x = self._data(x, "x")
        p = np.clip(x.mean(axis=0, dtype=np.float64), clip, 1.0 - clip)
        self._a.assign(np.log(p / (1.0 - p)).astype(np.float32))

    def _params(self) -> list[tuple[str, keras.Variable]]:
        return [("W", self._W), ("a", self._a), ("b", self._b)]

    # ---------------------------------------------------------------------- input checks

    def _tensor(self, v: Any, name: str, width: int) -> Any:
        """A float32 backend tensor [n, width]; only the shape is checked (no host sync)."""
        t = ops.convert_to_tensor(v, dtype="float32")
        shape = tuple(t.shape)
        if len(shape) != 2:
            raise ValueError(f"{name} must be 2-D [n, {width}] (one row each), got {shape}")
        if shape[1] != width:
            layer = "n_visible" if width == self.n_visible else "n_hidden"
            raise ValueError(f"{name} has {shape[1]} columns but the RBM has {layer}={width}")
        return t

    def _x(self, x: Any, name: str = "x") -> Any:
        return self._tensor(x, name, self.n_visible)

    def _h(self, h: Any, name: str = "h") -> Any:
        return self._tensor(h, name, self.n_hidden)

    def _uniforms(self, uniforms: Uniforms | None, steps: int, m: int) -> Uniforms | None:
        """Check ``(u_h [steps, m, n_h], u_x [steps, m, n_v])`` and convert to tensors."""
        if uniforms is None:
            return None
        try:
            u_h, u_x = uniforms
        except (TypeError, ValueError):
            raise ValueError("uniforms must be a pair (u_h, u_x)") from None
        u_h = ops.convert_to_tensor(u_h, dtype="float32")
        u_x = ops.convert_to_tensor(u_x, dtype="float32")
        for name, u, n in (("u_h", u_h, self.n_hidden), ("u_x", u_x, self.n_visible)):
            if tuple(u.shape) != (steps, m, n):
                raise ValueError(
                    f"uniforms: {name} must have shape (steps, chains, units) = "
                    f"{(steps, m, n)}, got {tuple(u.shape)}"
                )
        return u_h, u_x

    # ---------------------------------------------------------------------- the maths

    def energy(self, x: Any, h: Any) -> Any:
        """``E(x, h) = -a^T x - b^T h - x^T W h`` of each row pair: [n, n_v], [n, n_h] -> [n]."""
        x, h = self._x(x), self._h(h)
        xW = ops.matmul(x, self._W)  # [n, n_h]
        return -ops.matmul(x, self._a) - ops.matmul(h, self._b) - ops.sum(xW * h, axis=1)

    def free_energy(self, x: Any) -> Any:
        """``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])``: [n, n_v] -> [n].

        The sum runs over the hidden units (axis 1), one free energy per row.
        """
        return self._free_energy(self._x(x))

    def _free_energy(self, x: Any) -> Any:
        hidden_input = ops.matmul(x, self._W) + self._b  # [n, n_h]
        return -ops.matmul(x, self._a) - ops.sum(ops.softplus(hidden_input), axis=1)

    def p_h(self, x: Any) -> Any:
        """``p(h_j = 1 | x) = sigma(b_j + x^T W[:, j])``: [n, n_v] -> [n, n_h]."""
        return self._p_h(self._x(x))

    def p_x(self, h: Any) -> Any:
        """``p(x_i = 1 | h) = sigma(a_i + W[i, :] h)``: [n, n_h] -> [n, n_v]."""
        return self._p_x(self._h(h))

    def _p_h(self, x: Any) -> Any:
        return ops.sigmoid(x @ self._W.value + self._b.value)

    def _p_x(self, h: Any) -> Any:
        return ops.sigmoid(h @ ops.transpose(self._W.value) + self._a.value)

    def _draw(self, shape: tuple[int, ...]) -> Any:
        """Uniforms in [0, 1) of a static ``shape``: the host stream or ``keras.random``."""
        if self._host_uniforms:
            u = self._stream.draw(math.prod(shape)).reshape(shape)
            return ops.convert_to_tensor(u)
        return keras.random.uniform(shape, seed=self._seed_gen)

    def _uniform(self, like: Any) -> Any:
        """Uniforms of the shape of ``like`` (which may be dynamic inside a tensorflow graph)."""
        if self._host_uniforms:
            return self._draw(tuple(int(d) for d in like.shape))
        return keras.random.uniform(ops.shape(like), seed=self._seed_gen)

    def sample_h(self, x: Any, u: Any = None) -> tuple[Any, Any]:
        """``(p(h | x) [n, n_h], h [n, n_h])`` with ``h = (u < p)``; ``u`` [n, n_h] or None."""
        p = self._p_h(self._x(x))
        u = self._uniform(p) if u is None else self._h(u, "u")
        return p, _bernoulli(p, u)

    def sample_x(self, h: Any, u: Any = None) -> tuple[Any, Any]:
        """``(p(x | h) [n, n_v], x [n, n_v])`` with ``x = (u < p)``; ``u`` [n, n_v] or None."""
        p = self._p_x(self._h(h))
        u = self._uniform(p) if u is None else self._x(u, "u")
        return p, _bernoulli(p, u)

    def _gibbs_step(self, x: Any, u_h: Any, u_x: Any) -> tuple[Any, Any]:
        """One step ``x -> h -> x``: returns ``(p(x | h), x_new)``; ``u_*`` None -> drawn."""
        p_h = self._p_h(x)
        h = _bernoulli(p_h, self._uniform(p_h) if u_h is None else u_h)
        p_x = self._p_x(h)
        return p_x, _bernoulli(p_x, self._uniform(p_x) if u_x is None else u_x)

    def gibbs(
        self,
        x0: Any,
        steps: int,
        *,
        u: Uniforms | None = None,
        return_chain: bool = False,
        every: int = 1,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Run ``steps`` block-Gibbs steps ``x -> h -> x`` from the binary rows ``x0`` [n, n_v].

        Args:
            x0: start states [n, n_v] (binary, or probabilities used as given).
            steps: number of steps, >= 0.
            u: optional uniforms ``(u_h [steps, n, n_h], u_x [steps, n, n_v])``; step ``s`` uses
                ``u_h[s]`` for ``h`` then ``u_x[s]`` for ``x``.
            return_chain: also return the snapshots.
            every: snapshot interval: ``p(x | h)`` after steps ``every, 2 every, ...``.

        Returns:
            The final binary states [n, n_v] (NumPy), and with ``return_chain`` the snapshots
            ``p(x | h)`` [steps // every, n, n_v] as a second NumPy array.
        """
        steps = check_int(steps, "steps", 0)
        every = check_int(every, "every", 1)
        x = self._x(x0, "x0")
        if return_chain and steps and every > steps:
            raise ValueError(
                f"every (snapshot interval) must be <= steps={steps} to take a snapshot, "
                f"got {every}"
            )
        uniforms = self._uniforms(u, steps, int(x.shape[0]))
        snapshots = []
        for s in range(steps):
            u_h, u_x = (None, None) if uniforms is None else (uniforms[0][s], uniforms[1][s])
            p_x, x = self._gibbs_step(x, u_h, u_x)
            if return_chain and (s + 1) % every == 0:
                snapshots.append(_to_numpy(p_x))
        if not return_chain:
            return _to_numpy(x)
        chain = np.stack(snapshots) if snapshots else np.zeros((0, *x.shape), np.float32)
        return _to_numpy(x), chain

    def sample(
        self,
        n: int,
        *,
        steps: int,
        start: str | Any = "noise",
        every: int | None = None,
        u: Uniforms | None = None,
    ) -> np.ndarray:
        """Draw ``n`` samples by running ``n`` Gibbs chains for ``steps`` steps.

        Args:
            n: number of chains.
            steps: Gibbs steps, >= 1.
            start: ``"noise"`` (Bernoulli(0.5) visible units) or binary start states [n, n_v].
            every: None returns the last step's ``p(x | h)`` [n, n_v]; an int in [1, steps]
                returns the snapshots after every ``every`` steps [steps // every, n, n_v].
            u: optional uniforms as in :meth:`gibbs`.

        Returns:
            NumPy float32 ``p(x | h)``: the "mean images", nicer to look at than binary states.

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
            x0 = _bernoulli(0.5, self._draw((n, self.n_visible)))
        else:
            x0 = check_rows(_host(start), self.n_visible, "start", binary=True)
            if x0.shape[0] != n:
                raise ValueError(f"start has {x0.shape[0]} rows but n={n}")
        _, chain = self.gibbs(x0, steps, u=u, return_chain=True, every=every or steps)
        return chain[-1] if every is None else chain

    def reconstruct(self, x: Any) -> np.ndarray:
        """Mean-field reconstruction ``p(x | h = p(h | x))`` [n, n_v] (NumPy), nothing sampled."""
        return _to_numpy(self._p_x(self._p_h(self._x(x))))

    def reconstruction_error(self, x: Any) -> float:
        """``mean_rows sum_i (x_i - r_i)^2`` with ``r`` from :meth:`reconstruct` -> float."""
        return float(_to_numpy(self._recon_error(self._x(x))))

    def _recon_error(self, x: Any) -> Any:
        r = self._p_x(self._p_h(x))
        return ops.mean(ops.sum(ops.square(x - r), axis=1))

    def pseudo_log_likelihood(self, x: Any, *, exact: bool = False) -> float:
        """Mean pseudo-log-likelihood ``sum_i log p(x_i | x_{-i})`` of the binary rows ``x``.

        ``exact=False``: one random bit per row, times ``n_v`` (scikit-learn's
        ``BernoulliRBM.score_samples``; unbiased, noisy). ``exact=True``: the sum over all bits,
        as :func:`coursekit.reference.rbm.pseudo_log_likelihood`.
        """
        x = self._data(x, "x", binarize=None)
        if exact:
            return self._pll_exact(x)
        bits = self._rng.integers(self.n_visible, size=x.shape[0])
        return float(_to_numpy(self._pll_stochastic(ops.convert_to_tensor(x), bits)))

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
            total += float(_to_numpy(ops.sum(ops.log_sigmoid(delta))))
        return total / n

    # ---------------------------------------------------------------------- learning

    def _statistics(
        self, x: Any, uniforms: Uniforms | None, scale: Any
    ) -> tuple[Any, Any, Any, Any]:
        """``scale`` times the CD-k / PCD-k gradient estimate; advances the persistent chains.

        Conventions of :func:`coursekit.reference.rbm.cd_gradient`: positive phase ``p(h | x)``
        at the data ``x`` [n, n_v]; each of the k steps samples ``h`` then ``x``; negative
        statistics from the binary chain ends ``x_k`` [m, n_v] and ``p(h | x_k)``::

            dW = <x p(h|x)^T>_data - <x_k p(h|x_k)^T>_chains
               = [x; x_k]^T [p(h|x) / n; -p(h|x_k) / m]      (one matmul, K = n + m)

        The second form scales the small [n, n_h] factors instead of the big [n_v, n_h] result:
        ``scale`` (1 for :meth:`gradient`, ``eta`` for :meth:`update`) costs no pass over ``W``.

        Returns ``(scale * dW, scale * da, scale * db, p(x | h))`` with ``p(x | h)`` [m, n_v] of
        the first Gibbs step (for the reconstruction error of CD).
        """
        n_h = self.n_hidden
        W, a, b = self._W.value, self._a.value, self._b.value
        chain = self._chains.value if self._persistent else x  # CD: the chains start at the data
        if uniforms is None:  # one draw for all k steps: [k, m, n_h + n_v]
            u = self._draw_steps(chain)
            u_h, u_x = u[:, :, :n_h], u[:, :, n_h:]
        else:
            u_h, u_x = uniforms
        rows = (x.shape[0], chain.shape[0])
        if self._halves and None not in rows and min(int(r) for r in rows) >= 2:
            return self._statistics_in_halves(x, chain, u_h, u_x, scale)
        W_t = ops.transpose(W)
        ph_data = ops.sigmoid(x @ W + b)  # [n, n_h]
        ph = None if self._persistent else ph_data  # CD: p(h | x) at the chain start is known
        px_first = None
        for s in range(self._k):
            if ph is None:
                ph = ops.sigmoid(chain @ W + b)
            h = _bernoulli(ph, u_h[s])
            px = ops.sigmoid(h @ W_t + a)
            chain, ph = _bernoulli(px, u_x[s]), None
            px_first = px if px_first is None else px_first
        ph_model = ops.sigmoid(chain @ W + b)  # [m, n_h]
        if self._persistent:
            self._chains.assign(chain)
        if self._split_phases:
            return (*self._split_statistics(x, ph_data, chain, ph_model, scale), px_first)
        coef = self._row_factors(x, chain) * scale  # [n+m, 1]: scale/n (data), -scale/m (chains)
        hidden = ops.concatenate([ph_data, ph_model], axis=0) * coef  # [n+m, n_h]
        both_t = ops.transpose(ops.concatenate([x, chain], axis=0))  # [n_v, n+m]
        dW = both_t @ hidden
        da = (both_t @ coef)[:, 0]  # scale (<x>_data - <x_k>_chains)
        db = ops.sum(hidden, axis=0)  # scale (<p(h|x)>_data - <p(h|x_k)>_chains)
        return dW, da, db, px_first

    def _statistics_in_halves(
        self, x: Any, chain: Any, u_h: Any, u_x: Any, scale: Any
    ) -> tuple[tuple[Any, ...], Any, Any, Any]:
        """The statistics of :meth:`_statistics` from two halves of the batch (tensorflow).

        TensorFlow runs a matmul of these small shapes (100 x 784 x 500) on about one core,
        whatever its intra-op threads. Half of the chains (with, for CD, the half of the data
        they start from) is a CD-k / PCD-k computation of its own, independent of the other
        half: two chains of ops that the graph's inter-op threads run side by side, one per
        core. (PCD's data rows wait for no chain: they run whole, beside the first half.) The
        statistics are the sums over both halves (a data row weighs ``scale / n``, a chain
        ``scale / m``, as before), returned as the terms of :meth:`_split_statistics` (``dW``
        as a tuple of terms to add up). Advances the persistent chains.
        """
        W, a, b = self._W.value, self._a.value, self._b.value
        W_t = ops.transpose(W)
        n, m = int(x.shape[0]), int(chain.shape[0])
        pos, neg = scale / float(n), scale / float(m)
        terms, da, db, px_parts, chain_parts = [], [], [], [], []
        for half in (0, 1):
            links = slice(None, m // 2) if half == 0 else slice(m // 2, None)  # chain rows
            data = ph_data = None
            if not self._persistent:  # CD: half of the data, where half of the chains start
                data = x[slice(None, n // 2) if half == 0 else slice(n // 2, None)]
            elif half == 0:  # PCD: the data whole, beside the first half of the chains
                data = x
            if data is not None:
                ph_data = ops.sigmoid(data @ W + b)
                terms.append(ops.transpose(data) @ (ph_data * pos))
                da.append(ops.sum(data, axis=0) * pos)
                db.append(ops.sum(ph_data, axis=0) * pos)
            part, ph = (chain[links], None) if self._persistent else (data, ph_data)
            px_first = None
            for s in range(self._k):
                if ph is None:
                    ph = ops.sigmoid(part @ W + b)
                h = _bernoulli(ph, u_h[s][links])
                px = ops.sigmoid(h @ W_t + a)
                part, ph = _bernoulli(px, u_x[s][links]), None
                px_first = px if px_first is None else px_first
            ph_model = ops.sigmoid(part @ W + b)
            terms.append(ops.transpose(part) @ (ph_model * -neg))
            da.append(ops.sum(part, axis=0) * -neg)
            db.append(ops.sum(ph_model, axis=0) * -neg)
            px_parts.append(px_first)
            chain_parts.append(part)
        if self._persistent:
            self._chains.assign(ops.concatenate(chain_parts, axis=0))
        px_first = ops.concatenate(px_parts, axis=0)  # unused by fit: pruned from its graph
        return tuple(terms), sum(da[1:], da[0]), sum(db[1:], db[0]), px_first

    def _split_statistics(
        self, x: Any, ph_data: Any, chain: Any, ph_model: Any, scale: Any
    ) -> tuple[Any, Any, Any]:
        """The statistics of :meth:`_statistics` with the two phases kept apart (tensorflow).

        ``dW`` is returned as a tuple of terms to add up: ``scale <x p_h^T>_data`` and
        ``-scale <x_k p_h^T>_chains``. The positive phase needs only ``p(h | x)``, so the graph
        computes its matmul while the Gibbs step still runs, on the other core; only the
        negative phase's matmul waits for the chain (one matmul of K = n + m would wait for
        the chain whole). The minus sign rides on the small factor, so that the update only
        adds: grappler merges a sum of same-shape terms into one ``AddN``, one pass over
        ``W``-sized memory instead of one per term.
        """
        pos_scale = scale / _rows(x)
        neg_scale = scale / _rows(chain)
        dW = (
            ops.transpose(x) @ (ph_data * pos_scale),
            ops.transpose(chain) @ (ph_model * -neg_scale),
        )
        da = ops.sum(x, axis=0) * pos_scale - ops.sum(chain, axis=0) * neg_scale
        db = ops.sum(ph_data, axis=0) * pos_scale - ops.sum(ph_model, axis=0) * neg_scale
        return dW, da, db

    def _draw_steps(self, chain: Any) -> Any:
        """Uniforms [k, m, n_h + n_v] for the ``k`` Gibbs steps of ``m`` chains."""
        width = self.n_hidden + self.n_visible
        if self._host_uniforms:
            return self._draw((self._k, int(chain.shape[0]), width))
        shape = (self._k, ops.shape(chain)[0], width)
        return keras.random.uniform(shape, seed=self._seed_gen)

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

    def _gradient_step(self, x: Any, uniforms: Uniforms | None) -> tuple[Any, Any, Any]:
        dW, da, db = self._statistics(x, uniforms, 1.0)[:3]
        if isinstance(dW, tuple):  # the phases apart (see _split_statistics)
            dW = sum(dW[1:], dW[0])
        return dW, da, db

    def _apply(self, eta_dW: Any, eta_da: Any, eta_db: Any) -> None:
        """Momentum and weight-decay step, given ``eta`` times the gradient estimate::

        vW = momentum * vW + eta * (dW - weight_decay * W);  W += vW   (likewise a, b: no decay)

        Written with the backend tensors' operators. The backends use faster forms of the same
        update: in place on torch (:meth:`_apply_in_place`), TensorFlow's fused kernel on
        tensorflow (:meth:`_apply_fused`); this one runs when neither is switched on.
        """
        if self._in_place:
            self._apply_in_place(eta_dW, eta_da, eta_db)
            return
        if self._fused_momentum:
            self._apply_fused(eta_dW, eta_da, eta_db)
            return
        momentum = self._momentum.value
        vW = self._vW.value * momentum + self._decayed_gradient(eta_dW)
        va = self._va.value * momentum + eta_da
        vb = self._vb.value * momentum + eta_db
        for velocity, param, step in (
            (self._vW, self._W, vW),
            (self._va, self._a, va),
            (self._vb, self._b, vb),
        ):
            velocity.assign(step)
            param.assign(param.value + step)

    def _decayed_gradient(self, eta_dW: Any) -> Any:
        """``eta (dW - weight_decay W)`` from ``eta dW`` (a tensor, or a tuple of terms to add
        up, see :meth:`_split_statistics`): only additions, one ``AddN`` on tensorflow."""
        terms = eta_dW if isinstance(eta_dW, tuple) else (eta_dW,)
        grad = self._W.value * -(self._eta.value * self._weight_decay.value)
        for term in terms:
            grad = grad + term
        return grad

    def _apply_fused(self, eta_dW: Any, eta_da: Any, eta_db: Any) -> None:
        """:meth:`_apply` on the tensorflow backend, with TensorFlow's fused momentum kernel.

        ``ResourceApplyMomentum`` (the kernel of TensorFlow's own momentum optimizer) does
        ``accum = momentum * accum + grad; var -= lr * accum`` in one pass over the variables;
        with ``lr = -1`` and ``grad = eta (dW - weight_decay W)`` that is exactly the update of
        :meth:`_apply`, in three passes over ``W``-sized memory instead of four and no copies
        into the variables. The gradient's terms are only added, so grappler sums them in one
        ``AddN``.
        """
        import tensorflow as tf  # only on this backend

        grad_W = self._decayed_gradient(eta_dW)
        lr = tf.constant(-1.0, tf.float32)
        momentum = self._momentum.value
        for velocity, param, grad in (
            (self._vW, self._W, grad_W),
            (self._va, self._a, eta_da),
            (self._vb, self._b, eta_db),
        ):
            tf.raw_ops.ResourceApplyMomentum(
                var=param.handle, accum=velocity.handle, lr=lr, grad=grad, momentum=momentum
            )

    def _apply_in_place(self, eta_dW: Any, eta_da: Any, eta_db: Any) -> None:
        """:meth:`_apply` on the torch backend, in place on the variables' tensors.

        ``Variable.assign`` would copy every new [n_v, n_h] tensor into the variable: two more
        passes over ``W``-sized memory per update on top of the five of the arithmetic. Like
        Keras' own torch optimizers (``keras/src/backend/torch/optimizers/torch_sgd.py``), this
        uses torch's multi-tensor in-place operations: four passes over ``W``, no copies.
        """
        import torch  # only on the torch backend

        velocities = [self._vW.value, self._va.value, self._vb.value]
        params = [self._W.value, self._a.value, self._b.value]
        eta_decay = self._eta.value * self._weight_decay.value  # a 0-d tensor
        with torch.no_grad():
            torch._foreach_mul_(velocities, self._momentum.value)
            torch._foreach_add_(velocities, [eta_dW, eta_da, eta_db])
            velocities[0].addcmul_(params[0], eta_decay, value=-1.0)  # - eta weight_decay W
            torch._foreach_add_(params, velocities)

    def _update_step(self, x: Any, uniforms: Uniforms | None) -> dict[str, Any]:
        eta_dW, eta_da, eta_db, px = self._statistics(x, uniforms, self._eta.value)
        self._apply(eta_dW, eta_da, eta_db)
        if self._persistent:
            return {}
        return {"recon_error": ops.mean(ops.sum(ops.square(x - px), axis=1))}

    def _fit_step(self, data: Any, idx: Any, dynamic: bool) -> None:
        """One minibatch of :meth:`fit`: gather rows, binarise (dynamic), update.

        With host uniforms, one draw serves the binarisation and all Gibbs steps.
        """
        x = ops.take(data, idx, axis=0)
        uniforms = None
        if self._host_uniforms:
            n, n_v, n_h = int(x.shape[0]), self.n_visible, self.n_hidden
            m = int(self._chains.shape[0]) if self._persistent else n
            u = self._stream.draw(n * n_v * dynamic + self._k * m * (n_h + n_v))
            if dynamic:
                x = _bernoulli(x, ops.convert_to_tensor(u[: n * n_v].reshape(n, n_v)))
            steps = ops.convert_to_tensor(u[n * n_v * dynamic :].reshape(self._k, m, n_h + n_v))
            uniforms = (steps[:, :, :n_h], steps[:, :, n_h:])
        elif dynamic:
            x = _bernoulli(x, self._uniform(x))
        self._apply(*self._statistics(x, uniforms, self._eta.value)[:3])

    def _fit_epoch(self, data: Any, batches: Any, dynamic: bool) -> None:
        """The full minibatches of an epoch of :meth:`fit`; ``batches`` int32 [n_batches, B].

        One loop (``keras.ops.fori_loop``): on tensorflow the whole epoch is a single graph.
        """

        def body(i: Any, carry: Any) -> Any:
            self._fit_step(data, batches[i], dynamic)
            return carry

        ops.fori_loop(0, ops.shape(batches)[0], body, 0)

    def _fn(self, name: str) -> Callable[..., Any]:
        """The step ``name``, compiled with ``tf.function`` on the tensorflow backend."""
        fn = self._compiled.get(name)
        if fn is None:
            fn = {
                "gradient": self._gradient_step,
                "update": self._update_step,
                "fit_step": self._fit_step,
                "fit_epoch": self._fit_epoch,
            }[name]
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf  # only on this backend

                fn = tf.function(fn, reduce_retracing=True, autograph=False)
            self._compiled[name] = fn
        return fn

    def _ensure_chains(self, batch_rows: int) -> None:
        """Draw the PCD chains (Bernoulli(0.5)) on first use."""
        if self._persistent and self._chains is None:
            m = self._n_chains or batch_rows
            u = self._draw((m, self.n_visible))
            self._chains = self._variable(_to_numpy(_bernoulli(0.5, u)), "persistent_chains")
            self._compiled.clear()

    def _prepare(self, x: Any, uniforms: Uniforms | None) -> tuple[Any, Uniforms | None]:
        x = self._x(x)
        self._ensure_chains(int(x.shape[0]))
        m = int(self._chains.shape[0]) if self._persistent else int(x.shape[0])
        return x, self._uniforms(uniforms, self._k, m)

    def gradient(self, x: Any, *, uniforms: Uniforms | None = None) -> tuple[Any, Any, Any]:
        """CD-k (or PCD-k) estimate of the mean log-likelihood gradient (uphill).

        Args:
            x: binary data [n, n_v] (not checked for binariness: the hot path never syncs).
            uniforms: optional ``(u_h [k, m, n_h], u_x [k, m, n_v])``, ``m`` = number of chains
                (``n`` for CD, ``n_chains`` for PCD); step ``s`` uses ``u_h[s]`` then ``u_x[s]``.

        Returns:
            ``(dW [n_v, n_h], da [n_v], db [n_h])`` backend tensors. W, a, b are unchanged;
            PCD chains are advanced.
        """
        x, u = self._prepare(x, uniforms)
        return tuple(self._fn("gradient")(x, u))

    def update(self, x: Any, *, uniforms: Uniforms | None = None) -> dict[str, Any]:
        """One learning step on the batch ``x`` [n, n_v] (binary) with momentum and weight decay.

        ``uniforms`` as in :meth:`gradient`. Returns cheap monitors of the batch as 0-d backend
        tensors (nothing is copied to the host; ``float()`` one to read it): for CD,
        ``"recon_error"`` = ``mean_rows sum_i (x_i - p(x_i | h))^2`` with ``h`` the first sampled
        hidden state; for PCD the dict is empty (its chains do not start at the data).
        """
        x, u = self._prepare(x, uniforms)
        return dict(self._fn("update")(x, u))

    def _data(self, x: Any, name: str, binarize: str | None = "dynamic") -> np.ndarray:
        """Training-like data as float32 NumPy, checked by
        :func:`~coursekit.common.rbm.check_training_data`."""
        return check_training_data(_host(x), self.n_visible, name, binarize)

    def fit(
        self,
        x: Any,
        *,
        epochs: int,
        batch_size: int = 100,
        binarize: str | None = "dynamic",
        shuffle: bool = True,
        validation: Any = None,
        monitor_every: int | None = 1,
        progress: bool = True,
        seed: int | None = None,
        eta_final: float | None = None,
    ) -> dict[str, list[float]]:
        """Train for ``epochs`` passes over ``x`` in minibatches.

        Args:
            x: training data [n, n_v], floats in [0, 1] (uint8 images are refused: use
                ``ck.data.flatten(ck.data.to_float(images))``).
            epochs: number of epochs, >= 1.
            batch_size: rows per update; the last batch of an epoch may be smaller.
            binarize: ``"dynamic"`` (fresh Bernoulli(x) states every epoch), ``"static"``
                (``x >= 0.5``) or None (``x`` must already be binary).
            shuffle: new batch order every epoch.
            validation: rows [m, n_v] in [0, 1] to monitor (binarised with ``>= 0.5``); None
                monitors a fixed subset of at most 1,000 training rows.
            monitor_every: record the monitors every this many epochs (and after the last);
                0 or None: no monitoring (the monitors are NaN in the history).
            progress: show a ``tqdm`` bar over the epochs.
            seed: if given, re-seeds the RBM's generators first (shuffling, binarisation,
                Gibbs sampling, monitoring); None continues them.
            eta_final: None keeps the step size ``eta``; a number >= 0 decays it linearly
                from ``eta`` to ``eta_final`` over the epochs (epoch ``e`` uses the schedule's
                value at its midpoint, see ``common.rbm.eta_schedule``). ``eta`` is the
                schedule's start and is restored when ``fit`` returns.

        Returns:
            History, one entry per monitored epoch: ``"epoch"`` (1-based), ``"recon_error"``
            (mean-field reconstruction error), ``"pll"`` (stochastic pseudo-log-likelihood),
            ``"seconds"`` (cumulative training time, monitoring excluded).

        Raises:
            FloatingPointError: training diverged: a parameter became NaN or inf or grew
                beyond ``common.rbm.EXPLODED`` (checked after every epoch), or a monitor is not
                finite; the message suggests a smaller ``eta``.
        """
        epochs = check_int(epochs, "epochs", 1)
        batch_size = check_int(batch_size, "batch_size", 1)
        monitor_every = 0 if monitor_every is None else monitor_every
        monitor_every = check_int(monitor_every, "monitor_every", 0)
        etas = eta_schedule(self.eta, eta_final, epochs)
        data = self._data(x, "x", binarize)
        seed = check_seed(seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            self._seed_gen.state.assign(
                ops.convert_to_tensor([seed, 0], dtype=self._seed_gen.state.dtype)
            )
            self._stream = UniformStream(seed)
        n = data.shape[0]
        if binarize == "static":
            data = (data >= 0.5).astype(np.float32)

        # Monitoring rows, binarised statically so that the monitors are comparable.
        if validation is not None:
            monitor = self._data(validation, "validation")
        else:
            monitor = data[np.sort(self._rng.choice(n, min(n, _MONITOR_ROWS), replace=False))]
        monitor = ops.convert_to_tensor((monitor >= 0.5).astype(np.float32))

        data_t = ops.convert_to_tensor(data)
        self._ensure_chains(min(batch_size, n))
        fit_epoch, fit_step = self._fn("fit_epoch"), self._fn("fit_step")
        n_full = n // batch_size
        dynamic = binarize == "dynamic"
        history: dict[str, list[float]] = {"epoch": [], "recon_error": [], "pll": [], "seconds": []}
        seconds = 0.0
        bar = tqdm(range(1, epochs + 1), desc="RBM", unit="epoch", disable=not progress)
        eta_start = self.eta
        try:
            for epoch in bar:
                if etas is not None:
                    self.eta = etas[epoch - 1]
                t0 = time.perf_counter()
                order = (self._rng.permutation(n) if shuffle else np.arange(n)).astype(np.int32)
                if n_full:
                    batches = order[: n_full * batch_size].reshape(n_full, batch_size)
                    fit_epoch(data_t, ops.convert_to_tensor(batches), dynamic)
                if n_full * batch_size < n:  # the last, smaller batch
                    fit_step(data_t, ops.convert_to_tensor(order[n_full * batch_size :]), dynamic)
                self._check_finite(epoch)  # also waits for the device to finish the epoch
                seconds += time.perf_counter() - t0
                if monitor_every and (epoch % monitor_every == 0 or epoch == epochs):
                    recon = float(_to_numpy(self._recon_error(monitor)))
                    bits = self._rng.integers(self.n_visible, size=int(monitor.shape[0]))
                    pll = float(_to_numpy(self._pll_stochastic(monitor, bits)))
                    monitors = {"recon_error": recon, "pll": pll}
                    check_not_diverged(monitors, epoch, self.eta, math.inf)
                    bar.set_postfix(recon_error=f"{recon:.3g}", pll=f"{pll:.4g}")
                elif monitor_every:
                    continue
                else:
                    recon = pll = float("nan")
                history["epoch"].append(float(epoch))
                history["recon_error"].append(recon)
                history["pll"].append(pll)
                history["seconds"].append(seconds)
        finally:
            self.eta = eta_start
        bar.close()
        return history

    def _check_finite(self, epoch: int) -> None:
        """Stop with a message when W, a or b hold NaN/inf or have exploded."""
        largest = _to_numpy(ops.stack([ops.max(ops.abs(v.value)) for _, v in self._params()]))
        names = [name for name, _ in self._params()]
        check_not_diverged(dict(zip(names, largest.tolist(), strict=True)), epoch, self.eta)

    # ---------------------------------------------------------------------- save / load

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write parameters, velocities, PCD chains, hyperparameters and generator states to
        an ``.npz`` file, atomically (a crash never leaves a half-written file); return the
        path. An error names ``path``."""
        arrays: dict[str, np.ndarray] = {
            "format": np.array(FILE_FORMAT),
            "W": _to_numpy(self._W),
            "a": _to_numpy(self._a),
            "b": _to_numpy(self._b),
            "vW": _to_numpy(self._vW),
            "va": _to_numpy(self._va),
            "vb": _to_numpy(self._vb),
            "hyper": np.array(json.dumps(self._hyperparameters())),
            "rng_state": np.array(json.dumps(self._rng.bit_generator.state)),
            "seed_state": _to_numpy(self._seed_gen.state).astype(np.int64),
            "uniform_state": np.array(self._stream.state),
        }
        if self._chains is not None:
            arrays["persistent_chains"] = _to_numpy(self._chains)
        return write_npz(path, arrays, "RBM")

    def _hyperparameters(self) -> dict[str, Any]:
        return {
            "n_visible": self.n_visible,
            "n_hidden": self.n_hidden,
            "k": self._k,
            "persistent": self._persistent,
            "n_chains": self._n_chains,
            "eta": self.eta,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "init_std": self._init_std,
            "seed": self._seed,
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RBM:
        """Restore an RBM written by :meth:`save`.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not a readable RBM file (corrupt, truncated, a ``.npy``
                array, other bytes, or another format); the message names the file and what was
                expected.
        """
        path = os.fspath(path)
        stored = read_npz(path, "RBM", file_format=FILE_FORMAT, writer="coursekit.keras.RBM.save")
        try:
            hyper = json.loads(str(stored["hyper"]))
            rbm = cls(**hyper)
            rbm.set_weights(W=stored["W"], a=stored["a"], b=stored["b"])
            for name in ("vW", "va", "vb"):
                var = getattr(rbm, f"_{name}")
                if tuple(stored[name].shape) != tuple(var.shape):
                    raise ValueError(f"{name} has shape {stored[name].shape}")
                var.assign(stored[name].astype(np.float32))
            if "persistent_chains" in stored:
                rbm.persistent_chains = stored["persistent_chains"]
            rbm._rng.bit_generator.state = json.loads(str(stored["rng_state"]))
            rbm._seed_gen.state.assign(
                ops.convert_to_tensor(stored["seed_state"], dtype=rbm._seed_gen.state.dtype)
            )
            if "uniform_state" in stored:
                rbm._stream.state = str(stored["uniform_state"])
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f"{path} is not a readable coursekit RBM file: {err} (expected a file written "
                "by coursekit.keras.RBM.save)"
            ) from err
        return rbm

    # ---------------------------------------------------------------------- parallel tempering

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
        :func:`coursekit.keras.tempering.parallel_tempering` (returns a ``TemperingResult``:
        ``.samples`` [n, n_v] or snapshots, ``.betas``, ``.swap_rates``)."""
        return parallel_tempering(
            self, n, steps=steps, betas=betas, base_a=base_a, start=start, every=every, seed=seed
        )
