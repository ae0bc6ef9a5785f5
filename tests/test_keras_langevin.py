"""coursekit.keras.langevin and the Keras EBM, on the tensorflow and the torch backend:
the same statistics as the torch tests, parity with NumPy and with coursekit.torch, bad input."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.keras

import langevin_checks_shared as shared  # noqa: E402
from keras import ops  # noqa: E402

from coursekit.keras import (  # noqa: E402
    EBM,
    TrainingDiverged,
    cnn_energy,
    langevin,
    mlp_energy,
    target_log_prob,
)
from coursekit.reference import langevin as ref  # noqa: E402


def _numpy(t):
    return np.asarray(ops.convert_to_numpy(t))


FW = shared.Framework(
    langevin=langevin,
    target_log_prob=target_log_prob,
    std_normal=lambda x: -0.5 * ops.sum(x * x, axis=1),
    to_numpy=_numpy,
)


def test_gaussian_mean_and_cov():
    shared.gaussian_mean_and_cov(FW)


def test_lecture_form_samples_p_squared():
    shared.lecture_form_halves_variance(FW)


def test_mixture_modes_in_proportion():
    shared.mixture_proportions(FW)


def test_mala_acceptance_and_bias():
    shared.mala_acceptance_and_bias(FW)


@pytest.mark.parametrize("target", [ref.correlated_gaussian(0.7), ref.mixture(), ref.ring()],
                         ids=["gaussian", "mixture", "ring"])
def test_target_log_prob_matches_numpy(target):
    x = target.sample(50, np.random.default_rng(0)).astype(np.float32)
    got = _numpy(target_log_prob(target)(ops.convert_to_tensor(x)))
    np.testing.assert_allclose(got, target.log_prob(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mala", [False, True])
def test_parity_with_numpy_reference(mala):
    target = ref.mixture(separation=3.0)
    rng = np.random.default_rng(0)
    n, steps = 64, 30
    x0 = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    noise = rng.standard_normal((steps, n, 2)).astype(np.float32)
    u = rng.random((steps, n)).astype(np.float32)
    kw = dict(step_size=0.2, n_steps=steps, grad_clip=3.0, clamp=(-4, 4), mala=mala,
              return_chain=True, stride=10)
    want = ref.langevin(target.log_prob, target.grad_log_prob, x0.astype(np.float64),
                        noise=noise.astype(np.float64), uniforms=u.astype(np.float64), **kw)
    got = langevin(target_log_prob(target), x0, noise=noise, uniforms=u, **kw)
    np.testing.assert_allclose(_numpy(got.x), want.x, atol=2e-4)
    np.testing.assert_allclose(_numpy(got.chain), want.chain, atol=2e-4)
    if mala:
        assert got.acceptance_rate == pytest.approx(want.acceptance_rate, abs=2 / (n * steps))


def test_cnn_energy_matches_torch_with_the_same_weights():
    torch = pytest.importorskip("torch")
    from coursekit.torch import CNNEnergy

    torch.manual_seed(0)
    tnet = CNNEnergy().double()
    knet = cnn_energy()
    convs = [m for m in tnet.net if isinstance(m, torch.nn.Conv2d)]
    lins = [m for m in tnet.net if isinstance(m, torch.nn.Linear)]
    kconv = [layer for layer in knet.layers if layer.__class__.__name__ == "Conv2D"]
    kdense = [layer for layer in knet.layers if layer.__class__.__name__ == "Dense"]
    for t, k in zip(convs, kconv, strict=False):
        k.set_weights([t.weight.detach().numpy().transpose(2, 3, 1, 0), t.bias.detach().numpy()])
    # torch flattens [c, 2, 2] channel-major, Keras [2, 2, c] channel-minor
    w1 = lins[0].weight.detach().numpy().reshape(-1, 64, 2, 2).transpose(0, 2, 3, 1)
    kdense[0].set_weights([w1.reshape(-1, 256).T, lins[0].bias.detach().numpy()])
    kdense[1].set_weights([lins[1].weight.detach().numpy().T, lins[1].bias.detach().numpy()])
    x = np.random.default_rng(0).uniform(-1, 1, (8, 1, 28, 28))
    want = tnet(torch.as_tensor(x)).detach().numpy()
    got = _numpy(knet(x.transpose(0, 2, 3, 1).astype(np.float32)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("make", [cnn_energy, lambda: mlp_energy(2, 64)], ids=["cnn", "mlp"])
def test_energy_nets_start_from_torchs_initialisation(make):
    """Weights and biases uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)] as torch's Conv2d/Linear:
    Keras' defaults (Glorot weights, zero biases) made the Keras EBM a different algorithm."""
    import keras

    keras.utils.set_random_seed(0)
    layers = [la for la in make().layers if la.__class__.__name__ in ("Conv2D", "Dense")]
    assert layers
    for la in layers:
        kernel, bias = la.get_weights()
        bound = 1 / np.sqrt(np.prod(kernel.shape[:-1]))  # fan_in: kh * kw * c_in, or features
        assert np.abs(kernel).max() <= bound and np.abs(bias).max() <= bound, la.name
        if kernel.size >= 1000:  # the std of U(-b, b) is b / sqrt(3); 1000 draws: 3% error
            assert kernel.std() == pytest.approx(bound / np.sqrt(3), rel=0.1), la.name
        if bias.size >= 16:
            assert bias.std() == pytest.approx(bound / np.sqrt(3), rel=0.5), la.name


