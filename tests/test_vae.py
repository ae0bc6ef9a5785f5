"""The VAEs of both frameworks (``fw``: coursekit.torch, then coursekit.keras on the current
Keras backend): the ELBO's maths against the NumPy reference, training, evaluation, bad input.

Saving and loading: tests/test_save_load.py; the two frameworks against each other:
tests/test_vae_parity.py.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from coursekit.checks import to_numpy
from coursekit.reference import vae as ref


def _blobs(n: int = 256, seed: int = 0) -> np.ndarray:
    """Two kinds of 28x28 'images' (a bar left or right) with grey noise: learnable in seconds."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28)).astype(np.float32) * 0.1
    left = rng.random(n) < 0.5
    x[left, :, 4:10] = 0.95
    x[~left, :, 18:24] = 0.95
    return x.reshape(n, 784)


def _fit(vae, x, **kw):
    """``fit`` in the framework's own form: the torch VAE's loop, or Keras' ``Model.fit``;
    returns the history as a dict of lists."""
    if type(vae).__module__.startswith("coursekit.keras"):
        return vae.fit(x, verbose=0, **kw).history
    return vae.fit(x, progress=False, **kw)


def test_elbo_functions_match_the_reference(fw):
    vae_module = importlib.import_module(f"{fw.__name__}.vae")
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = (rng.random((4, 784)) < 0.3).astype(f32)
    mean, log_var = rng.normal(size=(4, 3)).astype(f32), rng.normal(0, 0.5, (4, 3)).astype(f32)
    logits, eps = rng.normal(0, 2, (4, 784)).astype(f32), rng.normal(size=(4, 3)).astype(f32)
    args = (x, mean, log_var, logits)
    if fw.__name__ == "coursekit.torch":
        import torch

        args = tuple(torch.from_numpy(a) for a in args)
        eps = torch.from_numpy(eps)
    rec, kl = vae_module.elbo_terms(*args)
    ref_rec, ref_kl = ref.elbo_terms(x, mean, log_var, logits)
    np.testing.assert_allclose(to_numpy(rec), ref_rec, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(kl), ref_kl, rtol=1e-5)
    z = to_numpy(vae_module.reparameterize(args[1], args[2], eps))
    np.testing.assert_allclose(z, ref.reparameterize(mean, log_var, to_numpy(eps)), rtol=1e-6)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_shapes_of_both_architectures(fw, arch):
    vae = fw.VAE(3, arch=arch, hidden=32, seed=0)
    x = _blobs(6)
    assert vae.sample(4, seed=1).shape == (4, 784)
    np.testing.assert_array_equal(vae.sample(4, seed=1), vae.sample(4, seed=1))
    assert vae.embed(x.reshape(6, 28, 28)).shape == (6, 3)
    assert vae.embed(x.reshape(6, 28, 28, 1)).shape == (6, 3)
    assert vae.reconstruct(x.reshape(6, 1, 28, 28)).shape == (6, 784)
    assert vae.log_likelihood((x > 0.5).astype(np.float32), k=7).shape == (6,)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_training_raises_the_elbo_and_records_both_terms(fw, arch):
    x = _blobs(256)
    vae = fw.VAE(2, arch=arch, hidden=64, seed=0)
    before = vae.elbo(x > 0.5)
    history = _fit(vae, x, epochs=4, batch_size=32)
    assert vae.updates == 32
    for key in ("loss", "reconstruction", "kl"):
        assert len(history[key]) == 4 and np.all(np.isfinite(history[key]))
    assert min(history["kl"]) >= 0
    assert history["loss"][-1] < history["loss"][0] - 20
    assert vae.elbo(x > 0.5) > before + 20


