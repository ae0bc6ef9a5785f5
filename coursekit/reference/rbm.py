"""Reference maths for a binary-binary restricted Boltzmann machine (week 1): energies,
conditionals, free energy, block Gibbs sampling, CD-k / PCD-k and pseudo-likelihood.

Plain NumPy, float64, vectorised over the batch, written in the lecture's notation:

* visible units ``x`` in {0,1}^n_v, hidden units ``h`` in {0,1}^n_h;
* weights ``W`` [n_v, n_h], visible bias ``a`` [n_v], hidden bias ``b`` [n_h];
* energy ``E(x, h) = -a^T x - b^T h - x^T W h`` and ``p(x, h) = exp(-E(x, h)) / Z``;
* conditionals ``p(h_j = 1 | x) = sigma(b_j + x^T W[:, j])``,
  ``p(x_i = 1 | h) = sigma(a_i + W[i, :] h)``;
* free energy ``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])`` so ``p(x) = exp(-F(x)) / Z``.

A batch of visible vectors is a 2-D array ``x`` of shape [n, n_v] (one row per example); a batch
of hidden vectors is ``h`` [n, n_h]. Gradients are those of the *mean* log-likelihood over the
rows and point uphill: gradient ascent is ``W += eta * dW`` (likewise ``a``, ``b``).

The RBM reference is four modules, bottom to top: :mod:`~coursekit.reference.numerics` (stable
``sigmoid``, ``softplus``, ``logsumexp``), :mod:`~coursekit.reference.rbm_base` (argument
checks, the free-energy kernel), :mod:`~coursekit.reference.rbm_exact` (everything computed by
enumerating states: :func:`all_states` and its bit order, log Z, the exact likelihood and
gradient, :func:`model_distribution`, KL) and this page. So that
``from coursekit.reference.rbm import X`` keeps working for every name it has always had, this
module imports the public names of ``numerics`` and ``rbm_exact`` back and lists them in its
``__all__``; they are defined there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.reference.numerics import (
    _as_rng,
    _bernoulli,
    log_sigmoid,
    logsumexp,
    sigmoid,
    softplus,
)
from coursekit.reference.rbm_base import (
    _check_bias,
    _check_h,
    _check_params,
    _check_uniforms,
    _check_W,
    _check_x,
    _neg_free_energy,
)
from coursekit.reference.rbm_exact import (
    MAX_ENUMERATION_UNITS,
    _check_enum_size,  # noqa: F401 (reference.tempering imports it from here)
    all_states,
    empirical_distribution,
    kl_divergence,
    log_likelihood,
    log_likelihood_gradient,
    log_partition,
    model_distribution,
    state_index,
)

__all__ = [
    "MAX_ENUMERATION_UNITS",
    "all_states",
    "cd_gradient",
    "empirical_distribution",
    "energy",
    "free_energy",
    "gibbs_step",
    "kl_divergence",
    "log_likelihood",
    "log_likelihood_gradient",
    "log_partition",
    "log_sigmoid",
    "logsumexp",
    "model_distribution",
    "p_h_given_x",
    "p_x_given_h",
    "pseudo_log_likelihood",
    "pseudo_log_likelihood_stochastic",
    "reconstruction_error",
    "sigmoid",
    "softplus",
    "state_index",
]


# Budget (number of float64 elements) for the temporary 3-D arrays of the exact PLL.
_PLL_BUDGET = 1 << 22


# --------------------------------------------------------------------------------------------
# Energies and conditionals
# --------------------------------------------------------------------------------------------


def energy(x: Any, h: Any, W: Any, a: Any, b: Any) -> np.ndarray:
    """Energy ``E(x, h) = -a^T x - b^T h - x^T W h`` of each row pair.

    ``x`` [n, n_v] and ``h`` [n, n_h] hold binary states (values in [0, 1] are accepted: the
    expression is bilinear); returns float64 [n].
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=False)
    h = _check_h(h, W, binary=False)
    if h.shape[0] != x.shape[0]:
        raise ValueError(f"x and h must have the same number of rows, got {len(x)} and {len(h)}")
    return -(x @ a) - (h @ b) - np.einsum("ni,ij,nj->n", x, W, h)


