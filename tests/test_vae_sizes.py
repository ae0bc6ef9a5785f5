"""The VAEs of both frameworks (``fw``) on square images of other sizes than MNIST's 28 x 28.

``image_side=L`` (issue 21, item 4; the Ising week's L x L spin configurations as binary
pixels): rows [n, L*L] or [n, L, L], [n, L, L, 1], [n, 1, L, L] in, rows [n, L*L] out; the conv
network needs L divisible by 4; the side is saved and loaded with the weights. The default, 28,
is tested (bit for bit as before) by tests/test_vae.py and tests/test_vae_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny networks: one thread is faster


def _fit(vae, x, **kw):
    """``fit`` in the framework's own form; returns the history as a dict of lists."""
    if type(vae).__module__.startswith("coursekit.keras"):
        return vae.fit(x, verbose=0, **kw).history
    return vae.fit(x, progress=False, **kw)


def _spins(n: int, side: int, seed: int = 0) -> np.ndarray:
    """Random binary L x L configurations (pixels in {0, 1}, spin s = 2x - 1): [n, L, L]."""
    return (np.random.default_rng(seed).random((n, side, side)) < 0.5).astype(np.float32)


def _patterns(n: int, side: int) -> np.ndarray:
    """Four fixed configurations repeated (all up, all down, left half up, top half up): a
    learnable set, [n, L*L]."""
    up, half = np.ones((side, side), np.float32), side // 2
    left, top = up.copy(), up.copy()
    left[:, half:] = 0
    top[half:] = 0
    four = np.stack([up, 0 * up, left, top]).reshape(4, side * side)
    return np.tile(four, (n // 4, 1))


def _layouts(x: np.ndarray, side: int) -> dict[str, np.ndarray]:
    n = len(x)
    return {
        "rows": x.reshape(n, side * side),
        "images": x.reshape(n, side, side),
        "channels last": x.reshape(n, side, side, 1),
        "channels first": x.reshape(n, 1, side, side),
    }


@pytest.mark.parametrize(("side", "arch"), [(16, "mlp"), (16, "conv"), (4, "mlp"), (4, "conv")])
def test_a_model_of_side_l_takes_every_layout_and_returns_rows_of_l_squared(fw, side, arch):
    vae = fw.VAE(2, arch=arch, hidden=16, image_side=side, seed=0)
    assert vae.image_side == side and vae.config["image_side"] == side
    x = _spins(6, side)
    embedded = {name: vae.embed(data) for name, data in _layouts(x, side).items()}
    for name, z in embedded.items():
        assert z.shape == (6, 2), name
        np.testing.assert_array_equal(z, embedded["rows"], err_msg=name)
    assert vae.sample(5, seed=1).shape == (5, side * side)
    assert vae.decode_mean(np.zeros((3, 2), np.float32)).shape == (3, side * side)
    assert vae.reconstruct(x.reshape(6, 1, side, side)).shape == (6, side * side)
    assert vae.log_likelihood(x, k=4).shape == (6,)
    assert np.isfinite(vae.elbo(x.reshape(6, side, side, 1)))


def test_the_torch_decoder_gives_logits_of_l_squared():
    import torch

    from coursekit.torch import VAE

    for arch in ("mlp", "conv"):
        vae = VAE(2, arch=arch, hidden=16, image_side=16, seed=0)
        assert vae.decode(torch.zeros(3, 2)).shape == (3, 256)
        out = vae(torch.from_numpy(_spins(4, 16).reshape(4, 256)))
        assert out["logits"].shape == (4, 256)


@pytest.mark.parametrize("side", [16, 4])
def test_a_few_updates_on_random_binary_configurations(fw, side):
    vae = fw.VAE(2, arch="mlp", hidden=16, image_side=side, seed=0)
    history = _fit(vae, _spins(48, side).reshape(48, 1, side, side), epochs=1, batch_size=16)
    assert vae.updates == 3
    assert all(np.all(np.isfinite(history[key])) for key in ("loss", "reconstruction", "kl"))


@pytest.mark.parametrize(("side", "gain"), [(16, 100.0), (4, 3.0)])
def test_the_negative_elbo_falls_over_200_updates_on_fixed_patterns(fw, side, gain):
    """200 Adam updates on four fixed configurations: the ELBO rises by ``gain`` nats (from
    about L*L log 2 for the untrained decoder: 177 nats at L = 16, 11 at L = 4)."""
    x = _patterns(800, side)
    vae = fw.VAE(2, arch="mlp", hidden=32, image_side=side, learning_rate=3e-3, seed=0)
    before = vae.elbo(x)
    history = _fit(vae, x, epochs=2, batch_size=8)
    assert vae.updates == 200
    assert history["loss"][-1] < history["loss"][0]
    assert vae.elbo(x) > before + gain, (before, vae.elbo(x))


def test_the_conv_network_needs_a_side_divisible_by_4(fw):
    with pytest.raises(ValueError, match=r"^image_side .*must be a multiple of 4 for "
                       r"arch='conv'.*got 18"):  # fmt: skip
        fw.VAE(2, arch="conv", image_side=18)
    assert fw.VAE(2, arch="mlp", hidden=8, image_side=18, seed=0).sample(2).shape == (2, 324)


@pytest.mark.parametrize("side", [1, 0, 16.0, "16", True, None])
def test_a_bad_side_is_named(fw, side):
    with pytest.raises(ValueError, match=r"^image_side \(pixels along each side of the square "
                       r"images\) must be an int >= 2"):  # fmt: skip
        fw.VAE(2, arch="mlp", hidden=8, image_side=side)


def test_images_of_another_size_are_refused_naming_the_shapes_expected(fw):
    vae = fw.VAE(2, arch="mlp", hidden=8, image_side=16, seed=0)
    expected = (r"must hold 16x16 images as \[n, 256\], \[n, 16, 16\], \[n, 16, 16, 1\] or "
                r"\[n, 1, 16, 16\] with n >= 1, got shape ")  # fmt: skip
    digits = np.zeros((5, 28, 28), np.float32)
    with pytest.raises(ValueError, match=rf"^x {expected}\(5, 28, 28\)$"):
        vae.embed(digits)
    with pytest.raises(ValueError, match=rf"^x {expected}\(5, 784\)$"):
        _fit(vae, digits.reshape(5, 784), epochs=1)
    with pytest.raises(ValueError, match=rf"^x {expected}\(5, 1, 28, 28\)$"):
        vae.elbo(digits.reshape(5, 1, 28, 28))
    mnist = fw.VAE(2, arch="mlp", hidden=8, seed=0)  # and the other way round
    with pytest.raises(ValueError, match=r"^x must hold 28x28 images .*got shape \(5, 256\)$"):
        mnist.embed(np.zeros((5, 256), np.float32))


def test_torch_refuses_a_float_tensor_of_another_size():
    """The torch VAE's fast path for float32 row tensors checks the side too."""
    import torch

    from coursekit.torch import VAE

    vae = VAE(2, hidden=8, image_side=16, seed=0)
    with pytest.raises(ValueError, match=r"16x16 images .*got shape \(3, 784\)"):
        vae.embed(torch.zeros(3, 784))
    assert vae.embed(torch.zeros(3, 256)).shape == (3, 2)


# ---- saving and loading ---------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_the_side_is_saved_and_loaded(fw, tmp_path, arch):
    vae = fw.VAE(2, arch=arch, hidden=8, image_side=16, seed=0)
    x = _spins(8, 16)
    _fit(vae, x, epochs=1, batch_size=4)
    path = vae.save(tmp_path / "ising.npz")
    loaded = type(vae).load(path)
    assert loaded.image_side == 16 and loaded.config == vae.config
    np.testing.assert_array_equal(loaded.embed(x), vae.embed(x))
    np.testing.assert_array_equal(loaded.sample(3, seed=2), vae.sample(3, seed=2))
    # a model of another side refuses the file, naming both sides
    with pytest.raises(
        ValueError,
        match=r"holds a VAE with .*image_side=16, but this model has "
        r".*image_side=28; build the model with the checkpoint's settings",
    ):
        fw.VAE(2, arch=arch, hidden=8, seed=0)._load_into(path)
    with pytest.raises(ValueError, match=r"image_side=16, but this model has .*image_side=8"):
        type(vae).load(path, image_side=8)


def test_a_28x28_file_is_as_before_and_loads_as_28(fw, tmp_path):
    """Files of 28 x 28 models carry no side (as every file written before sides existed), and
    load as 28 x 28 models."""
    vae = fw.VAE(2, arch="mlp", hidden=8, seed=0)
    assert "image_side" not in vae.config
    path = vae.save(tmp_path / "digits.npz")
    with np.load(path) as npz:
        texts = [str(npz[name]) for name in npz.files if npz[name].dtype.kind in "US"]
        assert not any("image_side" in text for text in [*npz.files, *texts])
    loaded = type(vae).load(path)
    assert loaded.image_side == 28
    with pytest.raises(ValueError, match=r"image_side=28, but this model has .*image_side=16"):
        fw.VAE(2, arch="mlp", hidden=8, image_side=16, seed=0)._load_into(path)


# ---- the two frameworks agree at L = 16 -----------------------------------------------------


@pytest.mark.keras
def test_torch_and_keras_agree_at_side_16_with_the_same_weights_and_noise():
    import keras
    import torch

    from coursekit.keras import VAE as KerasVAE
    from coursekit.keras import vae as kv
    from coursekit.torch import VAE as TorchVAE
    from coursekit.torch import vae as tv

    t_vae = TorchVAE(3, arch="mlp", hidden=20, image_side=16, seed=0)
    k_vae = KerasVAE(3, arch="mlp", hidden=20, image_side=16, seed=1)
    linears = [m for m in (*t_vae.encoder, *t_vae.decoder) if isinstance(m, torch.nn.Linear)]
    dense = [layer for net in (k_vae.encoder, k_vae.decoder) for layer in net.layers
             if isinstance(layer, keras.layers.Dense)]  # fmt: skip
    for lin, den in zip(linears, dense, strict=True):  # weight [out, in] -> kernel [in, out]
        den.set_weights([lin.weight.detach().numpy().T, lin.bias.detach().numpy()])
    rng = np.random.default_rng(1)
    x = (rng.random((5, 256)) < 0.3).astype(np.float32)
    eps = rng.normal(size=(5, 3)).astype(np.float32)
    out = t_vae(torch.from_numpy(x), eps=torch.from_numpy(eps))
    t_terms = tv.elbo_terms(torch.from_numpy(x), out["mean"], out["log_var"], out["logits"])
    mean, log_var = k_vae.encoder_params(x)
    k_terms = kv.elbo_terms(x, mean, log_var, k_vae.decoder(kv.reparameterize(mean, log_var, eps)))
    tol = {"rtol": 1e-5, "atol": 1e-4}
    for a, b in zip(t_terms, k_terms, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), keras.ops.convert_to_numpy(b), **tol)
    noise = rng.normal(size=(5, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(t_vae.log_likelihood(x.reshape(5, 16, 16), k=40, eps=noise),
                               k_vae.log_likelihood(x.reshape(5, 1, 16, 16), k=40, eps=noise),
                               **tol)  # fmt: skip
    np.testing.assert_allclose(t_vae.embed(x), k_vae.embed(x), **tol)
