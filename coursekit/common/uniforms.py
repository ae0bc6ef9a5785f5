"""Fast float32 uniform random numbers on the host, for Bernoulli draws ``(u < p)``.

The RBMs spend a large part of a CPU training step drawing the uniforms of their Bernoulli
samples, and ``torch.rand`` draws them from a scalar Mersenne twister. :class:`UniformStream`
draws them with NumPy only: one call of a fast 64-bit generator (SFC64, Chris Doty-Humphrey's
small fast chaotic generator, as shipped in NumPy) yields two numbers, and three vectorised
passes turn 23 random bits each into a float32 ``1.m`` in [1, 2) minus 1::

    from coursekit.common.uniforms import UniformStream
    stream = UniformStream(seed=0)
    u = stream.draw(1000)        # float32 [1000], values k * 2**-23 in [0, 1)

The numbers are multiples of 2**-23, so ``(u < p)`` is a Bernoulli draw with ``p`` rounded up
to the next multiple of 2**-23 (an error below 1.2e-7, float32's own resolution near 1).

Uniforms given by the caller (every RBM sampler takes them, to compare implementations number
for number) are checked by :func:`check_gibbs_uniforms` and :func:`check_uniform`. One
minibatch of ``RBM.fit`` draws its uniforms in one piece, laid out by
:func:`split_batch_uniforms` (in both frameworks, on the fast and the readable path).
NumPy only: no framework is imported here.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from coursekit.checks import to_numpy

__all__ = [
    "UniformStream",
    "batch_uniform_count",
    "check_gibbs_uniforms",
    "check_uniform_arrays",
    "check_uniform",
    "split_batch_uniforms",
]

_ONE = np.uint32(0x3F800000)  # the bits of float32 1.0


class UniformStream:
    """A seeded stream of float32 uniforms in [0, 1) (23 random bits each).

    Args:
        seed: an int >= 0.
    """

    def __init__(self, seed: int) -> None:
        self._bitgen = np.random.SFC64(seed)

    def draw(self, n: int, out: np.ndarray | None = None) -> np.ndarray:
        """The next ``n`` uniforms: a new C-contiguous float32 array [n], or written into
        ``out`` (a C-contiguous float32 array [n], returned) to reuse a buffer.

        The numbers do not depend on ``out``: the stream advances the same either way.
        """
        if out is not None and (
            out.dtype != np.float32 or out.shape != (n,) or not out.flags.c_contiguous
        ):
            raise ValueError(
                f"out must be a C-contiguous float32 array of shape ({n},), got "
                f"{out.dtype} {out.shape}"
            )
        raw = self._bitgen.random_raw((n + 1) // 2)  # uint64: two numbers each
        bits = raw.view(np.uint32)[:n]
        target = bits if out is None else out.view(np.uint32)
        np.right_shift(bits, 9, out=target)  # 23 random bits -> the mantissa
        np.bitwise_or(target, _ONE, out=target)  # 1.m in [1, 2)
        u = target.view(np.float32)
        np.subtract(u, np.float32(1.0), out=u)
        return u

    @property
    def state(self) -> str:
        """The generator's state as a JSON string (for saving)."""
        state = self._bitgen.state
        state["state"]["state"] = [int(word) for word in state["state"]["state"]]
        return json.dumps(state)

    @state.setter
    def state(self, value: str) -> None:
        self._bitgen.state = json.loads(value)


def check_uniform_arrays(
    uniforms: Any, shapes: dict[str, tuple[int, ...]], dtype: Any = np.float32
) -> list[np.ndarray]:
    """Given uniforms, one array per name of ``shapes`` (in that order), each of exactly its
    shape with values in [0, 1), as NumPy arrays of ``dtype`` (framework tensors converted).

    Every sampler of the course takes its uniforms as an option (a Bernoulli(p) draw is
    ``u < p``): given the same ones, the NumPy, PyTorch and Keras samplers make the same moves.
    """
    names = tuple(shapes)
    kind = {2: "pair", 3: "triple"}.get(len(names), f"{len(names)}-tuple")
    if not isinstance(uniforms, (tuple, list)) or len(uniforms) != len(names):
        listed = ", ".join(names)
        raise ValueError(
            f"uniforms must be a {kind} ({listed}) with shapes {tuple(shapes.values())}"
        )
    out = []
    for value, (name, shape) in zip(uniforms, shapes.items(), strict=True):
        u = np.asarray(to_numpy(value), dtype=dtype)
        if u.shape != tuple(shape):
            raise ValueError(f"uniforms: {name} must have shape {tuple(shape)}, got {u.shape}")
        if not np.all((u >= 0.0) & (u < 1.0)):
            raise ValueError(f"uniforms: {name} must hold values in [0, 1)")
        out.append(u)
    return out


def check_gibbs_uniforms(
    uniforms: Any, steps: int, m: int, n_visible: int, n_hidden: int
) -> tuple[np.ndarray, np.ndarray]:
    """``uniforms = (u_h [steps, m, n_h], u_x [steps, m, n_v])`` of ``steps`` Gibbs steps of
    ``m`` chains (step ``s`` draws ``h`` with ``u_h[s]``, then ``x`` with ``u_x[s]``) as float32
    NumPy arrays (:func:`check_uniform_arrays`)."""
    shapes = {"u_h": (steps, m, n_hidden), "u_x": (steps, m, n_visible)}
    u_h, u_x = check_uniform_arrays(uniforms, shapes)
    return u_h, u_x


def check_uniform(u: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The uniforms ``u`` of one layer's draw ``(u < p)``, ``p`` of ``shape``, as float32."""
    arr = np.asarray(to_numpy(u), dtype=np.float32)
    if arr.shape != tuple(shape):
        raise ValueError(f"u must have shape {tuple(shape)}, got {arr.shape}")
    return arr


def batch_uniform_count(
    n: int, m: int, k: int, n_visible: int, n_hidden: int, dynamic: bool
) -> int:
    """How many uniforms one minibatch of ``n`` rows with ``m`` chains and ``k`` Gibbs steps
    draws (see :func:`split_batch_uniforms`)."""
    return n * n_visible * dynamic + k * m * (n_hidden + n_visible)


def split_batch_uniforms(
    u: Any, n: int, m: int, k: int, n_visible: int, n_hidden: int, dynamic: bool
) -> tuple[Any, Any, Any]:
    """Cut one minibatch's draw ``u`` [:func:`batch_uniform_count`] into ``u_data`` [n, n_v]
    (dynamic binarisation, ``x_i = (u_data_i < intensity_i)``; None otherwise), ``u_h``
    [k, m, n_h] and ``u_x`` [k, m, n_v] (Gibbs step ``s`` draws ``h`` with ``u_h[s]``, then
    ``x`` with ``u_x[s]``): ``[u_data][k, m, n_h + n_v]``. Views of ``u`` (a NumPy array or a
    tensor), no copies."""
    cut = n * n_visible * dynamic
    u_data = u[:cut].reshape(n, n_visible) if dynamic else None
    steps = u[cut:].reshape(k, m, n_hidden + n_visible)
    return u_data, steps[:, :, :n_hidden], steps[:, :, n_hidden:]
