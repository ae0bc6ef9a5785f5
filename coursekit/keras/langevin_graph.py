"""The fast path of :func:`coursekit.keras.langevin` on the tensorflow backend: a whole chain as
one compiled function.

Step by step from Python, every Langevin step is a call into a compiled ``tf.function``, and on
small images those calls, not the arithmetic, set the pace (about two per step, and most of an
EBM update is its 60 steps). Here the ``n`` steps of a chain are one ``tf.while_loop``
(``keras.ops.fori_loop`` inside ``tf.function``): the loop body is the sampler's own ``step``
(the same update, the same clipping, clamping and MALA test), and the noise ``w_t`` and the
uniforms ``u_t`` are drawn before the loop, in one piece per ``chunk`` of steps, as arrays
``[steps, n, ...]`` and ``[steps, n]``.

Only for the tensorflow backend and when no chain is returned: the torch backend has no graph to
put a loop in, and a returned chain needs the states of every ``stride``-th step. With the same
``noise`` and ``uniforms`` the result equals the step-by-step loop's (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from coursekit.keras.autodiff import compile_fn

__all__ = ["MAX_DRAWN", "chain_runner", "chunks", "uses_graph"]

#: The most random numbers drawn before one compiled loop (64 MB of float32): longer chains run
#: as several loops, one after another.
MAX_DRAWN = 1 << 24

Step = Callable[[Any, Any, Any, Any, Any], tuple[Any, Any, Any, Any]]


def chain_runner(step: Step) -> Callable[[Any, Any, Any, Any, Any], tuple[Any, Any, Any, Any]]:
    """``run(x, lp, g, noise, uniforms) -> (x, lp, g, accepted)``: ``len(noise)`` steps of
    ``step`` in one compiled loop; ``accepted`` sums the per-step acceptance rates (MALA)."""

    def run(x, lp, g, noise, uniforms):
        def body(t, state):
            x, lp, g, acc = state
            x, lp, g, a = step(x, lp, g, noise[t], uniforms[t])
            return x, lp, g, acc + a

        return ops.fori_loop(0, ops.shape(noise)[0], body, (x, lp, g, ops.zeros(())))

    return compile_fn(run)


def chunks(n_steps: int, numbers_per_step: int) -> list[int]:
    """The chain's steps split into runs of equal length (the last shorter) whose noise fits
    :data:`MAX_DRAWN`: ``chunks(60, 100_352) == [60]``."""
    per = max(1, min(n_steps, MAX_DRAWN // max(1, numbers_per_step)))
    return [min(per, n_steps - start) for start in range(0, n_steps, per)]


def uses_graph(return_chain: bool) -> bool:
    """Whether :func:`coursekit.keras.langevin` runs its chain through :func:`chain_runner`."""
    return keras.backend.backend() == "tensorflow" and not return_chain