def free_energy(x: Any, W: Any, a: Any, b: Any) -> np.ndarray:
    """Free energy ``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])``, so p(x) = e^{-F(x)}/Z.

    ``x`` [n, n_v] binary (or probabilities in [0, 1]); returns float64 [n].
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=False)
    return -_neg_free_energy(x, W, a, b)


def p_h_given_x(x: Any, W: Any, b: Any) -> np.ndarray:
    """``p(h_j = 1 | x) = sigma(b_j + x^T W[:, j])``: ``x`` [n, n_v] in [0, 1] -> [n, n_h]."""
    W = _check_W(W)
    b = _check_bias(b, W.shape[1], "b (hidden bias)", "n_h", W.shape)
    x = _check_x(x, W, binary=False)
    return sigmoid(x @ W + b)


def p_x_given_h(h: Any, W: Any, a: Any) -> np.ndarray:
    """``p(x_i = 1 | h) = sigma(a_i + W[i, :] h)``: ``h`` [n, n_h] in [0, 1] -> [n, n_v]."""
    W = _check_W(W)
    a = _check_bias(a, W.shape[0], "a (visible bias)", "n_v", W.shape)
    h = _check_h(h, W, binary=False)
    return sigmoid(h @ W.T + a)


# --------------------------------------------------------------------------------------------
# Sampling and contrastive divergence
# --------------------------------------------------------------------------------------------


def gibbs_step(
    x: Any, W: Any, a: Any, b: Any, rng: Any = None, uniforms: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """One full block-Gibbs step ``x -> h -> x_new`` with sampled (binary) units.

    ``h ~ p(h | x)``, then ``x_new ~ p(x | h)``. ``x`` [n, n_v] binary (or probabilities in
    [0, 1], used as given). Returns ``(h [n, n_h], x_new [n, n_v])``, float64 of 0s and 1s.
    ``rng``: None, an int seed or a ``np.random.Generator``. ``uniforms``: optionally the pair
    ``(u_h [n, n_h], u_x [n, n_v])`` of U[0, 1) numbers to use instead of ``rng``:
    ``h = (u_h < p(h | x))``, ``x_new = (u_x < p(x | h))``.
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=False)
    if uniforms is None:
        rng = _as_rng(rng)
        u_h = u_x = None
    else:
        n, (n_v, n_h) = x.shape[0], W.shape
        u_h, u_x = _check_uniforms(uniforms, (n, n_h), (n, n_v))
    h = _bernoulli(sigmoid(x @ W + b), rng, u_h)
    return h, _bernoulli(sigmoid(h @ W.T + a), rng, u_x)


def cd_gradient(
    x: Any,
    W: Any,
    a: Any,
    b: Any,
    k: int = 1,
    rng: Any = None,
    persistent: Any = None,
    uniforms: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CD-k (or PCD-k) estimate of the mean log-likelihood gradient.

    Returns ``(dW [n_v, n_h], da [n_v], db [n_h], chain [m, n_v])``.

    * Positive phase: the data ``x`` [n, n_v] (binary) with ``h`` replaced by its probabilities
      ``p(h | x)`` -- exactly as in :func:`log_likelihood_gradient`.
    * Negative phase: a chain started at the data (CD) or, if ``persistent`` [m, n_v] (binary)
      is given, at that persistent state (PCD), run for ``k`` full Gibbs steps
      ``x -> h -> x``. **Every step samples** both ``h ~ p(h | x)`` and ``x ~ p(x | h)``, so the
      chain end ``x_k`` is binary. The negative statistics use ``x_k`` and the *probabilities*
      ``p(h | x_k)`` (not a sampled ``h``; lower variance, same expectation):
      ``<x_k p(h|x_k)^T>``, ``<x_k>``, ``<p(h|x_k)>``, averaged over the ``m`` chains.
    * ``chain`` is ``x_k``: pass it back as ``persistent`` for the next PCD update.

    * ``uniforms``: optionally the pair ``(u_h [k, m, n_h], u_x [k, m, n_v])`` of U[0, 1)
      numbers to use instead of ``rng`` (``m`` = number of chains: rows of ``x`` for CD, of
      ``persistent`` for PCD); Gibbs step ``s`` sets ``h = (u_h[s] < p(h | x))`` and then
      ``x = (u_x[s] < p(x | h))``. This is how other implementations are checked against
      this one.

    Ascent: ``W += eta * dW``. ``k`` must be an int >= 1.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (number of Gibbs steps) must be an int >= 1, got {k!r}")
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=True)
    rng = _as_rng(rng)
    if persistent is None:
        chain = x
    else:
        chain = _check_x(persistent, W, binary=True, name="persistent")
    n, m = x.shape[0], chain.shape[0]
    if uniforms is None:
        u_h = u_x = [None] * int(k)
    else:
        (n_v, n_h), k = W.shape, int(k)
        u_h, u_x = _check_uniforms(uniforms, (k, m, n_h), (k, m, n_v))
    ph_data = sigmoid(x @ W + b)
    for s in range(int(k)):
        h = _bernoulli(sigmoid(chain @ W + b), rng, u_h[s])
        chain = _bernoulli(sigmoid(h @ W.T + a), rng, u_x[s])
    ph_model = sigmoid(chain @ W + b)
    dW = x.T @ ph_data / n - chain.T @ ph_model / m
    da = x.mean(axis=0) - chain.mean(axis=0)
    db = ph_data.mean(axis=0) - ph_model.mean(axis=0)
    return dW, da, db, chain


