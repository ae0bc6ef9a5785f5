"""The CNN energies of both frameworks (``fw``: coursekit.torch, then coursekit.keras on the
current Keras backend) on square images of another side than MNIST's 28: ``image_side`` L >= 8
(issue 21, item 4; 8 for the Ising lattices of week 6, spins in {-1, +1} as pixels in [-1, 1]).

torch takes images [n, 1, L, L], Keras [n, L, L, 1] (the layout of its EBM's ``shape``). The
last feature map is ``f x f``, ``f = cnn_final_side(L)`` (1 for L = 8 to 12, 2 for 13 to 28);
the first linear layer takes ``f^2 * c4`` inputs. The default, 28, is the network of
tests/test_langevin.py and tests/test_exercises_ebm.py, bit for bit as before (checked here
against the old definition).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from coursekit.checks import to_numpy
from coursekit.common.ebm import cnn_final_side

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny networks: one thread is faster

SMALL = {"channels": (4, 4, 8, 8), "hidden": 8}  # c4 = 8


def _is_torch(fw) -> bool:
    return fw.__name__ == "coursekit.torch"


def _seed(fw, seed: int) -> None:
    if _is_torch(fw):
        import torch

        torch.manual_seed(seed)
    else:
        import keras

        keras.utils.set_random_seed(seed)


def _net(fw, side, *, channels=SMALL["channels"], hidden=SMALL["hidden"], seed=0):
    """The framework's CNN energy for ``side x side`` images, seeded."""
    _seed(fw, seed)
    if _is_torch(fw):
        return fw.CNNEnergy(channels, hidden, image_side=side)
    return fw.cnn_energy(channels, hidden, image_side=side)


def _shape(fw, side: int) -> tuple[int, int, int]:
    """One image's shape in the framework's layout: (1, L, L) or (L, L, 1)."""
    return (1, side, side) if _is_torch(fw) else (side, side, 1)


def _images(fw, x: np.ndarray) -> np.ndarray:
    """Images [n, L, L] in the framework's layout."""
    return x[:, None] if _is_torch(fw) else x[..., None]


def _energy(fw, net, x: np.ndarray) -> np.ndarray:
    """``net`` on images [n, L, L] (framework layout), as NumPy."""
    if _is_torch(fw):
        import torch

        with torch.no_grad():
            return net(torch.from_numpy(_images(fw, x))).numpy()
    return np.asarray(to_numpy(net(_images(fw, x))))


def _dense_inputs(fw, net) -> int:
    """Input features of the first linear (torch) / dense (Keras) layer."""
    if _is_torch(fw):
        import torch

        return next(m for m in net.net if isinstance(m, torch.nn.Linear)).in_features
    dense = next(la for la in net.layers if la.__class__.__name__ == "Dense")
    return dense.get_weights()[0].shape[0]


def spins(n: int, side: int, seed: int = 0) -> np.ndarray:
    """``n`` random spin configurations [n, side, side] in {-1, +1} (float32)."""
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([-1.0, 1.0], np.float32), size=(n, side, side))


def two_modes(n: int, side: int, seed: int = 0) -> np.ndarray:
    """``n`` images [n, side, side], each all +1 or all -1: the ferromagnet's ground states."""
    signs = np.where(np.random.default_rng(seed).random(n) < 0.5, -1.0, 1.0).astype(np.float32)
    return np.broadcast_to(signs[:, None, None], (n, side, side)).copy()


# ---- shapes ---------------------------------------------------------------------------------


def test_the_final_side_follows_the_convolution_arithmetic():
    """cnn_final_side against the torch convolutions themselves, L = 8 to 48."""
    import torch

    import coursekit.torch as ct

    convs = torch.nn.Sequential(*list(_net(ct, 8).net)[:8])  # up to the last SiLU
    want = {8: 1, 12: 1, 13: 2, 16: 2, 28: 2, 29: 3, 44: 3, 45: 4}
    for side in range(8, 49):
        with torch.no_grad():
            out = convs(torch.zeros(1, 1, side, side))
        assert out.shape == (1, 8, cnn_final_side(side), cnn_final_side(side)), side
        assert cnn_final_side(side) == want.get(side, cnn_final_side(side))


@pytest.mark.parametrize("side", [8, 12, 16, 28])
def test_an_energy_of_side_l_maps_n_images_to_n_energies(fw, side):
    net = _net(fw, side)
    assert net.image_side == side
    assert _dense_inputs(fw, net) == cnn_final_side(side) ** 2 * 8
    e = _energy(fw, net, spins(5, side))
    assert e.shape == (5,) and np.all(np.isfinite(e))
    ebm = fw.EBM(net, _shape(fw, side), buffer_size=8, seed=0)
    got = ebm.energies(_images(fw, spins(5, side)))
    assert got.shape == (5,)
    np.testing.assert_allclose(got, e, rtol=1e-6, atol=1e-6)


