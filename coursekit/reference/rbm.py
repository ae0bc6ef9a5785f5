"""Exact reference maths for a binary-binary restricted Boltzmann machine (week 1).

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

"Exact" functions enumerate all states of the *smaller* layer (at most 24 units) and sum the
other layer out analytically, since given one layer the units of the other are independent.

Bit-order convention (the one place it is defined): :func:`all_states` lists the 2**n binary
vectors in counting order with the **first unit as the most significant bit**, so the state
with index ``k`` has ``x_i = (k >> (n - 1 - i)) & 1`` and :func:`state_index` is the inverse,
``k = sum_i x_i 2**(n - 1 - i)``. For an image flattened row-major, pixel (0, 0) is the most
significant bit. Every distribution over visible states (:func:`model_distribution`,
:func:`empirical_distribution`, :func:`coursekit.data.toy.bars_and_stripes_distribution`) uses
this order.
"""

from __future__ import annotations

import numpy as np

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

#: Largest layer that exact enumeration accepts (2**24 ~ 16.8 million states).
MAX_ENUMERATION_UNITS = 24

# Budget (number of float64 elements) for the temporary 3-D arrays of the exact PLL.
_PLL_BUDGET = 1 << 22


# --------------------------------------------------------------------------------------------
# Numerically stable helpers
# --------------------------------------------------------------------------------------------


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, elementwise, without overflow for large ``|z|``."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z):
    """``log(1 + exp(z))``, elementwise, computed stably as ``max(z, 0) + log1p(exp(-|z|))``.

    Same values as ``np.logaddexp(0, z)``, about a third faster (in-place temporaries).
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 0:
        return np.logaddexp(0.0, z)
    out = np.abs(z)
    np.negative(out, out=out)
    np.exp(out, out=out)  # exp(-|z|) in (0, 1]: never overflows
    np.log1p(out, out=out)
    out += np.maximum(z, 0.0)
    return out


def log_sigmoid(z):
    """``log sigma(z) = -softplus(-z)``, elementwise and stable (no ``log(0)`` for large ``-z``)."""
    return -softplus(-np.asarray(z, dtype=np.float64))


def logsumexp(x, axis=None):
    """``log(sum(exp(x), axis))`` computed stably by shifting with the maximum.

    Returns a float for ``axis=None``, otherwise an array with ``axis`` removed. All ``-inf``
    along the axis gives ``-inf``; a ``+inf`` entry gives ``+inf``.
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # all -inf (or +inf) along the axis: no shift
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return float(out) if out.ndim == 0 else out


def _bernoulli(p, rng, u=None):
    """Binary float64 sample with ``P(1) = p``, elementwise: ``u < p`` with ``u ~ U[0, 1)``.

    ``u`` (same shape as ``p``) supplies the uniforms explicitly; otherwise ``rng`` draws them.
    """
    if u is None:
        u = rng.random(p.shape)
    return (u < p).astype(np.float64)