def _gauss(x):
    return -0.5 * ops.sum(x * x, axis=1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(step_size=0.0), "step_size"),
        (dict(step_size=-1.0), "step_size"),
        (dict(noise_scale=0.0), "noise_scale"),
        (dict(n_steps=0), "n_steps"),
        (dict(clamp=(0.5, 1.0)), "x0"),
        (dict(log_prob=lambda x: -0.5 * x * x), "log_prob"),
        (dict(log_prob=lambda x: ops.sum(x, axis=1) * float("nan")), "log_prob"),
        (dict(log_prob=lambda x: -1e6 * ops.sum(x**4, axis=1)), "diverged"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, name):
    args = dict(log_prob=_gauss, step_size=0.1, n_steps=5)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        langevin(args.pop("log_prob"), np.zeros((4, 2), np.float32), seed=0, **args)


def test_toy_ebm_learns_lower_energy_on_data():
    import keras

    keras.utils.set_random_seed(0)
    target = ref.mixture(separation=4.0)
    data = target.sample(2000, np.random.default_rng(0)).astype(np.float32)
    ebm = EBM(mlp_energy(2, 32), (2,), step_size=0.05, noise_scale=None, n_steps=20,
              grad_clip=None, clamp=None, init_range=(-5, 5), buffer_size=1000, alpha=0.1,
              lr=3e-3, clip_norm=None, data_noise=0.0, seed=0)
    hist = ebm.fit(data, updates=150, batch_size=128, log_every=50, progress=False)
    assert hist["update"] == [50, 100, 150]
    e_data = ebm.energies(data[:500])
    noise = np.random.default_rng(1).uniform(-5, 5, (500, 2)).astype(np.float32)
    e_noise = ebm.energies(noise)
    assert e_data.mean() < e_noise.mean() - 0.5, (e_data.mean(), e_noise.mean())
    from coursekit.metrics.ood import roc_auc

    assert roc_auc(-e_data, -e_noise) > 0.8


def test_divergence_guard_stops_with_a_message():
    net = mlp_energy(2, 8)
    ebm = EBM(net, (2,), step_size=0.01, n_steps=2, clamp=None, buffer_size=64, seed=0)
    last = net.layers[-2]
    last.set_weights([last.get_weights()[0], np.full((1,), 1e5, np.float32)])
    before = [w.copy() for w in net.get_weights()]
    with pytest.raises(TrainingDiverged, match="diverged at update 1.*learning rate"):
        ebm.fit(np.zeros((64, 2), np.float32), updates=3, batch_size=32, progress=False)
    for p, q in zip(before, net.get_weights(), strict=False):
        np.testing.assert_array_equal(p, q)