def test_the_default_side_is_28_and_the_network_is_as_before():
    """Same layers, same parameter shapes, same initial values under the same seed as the
    definition before image_side; the repr (printed by the week-2 notebook) is unchanged."""
    import torch
    from torch import nn

    from coursekit.torch import CNNEnergy

    torch.manual_seed(3)
    net = CNNEnergy()
    torch.manual_seed(3)
    old = nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=4), nn.SiLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.SiLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.SiLU(),
        nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.SiLU(),
        nn.Flatten(), nn.Linear(256, 64), nn.SiLU(), nn.Linear(64, 1),
    )  # fmt: skip
    assert net.image_side == 28 and repr(net.net) == repr(old)
    assert "image_side" not in repr(net)
    new_params, old_params = net.net.state_dict(), old.state_dict()
    assert list(new_params) == list(old_params)
    for name, value in old_params.items():
        assert torch.equal(new_params[name], value), name


@pytest.mark.keras
def test_the_keras_default_side_is_28_and_the_network_is_as_before():
    import keras
    from keras import layers

    from coursekit.keras import cnn_energy
    from coursekit.keras.ebm import torch_init

    keras.utils.set_random_seed(3)
    net = cnn_energy()
    keras.utils.set_random_seed(3)  # the definition before image_side
    inp = keras.Input((28, 28, 1))
    h = layers.ZeroPadding2D(4)(inp)
    h = layers.Conv2D(16, 5, strides=2, activation="silu", **torch_init(25))(h)
    for c_in, c in ((16, 32), (32, 64), (64, 64)):
        h = layers.ZeroPadding2D(1)(h)
        h = layers.Conv2D(c, 3, strides=2, activation="silu", **torch_init(9 * c_in))(h)
    h = layers.Dense(64, activation="silu", **torch_init(256))(layers.Flatten()(h))
    old = keras.Model(inp, layers.Reshape(())(layers.Dense(1, **torch_init(64))(h)))
    assert net.image_side == 28 and net.input_shape == (None, 28, 28, 1)
    new_w, old_w = net.get_weights(), old.get_weights()
    assert [w.shape for w in new_w] == [w.shape for w in old_w]
    for a, b in zip(new_w, old_w, strict=True):
        np.testing.assert_array_equal(a, b)


# ---- bad sides ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [7, 4, 0, -8, 8.0, True, "8", None])
def test_a_bad_image_side_is_named(fw, value):
    with pytest.raises(ValueError, match=(
        r"^image_side \(pixels along each side of the square images, e\.g\. 28 for MNIST, 8 "
        rf"for 8 x 8 Ising lattices\) must be an int >= 8, got {value!r}$"
    )):  # fmt: skip
        _net(fw, value)


@pytest.mark.parametrize(("built", "states"), [(28, 8), (8, 28), (28, 16), (8, 12)])
def test_an_ebm_of_another_side_names_both_sides(fw, built, states):
    """Refused at construction, even where the convolutions would run (torch's 28 x 28 network
    takes 16 x 16 images, and its 8 x 8 one 12 x 12 images, without an error)."""
    with pytest.raises(ValueError, match=(
        rf"^energy was built for {built} x {built} images \(image_side={built}\) but the EBM for "
        rf"states of shape \({', '.join(map(str, _shape(fw, states)))}\) \({states} x {states} "
        rf"images\): build the energy with image_side={states}, or the EBM with the shape of "
        rf"{built} x {built} images$"
    )):  # fmt: skip
        fw.EBM(_net(fw, built), _shape(fw, states), buffer_size=8)


def test_an_ebm_of_another_state_shape_keeps_the_general_message(fw):
    """Not square images (flat rows): the probe's message, as before image_side."""
    with pytest.raises(ValueError, match=r"energy must map a batch \[n, \*shape\] = \[n, "
                       r"\*\(64,\)\] to energies \[n\].*Build it for states of shape \(64,\)"):
        fw.EBM(_net(fw, 8), (64,), buffer_size=8)


# ---- training at L = 8 ----------------------------------------------------------------------


def test_a_few_updates_on_random_spins_and_samples_in_the_clamp(fw):
    shape = _shape(fw, 8)
    net = _net(fw, 8)
    before = [np.array(to_numpy(w)) for w in _weights(fw, net)]
    ebm = fw.EBM(net, shape, n_steps=5, lr=1e-3, buffer_size=64, seed=0)
    x = _images(fw, spins(32, 8))
    assert x.dtype == np.float32 and x.shape == (32, *shape)
    hist = ebm.fit(x, updates=4, batch_size=16, log_every=2, progress=False)
    assert ebm.updates == 4 and hist["update"] == [2, 4]
    for key in ("loss", "cdiv", "reg", "e_data", "e_fake"):
        assert all(math.isfinite(v) for v in hist[key]), key
    after = [np.array(to_numpy(w)) for w in _weights(fw, net)]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    out = np.asarray(to_numpy(ebm.sample(6, n_steps=5).x))
    assert out.shape == (6, *shape) and np.all((out >= -1) & (out <= 1))
    assert out.std() > 0.1  # chains from uniform noise, not collapsed
    assert ebm.energies(x).shape == (32,)