def test_iwae_estimate_is_batched_exactly_and_matches_the_reference(fw):
    x = (_blobs(12, seed=1) > 0.5).astype(np.float32)
    vae = fw.VAE(2, arch="mlp", hidden=32, seed=0)
    _fit(vae, _blobs(64), epochs=1, batch_size=32)
    k = 50
    eps = np.random.default_rng(5).standard_normal((len(x), k, 2)).astype(np.float32)
    whole = vae.log_likelihood(x, k=k, eps=eps)
    assert whole.shape == (12,) and np.all(whole < 0)
    for max_rows in (7, 64, 100):  # K split over passes, several images per pass
        np.testing.assert_allclose(vae.log_likelihood(x, k=k, max_rows=max_rows, eps=eps), whole,
                                   rtol=1e-5)  # fmt: skip
    # the same estimate from the reference maths, given the encoder's and decoder's outputs
    mean = vae.embed(x).astype(np.float64)
    log_var = _log_var(vae, x)
    z = ref.reparameterize(mean[:, None], log_var[:, None], eps)
    p = vae.decode_mean(z.reshape(-1, 2).astype(np.float32)).astype(np.float64)
    logits = np.log(p) - np.log1p(-p)
    log_w = (
        ref.bernoulli_log_prob(x[:, None], logits.reshape(len(x), k, 784))
        + ref.diag_gaussian_log_prob(z, np.zeros(2), np.zeros(2))
        - ref.diag_gaussian_log_prob(z, mean[:, None], log_var[:, None])
    )
    np.testing.assert_allclose(whole, ref.iwae_bound(log_w), rtol=1e-3)


def _log_var(vae, x: np.ndarray) -> np.ndarray:
    if type(vae).__module__.startswith("coursekit.keras"):
        return to_numpy(vae.encoder_params(x)[1]).astype(np.float64)
    import torch

    with torch.no_grad():
        return to_numpy(vae.encoder_params(torch.from_numpy(x))[1]).astype(np.float64)


@pytest.mark.slow
def test_iwae_estimate_rises_with_k(fw):
    x = (_blobs(200, seed=1) > 0.5).astype(np.float32)
    vae = fw.VAE(2, arch="mlp", hidden=32, seed=0)
    _fit(vae, _blobs(256), epochs=3, batch_size=32)
    k1 = vae.log_likelihood(x, k=1, seed=3)
    # K = 1 is a one-sample ELBO: it agrees with elbo() (another noise draw) within the noise
    # (4 standard errors, the spread between images included: a loose, safe bound)
    assert abs(k1.mean() - vae.elbo(x)) < 4 * np.sqrt(2) * k1.std() / np.sqrt(len(x))
    assert vae.log_likelihood(x, k=100, seed=4).mean() > k1.mean()


def test_bad_input_is_refused_with_clear_errors(fw):
    with pytest.raises(ValueError, match="latent_dim"):
        fw.VAE(0)
    with pytest.raises(ValueError, match="arch"):
        fw.VAE(2, arch="rnn")
    vae = fw.VAE(2, arch="mlp", hidden=8, seed=0)
    with pytest.raises(ValueError, match="shape"):
        _fit(vae, np.zeros((10, 30, 30), np.float32), epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        _fit(vae, np.full((10, 784), 1.5, np.float32), epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.elbo(np.full((3, 784), -0.1, np.float32))
    with pytest.raises(ValueError, match="uint8"):
        vae.embed(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="k"):
        vae.log_likelihood(np.zeros((2, 784), np.float32), k=0)
    x = np.zeros((10, 784), np.float32)
    with pytest.raises(ValueError, match=r"epochs \(number of passes over x\) must be an int"):
        _fit(vae, x, epochs=0)
    with pytest.raises(ValueError, match=r"batch_size \(rows per update\) must be an int"):
        _fit(vae, x, epochs=1, batch_size=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: v.decode_mean(np.full((2, 2), np.nan)), r"^z holds 4 NaN or infinite values; "
         r"it must be latent points \[n, 2\] of finite numbers"),
        (lambda v: v.decode_mean("ab"), r"^z must be latent points \[n, 2\] \(numbers\), got "
         "dtype <U2"),
        (lambda v: v.decode_mean(np.zeros((3, 5))), r"^z must be latent points \[n, 2\], got "
         r"shape \(3, 5\)"),
        (lambda v: v.embed(np.zeros((3, 784), np.float32), batch_size=0), r"^batch_size "
         r"\(images per forward pass\) must be an int >= 1, got 0"),
        (lambda v: v.elbo(np.zeros((3, 784), np.float32), terms=1), "^terms must be True or "
         "False, got 1"),
        (lambda v: _fit(v, np.full((8, 784), np.nan, np.float32), epochs=1), "^x holds 6272 NaN "
         r"or infinite values; it must hold intensities in \[0, 1\] \(clean the data first\)$"),
    ],
)
def test_bad_latent_points_settings_and_nan_data_are_named(fw, call, message):
    vae = fw.VAE(2, arch="mlp", hidden=8, seed=0)
    before = vae.sample(2, seed=0)
    with pytest.raises(ValueError, match=message):
        call(vae)
    np.testing.assert_array_equal(vae.sample(2, seed=0), before)  # nothing was trained


