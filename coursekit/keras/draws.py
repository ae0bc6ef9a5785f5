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
than Keras' own.
"""

from __future__ import annotations

import weakref
from typing import Any

import keras

__all__ = ["normal", "uniform"]

#: seed generator -> (the state it had when its torch generator was seeded, that generator)
_GENERATORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def uniform(shape: tuple[int, ...], seed: keras.random.SeedGenerator) -> Any:
    """Uniforms on [0, 1) of ``shape`` (float32), from ``seed``."""
    if keras.backend.backend() != "torch":
        return keras.random.uniform(shape, seed=seed)
    import torch

    gen = _torch_generator(seed)
    return torch.rand(tuple(shape), generator=gen, device=gen.device)


def normal(shape: tuple[int, ...], seed: keras.random.SeedGenerator) -> Any:
    """Standard normals of ``shape`` (float32), from ``seed``."""
    if keras.backend.backend() != "torch":
        return keras.random.normal(shape, seed=seed)
    import torch

    gen = _torch_generator(seed)
    return torch.randn(tuple(shape), generator=gen, device=gen.device)


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