def _as_rng(rng):
    """``None`` | int seed | ``np.random.Generator`` -> ``np.random.Generator``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------


def _check_W(W):
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D with shape [n_v, n_h], got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W contains NaN or inf")
    return W


def _check_bias(v, n, name, n_name, w_shape):
    if v is None:
        raise ValueError(f"{name} is required")
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (n,):
        raise ValueError(
            f"{name} must have shape ({n_name},) = ({n},) to match W {w_shape}, got shape {v.shape}"
        )
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or inf")
    return v


def _check_params(W, a, b):
    """Validate and convert ``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h] to float64."""
    W = _check_W(W)
    a = _check_bias(a, W.shape[0], "a (visible bias)", "n_v", W.shape)
    b = _check_bias(b, W.shape[1], "b (hidden bias)", "n_h", W.shape)
    return W, a, b


def _check_units(v, n_units, name, *, binary, layer="visible", against="W.shape[0]"):
    """Validate a batch ``v`` [n, n_units]: 2-D, right width, binary or in [0, 1]."""
    v = np.asarray(v)
    if v.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D [n, {layer} units] (one row per example), got shape {v.shape}"
        )
    if v.shape[1] != n_units:
        raise ValueError(
            f"{name} has {v.shape[1]} {layer} units (columns) but {against} = {n_units}"
        )
    v = v.astype(np.float64, copy=False)
    if binary:
        if not np.all((v == 0.0) | (v == 1.0)):
            raise ValueError(f"{name} must be binary: every value 0 or 1")
    elif not np.all((v >= 0.0) & (v <= 1.0)):
        raise ValueError(f"{name} must have values in [0, 1] (binary states or probabilities)")
    return v


def _check_x(x, W, *, binary, name="x"):
    return _check_units(x, W.shape[0], name, binary=binary)


def _check_h(h, W, *, binary, name="h"):
    return _check_units(h, W.shape[1], name, binary=binary, layer="hidden", against="W.shape[1]")


def _check_uniforms(uniforms, shape_h, shape_x):
    """Validate ``uniforms = (u_h, u_x)`` against the expected shapes -> two float64 arrays.

    Each must have exactly its shape and hold values in [0, 1) (a Bernoulli(p) sample is
    ``u < p``). Passing the uniforms makes a sampler deterministic and comparable across
    implementations (NumPy, PyTorch, Keras).
    """
    if not isinstance(uniforms, (tuple, list)) or len(uniforms) != 2:
        raise ValueError(
            f"uniforms must be a pair (u_h, u_x) of arrays with shapes {shape_h} and {shape_x}"
        )
    out = []
    for u, shape, name in zip(uniforms, (shape_h, shape_x), ("u_h", "u_x"), strict=True):
        u = np.asarray(u, dtype=np.float64)
        if u.shape != shape:
            raise ValueError(f"uniforms: {name} must have shape {shape}, got shape {u.shape}")
        if not np.all((u >= 0.0) & (u < 1.0)):
            raise ValueError(f"uniforms: {name} must hold values in [0, 1)")
        out.append(u)
    return out


def _check_enum_size(n, what):
    if n > MAX_ENUMERATION_UNITS:
        raise ValueError(
            f"{what} = {n} is too large to enumerate exactly (2**{n} states; the limit is "
            f"{MAX_ENUMERATION_UNITS} units)"
        )


# --------------------------------------------------------------------------------------------
# Energies and conditionals (unchecked kernels, then the checked public functions)
# --------------------------------------------------------------------------------------------


def _neg_free_energy(x, W, a, b):
    """``-F(x) = a^T x + sum_j softplus(b_j + x^T W[:, j])`` for float64 ``x`` [n, n_v]."""
    return x @ a + softplus(x @ W + b).sum(axis=1)


def energy(x, h, W, a, b):
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


def free_energy(x, W, a, b):
    """Free energy ``F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j])``, so p(x) = e^{-F(x)}/Z.

    ``x`` [n, n_v] binary (or probabilities in [0, 1]); returns float64 [n].
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=False)
    return -_neg_free_energy(x, W, a, b)


def p_h_given_x(x, W, b):
    """``p(h_j = 1 | x) = sigma(b_j + x^T W[:, j])``: ``x`` [n, n_v] in [0, 1] -> [n, n_h]."""
    W = _check_W(W)
    b = _check_bias(b, W.shape[1], "b (hidden bias)", "n_h", W.shape)
    x = _check_x(x, W, binary=False)
    return sigmoid(x @ W + b)


def p_x_given_h(h, W, a):
    """``p(x_i = 1 | h) = sigma(a_i + W[i, :] h)``: ``h`` [n, n_h] in [0, 1] -> [n, n_v]."""
    W = _check_W(W)
    a = _check_bias(a, W.shape[0], "a (visible bias)", "n_v", W.shape)
    h = _check_h(h, W, binary=False)
    return sigmoid(h @ W.T + a)


# --------------------------------------------------------------------------------------------
# Enumeration
# --------------------------------------------------------------------------------------------


def _states_range(start, stop, n):
    """float64 [stop - start, n]: the states with indices start..stop-1 (MSB first)."""
    k = np.arange(start, stop, dtype=np.int64)
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
    return ((k[:, None] >> shifts) & 1).astype(np.float64)


def all_states(n):
    """All 2**n binary vectors of length ``n`` as uint8 [2**n, n], in counting order.

    Row ``k`` is the binary expansion of ``k`` with the first unit as the most significant bit:
    ``all_states(2) == [[0, 0], [0, 1], [1, 0], [1, 1]]``. ``n`` must be in 0..24.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    _check_enum_size(int(n), "n")
    n = int(n)
    k = np.arange(1 << n, dtype=np.uint32)
    out = np.empty((1 << n, n), dtype=np.uint8)
    for i in range(n):  # one column at a time keeps the temporaries small for n = 24
        out[:, i] = (k >> np.uint32(n - 1 - i)) & np.uint32(1)
    return out


def state_index(x):
    """Index of each binary row of ``x`` [n, d] in :func:`all_states` order -> int64 [n].

    ``k = sum_i x_i 2**(d - 1 - i)`` (first column is the most significant bit); ``d <= 62``.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D [n, n_v], got shape {x.shape}")
    if x.shape[1] > 62:
        raise ValueError(f"x has {x.shape[1]} columns; state_index supports at most 62")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("x must be binary: every value 0 or 1")
    weights = np.left_shift(np.int64(1), np.arange(x.shape[1] - 1, -1, -1, dtype=np.int64))
    return x.astype(np.int64) @ weights


