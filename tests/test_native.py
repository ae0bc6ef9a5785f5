"""``coursekit.keras.native``: a Keras model's forward pass as plain torch on the torch backend,
and with its zero paddings folded into the convolutions on tensorflow.

It must give the Keras call's numbers (outputs, gradients, batch-norm moving statistics), draw
dropout by the same law, and fall back to the Keras call for what it does not know. On the
tensorflow backend a model without a ``ZeroPadding2D`` gets the Keras call itself. Marked
``keras``: ``make test`` runs it on both.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from coursekit.keras.ebm import cnn_energy, mlp_energy
from coursekit.keras.gan import build_discriminator, build_generator
from coursekit.keras.native import native
from coursekit.keras.vae_nets import Initializers, decoder, encoder

pytestmark = pytest.mark.keras

TORCH = keras.backend.backend() == "torch"
RNG = np.random.default_rng(0)


def _np(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def _is_fast(f) -> bool:
    return type(f).__name__ in ("_Forward", "_Folded")


def _expect_fast(model) -> bool:
    """Plain torch for every model on torch; on tensorflow where a padding can be folded or
    where dropout or batch norm must see the global batch under a tf.distribute strategy."""
    kinds = (keras.layers.ZeroPadding2D, keras.layers.Dropout, keras.layers.BatchNormalization)
    return TORCH or any(isinstance(layer, kinds) for layer in model.layers)


MODELS = {
    "generator 28": (lambda: build_generator(100, (32, 16, 8)), (6, 100), "normal"),
    "generator 16": (lambda: build_generator(16, (32, 16, 8), 16), (6, 16), "normal"),
    "discriminator": (lambda: build_discriminator((16, 32)), (6, 28, 28, 1), "image"),
    "mlp encoder": (lambda: encoder("mlp", 2, 32, Initializers(0)), (6, 784), "pixels"),
    "mlp decoder": (lambda: decoder("mlp", 2, 32, Initializers(0)), (6, 2), "normal"),
    "conv encoder": (lambda: encoder("conv", 2, 32, Initializers(1)), (6, 784), "pixels"),
    "conv decoder": (lambda: decoder("conv", 2, 32, Initializers(1)), (6, 2), "normal"),
    "conv decoder 16": (lambda: decoder("conv", 2, 32, Initializers(1), 16), (6, 2), "normal"),
    "cnn energy 28": (lambda: cnn_energy(image_side=28), (6, 28, 28, 1), "image"),
    "cnn energy 8": (lambda: cnn_energy(image_side=8), (6, 8, 8, 1), "image"),
    "mlp energy": (lambda: mlp_energy(2), (6, 2), "normal"),
}


def _input(shape, kind) -> np.ndarray:
    if kind == "normal":
        return RNG.standard_normal(shape).astype(np.float32)
    if kind == "pixels":
        return RNG.uniform(0, 1, shape).astype(np.float32)
    return RNG.uniform(-1, 1, shape).astype(np.float32)


@pytest.mark.parametrize("name", list(MODELS))
def test_native_gives_the_keras_calls_outputs(name):
    build, shape, kind = MODELS[name]
    model = build()
    x = _input(shape, kind)
    f = native(model)
    assert _is_fast(f) == _expect_fast(model)
    want = _np(model(x, training=False))
    got = _np(f(x, training=False))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_native_gradients_equal_the_keras_calls():
    model = cnn_energy()
    x = keras.ops.convert_to_tensor(_input((5, 28, 28, 1), "image"))
    f = native(model)
    from coursekit.keras.autodiff import loss_and_grads

    grads = [loss_and_grads(lambda g=g: (keras.ops.sum(g(x) ** 2), None),
                            model.trainable_variables)[2] for g in (model, f)]  # fmt: skip
    for want, got in zip(*grads, strict=True):
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-4, atol=1e-6)


def test_native_batch_norm_trains_on_the_batch_and_moves_its_averages_as_keras():
    a, b = build_generator(100, (32, 16, 8)), build_generator(100, (32, 16, 8))
    b.set_weights(a.get_weights())
    z = _input((16, 100), "normal")
    for _ in range(2):
        want, got = _np(a(z, training=True)), _np(native(b)(z, training=True))
        np.testing.assert_allclose(got, want, atol=1e-5)
    norms = [(x, y) for x, y in zip(a.layers, b.layers, strict=True)
             if isinstance(x, keras.layers.BatchNormalization)]  # fmt: skip
    assert len(norms) == 3
    for x, y in norms:
        assert not np.allclose(_np(x.moving_variance), 1.0)  # the averages did move
        np.testing.assert_allclose(_np(y.moving_mean), _np(x.moving_mean), atol=1e-6)
        np.testing.assert_allclose(_np(y.moving_variance), _np(x.moving_variance), atol=1e-6)


def test_native_dropout_keeps_one_minus_rate_scaled_and_only_in_training():
    inp = keras.Input((100, 100, 4))
    model = keras.Model(inp, keras.layers.Dropout(0.3, seed=3)(inp))
    x = np.ones((10, 100, 100, 4), np.float32)
    f = native(model)
    out = _np(f(x, training=True))
    kept = (out != 0).mean()
    n = out.size
    assert abs(kept - 0.7) < 5 * math.sqrt(0.21 / n)  # binomial, 5 standard errors
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(_np(f(x, training=False)), x)


def test_native_falls_back_to_the_keras_call_for_layers_and_graphs_it_does_not_know():
    inp = keras.Input((8, 8, 1))
    pooled = keras.Model(inp, keras.layers.MaxPooling2D()(inp))
    a = keras.Input((4,))
    branched = keras.Model(a, keras.layers.Add()([keras.layers.Dense(4)(a), a]))
    for model, x in ((pooled, _input((2, 8, 8, 1), "image")),
                     (branched, _input((2, 4), "normal"))):  # fmt: skip
        f = native(model)
        assert not _is_fast(f)
        np.testing.assert_allclose(_np(f(x)), _np(model(x)))


def test_native_folds_zero_padding_into_the_next_convolution():
    f = native(cnn_energy())
    layers = [layer for layer in cnn_energy().layers
              if not isinstance(layer, keras.layers.InputLayer)]  # fmt: skip
    pads = sum(isinstance(layer, keras.layers.ZeroPadding2D) for layer in layers)
    assert pads == 4 and len(f.ops if TORCH else f.calls) == len(layers) - pads


def test_native_folds_an_asymmetric_padding_on_tensorflow_and_keeps_the_numbers():
    inp = keras.Input((9, 7, 2))
    h = keras.layers.ZeroPadding2D(((1, 2), (0, 3)))(inp)
    h = keras.layers.Conv2D(3, 3, strides=2, activation="tanh")(h)
    h = keras.layers.ZeroPadding2D(1)(h)
    model = keras.Model(inp, keras.layers.Conv2D(2, 2, use_bias=False)(h))
    f = native(model)
    assert _is_fast(f) == (not TORCH)  # torch's convolution pads both sides alike: Keras call
    x = _input((4, 9, 7, 2), "image")
    np.testing.assert_allclose(_np(f(x)), _np(model(x)), rtol=1e-5, atol=1e-6)
