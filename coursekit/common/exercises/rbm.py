"""The fixed inputs of the week 1 (RBM) exercise checks, NumPy only."""

from __future__ import annotations

import numpy as np

__all__ = ["rbm_problem"]


def rbm_problem(
    n: int = 20, m: int = 15, n_visible: int = 12, n_hidden: int = 7, k: int = 2, seed: int = 0
) -> dict[str, np.ndarray]:
    """The fixed inputs of the week 1 checks, float32 NumPy arrays (each framework converts
    them): binary data ``x`` [n, n_v] and chains ``chain`` [m, n_v] (``m != n``, so that a mean
    over the wrong rows shows), weights ``W``, ``a``, ``b`` of order one (every unit
    undecided, so that a draw and a probability differ), uniforms ``u_h`` [k, m, n_h] and
    ``u_x`` [k, m, n_v] of the k Gibbs steps."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x": rng.random((n, n_visible)) < 0.4,
        "chain": rng.random((m, n_visible)) < 0.5,
        "W": rng.normal(0, 0.8, (n_visible, n_hidden)),
        "a": rng.normal(0, 0.5, n_visible),
        "b": rng.normal(0, 0.5, n_hidden),
        "u_h": rng.random((k, m, n_hidden)),
        "u_x": rng.random((k, m, n_visible)),
    }
    return {name: np.asarray(value, dtype=np.float32) for name, value in arrays.items()}