def _check_chunk(chunk):
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be a positive int, got {chunk!r}")
    return int(chunk)


def _exact_moments(W, a, b, chunk, moments):
    """Stream over the states of the smaller layer: log Z and (optionally) model moments.

    If ``n_h <= n_v`` the hidden states are enumerated, with the unnormalised log marginal
    ``log p*(h) = b^T h + sum_i softplus(a_i + W[i, :] h)`` and ``E[x | h] = sigma(a + W h)``;
    otherwise the visible states, with ``log p*(x) = -F(x)`` and ``E[h | x] = sigma(b + W^T x)``.
    The weights are accumulated in a running log-scale, so nothing overflows.

    Returns ``(log_z, <x h^T>, <x>, <h>)``; the last three are ``None`` unless ``moments``.
    """
    n_v, n_h = W.shape
    enum_hidden = n_h <= n_v
    n_s = n_h if enum_hidden else n_v
    if n_s > MAX_ENUMERATION_UNITS:
        layer = "hidden" if enum_hidden else "visible"
        raise ValueError(
            f"exact enumeration needs the smaller layer to have at most {MAX_ENUMERATION_UNITS} "
            f"units, but the smaller layer ({layer}, n_{layer[0]} = {n_s}; W is {W.shape}) is "
            "larger; estimate log Z with coursekit.reference.ais.ais_log_partition instead"
        )
    total = 1 << n_s
    log_scale = -np.inf  # running maximum of the log weights
    s = 0.0  # sum of exp(log weight - log_scale)
    xh = np.zeros((n_v, n_h))
    ex = np.zeros(n_v)
    eh = np.zeros(n_h)
    for start in range(0, total, chunk):
        states = _states_range(start, min(start + chunk, total), n_s)
        if enum_hidden:
            field = states @ W.T + a  # [c, n_v]: a + W h
            log_u = states @ b + softplus(field).sum(axis=1)
        else:
            field = states @ W + b  # [c, n_h]: b + W^T x
            log_u = states @ a + softplus(field).sum(axis=1)
        new_scale = max(log_scale, float(log_u.max()))
        rescale = np.exp(log_scale - new_scale)  # 0 on the first chunk
        w = np.exp(log_u - new_scale)
        s = s * rescale + w.sum()
        if moments:
            cond = sigmoid(field)
            if enum_hidden:  # states = h, cond = E[x | h]
                xh = xh * rescale + (cond * w[:, None]).T @ states
                ex = ex * rescale + w @ cond
                eh = eh * rescale + w @ states
            else:  # states = x, cond = E[h | x]
                xh = xh * rescale + (states * w[:, None]).T @ cond
                ex = ex * rescale + w @ states
                eh = eh * rescale + w @ cond
        log_scale = new_scale
    log_z = log_scale + float(np.log(s))
    if not moments:
        return log_z, None, None, None
    return log_z, xh / s, ex / s, eh / s


def log_partition(W, a, b, chunk=2**14):
    """Exact ``log Z = log sum_{x,h} exp(-E(x, h))`` -> float.

    The larger layer is summed out analytically and the smaller layer (at most 24 units) is
    enumerated, ``chunk`` states at a time (memory ~ ``chunk * max(n_v, n_h)`` floats). A
    784 x 15 RBM enumerates 2**15 hidden states. Raises ValueError if the smaller layer has more
    than 24 units.
    """
    W, a, b = _check_params(W, a, b)
    return _exact_moments(W, a, b, _check_chunk(chunk), moments=False)[0]