# --------------------------------------------------------------------------------------------
# Monitoring: pseudo-log-likelihood and reconstruction error
# --------------------------------------------------------------------------------------------


def pseudo_log_likelihood(x: Any, W: Any, a: Any, b: Any) -> float:
    """Exact mean pseudo-log-likelihood ``(1/n) sum_rows sum_i log p(x_i | x_{-i})`` -> float.

    For binary ``x``, with ``x~^(i)`` equal to ``x`` with bit ``i`` flipped,
    ``log p(x_i | x_{-i}) = log sigma(F(x~^(i)) - F(x))``. Flipping bit ``i`` changes
    ``a^T x`` by ``d_i a_i`` and the hidden input ``b + W^T x`` by ``d_i W[i, :]`` with
    ``d_i = 1 - 2 x_i``; all rows are handled at once, looping over blocks of visible units.
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=True)
    n, n_v = x.shape
    n_h = W.shape[1]
    c = x @ W + b  # [n, n_h] hidden input
    sp_c = softplus(c).sum(axis=1)  # [n]
    d = 1.0 - 2.0 * x  # [n, n_v]: +1 turns a 0 on, -1 turns a 1 off
    block = max(1, _PLL_BUDGET // max(1, n * n_h))
    total = np.zeros(n)
    for i0 in range(0, n_v, block):
        sl = slice(i0, min(i0 + block, n_v))
        c_flip = c[:, None, :] + d[:, sl, None] * W[None, sl, :]  # [n, block, n_h]
        # -F(x) - (-F(x~)) = -d_i a_i + sum_j softplus(c_j) - softplus(c~_j)
        delta = -d[:, sl] * a[sl] + sp_c[:, None] - softplus(c_flip).sum(axis=2)
        total += log_sigmoid(delta).sum(axis=1)
    return float(total.mean())


def pseudo_log_likelihood_stochastic(x: Any, W: Any, a: Any, b: Any, rng: Any = None) -> float:
    """Stochastic PLL: one random bit ``i`` per row, ``n_v * log p(x_i | x_{-i})`` -> float.

    The estimate used by scikit-learn's ``BernoulliRBM.score_samples``; averaged over the draw
    of ``i`` it equals :func:`pseudo_log_likelihood` (unbiased), with extra variance.
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=True)
    rng = _as_rng(rng)
    n, n_v = x.shape
    i = rng.integers(n_v, size=n)
    rows = np.arange(n)
    x_flip = x.copy()
    x_flip[rows, i] = 1.0 - x_flip[rows, i]
    delta = _neg_free_energy(x, W, a, b) - _neg_free_energy(x_flip, W, a, b)  # F(x~) - F(x)
    return float(n_v * np.mean(log_sigmoid(delta)))


def reconstruction_error(x: Any, W: Any, a: Any, b: Any) -> float:
    """Mean-field reconstruction error ``(1/n) sum_rows sum_i (x_i - r_i)^2`` -> float.

    ``r = p(x = 1 | h = p(h | x))``: the hidden *probabilities* are fed back, nothing is
    sampled, so the result is deterministic. ``x`` [n, n_v] binary or in [0, 1]. A training
    monitor only -- it is not the quantity CD optimises.
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=False)
    r = sigmoid(sigmoid(x @ W + b) @ W.T + a)
    return float(np.mean(np.sum((x - r) ** 2, axis=1)))
