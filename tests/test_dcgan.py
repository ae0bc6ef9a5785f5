"""The DCGANs of both frameworks (``fw``: coursekit.torch, then coursekit.keras on the current
Keras backend): shapes, the losses against the reference, training, bad input.

Saving and loading: tests/test_save_load.py; the two frameworks against each other, weight for
weight: tests/test_gan_parity.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gan_shared import LATENT, SMALL, bar_images

from coursekit.checks import TrainingDiverged, to_numpy
from coursekit.reference import gan as rg


@pytest.fixture
def gan_module(fw):
    """The framework's ``gan`` module (its DCGAN and its loss functions)."""
    import importlib

    return importlib.import_module(f"{fw.__name__}.gan")


def _gan(fw, **kw):
    return fw.DCGAN(LATENT, **{**SMALL, "seed": 0, **kw})


def test_shapes_ranges_and_the_tutorial_sizes(fw):
    gan = _gan(fw)
    z = np.random.default_rng(0).standard_normal((5, LATENT))
    img = gan.generate(z)
    assert img.shape == (5, 28, 28) and np.all(np.abs(img) <= 1)
    s = gan.sample(7, seed=1)
    assert s.shape == (7, 28, 28) and s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(gan.sample(3, seed=2), gan.sample(3, seed=2))
    d = gan.discriminate(bar_images(6))
    assert d.shape == (6,) and np.all((d > 0) & (d < 1))
    # the default sizes are the tutorial's: 7x7x256 dense, 64 and 128 discriminator channels
    shapes = {k: v.shape for k, v in fw.DCGAN(seed=0).get_weights().items()}
    assert shapes["g/dense/kernel"] == (100, 7 * 7 * 256)
    assert shapes["d/conv1/kernel"] == (5, 5, 1, 64) and shapes["d/dense/kernel"] == (128 * 49, 1)


def test_losses_match_the_reference(gan_module):
    rng = np.random.default_rng(0)
    lr, lf = rng.normal(1, 2, 40).astype("f4"), rng.normal(-1, 2, 30).astype("f4")
    if gan_module.__name__.startswith("coursekit.torch"):
        import torch

        lr, lf = torch.from_numpy(lr), torch.from_numpy(lf)
    got = float(to_numpy(gan_module.discriminator_loss(lr, lf)))
    assert got == pytest.approx(rg.discriminator_loss(to_numpy(lr), to_numpy(lf)), rel=1e-5)
    for loss in rg.LOSSES:
        got = float(to_numpy(gan_module.generator_loss(lf, loss)))
        assert got == pytest.approx(rg.generator_loss(to_numpy(lf), loss), rel=1e-5)


def test_training_takes_steps_and_logs_rows(fw):
    gan = _gan(fw, learning_rate=1e-3)
    before = gan.get_weights()
    hist = gan.fit(bar_images(64), updates=6, batch_size=16, progress=False)
    assert gan.updates == 6
    assert hist["update"] == [4, 6] and hist["epoch"] == [1.0, 1.5]
    for key in ("d_real", "d_fake", "d_loss", "g_loss"):
        assert all(math.isfinite(v) for v in hist[key])
    assert hist["grid"][-1].shape == (16, 28, 28)
    after = gan.get_weights()
    changed = [k for k in before if not np.array_equal(before[k], after[k])]
    assert sorted(changed) == sorted(before)  # every weight and batch-norm statistic moved


def test_saturating_loss_trains_too(fw):
    gan = _gan(fw, loss="saturating", learning_rate=1e-3)
    hist = gan.fit(bar_images(32), updates=2, batch_size=16, progress=False)
    assert hist["g_loss"][-1] < 0  # mean log(1 - D) is negative


def test_discriminator_only_steps_leave_the_generator_alone(fw):
    gan = _gan(fw, learning_rate=1e-3)
    g_before = gan.get_weights()["g/dense/kernel"]
    for _ in range(3):
        gan.train_step(bar_images(16), update_generator=False)
    assert gan.updates == 0
    np.testing.assert_array_equal(gan.get_weights()["g/dense/kernel"], g_before)


def test_non_saturating_gradient_is_larger_early_in_training(fw):
    """Early in training the discriminator rejects the fakes; the saturating loss's gradient
    then vanishes (reference: -D per logit) while the non-saturating one's does not (-(1-D))."""
    gan = _gan(fw, learning_rate=2e-3)
    x = bar_images(256)
    for i in range(40):
        stats = gan.train_step(x[(i * 32) % 256 :][:32], update_generator=False)
    assert stats["d_fake"] < 0.1  # the discriminator wins against the initial generator
    sat = gan.generator_gradient_norm(256, loss="saturating")
    ns = gan.generator_gradient_norm(256, loss="non_saturating")
    assert ns > 5 * sat


def _poison(gan, name: str) -> None:
    """Put NaN into one weight behind ``set_weights``' back (which refuses NaN): a run that
    diverged inside the framework."""
    pairs = {pair[0]: pair[1] for pair in gan._pairs()}
    if hasattr(pairs[name], "assign"):  # a keras.Variable
        pairs[name].assign(np.full(tuple(pairs[name].shape), np.nan, np.float32))
    else:
        pairs[name].data.fill_(float("nan"))