def _weights(fw, net) -> list:
    return list(net.parameters()) if _is_torch(fw) else list(net.trainable_variables)


@pytest.mark.parametrize("fw", [  # Keras' sampler takes ~10x torch's time per update here
    "torch", pytest.param("keras", marks=[pytest.mark.keras, pytest.mark.slow])], indirect=True)
def test_after_200_updates_on_the_two_ground_states_data_lie_below_noise(fw):
    """Images all +1 or all -1: after 200 updates the mean energy of the data is below that of
    uniform noise on [-1, 1] by more than 1.

    The regularised loss ``mean E_d - mean E_f + alpha (mean E_d^2 + mean E_f^2)`` is smallest
    at ``E_d = -1 / (2 alpha)``, ``E_f = +1 / (2 alpha)``: a gap of ``1 / alpha = 10`` when the
    samples (Langevin chains from uniform noise) are told apart from the data. The untrained
    network gives both sets the same energy (|gap| < 1e-3: its small weights see little but the
    biases). Measured after 200 updates (batch 32, 2 Langevin steps, lr 1e-3), seeds 0 to 4:
    gaps 2.5 to 7.1 on torch, 4.6 to 8.2 on Keras/tensorflow, 2.4 to 7.8 on Keras/torch (1.5 to
    8.6 with 5 Langevin steps); 1 is a tenth of the optimum, and a run that learns nothing (lr
    1e-8: gap about 0) or the wrong way (the loss's sign flipped: data above noise) fails.
    """
    shape = _shape(fw, 8)
    ebm = fw.EBM(_net(fw, 8, channels=(8, 8, 8, 8), hidden=16), shape, n_steps=2, lr=1e-3,
                 buffer_size=256, seed=0)  # fmt: skip
    data = _images(fw, two_modes(256, 8))
    noise = np.random.default_rng(1).uniform(-1, 1, (256, *shape)).astype(np.float32)
    start = ebm.energies(noise).mean() - ebm.energies(data).mean()
    assert abs(start) < 1e-2
    ebm.fit(data, updates=200, batch_size=32, log_every=200, progress=False)
    gap = ebm.energies(noise).mean() - ebm.energies(data).mean()
    assert gap > 1.0, f"noise - data energy gap {gap:.3f} after 200 updates"


# ---- torch against Keras with the same weights ----------------------------------------------


@pytest.mark.keras
@pytest.mark.parametrize(("side", "channels", "hidden", "scale"), [
    (8, SMALL["channels"], 8, 0.5), (16, SMALL["channels"], 8, 0.5),
    (28, SMALL["channels"], 8, 0.5), (28, (16, 32, 64, 64), 64, None),  # the course's network
])  # fmt: skip
def test_keras_cnn_energy_matches_torch_with_the_same_weights(side, channels, hidden, scale):
    """The Keras CNN energy computes the torch one's energies from the same weights, at every
    final map size: 1x1 (8), 2x2 (16 and 28); ``scale`` widens the weights (None: torch's
    initialisation) so that the energies differ from image to image."""
    import torch

    from coursekit.keras import cnn_energy
    from coursekit.torch import CNNEnergy

    c4, f = channels[-1], cnn_final_side(side)
    torch.manual_seed(0)
    tnet = CNNEnergy(channels, hidden, image_side=side).double()
    if scale is not None:
        with torch.no_grad():
            for p in tnet.parameters():
                p.uniform_(-scale, scale)
    knet = cnn_energy(channels, hidden, image_side=side)
    convs = [m for m in tnet.net if isinstance(m, torch.nn.Conv2d)]
    lins = [m for m in tnet.net if isinstance(m, torch.nn.Linear)]
    kconv = [layer for layer in knet.layers if layer.__class__.__name__ == "Conv2D"]
    kdense = [layer for layer in knet.layers if layer.__class__.__name__ == "Dense"]
    for t, k in zip(convs, kconv, strict=True):
        k.set_weights([t.weight.detach().numpy().transpose(2, 3, 1, 0), t.bias.detach().numpy()])
    # torch flattens [c, f, f] channel-major, Keras [f, f, c] channel-minor
    w1 = lins[0].weight.detach().numpy().reshape(hidden, c4, f, f).transpose(0, 2, 3, 1)
    kdense[0].set_weights([w1.reshape(hidden, -1).T, lins[0].bias.detach().numpy()])
    kdense[1].set_weights([lins[1].weight.detach().numpy().T, lins[1].bias.detach().numpy()])
    x = np.random.default_rng(0).uniform(-1, 1, (6, 1, side, side))
    want = tnet(torch.as_tensor(x)).detach().numpy()
    assert np.ptp(want) > (0.1 if scale else 1e-4)
    got = np.asarray(to_numpy(knet(x.transpose(0, 2, 3, 1).astype(np.float32))))
    assert got.shape == (6,)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
