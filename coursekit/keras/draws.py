"""The fast path of ``keras.random`` on the torch backend: one torch generator per seed generator.

``keras.random.uniform(shape, seed=seed_generator)`` on the torch backend first advances the
``keras.random.SeedGenerator`` (a few Keras operations on its state variable), then builds and
seeds a new ``torch.Generator`` for that one draw, which on a CPU costs more than drawing a
batch's uniforms. A VAE draws twice per update and a Langevin chain once per step.

:func:`uniform` and :func:`normal` take the same arguments. On the torch backend they draw from
one ``torch.Generator`` kept for each seed generator, seeded from its state when first used and
again whenever that state is assigned another value (as a loaded checkpoint does; the draws
here do not advance it); elsewhere they are ``keras.random``'s. Each draw has the same law as
Keras'; with a fixed seed the numbers are reproducible, but on torch they are other numbers
than Keras' own. Training data-parallel (``tf.distribute`` replicas, ``torchrun``
processes), each draws its share of the global batch's numbers
(:func:`coursekit.keras.distributed.share_of_draw`).

A checkpoint (:mod:`coursekit.keras.checkpoint`) saves each torch generator with
:func:`torch_state` and puts it back with :func:`set_torch_state`, so that a resumed run draws
the numbers the interrupted one would have drawn next.
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
import numpy as np

from coursekit.keras.distributed import share_of_draw

__all__ = ["normal", "set_torch_state", "torch_state", "uniform"]

#: seed generator -> (the state it had when its torch generator was seeded, that generator)
_GENERATORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def uniform(shape: tuple[int, ...], seed: keras.random.SeedGenerator) -> Any:
    """Uniforms on [0, 1) of ``shape`` (float32), from ``seed``."""
    if keras.backend.backend() != "torch":
        return share_of_draw(shape, lambda full: keras.random.uniform(full, seed=seed))
    import torch

    gen = _torch_generator(seed)
    return share_of_draw(shape, lambda full: torch.rand(tuple(full), generator=gen,
                                                        device=gen.device))


def normal(shape: tuple[int, ...], seed: keras.random.SeedGenerator) -> Any:
    """Standard normals of ``shape`` (float32), from ``seed``."""
    if keras.backend.backend() != "torch":
        return share_of_draw(shape, lambda full: keras.random.normal(full, seed=seed))
    import torch

    gen = _torch_generator(seed)
    return share_of_draw(shape, lambda full: torch.randn(tuple(full), generator=gen,
                                                         device=gen.device))


def _torch_generator(seed: keras.random.SeedGenerator) -> Any:
    import torch

    if not isinstance(seed, keras.random.SeedGenerator):
        raise ValueError(f"seed must be a keras.random.SeedGenerator, got {type(seed).__name__}")
    state = tuple(int(s) for s in seed.state.value.tolist())
    known = _GENERATORS.get(seed)
    if known is None or known[0] != state:
        device = seed.state.value.device
        gen = torch.Generator(device=device)
        gen.manual_seed((state[0] * 1_000_003 + state[1]) % (2**63))
        known = (state, gen)
        _GENERATORS[seed] = known
    return known[1]


def torch_state(seed: keras.random.SeedGenerator) -> tuple[np.ndarray, np.ndarray]:
    """The torch generator behind ``seed`` as two arrays (copies): the seed generator's state
    it was seeded from (int64 [2]) and its own state (uint8 [k], torch's layout). Both are
    empty (shape [0]) when no draw has gone through it, and on any other backend than torch.

    Both are needed: a ``keras.random`` call advances the seed generator's state without
    touching the torch generator, which is then seeded again at the next draw here.
    """
    known = _GENERATORS.get(seed) if keras.backend.backend() == "torch" else None
    if known is None:
        return np.zeros(0, np.int64), np.zeros(0, np.uint8)
    return np.array(known[0], np.int64), known[1].get_state().numpy().copy()


def set_torch_state(seed: keras.random.SeedGenerator, seeded_from: np.ndarray,
                    state: np.ndarray) -> None:
    """Put back what :func:`torch_state` saved (empty arrays: no generator yet, one is seeded
    from the seed generator's state at the next draw). Nothing to do on other backends."""
    if keras.backend.backend() != "torch":
        return
    import torch

    if np.size(state) == 0:
        _GENERATORS.pop(seed, None)
        return
    gen = torch.Generator(device=seed.state.value.device)
    gen.set_state(torch.from_numpy(np.array(state, np.uint8)))
    _GENERATORS[seed] = (tuple(int(s) for s in np.asarray(seeded_from).tolist()), gen)