def test_nan_loss_stops_with_the_likely_cause(fw):
    gan = _gan(fw)
    _poison(gan, "d/dense/bias")
    before = gan.get_weights()["g/dense/kernel"]
    with pytest.raises(TrainingDiverged, match="learning rate"):
        gan.fit(bar_images(32), updates=2, batch_size=16, progress=False)
    np.testing.assert_array_equal(gan.get_weights()["g/dense/kernel"], before)
    assert gan.updates == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -1e-4}, "learning_rate"),
        ({"loss": "minimax"}, "loss must be one of"),
        ({"generator_channels": (8, 4)}, "generator_channels"),
        ({"discriminator_channels": (0, 4)}, "discriminator_channels"),
    ],
)
def test_bad_constructor_arguments(fw, kwargs, match):
    args = {"latent_dim": LATENT, **SMALL, **kwargs}
    latent = args.pop("latent_dim")
    with pytest.raises(ValueError, match=match):
        fw.DCGAN(latent, **args)


def test_bad_images_are_refused_with_a_reason(fw):
    gan = _gan(fw)
    x = bar_images(32)
    with pytest.raises(ValueError, match=r"x must hold 28x28 images.*\(32, 27, 28\)"):
        gan.fit(x[:, :27], updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=r"look like images in \[0, 1\].*2 \* x - 1"):
        gan.fit((x + 1) / 2, updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=r"values in \[-1, 1\]"):
        gan.fit(3 * x, updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=r"values in \[-1, 1\]"):
        gan.discriminate(2 * x)
    with pytest.raises(ValueError, match="uint8"):
        gan.fit(((x + 1) * 127).astype(np.uint8), updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match="updates"):
        gan.fit(x, updates=0, batch_size=8, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        gan.fit(x, updates=1, batch_size=33, progress=False)
    with pytest.raises(ValueError, match="z must be"):
        gan.generate(np.zeros((2, LATENT + 1)))
    with pytest.raises(ValueError, match="x_real"):
        gan.train_step((x + 1) / 2)
    layout = (1, 28, 28) if fw.__name__ == "coursekit.torch" else (28, 28, 1)
    with pytest.raises(ValueError, match=r"x_real has no negative values .* 2 \* x - 1"):
        gan.train_step(((x + 1) / 2).reshape(-1, *layout))  # a 4-D array in [0, 1]


def _tensor(fw, x: np.ndarray):
    """``x`` as the framework's own tensor (torch's, or the Keras backend's)."""
    if fw.__name__ == "coursekit.torch":
        import torch

        return torch.from_numpy(x)
    from keras import ops

    return ops.convert_to_tensor(x)


def test_train_step_checks_a_framework_tensor_as_it_checks_an_array(fw):
    """A 4-D tensor of [0, 1] images was taken as it was (issue 20): trained on silently."""
    gan = _gan(fw)
    layout = (1, 28, 28) if fw.__name__ == "coursekit.torch" else (28, 28, 1)
    x01 = ((bar_images(16) + 1) / 2).reshape(-1, *layout)
    before = gan.get_weights()
    with pytest.raises(ValueError, match=r"x_real has no negative values .* 2 \* x - 1"):
        gan.train_step(_tensor(fw, x01))
    with pytest.raises(ValueError, match=r"x_real must hold 28x28 images .*\(16, 3, 32, 32\)"):
        gan.train_step(_tensor(fw, np.zeros((16, 3, 32, 32), np.float32)))
    with pytest.raises(ValueError, match="x_real contains NaN or infinite values"):
        gan.train_step(_tensor(fw, np.full((16, *layout), np.nan, np.float32)))
    with pytest.raises(ValueError, match="update_generator must be True or False, got 'no'"):
        gan.train_step(bar_images(16), update_generator="no")
    assert gan.updates == 0
    for name, value in gan.get_weights().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    stats = gan.train_step(_tensor(fw, 2 * x01 - 1))  # the same batch in [-1, 1] trains
    assert gan.updates == 1 and all(math.isfinite(v) for v in stats.values())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: g.generate(np.full((2, LATENT), np.nan)), rf"^z holds {2 * LATENT} NaN or "
         rf"infinite values; it must be noise \[n, {LATENT}\]"),
        (lambda g: g.generate("ab"), rf"^z must be noise \[n, {LATENT}\] .*got dtype <U2"),
        (lambda g: g.fit(bar_images(32), updates=1, batch_size=8, grid_size=0, progress=False),
         r"^grid_size \(images in the fixed-noise grid\) must be an int >= 1, got 0"),
        (lambda g: g.fit(bar_images(32), updates=1, batch_size=8, callback="print",
                         progress=False), r"^callback must be None or a function"),
        (lambda g: g.fit(bar_images(32), updates=1, batch_size=8, progress=None),
         "^progress must be True or False, got None"),
        (lambda g: g.set_weights(None), r"^weights must be a dict name -> array, as "
         r"get_weights\(\) returns it, got NoneType"),
        (lambda g: g.set_weights({k: np.full_like(v, np.nan) if k == "d/dense/bias" else v
                                  for k, v in g.get_weights().items()}),
         r"^weights\['d/dense/bias'\] holds 1 NaN or infinite values"),
    ],
)
def test_bad_noise_settings_and_nan_weights_are_named_and_change_nothing(fw, call, message):
    gan = _gan(fw)
    before = gan.get_weights()
    with pytest.raises(ValueError, match=message):
        call(gan)
    assert gan.updates == 0
    for name, value in gan.get_weights().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_same_seed_same_initial_weights_different_seed_different(fw):
    a, b, c = _gan(fw), _gan(fw), _gan(fw, seed=1)
    wa, wb, wc = a.get_weights(), b.get_weights(), c.get_weights()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert not np.array_equal(wa["g/dense/kernel"], wc["g/dense/kernel"])
