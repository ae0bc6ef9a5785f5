"""What every RBM reference module builds on: the checks of parameters and batches, and the
free-energy kernel.

Every public function of :mod:`coursekit.reference.rbm` and :mod:`coursekit.reference.rbm_exact`
(and of AIS and parallel tempering) first validates its arguments here -- ``W`` [n_v, n_h],
``a`` [n_v], ``b`` [n_h] finite; batches ``x`` [n, n_v] and ``h`` [n, n_h] 2-D, of the right
width, binary or in [0, 1] -- so that a mistake is reported with the argument's name and shape
instead of surfacing as a broadcasting error or a silent NaN. Then it calls an unchecked
kernel such as :func:`_neg_free_energy`. Both live below the two RBM pages so that
:mod:`~coursekit.reference.rbm` can re-export :mod:`~coursekit.reference.rbm_exact` without an
import cycle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.common.uniforms import check_uniform_arrays
from coursekit.reference.numerics import softplus


def _check_W(W: Any) -> np.ndarray:
    """``W`` as float64 [n_v, n_h], checked to be 2-D and finite."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D with shape [n_v, n_h], got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W contains NaN or inf")
    return W


def _check_bias(v: Any, n: int, name: str, n_name: str, w_shape: tuple[int, ...]) -> np.ndarray:
    """A bias as float64 [n], checked to match ``W`` (of shape ``w_shape``) and to be finite."""
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


def _check_params(W: Any, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and convert ``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h] to float64."""
    W = _check_W(W)
    a = _check_bias(a, W.shape[0], "a (visible bias)", "n_v", W.shape)
    b = _check_bias(b, W.shape[1], "b (hidden bias)", "n_h", W.shape)
    return W, a, b


def _check_units(
    v: Any,
    n_units: int,
    name: str,
    *,
    binary: bool,
    layer: str = "visible",
    against: str = "W.shape[0]",
) -> np.ndarray:
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


def _check_x(x: Any, W: np.ndarray, *, binary: bool, name: str = "x") -> np.ndarray:
    """A visible batch as float64 [n, n_v] (``n_v = W.shape[0]``), see :func:`_check_units`."""
    return _check_units(x, W.shape[0], name, binary=binary)


def _check_h(h: Any, W: np.ndarray, *, binary: bool, name: str = "h") -> np.ndarray:
    """A hidden batch as float64 [n, n_h] (``n_h = W.shape[1]``), see :func:`_check_units`."""
    return _check_units(h, W.shape[1], name, binary=binary, layer="hidden", against="W.shape[1]")


def _check_uniforms(
    uniforms: Any, shape_h: tuple[int, ...], shape_x: tuple[int, ...]
) -> list[np.ndarray]:
    """Validate ``uniforms = (u_h, u_x)`` against the expected shapes -> two float64 arrays.

    Each must have exactly its shape and hold values in [0, 1) (a Bernoulli(p) sample is
    ``u < p``). Passing the uniforms makes a sampler deterministic and comparable across
    implementations (NumPy, PyTorch, Keras).
    """
    return check_uniform_arrays(uniforms, {"u_h": shape_h, "u_x": shape_x}, np.float64)


def _neg_free_energy(x: np.ndarray, W: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``-F(x) = a^T x + sum_j softplus(b_j + x^T W[:, j])`` for float64 ``x`` [n, n_v]."""
    return x @ a + softplus(x @ W + b).sum(axis=1)
