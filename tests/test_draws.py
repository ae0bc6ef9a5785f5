"""``coursekit.keras.draws``: ``keras.random.uniform`` / ``normal`` with one torch generator per
seed generator on the torch backend. Same law, reproducible from the seed, reseeded when the seed
generator's state is assigned; Keras' own draws on other backends. Marked ``keras``."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from coursekit.keras import draws

pytestmark = pytest.mark.keras

N = 200_000


def _np(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def test_uniforms_and_normals_have_their_laws():
    gen = keras.random.SeedGenerator(0)
    u, z = _np(draws.uniform((N,), gen)), _np(draws.normal((N, 2), gen))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / N)  # 5 standard errors
    assert abs(u.var() - 1 / 12) < 0.002
    assert abs(z.mean()) < 5 / math.sqrt(2 * N) and abs(z.var() - 1.0) < 0.01
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 5 / math.sqrt(N)


def test_a_seed_gives_the_same_numbers_and_successive_draws_differ():
    a, b = keras.random.SeedGenerator(7), keras.random.SeedGenerator(7)
    first = _np(draws.normal((5, 3), a))
    np.testing.assert_array_equal(first, _np(draws.normal((5, 3), b)))
    assert not np.array_equal(first, _np(draws.normal((5, 3), a)))  # the stream moves on
    other = _np(draws.normal((5, 3), keras.random.SeedGenerator(8)))
    assert not np.array_equal(first, other)


def test_assigning_another_seed_state_reseeds_the_stream():
    gen, other = keras.random.SeedGenerator(3), keras.random.SeedGenerator(11)
    _np(draws.uniform((4,), gen))
    gen.state.assign(other.state.value)  # a loaded checkpoint's state
    np.testing.assert_array_equal(_np(draws.uniform((4,), gen)), _np(draws.uniform((4,), other)))


def test_a_seed_that_is_not_a_seed_generator_is_refused_by_name():
    if keras.backend.backend() != "torch":
        pytest.skip("elsewhere it is keras.random's own argument check")
    with pytest.raises(ValueError, match="seed must be a keras.random.SeedGenerator, got int"):
        draws.uniform((2,), 3)