# ---- PyTorch only ---------------------------------------------------------------------------


def test_torch_encoder_returns_a_normal_whose_kl_is_the_closed_form():
    import torch

    from coursekit.torch import VAE
    from coursekit.torch import vae as tv

    vae = VAE(5, seed=0)
    x = torch.from_numpy(_blobs(8))
    q = vae.encode(x)
    assert isinstance(q, torch.distributions.Normal) and q.loc.shape == (8, 5)
    prior = torch.distributions.Normal(torch.zeros(8, 5), torch.ones(8, 5))
    mean, log_var = vae.encoder_params(x)
    torch.testing.assert_close(
        torch.distributions.kl_divergence(q, prior).sum(-1), tv.kl_standard_normal(mean, log_var)
    )


def test_torch_history_has_the_updates_and_the_validation_elbo():
    from coursekit.torch import VAE

    x = _blobs(128)
    vae = VAE(2, hidden=16, seed=0)
    history = vae.fit(x, epochs=2, batch_size=64, validation=x[:50], progress=False, seed=0)
    assert history["updates"] == [2, 4]
    assert np.all(np.isfinite(history["val_elbo"]))
    np.testing.assert_allclose(
        history["loss"], np.array(history["kl"]) - history["reconstruction"], rtol=1e-5
    )
    with pytest.raises(ValueError, match="epochs"):
        vae.fit(x, epochs=0)


def test_torch_seeded_training_repeats_exactly():
    from coursekit.torch import VAE

    x = _blobs(128)
    runs = [VAE(2, hidden=16, seed=3).fit(x, epochs=2, progress=False)["loss"] for _ in range(2)]
    assert runs[0] == runs[1]


def test_torch_a_seed_fixes_the_weights_without_touching_the_global_generator():
    import torch

    from coursekit.torch import VAE

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b = VAE(2, hidden=8, seed=4), VAE(2, hidden=8, seed=4)
    assert torch.equal(torch.rand(3), expected)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert not torch.equal(VAE(2, hidden=8, seed=5).decoder[0].weight, a.decoder[0].weight)


# ---- Keras only -----------------------------------------------------------------------------


@pytest.mark.keras
def test_keras_a_seed_fixes_the_weights_without_touching_global_seeds():
    from coursekit.keras import VAE

    # the legacy global state is what keras.utils.set_random_seed would have reset
    np.random.seed(7)  # noqa: NPY002
    expected = np.random.rand(3)  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    a, b = VAE(2, arch="mlp", hidden=8, seed=4), VAE(2, arch="mlp", hidden=8, seed=4)
    np.testing.assert_array_equal(np.random.rand(3), expected)  # noqa: NPY002
    for p, q in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(p, q)
    c = VAE(2, arch="mlp", hidden=8, seed=5)
    assert not np.array_equal(c.get_weights()[0], a.get_weights()[0])


def test_a_runaway_learning_rate_stops_with_the_divergence_error(fw):
    """Both frameworks' VAEs raise the package's one divergence error, naming the cause."""
    from coursekit.checks import TrainingDiverged

    vae = fw.VAE(2, arch="mlp", hidden=16, learning_rate=1e6, seed=0)
    with pytest.raises(TrainingDiverged, match="diverged .*learning_rate"):
        _fit(vae, _blobs(256), epochs=3, batch_size=32)