def log_likelihood(x, W, a, b, log_z=None, chunk=2**14):
    """Exact mean log-likelihood ``(1/n) sum_rows log p(x) = mean(-F(x)) - log Z`` -> float.

    ``x`` [n, n_v] binary. ``log_z`` (e.g. from :func:`log_partition` or an AIS estimate) is
    computed exactly when not given (``chunk`` as in :func:`log_partition`).
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=True)
    if log_z is None:
        log_z = _exact_moments(W, a, b, _check_chunk(chunk), moments=False)[0]
    return float(np.mean(_neg_free_energy(x, W, a, b)) - log_z)


def log_likelihood_gradient(x, W, a, b, chunk=2**14):
    """Exact gradient of the mean log-likelihood -> ``(dW [n_v, n_h], da [n_v], db [n_h])``.

    Positive phase (data, with ``h`` replaced by ``p(h | x)``) minus negative phase (exact
    model expectations by enumeration of the smaller layer)::

        dW = <x p(h|x)^T>_data - <x h^T>_model
        da = <x>_data          - <x>_model
        db = <p(h|x)>_data     - <h>_model

    ``x`` [n, n_v] binary. Ascent: ``W += eta * dW``. ``chunk``: states enumerated at a time,
    as in :func:`log_partition`.
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=True)
    n = x.shape[0]
    ph = sigmoid(x @ W + b)
    _, xh_model, x_model, h_model = _exact_moments(W, a, b, _check_chunk(chunk), moments=True)
    dW = x.T @ ph / n - xh_model
    da = x.mean(axis=0) - x_model
    db = ph.mean(axis=0) - h_model
    return dW, da, db


def model_distribution(W, a, b):
    """Exact ``p(x)`` over all 2**n_v visible states in :func:`all_states` order -> [2**n_v].

    Needs ``n_v <= 24``. The result sums to 1 (up to rounding).
    """
    W, a, b = _check_params(W, a, b)
    n_v = W.shape[0]
    _check_enum_size(n_v, "n_v (number of visible units)")
    total = 1 << n_v
    chunk = 2**14
    neg_f = np.concatenate(
        [
            _neg_free_energy(_states_range(s, min(s + chunk, total), n_v), W, a, b)
            for s in range(0, total, chunk)
        ]
    )
    return np.exp(neg_f - logsumexp(neg_f))


# --------------------------------------------------------------------------------------------
# Distributions over enumerated states
# --------------------------------------------------------------------------------------------


def _check_distribution(p, name):
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"{name} must be 1-D (a distribution over enumerated states)")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    if abs(p.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1, sums to {p.sum()!r}")
    return p


def kl_divergence(p_data, p_model):
    """``KL(p_data || p_model) = sum_s p_data(s) log(p_data(s) / p_model(s))`` in nats -> float.

    Both are distributions over the same enumerated states (1-D, same length, each summing
    to 1). Terms with ``p_data(s) = 0`` contribute 0 (``0 log 0 = 0``); if ``p_model(s) = 0``
    where ``p_data(s) > 0`` the divergence is ``inf``.
    """
    p = _check_distribution(p_data, "p_data")
    q = _check_distribution(p_model, "p_model")
    if p.shape != q.shape:
        raise ValueError(f"p_data and p_model must have the same shape, got {p.shape}, {q.shape}")
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    kl = float(np.sum(p[support] * (np.log(p[support]) - np.log(q[support]))))
    return max(kl, 0.0)  # clip rounding below zero; KL >= 0


def empirical_distribution(x):
    """Fraction of the rows of binary ``x`` [n, n_v] in each of the 2**n_v states -> [2**n_v].

    Index ``k`` is the state's position in :func:`all_states` order: ``k = sum_i x_i
    2**(n_v - 1 - i)``, the first unit (column 0) being the most significant bit.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D [n, n_v], got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("x must have at least one row")
    _check_enum_size(x.shape[1], "n_v (number of columns of x)")
    idx = state_index(x)
    return np.bincount(idx, minlength=1 << x.shape[1]).astype(np.float64) / x.shape[0]


# --------------------------------------------------------------------------------------------
# Sampling and contrastive divergence
# --------------------------------------------------------------------------------------------


def gibbs_step(x, W, a, b, rng=None, uniforms=None):
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


def cd_gradient(x, W, a, b, k=1, rng=None, persistent=None, uniforms=None):
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


def pseudo_log_likelihood(x, W, a, b):
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


def pseudo_log_likelihood_stochastic(x, W, a, b, rng=None):
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


def reconstruction_error(x, W, a, b):
    """Mean-field reconstruction error ``(1/n) sum_rows sum_i (x_i - r_i)^2`` -> float.

    ``r = p(x = 1 | h = p(h | x))``: the hidden *probabilities* are fed back, nothing is
    sampled, so the result is deterministic. ``x`` [n, n_v] binary or in [0, 1]. A training
    monitor only -- it is not the quantity CD optimises.
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=False)
    r = sigmoid(sigmoid(x @ W + b) @ W.T + a)
    return float(np.mean(np.sum((x - r) ** 2, axis=1)))
