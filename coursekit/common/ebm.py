"""What the PyTorch and Keras EBMs (week 2) share, framework-free: their settings and training
loop (:class:`EBMBase`), the replay buffer of their negative phase (Du and Mordatch 2019,
section 3.1) and the guard that stops a diverging run.

Langevin chains for the negative phase start from earlier chains' end states, so that a few
dozen steps per update suffice; a share ``restart`` of each batch starts afresh from uniform
noise, so that the buffer keeps exploring (Du and Mordatch use 5%)::

    buf = ReplayBuffer(8192, (1, 28, 28), restart=0.05, low=-1, high=1, seed=0)
    x0, idx = buf.sample(128)         # NumPy float32 [128, 1, 28, 28]; 6 rows are fresh noise
    ...                               # run Langevin from x0 (in torch or Keras)
    buf.update(idx, x_end)            # write the chains' end states back

The buffer always holds ``capacity`` states (it starts full of noise), and ``sample`` draws its
rows uniformly; :class:`coursekit.torch.EBM` and :class:`coursekit.keras.EBM` both use it.

Both CNN energies (:class:`coursekit.torch.CNNEnergy`, :func:`coursekit.keras.cnn_energy`) take
square ``L x L`` images, ``L = image_side`` >= 8 (28 for MNIST, 8 for the Ising lattices of week
6); :func:`cnn_final_side` is the side of their last feature map.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from coursekit.checkpoint import loop_checkpoints, rng_array, set_rng
from coursekit.checks import (
    TrainingDiverged,
    check_float,
    check_int,
    check_seed,
    check_shape,
    to_numpy,
)
from coursekit.common.langevin import check_sampler_args
from coursekit.loop import train_updates

__all__ = [
    "EBMBase",
    "ReplayBuffer",
    "check_image_side",
    "check_optimizer",
    "check_range",
    "check_rows",
    "cnn_final_side",
    "guard",
]


def check_image_side(value: Any) -> int:
    """``value`` as an int >= 8: the side ``L`` of the ``L x L`` images of a CNN energy."""
    return check_int(value, "image_side", 8, "pixels along each side of the square images, "
                     "e.g. 28 for MNIST, 8 for 8 x 8 Ising lattices")  # fmt: skip


def cnn_final_side(image_side: int) -> int:
    """The side of the CNN energy's last feature map for ``image_side x image_side`` images.

    Each stride-2 convolution maps a side ``s`` to ``floor((s + 2p - k) / 2) + 1``: the first
    (``k = 5``, ``p = 4``) to ``floor((s + 3) / 2) + 1``, the three others (``k = 3``, ``p = 1``)
    to ``ceil(s / 2)``. 28 -> 16 -> 8 -> 4 -> 2; 16 -> 10 -> 5 -> 3 -> 2; 12 -> 8 -> 4 -> 2 -> 1;
    8 -> 6 -> 3 -> 2 -> 1.
    """
    side = (check_image_side(image_side) + 2 * 4 - 5) // 2 + 1
    for _ in range(3):
        side = (side + 2 * 1 - 3) // 2 + 1
    return side


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
        shape = check_shape(shape, "shape", "shape of one state")
        restart = check_float(restart, "restart", "in [0, 1]", "share of fresh noise per batch")
        try:
            bounds = (float(low), float(high))
        except (TypeError, ValueError):
            bounds = (math.nan, math.nan)
        if not (math.isfinite(bounds[0]) and math.isfinite(bounds[1]) and bounds[0] < bounds[1]):
            raise ValueError(
                f"low and high (the noise range) must be finite numbers with low < high, got "
                f"low={low!r}, high={high!r}."
            )
        low, high = bounds
        self.capacity = int(capacity)
        self.shape = shape
        self.restart = float(restart)
        self.low, self.high = low, high
        self.rng = np.random.default_rng(check_seed(seed))
        self.states = self.noise(self.capacity)

    def __len__(self) -> int:
        return len(self.states)

    def noise(self, n: int) -> np.ndarray:
        """``n`` uniform noise states float32 ``[n, *shape]`` in ``[low, high]``."""
        n = check_int(n, "n", 0, "number of noise states")
        return self.rng.uniform(self.low, self.high, (n, *self.shape)).astype(np.float32)

    def n_fresh(self, n: int) -> int:
        """How many of ``n`` sampled rows restart from noise: ``round(restart * n)``."""
        n = check_int(n, "n", 0, "chains per batch")
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
        """Store ``states`` [len(idx), *shape] (or [len(idx), prod(shape)]; an array or a
        tensor) at the buffer rows ``idx`` (as :meth:`sample` returns them)."""
        try:
            rows = np.asarray(to_numpy(idx))
        except (TypeError, ValueError, RuntimeError):
            rows = np.asarray(None)
        if rows.ndim != 1 or not (np.issubdtype(rows.dtype, np.integer) and rows.dtype != bool) \
                or (rows.size and (rows.min() < 0 or rows.max() >= self.capacity)):
            raise ValueError(
                f"idx (the buffer rows to write) must be a vector of ints in [0, "
                f"{self.capacity - 1}], as sample() returns it; got {_shown(idx, rows)}"
            )
        try:
            arr = to_numpy(states)
        except (TypeError, ValueError, RuntimeError):
            arr = np.asarray(None)
        size = math.prod(self.shape)
        if not np.issubdtype(arr.dtype, np.number) or arr.ndim < 1 \
                or arr.shape[0] != len(rows) or math.prod(arr.shape[1:]) != size:
            raise ValueError(
                f"states must be {len(rows)} states of shape {self.shape} (one per idx), as "
                f"[{len(rows)}, *{self.shape}] or [{len(rows)}, {size}]; got {_shown(states, arr)}"
            )
        arr = np.asarray(arr, dtype=np.float32).reshape(len(rows), *self.shape)
        if not np.all(np.isfinite(arr)):
            raise ValueError("states contain NaN or infinite values; the chains diverged.")
        self.states[rows] = arr


def _shown(value: Any, arr: np.ndarray) -> str:
    """What was given, for a message: the shape and dtype of an array, else its type."""
    if arr.dtype == object:
        return f"{type(value).__name__} {value!r:.40}"
    return f"shape {tuple(arr.shape)}, dtype {arr.dtype}"


def check_optimizer(lr: Any, betas: Any) -> tuple[float, tuple[float, float]]:
    """Adam's step size ``lr > 0`` and ``betas``, a pair in [0, 1) (checked before any state
    changes: a negative step climbs the loss, a beta >= 1 never forgets)."""
    lr = check_float(lr, "lr", "> 0", "Adam's step size")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas (Adam's decay rates) must be a pair (beta1, beta2), got {betas!r}")
    b1 = check_float(betas[0], "betas[0]", "in [0, 1)", "Adam's decay of the mean gradient")
    b2 = check_float(betas[1], "betas[1]", "in [0, 1)", "Adam's decay of the squared gradient")
    return lr, (b1, b2)


def check_rows(x: Any, shape: tuple[int, ...], name: str = "x", *, training: bool = True) -> None:
    """``x`` must be training rows ``[n, *shape]`` (or ``[n, prod(shape)]``, or any layout of
    ``prod(shape)`` numbers per row) of finite numbers: not states of another size that a
    reshape would silently turn into more rows, and not NaN (which no learning rate fixes)."""
    try:
        arr = to_numpy(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of training rows [n, *{shape}], "
                         f"got {type(x).__name__}") from None  # fmt: skip
    size = math.prod(shape)
    if arr.ndim < 2 or arr.shape[0] < 1 or math.prod(arr.shape[1:]) != size:
        raise ValueError(
            f"{name} must hold rows of shape {shape} ({size} numbers each), as [n, *{shape}] "
            f"or [n, {size}]; got shape {tuple(arr.shape)}"
        )
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != np.bool_:
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
    if bad:
        why = " (training on them diverges whatever the learning rate)" if training else ""
        raise ValueError(f"{name} contains {bad} NaN or infinite values: clean the data "
                         f"first{why}")  # fmt: skip


def check_range(x: Any, clamp: tuple[float, float] | None, shape: tuple[int, ...],
                name: str = "x") -> None:  # fmt: skip
    """Training rows ``x`` (checked by :func:`check_rows`) must lie inside ``clamp``, the box
    the sampler keeps its states in: data outside it (0-255 pixels) can never be matched by a
    sample. Images (784 numbers per row) with no negative value while the box reaches below 0
    are [0, 1] images given to a [-1, 1] model, and are refused with the conversion."""
    if clamp is None:
        return
    arr = to_numpy(x)
    lo, hi = float(arr.min()), float(arr.max())
    low, high = clamp
    if lo < low or hi > high:
        hint = ""
        if math.prod(shape) == 784 and lo >= 0.0 and 1.0 < hi <= 255.0:
            hint = f": they look like 0-255 pixels; pass ck.data.to_float(images, {clamp})"
        raise ValueError(
            f"{name} must lie in clamp = {clamp}, the range the sampler keeps its states in; "
            f"got values in [{lo:.3g}, {hi:.3g}]{hint}"
        )
    if math.prod(shape) == 784 and low < 0.0 <= lo:
        raise ValueError(
            f"{name} has no negative values (range [{lo:.3g}, {hi:.3g}]): these look like "
            f"images in [0, 1], but the sampler's states lie in clamp = {clamp}; pass "
            "2 * x - 1 (or ck.data.to_float(images, (-1, 1)))"
        )


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


class EBMBase:
    """What both frameworks' EBM classes share: the settings of the sampler, the buffer and the
    loss, the divergence guard, and ``fit``.

    The class using it calls :meth:`_settings` in its constructor and provides ``train_step``
    (one update, the week's algorithm, in its framework) and ``_training_rows`` (the data as
    the rows ``train_step`` takes).
    """

    def _settings(
        self,
        shape: Sequence[int],
        *,
        step_size: float,
        noise_scale: float | None,
        n_steps: int,
        grad_clip: float | None,
        clamp: tuple[float, float] | None,
        init_range: tuple[float, float],
        buffer_size: int,
        restart: float,
        alpha: float,
        clip_norm: float | None,
        data_noise: float,
        max_energy: float,
        seed: int,
    ) -> None:
        self.shape = check_shape(shape, "shape", "shape of one state")
        check_sampler_args(step_size=step_size, n_steps=n_steps, noise_scale=noise_scale,
                           grad_clip=grad_clip, clamp=clamp)  # fmt: skip
        if not isinstance(init_range, (tuple, list)) or len(init_range) != 2:
            raise ValueError(
                f"init_range (the range of the buffer's uniform noise) must be a pair (low, "
                f"high), got {init_range!r}"
            )
        buffer_size = check_int(buffer_size, "buffer_size", 1, "states in the replay buffer")
        alpha = check_float(alpha, "alpha", ">= 0", "weight of the energy regularisation")
        if clip_norm is not None:
            clip_norm = check_float(clip_norm, "clip_norm", "> 0", "bound on the gradient norm")
        data_noise = check_float(data_noise, "data_noise", ">= 0", "noise added to the data")
        max_energy = check_float(max_energy, "max_energy", "> 0", "the divergence guard")
        check_seed(seed)
        self.sampler = dict(step_size=step_size, noise_scale=noise_scale, n_steps=n_steps,
                            grad_clip=grad_clip, clamp=clamp)  # fmt: skip
        self.buffer = ReplayBuffer(buffer_size, self.shape, restart=restart, low=init_range[0],
                                   high=init_range[1], seed=seed)  # fmt: skip
        self.alpha, self.clip_norm, self.data_noise = alpha, clip_norm, data_noise
        self.max_energy = max_energy
        self.updates = 0

    def _check_energy(self) -> None:
        """The energy must map a batch [n, *shape] to energies [n]: tried once, on two states
        of zeros (no random draw), so that a network built for other states is named here
        rather than inside the first Langevin step. A CNN energy (it has an ``image_side``)
        built for square images of another side than the states' is refused even where its
        convolutions would run (torch's 28 x 28 network takes 16 x 16 images)."""
        built = getattr(self.energy, "image_side", None)
        sides = [d for d in self.shape if d != 1]
        if isinstance(built, int) and len(sides) == 2 and sides[0] == sides[1] != built:
            raise ValueError(
                f"energy was built for {built} x {built} images (image_side={built}) but the "
                f"EBM for states of shape {self.shape} ({sides[0]} x {sides[0]} images): build "
                f"the energy with image_side={sides[0]}, or the EBM with the shape of {built} x "
                f"{built} images"
            )
        probe = np.zeros((2, *self.shape), np.float32)
        try:
            out = np.asarray(self.energies(probe))
        except Exception as err:  # noqa: BLE001 - whatever the user's network raises
            raise ValueError(
                f"energy must map a batch [n, *shape] = [n, *{self.shape}] to energies [n]; on "
                f"a batch of shape {probe.shape} it raised {type(err).__name__}: "
                f"{str(err)[:300]}. Build it for states of shape {self.shape}, or give the "
                "shape it was built for"
            ) from err
        if out.shape != (2,):
            raise ValueError(
                f"energy must map a batch [n, *{self.shape}] to energies [n]; on a batch of "
                f"shape {probe.shape} it returned shape {out.shape}; reshape its output to [n] "
                "(e.g. .squeeze(-1))"
            )

    def _check_data(self, x: Any, name: str = "x") -> None:
        """Training rows: shape, finite numbers (:func:`check_rows`) and range
        (:func:`check_range`)."""
        check_rows(x, self.shape, name)
        check_range(x, self.sampler["clamp"], self.shape, name)

    def _check_batch_size(self, batch_size: Any, what: str = "batch_size (rows per update)") -> int:
        """One negative chain per data row, all from the buffer: at most ``buffer_size`` rows."""
        if isinstance(batch_size, (int, np.integer)) and batch_size > self.buffer.capacity:
            raise ValueError(
                f"{what} must be <= buffer_size = {self.buffer.capacity} (each row's negative "
                f"sample starts from its own buffer state), got {batch_size}; lower it or build "
                "the EBM with a larger buffer_size"
            )
        return batch_size

    def _start(self, n: Any, start: Any) -> np.ndarray:
        """The chains' start for ``sample``: ``n`` uniform noise states, or ``start`` (``n``
        states [n, *shape], finite, inside the clamp range) as float32 [n, *shape]."""
        n = check_int(n, "n", 1, "number of chains")
        if start is None:
            return self.buffer.noise(n)
        check_rows(start, self.shape, "start", training=False)
        arr = np.asarray(to_numpy(start), dtype=np.float32)
        if len(arr) != n:
            raise ValueError(f"start must hold n = {n} states (one per chain), got {len(arr)}")
        return arr.reshape(n, *self.shape)

    def _sampler_settings(self, n_steps: int | None) -> dict[str, Any]:
        """The training sampler's settings, with ``n_steps`` (>= 1) if given."""
        if n_steps is None:
            return dict(self.sampler)
        return {**self.sampler, "n_steps": check_int(n_steps, "n_steps", 1,
                                                     "number of Langevin steps")}  # fmt: skip

    def _guard(self, what: str, value: float) -> None:
        guard(what, value, self.max_energy, self.updates + 1)

    def _training_rows(self, x: Any) -> Any:
        raise NotImplementedError

    def _update(self, x: Any) -> dict[str, float]:
        """One update on rows ``fit`` has checked and prepared (:meth:`_training_rows`); a
        framework skips ``train_step``'s checks here (a GPU model's data stays there)."""
        return self.train_step(x)

    def fit(
        self,
        x: Any,
        *,
        updates: int,
        batch_size: int = 128,
        log_every: int = 50,
        callback: Callable[[Any, dict], None] | None = None,
        progress: bool = True,
        checkpoint: Any = None,
        checkpoint_every: int | None = None,
        resume: Any = None,
    ) -> dict[str, list[float]]:
        """Train for ``updates`` parameter updates on data ``x`` [n, *shape] (array, in range).

        Returns the history (:func:`coursekit.loop.train_updates`): per logged update
        ``update``, ``loss``, ``cdiv``, ``reg``, ``e_data``, ``e_fake`` (means over the last
        ``log_every`` updates) and ``seconds`` (cumulative training time).
        ``callback(ebm, row)`` runs after each logged update (e.g. to keep buffer snapshots).

        ``checkpoint`` (a file), ``checkpoint_every`` and ``resume`` (a checkpoint of this run)
        write and continue the run as :meth:`coursekit.torch.DCGAN.fit` does; the checkpoint
        also holds the replay buffer and its generator.
        """
        self._check_data(x)
        self._check_batch_size(batch_size)
        data = self._training_rows(x)
        rng = np.random.default_rng(self.updates)
        saving = {}
        if checkpoint is not None or checkpoint_every is not None or resume is not None:
            saving = self._checkpoints(checkpoint, checkpoint_every, resume, rng, {
                "rows": len(data), "batch_size": batch_size, "log_every": log_every})
        return train_updates(
            self._update, data, updates=updates, batch_size=batch_size, log_every=log_every,
            permutation=rng.permutation, model=self, done=lambda: self.updates,
            callback=callback, progress=progress, desc="EBM updates", **saving,
        )  # fmt: skip

    def _training_state(self) -> Any:
        """The framework's part of a checkpoint: an object with ``arrays()`` and
        ``restore(arrays)`` (the energy network, its optimiser, generators, update count)."""
        raise NotImplementedError(
            f"checkpoints are not available for {type(self).__module__}.{type(self).__name__}: "
            "it does not define _training_state (coursekit.torch.EBM and coursekit.keras.EBM "
            "do)")

    def _checkpoint_meta(self) -> dict[str, Any]:
        """What else a checkpoint must match, framework-specific (the Keras backend)."""
        return {}

    def _checkpoints(self, checkpoint: Any, every: Any, resume: Any, rng: np.random.Generator,
                     run: dict[str, Any]) -> dict[str, Any]:
        """``train_updates``' checkpoint arguments: the framework's state, the replay buffer,
        its generator and the generator of the rows' order."""
        framework = self._training_state()

        def arrays() -> dict[str, np.ndarray]:
            return {**framework.arrays(), "buffer/states": self.buffer.states.copy(),
                    "buffer/rng": rng_array(self.buffer.rng), "order/rng": rng_array(rng)}

        def restore(saved: Any) -> None:
            framework.restore(saved)
            self.buffer.states = np.array(saved["buffer/states"], dtype=np.float32)
            set_rng(self.buffer.rng, saved["buffer/rng"])
            set_rng(rng, saved["order/rng"])

        meta = {"model": f"{type(self).__module__}.{type(self).__name__}",
                "shape": list(self.shape), "sampler": self.sampler,
                "buffer_size": self.buffer.capacity, "restart": self.buffer.restart,
                "init_range": [self.buffer.low, self.buffer.high], "alpha": self.alpha,
                "clip_norm": self.clip_norm, "data_noise": self.data_noise,
                **self._checkpoint_meta(), **run}
        return loop_checkpoints(checkpoint, every, resume, arrays=arrays, restore=restore,
                                meta=meta, what="EBM")
