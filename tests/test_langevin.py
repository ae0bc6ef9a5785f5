"""coursekit.torch.langevin and the PyTorch EBM: statistics, parity with NumPy, bad input."""

from __future__ import annotations

import langevin_checks_shared as shared
import numpy as np
import pytest
import torch

from coursekit.reference import langevin as ref
from coursekit.torch import EBM, MLPEnergy, TrainingDiverged, langevin, target_log_prob
from coursekit.torch.langevin import value_and_grad

FW = shared.Framework(
    langevin=langevin,
    target_log_prob=target_log_prob,
    std_normal=lambda x: -0.5 * (x * x).sum(1),
    to_numpy=lambda t: t.detach().numpy(),
)


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


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
    x = target.sample(50, np.random.default_rng(0))
    got = target_log_prob(target, dtype=torch.float64)(torch.as_tensor(x))
    np.testing.assert_allclose(got.numpy(), target.log_prob(x), rtol=1e-10, atol=1e-10)
    _, g = value_and_grad(target_log_prob(target, dtype=torch.float64), torch.as_tensor(x))
    np.testing.assert_allclose(g.numpy(), target.grad_log_prob(x), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("mala", [False, True])
def test_parity_with_numpy_reference(mala):
    target = ref.mixture(separation=3.0)
    rng = np.random.default_rng(0)
    n, steps = 64, 30
    x0 = rng.uniform(-1, 1, (n, 2))
    noise = rng.standard_normal((steps, n, 2))
    u = rng.random((steps, n))
    kw = dict(step_size=0.2, n_steps=steps, grad_clip=3.0, clamp=(-4, 4), mala=mala,
              return_chain=True, stride=10)
    want = ref.langevin(target.log_prob, target.grad_log_prob, x0, noise=noise, uniforms=u, **kw)
    got = langevin(target_log_prob(target, dtype=torch.float64), torch.as_tensor(x0),
                   noise=torch.as_tensor(noise), uniforms=torch.as_tensor(u), **kw)
    np.testing.assert_allclose(got.x.numpy(), want.x, atol=1e-9)
    np.testing.assert_allclose(got.chain.numpy(), want.chain, atol=1e-9)
    assert got.chain.shape == (3, n, 2)
    if mala:
        assert got.acceptance_rate == pytest.approx(want.acceptance_rate)
        assert 0.0 < got.acceptance_rate < 1.0


def _gauss(x):
    return -0.5 * (x * x).sum(1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(step_size=0.0), "step_size"),
        (dict(step_size=-1.0), "step_size"),
        (dict(noise_scale=0.0), "noise_scale"),
        (dict(noise_scale=-0.1), "noise_scale"),
        (dict(n_steps=0), "n_steps"),
        (dict(stride=0), "stride"),
        (dict(clamp=(1.0, -1.0)), "clamp"),
        (dict(clamp=(0.5, 1.0)), "x0"),
        (dict(log_prob=lambda x: -0.5 * x * x), "log_prob"),
        (dict(log_prob=lambda x: x.sum(1) * float("nan")), "log_prob"),
        (dict(log_prob=lambda x: -1e6 * (x**4).sum(1)), "diverged"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, name):
    args = dict(log_prob=_gauss, step_size=0.1, n_steps=5)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        langevin(args.pop("log_prob"), torch.zeros(4, 2), seed=0, **args)


def test_toy_ebm_learns_lower_energy_on_data():
    torch.manual_seed(0)
    target = ref.mixture(separation=4.0)
    data = target.sample(2000, np.random.default_rng(0)).astype(np.float32)
    ebm = EBM(MLPEnergy(2, 32), (2,), step_size=0.05, noise_scale=None, n_steps=20,
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
    ebm = EBM(MLPEnergy(2, 8), (2,), step_size=0.01, n_steps=2, clamp=None, init_range=(-1, 1),
              buffer_size=64, seed=0)
    with torch.no_grad():
        ebm.energy.net[-1].bias.fill_(1e5)
    before = [p.detach().clone() for p in ebm.energy.parameters()]
    with pytest.raises(TrainingDiverged, match="diverged at update 1.*learning rate"):
        ebm.fit(np.zeros((64, 2), np.float32), updates=3, batch_size=32, progress=False)
    for p, q in zip(before, ebm.energy.parameters(), strict=False):
        assert torch.equal(p, q)  # nothing was applied
