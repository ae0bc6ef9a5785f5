"""``coursekit.keras.fused_adam.Adam``: Keras' Adam, with torch's fused kernel on the torch
backend. It must take Keras' steps (the epsilon moved into torch's place), keep Keras' state
(``iterations``, the moments) and fall back to Keras' update where the kernel does not apply.
Marked ``keras``: ``make test`` runs it on both backends."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursekit.keras.fused_adam import Adam

pytestmark = pytest.mark.keras

SHAPES = [(30, 20), (20,), (5, 5, 1, 4)]


def _run(optimizer: keras.optimizers.Optimizer, steps: int = 30) -> tuple[list, list]:
    rng = np.random.default_rng(0)
    weights = [keras.Variable(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
    optimizer.build(weights)
    for _ in range(steps):
        grads = [keras.ops.convert_to_tensor(rng.standard_normal(s).astype(np.float32))
                 for s in SHAPES]  # fmt: skip
        # the kernel's gradient as keras.native returns it: transposed strides, same shape
        torch_order = np.ascontiguousarray(rng.standard_normal(SHAPES[-1]).transpose(3, 2, 0, 1))
        grads[-1] = keras.ops.transpose(torch_order.astype(np.float32), (2, 3, 1, 0))
        optimizer.apply(grads, weights)
    values = [keras.ops.convert_to_numpy(w) for w in weights]
    return values, [keras.ops.convert_to_numpy(v) for v in optimizer.variables]


@pytest.mark.parametrize("settings", [
    dict(learning_rate=1e-2),
    dict(learning_rate=3e-3, beta_1=0.5, beta_2=0.99, epsilon=1e-3),  # epsilon matters here
    dict(learning_rate=1e-2, amsgrad=True),  # Keras' own update
])  # fmt: skip
def test_fused_adam_takes_keras_adams_steps_and_keeps_its_state(settings):
    want, want_state = _run(keras.optimizers.Adam(**settings))
    got, got_state = _run(Adam(**settings))
    start = np.random.default_rng(0).standard_normal(SHAPES[0])
    assert np.abs(want[0] - start).max() > 0.05  # the weights moved
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=5e-6)  # float32 rounding
    assert len(got_state) == len(want_state)  # iterations, learning rate, m and v per weight
    for a, b in zip(got_state, want_state, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_fused_adam_is_a_keras_adam_and_round_trips_its_config():
    opt = Adam(2e-4, beta_1=0.5)
    assert isinstance(opt, keras.optimizers.Adam)
    again = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(again) is Adam and again.get_config() == opt.get_config()
