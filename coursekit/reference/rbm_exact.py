"""Exact RBM quantities by enumeration (week 1): all states, log Z, the likelihood and its
gradient, the model distribution and KL divergences over enumerated states.

The notation is that of :mod:`coursekit.reference.rbm` (``W`` [n_v, n_h], ``a`` [n_v],
``b`` [n_h], batches ``x`` [n, n_v]); gradients are those of the *mean* log-likelihood and point
uphill. These are the ground truth the course checks its estimators against (AIS for log Z,
CD-k for the gradient), feasible for small models and for any model whose smaller layer is small.

"Exact" functions enumerate all states of the *smaller* layer (at most
:data:`MAX_ENUMERATION_UNITS` = 24 units) and sum the other layer out analytically, since given
one layer the units of the other are independent.

Bit-order convention (the one place it is defined): :func:`all_states` lists the 2**n binary
vectors in counting order with the **first unit as the most significant bit**, so the state
with index ``k`` has ``x_i = (k >> (n - 1 - i)) & 1`` and :func:`state_index` is the inverse,
``k = sum_i x_i 2**(n - 1 - i)``. For an image flattened row-major, pixel (0, 0) is the most
significant bit. Every distribution over visible states (:func:`model_distribution`,
:func:`empirical_distribution`, :func:`coursekit.data.toy.bars_and_stripes_distribution`) uses
this order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.reference.numerics import logsumexp, sigmoid, softplus
from coursekit.reference.rbm_base import _check_params, _check_x, _neg_free_energy

__all__ = [
    "MAX_ENUMERATION_UNITS",
    "all_states",
    "empirical_distribution",
    "kl_divergence",
    "log_likelihood",
    "log_likelihood_gradient",
    "log_partition",
    "model_distribution",
    "state_index",
]

#: Largest layer that exact enumeration accepts (2**24 ~ 16.8 million states).
MAX_ENUMERATION_UNITS = 24


def _check_enum_size(n: int, what: str) -> None:
    """Refuse to enumerate ``2**n`` states beyond :data:`MAX_ENUMERATION_UNITS`, naming ``what``."""
    if n > MAX_ENUMERATION_UNITS:
        raise ValueError(
            f"{what} = {n} is too large to enumerate exactly (2**{n} states; the limit is "
            f"{MAX_ENUMERATION_UNITS} units)"
        )


def _states_range(start: int, stop: int, n: int) -> np.ndarray:
    """float64 [stop - start, n]: the states with indices start..stop-1 (MSB first)."""
    k = np.arange(start, stop, dtype=np.int64)
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
    return ((k[:, None] >> shifts) & 1).astype(np.float64)


def all_states(n: int) -> np.ndarray:
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


def state_index(x: Any) -> np.ndarray:
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


def _check_chunk(chunk: Any) -> int:
    """``chunk`` (states enumerated at a time) as a positive int."""
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be a positive int, got {chunk!r}")
    return int(chunk)


def _exact_moments(
    W: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int, moments: bool
) -> tuple[float, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
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


def log_partition(W: Any, a: Any, b: Any, chunk: int = 2**14) -> float:
    """Exact ``log Z = log sum_{x,h} exp(-E(x, h))`` -> float.

    The larger layer is summed out analytically and the smaller layer (at most 24 units) is
    enumerated, ``chunk`` states at a time (memory ~ ``chunk * max(n_v, n_h)`` floats). A
    784 x 15 RBM enumerates 2**15 hidden states. Raises ValueError if the smaller layer has more
    than 24 units.
    """
    W, a, b = _check_params(W, a, b)
    return _exact_moments(W, a, b, _check_chunk(chunk), moments=False)[0]


def log_likelihood(
    x: Any, W: Any, a: Any, b: Any, log_z: float | None = None, chunk: int = 2**14
) -> float:
    """Exact mean log-likelihood ``(1/n) sum_rows log p(x) = mean(-F(x)) - log Z`` -> float.

    ``x`` [n, n_v] binary. ``log_z`` (e.g. from :func:`log_partition` or an AIS estimate) is
    computed exactly when not given (``chunk`` as in :func:`log_partition`).
    """
    W, a, b = _check_params(W, a, b)
    x = _check_x(x, W, binary=True)
    if log_z is None:
        log_z = _exact_moments(W, a, b, _check_chunk(chunk), moments=False)[0]
    return float(np.mean(_neg_free_energy(x, W, a, b)) - log_z)


def log_likelihood_gradient(
    x: Any, W: Any, a: Any, b: Any, chunk: int = 2**14
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def model_distribution(W: Any, a: Any, b: Any) -> np.ndarray:
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


def _check_distribution(p: Any, name: str) -> np.ndarray:
    """``p`` as float64 [n_states]: 1-D, finite, non-negative, summing to 1."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"{name} must be 1-D (a distribution over enumerated states)")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    if abs(p.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must sum to 1, sums to {p.sum()!r}")
    return p


def kl_divergence(p_data: Any, p_model: Any) -> float:
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


def empirical_distribution(x: Any) -> np.ndarray:
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