def test_divergence_restores_the_last_good_weights(fw):
    vae = fw.VAE(2, arch="mlp", hidden=8, seed=0, learning_rate=1e6)
    x = np.random.default_rng(0).random((64, 784)).astype(np.float32)
    with pytest.raises(FloatingPointError, match="diverged .* weights from the start of that "
                       "epoch are restored"):
        _fit(vae, x, epochs=3, batch_size=8)
    z = vae.embed(x[:4])
    assert np.all(np.isfinite(z)) and np.all(np.isfinite(vae.sample(4, seed=0)))


@pytest.mark.keras
def test_keras_conv_encoder_dense_width_is_built_saved_and_loaded(tmp_path):
    """``dense`` sets the conv encoder's dense layer (keras.io: 16; the week 3 lab widens it);
    the file records it, ``VAE.load`` rebuilds it, and a model of another width refuses it."""
    from coursekit.keras import VAE

    assert VAE(2, arch="conv", seed=0).encoder.layers[-2].units == 16
    wide = VAE(2, arch="conv", dense=32, seed=0)
    assert wide.encoder.layers[-2].units == 32 and wide.config["dense"] == 32
    assert "dense" not in VAE(2, arch="mlp", hidden=8, seed=0).config
    x = _blobs(4)
    path = wide.save(tmp_path / "wide.npz")
    same = VAE.load(path)
    assert same.dense == 32
    np.testing.assert_allclose(same.embed(x), wide.embed(x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="dense=32"):
        VAE(2, arch="conv", seed=0)._load_into(path)
    with pytest.raises(ValueError, match="dense"):
        VAE(2, arch="conv", dense=0)


@pytest.mark.keras
@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_keras_several_updates_per_call_give_the_same_run(arch):
    """On tensorflow the VAE's ``fit`` runs 8 batches per compiled call (coursekit.keras.
    fit_steps); the weights and the history equal those of one batch per call, bitwise, over
    epochs whose batch count is no multiple of 8 and with validation data."""
    import keras

    from coursekit.keras import VAE, fit_steps
    from coursekit.keras.fused_adam import Adam

    expected = fit_steps.STEPS_PER_EXECUTION if keras.backend.backend() == "tensorflow" else 1
    x = _blobs(300)  # 300 / 16: 19 batches per epoch, the last of 12 rows
    runs = []
    for steps in (None, 1):
        vae = VAE(2, arch=arch, hidden=16, dense=8, seed=3)
        if steps is None:
            assert vae.steps_per_execution == expected
        else:
            vae.compile(optimizer=Adam(1e-3), steps_per_execution=steps)
        # shuffle=False: Keras' shuffle draws from the global generators, left untouched here
        history = _fit(vae, x, epochs=2, batch_size=16, validation_data=x[:40], shuffle=False)
        runs.append((vae.get_weights(), history))
    (w_fast, h_fast), (w_one, h_one) = runs
    for p, q in zip(w_fast, w_one, strict=True):
        np.testing.assert_array_equal(p, q)
    assert h_fast == h_one and set(h_fast) >= {"loss", "val_loss", "kl"}


@pytest.mark.keras
def test_keras_checkpoints_see_every_update_and_leave_the_batches_per_call(tmp_path):
    """A fit with checkpoints runs one batch per call (its callback saves between updates)
    and puts the model's own setting back; the divergence guard names the update from the
    optimizer, whatever the batches per call."""
    from coursekit.checks import TrainingDiverged
    from coursekit.keras import VAE

    vae = VAE(2, arch="mlp", hidden=8, seed=0)
    steps = vae.steps_per_execution
    _fit(vae, _blobs(64), epochs=1, batch_size=16, checkpoint=tmp_path / "c.npz",
         checkpoint_every=3)  # fmt: skip
    assert vae.steps_per_execution == steps and vae.updates == 4
    wild = VAE(2, arch="mlp", hidden=8, seed=0, learning_rate=1e6)
    with pytest.raises(TrainingDiverged, match=r"at update (\d+):") as err:
        _fit(wild, _blobs(256), epochs=3, batch_size=16)
    update = int(err.value.args[0].split("at update ")[1].split(":")[0])
    assert 1 <= update <= 3 * 16
