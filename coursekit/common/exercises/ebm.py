"""The fixed inputs of the week 2 (EBM) exercise checks, NumPy only.

A tiny energy on 5x5 one-channel images, ``E(x) = silu(flat(x) W1 + b1) w2 + b2`` (each
framework builds it as a network: [n, 1, 5, 5] in PyTorch, [n, 5, 5, 1] in Keras, the same
pixel order once flattened), with weights large enough that ``grad_x E`` exceeds the gradient
clip and the chains reach the clamp at [-1, 1]: so that each typical mistake changes the numbers.
"""

from __future__ import annotations

import copy

import numpy as np

from coursekit.common.ebm import ReplayBuffer

__all__ = ["SIDE", "buffer_problem", "ebm_problem"]

SIDE = 5  #: the images of the checks are SIDE x SIDE, one channel


def ebm_problem(
    n: int = 8, m: int = 6, hidden: int = 16, k: int = 3, seed: int = 0
) -> dict[str, np.ndarray]:
    """The fixed inputs of the Langevin and loss checks, float32 NumPy arrays (flat images; each
    framework reshapes them): energy weights ``W1`` [SIDE^2, hidden], ``b1`` [hidden], ``w2``
    [hidden, 1], ``b2`` [1]; chain starts ``x0`` [n, SIDE^2] uniform on [-1, 1]; standard
    normals ``noise`` [k, n, SIDE^2] (step ``t`` uses ``noise[t]``); data ``x_data``
    [n, SIDE^2] and samples ``x_fake`` [m, SIDE^2] in [-1, 1] (``m != n``, so that a mean over
    the wrong rows shows)."""
    rng = np.random.default_rng(seed)
    d = SIDE * SIDE
    arrays = {
        "W1": rng.normal(0, 0.5, (d, hidden)),
        "b1": rng.normal(0, 0.5, hidden),
        "w2": rng.normal(0, 1.0, (hidden, 1)),
        "b2": rng.normal(0, 0.5, 1),
        "x0": rng.uniform(-1, 1, (n, d)),
        "noise": rng.normal(0, 1, (k, n, d)),
        "x_data": np.tanh(rng.normal(0, 1.5, (n, d))),
        "x_fake": rng.uniform(-1, 1, (m, d)),
    }
    return {name: np.asarray(value, dtype=np.float32) for name, value in arrays.items()}


def buffer_problem(
    capacity: int = 40, n: int = 14, restart: float = 0.25, seed: int = 3
) -> dict[str, object]:
    """The fixed inputs of the replay-buffer check and coursekit's answer: a
    :class:`~coursekit.common.ebm.ReplayBuffer` of ``capacity`` states [SIDE, SIDE] is asked
    for ``n`` start states; ``buffer`` [capacity, SIDE^2] (its states), ``idx`` [n] (the rows it
    drew, int64), ``fresh`` [n, SIDE^2] (uniform noise: the first ``k`` rows are the noise it
    drew for its ``k = round(restart * n)`` fresh rows), ``restart`` and ``want`` [n, SIDE^2]
    (its start states). The random numbers are the buffer's own: a copy of its generator draws
    them the way :meth:`ReplayBuffer.sample` does (the rows, then the noise).

    With the defaults ``restart * n = 3.5``: rounding gives 4 fresh rows, truncating 3, the
    inverted share 10.
    """
    buf = ReplayBuffer(capacity, (SIDE, SIDE), restart=restart, seed=seed)
    states = buf.states.copy()
    rng = copy.deepcopy(buf.rng)
    idx = rng.choice(capacity, size=n, replace=False)
    fresh = rng.uniform(buf.low, buf.high, (n, SIDE, SIDE)).astype(np.float32)
    want, drawn = buf.sample(n)
    if not np.array_equal(drawn, idx):  # pragma: no cover - ReplayBuffer changed its draws
        raise RuntimeError("buffer_problem no longer reproduces ReplayBuffer.sample's draws")
    return {
        "buffer": states.reshape(capacity, -1),
        "idx": idx.astype(np.int64),
        "fresh": fresh.reshape(n, -1),
        "restart": float(restart),
        "want": want.reshape(n, -1),
    }
