"""What the PyTorch and Keras EBMs (week 2) share, framework-free: the replay buffer of their
negative phase (Du and Mordatch 2019, section 3.1) and the guard that stops a diverging run.

Langevin chains for the negative phase start from earlier chains' end states, so that a few
dozen steps per update suffice; a share ``restart`` of each batch starts afresh from uniform
noise, so that the buffer keeps exploring (Du and Mordatch use 5%)::

    buf = ReplayBuffer(8192, (1, 28, 28), restart=0.05, low=-1, high=1, seed=0)
    x0, idx = buf.sample(128)         # NumPy float32 [128, 1, 28, 28]; 6 rows are fresh noise
    ...                               # run Langevin from x0 (in torch or Keras)
    buf.update(idx, x_end)            # write the chains' end states back

The buffer always holds ``capacity`` states (it starts full of noise), and ``sample`` draws its
rows uniformly; :class:`coursekit.torch.EBM` and :class:`coursekit.keras.EBM` both use it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coursekit.checks import TrainingDiverged, check_float, check_int

__all__ = ["ReplayBuffer", "guard"]


class ReplayBuffer:
    """A fixed-size store of Langevin chain states, float32 ``[capacity, *shape]``.

    Args:
        capacity: number of stored states, >= 1.
        shape: shape of one state, e.g. ``(1, 28, 28)`` or ``(2,)``.
        restart: share of each sampled batch replaced by fresh uniform noise, in [0, 1].
        low, high: the range of the uniform noise.
        seed: seeds the buffer's own generator.
    """

    def __init__(
        self,
        capacity: int,
        shape: tuple[int, ...],
        *,
        restart: float = 0.05,
        low: float = -1.0,
        high: float = 1.0,
        seed: int | None = None,
    ) -> None:
        capacity = check_int(capacity, "capacity", 1, "states kept")
        restart = check_float(restart, "restart", "in [0, 1]", "share of fresh noise per batch")
        if not float(low) < float(high):
            raise ValueError(f"low must be below high, got low={low!r}, high={high!r}.")
        self.capacity = int(capacity)
        self.shape = tuple(int(s) for s in shape)
        self.restart = float(restart)
        self.low, self.high = float(low), float(high)
        self.rng = np.random.default_rng(seed)
        self.states = self.noise(self.capacity)

    def __len__(self) -> int:
        return len(self.states)

    def noise(self, n: int) -> np.ndarray:
        """``n`` uniform noise states float32 ``[n, *shape]`` in ``[low, high]``."""
        return self.rng.uniform(self.low, self.high, (n, *self.shape)).astype(np.float32)

    def n_fresh(self, n: int) -> int:
        """How many of ``n`` sampled rows restart from noise: ``round(restart * n)``."""
        return int(round(self.restart * n))

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Start states float32 ``[n, *shape]`` and their buffer rows ``idx`` [n].

        The first ``n_fresh(n)`` rows are fresh noise, the others copies of stored states.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) \
                or not 1 <= n <= self.capacity:
            raise ValueError(
                f"n (chains per batch) must be an int in [1, {self.capacity}], got {n!r}."
            )
        idx = self.rng.choice(self.capacity, size=n, replace=False)
        x0 = self.states[idx].copy()
        k = self.n_fresh(n)
        x0[:k] = self.noise(k)
        return x0, idx

    def update(self, idx: np.ndarray, states: Any) -> None:
        """Store ``states`` [len(idx), *shape] (anything ``np.asarray`` takes) at ``idx``."""
        states = np.asarray(states, dtype=np.float32).reshape(len(idx), *self.shape)
        if not np.all(np.isfinite(states)):
            raise ValueError("states contain NaN or infinite values; the chains diverged.")
        self.states[idx] = states


def guard(what: str, value: float, limit: float, update: int) -> None:
    """Raise :class:`~coursekit.checks.TrainingDiverged` if ``value`` (``what``: the loss, the
    largest energy, the gradient norm) is NaN, infinite or beyond ``limit`` in magnitude at
    update ``update`` (1-based)."""
    if not math.isfinite(value) or abs(value) > limit:
        raise TrainingDiverged(
            f"EBM training diverged at update {update}: {what} = {value:.4g} "
            f"(limit {limit:g}). The weights of the last good update are kept. "
            "Try a smaller learning rate, a larger alpha (energy regularisation), a smaller "
            "Langevin step_size or grad_clip, or restart from a checkpoint."
        )
