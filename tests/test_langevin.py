"""The Langevin samplers and the EBMs of both frameworks (``fw``: coursekit.torch, then
coursekit.keras on the current Keras backend): statistics of the chains, parity with the NumPy
reference, bad input, training; then what each framework has of its own."""

from __future__ import annotations

import langevin_shared as shared
import numpy as np
import pytest

from coursekit.checks import TrainingDiverged, to_numpy
from coursekit.metrics.ood import roc_auc
from coursekit.reference import langevin as ref

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # the chains are tiny


@pytest.fixture
def FW(fw) -> shared.Framework:  # noqa: N802 - the framework adapter of the shared checks
    return shared.framework(fw)


def _is_torch(fw) -> bool:
    return fw.__name__ == "coursekit.torch"


# ---- the chains' statistics -----------------------------------------------------------------


@pytest.mark.slow
def test_gaussian_mean_and_cov(FW):  # noqa: N803
    shared.gaussian_mean_and_cov(FW)


@pytest.mark.slow
def test_lecture_form_samples_p_squared(FW):  # noqa: N803
    shared.lecture_form_halves_variance(FW)


@pytest.mark.slow
def test_mixture_modes_in_proportion(FW):  # noqa: N803
    shared.mixture_proportions(FW)


@pytest.mark.slow
def test_mala_acceptance_and_bias(FW):  # noqa: N803
    shared.mala_acceptance_and_bias(FW)


# ---- against the NumPy reference ------------------------------------------------------------


@pytest.mark.parametrize("mala", [False, True])
def test_parity_with_numpy_reference(fw, mala):
    """The same noise and uniforms give the reference's chain: to float64 precision in torch
    (run in float64), to float32 precision in Keras."""
    target = ref.mixture(separation=3.0)
    rng = np.random.default_rng(0)
    n, steps = 64, 30
    x0 = rng.uniform(-1, 1, (n, 2))
    noise = rng.standard_normal((steps, n, 2))
    u = rng.random((steps, n))
    kw = dict(step_size=0.2, n_steps=steps, grad_clip=3.0, clamp=(-4, 4), mala=mala,
              return_chain=True, stride=10)  # fmt: skip
    want = ref.langevin(target.log_prob, target.grad_log_prob, x0, noise=noise, uniforms=u, **kw)
    if _is_torch(fw):
        import torch

        log_prob, atol = fw.target_log_prob(target, dtype=torch.float64), 1e-9
        x0, noise, u = (torch.as_tensor(a) for a in (x0, noise, u))
    else:
        log_prob, atol = fw.target_log_prob(target), 2e-4
        x0, noise, u = (a.astype(np.float32) for a in (x0, noise, u))
    got = fw.langevin(log_prob, x0, noise=noise, uniforms=u, **kw)
    np.testing.assert_allclose(to_numpy(got.x), want.x, atol=atol)
    np.testing.assert_allclose(to_numpy(got.chain), want.chain, atol=atol)
    assert tuple(got.chain.shape) == (3, n, 2)
    if mala:
        assert got.acceptance_rate == pytest.approx(want.acceptance_rate, abs=2 / (n * steps))
        assert 0.0 < got.acceptance_rate < 1.0


@pytest.mark.parametrize("target", [ref.correlated_gaussian(0.7), ref.mixture(), ref.ring()],
                         ids=["gaussian", "mixture", "ring"])  # fmt: skip
def test_target_log_prob_matches_numpy(fw, target):
    x = target.sample(50, np.random.default_rng(0)).astype(np.float32)
    got = to_numpy(fw.target_log_prob(target)(x if not _is_torch(fw) else _torch(x)))
    np.testing.assert_allclose(got, target.log_prob(x), rtol=1e-5, atol=1e-5)


def _torch(x):
    import torch

    return torch.as_tensor(x)


# ---- bad input ------------------------------------------------------------------------------


def _bad_log_probs(fw) -> dict[str, object]:
    if _is_torch(fw):
        return {
            "not a vector": lambda x: -0.5 * x * x,
            "nan": lambda x: x.sum(1) * float("nan"),
            "diverges": lambda x: -1e6 * (x**4).sum(1),
            "numpy": lambda x: -0.5 * np.sum(np.asarray(x) ** 2, axis=1),
            "not differentiable": lambda x: -0.5 * (x.detach() ** 2).sum(1),
            "not callable": 3.0,
        }
    from keras import ops

    return {
        "not a vector": lambda x: -0.5 * x * x,
        "nan": lambda x: ops.sum(x, axis=1) * float("nan"),
        "diverges": lambda x: -1e6 * ops.sum(x**4, axis=1),
        "numpy": lambda x: -0.5 * np.sum(np.asarray(x) ** 2, axis=1),
        "not differentiable": lambda x: ops.stop_gradient(-0.5 * ops.sum(x**2, axis=1)),
        "not callable": 3.0,
    }


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
        (dict(log_prob="not a vector"), "log_prob"),
        (dict(log_prob="nan"), "log_prob"),
        (dict(log_prob="diverges"), "diverged"),
        (dict(log_prob="numpy"), "log_prob could not be evaluated and differentiated at the "
         "start .* operations so that the gradient can be taken"),
        (dict(log_prob="not differentiable"), "log_prob could not be evaluated and "
         "differentiated at the start .* operations so that the gradient can be taken"),
        (dict(log_prob="not callable"), "log_prob must be a function mapping a batch of states "
         r"\[n, ...\] to their log densities \[n\], got float"),
    ],
)
def test_bad_input_raises_naming_the_argument(fw, FW, kwargs, name):  # noqa: N803
    args = dict(log_prob=FW.std_normal, step_size=0.1, n_steps=5)
    args.update(kwargs)
    log_prob = args.pop("log_prob")
    if isinstance(log_prob, str):
        log_prob = _bad_log_probs(fw)[log_prob]
    with pytest.raises(ValueError, match=name):
        fw.langevin(log_prob, np.zeros((4, 2), np.float32), seed=0, **args)


@pytest.mark.parametrize(
    ("x0", "kwargs", "message"),
    [
        ("abc", {}, r"x0 \(the start\) must be an array or tensor of numbers \[n, d\] or "
         r"\[n, ...\], got str 'abc'"),
        (None, {}, r"x0 \(the start\) must be an array or tensor of numbers .*got NoneType"),
        ([[0.0, "a"]], {}, r"x0 \(the start\) must be an array or tensor of numbers"),
        (np.zeros((4, 2)), dict(seed=-1), r"seed \(random seed\) must be an int >= 0, got -1"),
        (np.zeros((4, 2)), dict(seed="a"), r"seed \(random seed\) must be an int >= 0, got 'a'"),
        (np.zeros((4, 2)), dict(noise=np.zeros((1, 4, 2))), r"noise must hold one draw per step, "
         r"shape \(5, 4, 2\) \(n_steps = 5\), got shape \(1, 4, 2\)"),
        (np.zeros((4, 2)), dict(mala=True, uniforms=np.full((5, 3), 0.5)), r"uniforms must hold "
         r"one draw per step, shape \(5, 4\) \(n_steps = 5\), got shape \(5, 3\)"),
    ],
)
def test_a_bad_start_seed_or_draws_is_named(fw, FW, x0, kwargs, message):  # noqa: N803
    with pytest.raises(ValueError, match=message):
        fw.langevin(FW.std_normal, x0, step_size=0.1, n_steps=5, **kwargs)


# ---- the EBM --------------------------------------------------------------------------------


def _mlp_energy(fw, dim: int, hidden: int):
    if _is_torch(fw):
        return fw.MLPEnergy(dim, hidden)
    return fw.mlp_energy(dim, hidden)


def _seed(fw, seed: int) -> None:
    if _is_torch(fw):
        import torch

        torch.manual_seed(seed)
    else:
        import keras

        keras.utils.set_random_seed(seed)


@pytest.mark.slow
def test_toy_ebm_learns_lower_energy_on_data(fw):
    _seed(fw, 0)
    target = ref.mixture(separation=4.0)
    data = target.sample(2000, np.random.default_rng(0)).astype(np.float32)
    ebm = fw.EBM(_mlp_energy(fw, 2, 32), (2,), step_size=0.05, noise_scale=None, n_steps=20,
                 grad_clip=None, clamp=None, init_range=(-5, 5), buffer_size=1000, alpha=0.1,
                 lr=3e-3, clip_norm=None, data_noise=0.0, seed=0)  # fmt: skip
    hist = ebm.fit(data, updates=150, batch_size=128, log_every=50, progress=False)
    assert hist["update"] == [50, 100, 150]
    e_data = ebm.energies(data[:500])
    noise = np.random.default_rng(1).uniform(-5, 5, (500, 2)).astype(np.float32)
    e_noise = ebm.energies(noise)
    assert e_data.mean() < e_noise.mean() - 0.5, (e_data.mean(), e_noise.mean())
    assert roc_auc(-e_data, -e_noise) > 0.8


def test_divergence_guard_stops_with_a_message(fw):
    _seed(fw, 0)
    ebm = fw.EBM(_mlp_energy(fw, 2, 8), (2,), step_size=0.01, n_steps=2, clamp=None,
                 init_range=(-1, 1), buffer_size=64, seed=0)  # fmt: skip
    if _is_torch(fw):
        import torch

        with torch.no_grad():
            ebm.energy.net[-1].bias.fill_(1e5)
        weights = lambda: [p.detach().numpy().copy() for p in ebm.energy.parameters()]  # noqa: E731
    else:
        last = ebm.energy.layers[-2]
        last.set_weights([last.get_weights()[0], np.full((1,), 1e5, np.float32)])
        weights = lambda: [w.copy() for w in ebm.energy.get_weights()]  # noqa: E731
    before = weights()
    with pytest.raises(TrainingDiverged, match="diverged at update 1.*learning rate"):
        ebm.fit(np.zeros((64, 2), np.float32), updates=3, batch_size=32, progress=False)
    for p, q in zip(before, weights(), strict=True):
        np.testing.assert_array_equal(p, q)  # nothing was applied


# ---- PyTorch only ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", [ref.correlated_gaussian(0.7), ref.mixture(), ref.ring()],
                         ids=["gaussian", "mixture", "ring"])  # fmt: skip
def test_torch_log_prob_and_its_gradient_match_numpy_in_float64(target):
    import torch

    from coursekit.torch import target_log_prob
    from coursekit.torch.langevin import value_and_grad

    x = target.sample(50, np.random.default_rng(0))
    got = target_log_prob(target, dtype=torch.float64)(torch.as_tensor(x))
    np.testing.assert_allclose(got.numpy(), target.log_prob(x), rtol=1e-10, atol=1e-10)
    _, g = value_and_grad(target_log_prob(target, dtype=torch.float64), torch.as_tensor(x))
    np.testing.assert_allclose(g.numpy(), target.grad_log_prob(x), rtol=1e-8, atol=1e-8)


# ---- Keras only -----------------------------------------------------------------------------


# The Keras CNN energy against torch's with the same weights: tests/test_ebm_sizes.py.


@pytest.mark.keras
@pytest.mark.parametrize("net", ["cnn", "mlp"])
def test_keras_energy_nets_start_from_torchs_initialisation(net):
    """Weights and biases uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)] as torch's Conv2d/Linear:
    Keras' defaults (Glorot weights, zero biases) made the Keras EBM a different algorithm."""
    import keras

    from coursekit.keras import cnn_energy, mlp_energy

    keras.utils.set_random_seed(0)
    model = cnn_energy() if net == "cnn" else mlp_energy(2, 64)
    layers = [la for la in model.layers if la.__class__.__name__ in ("Conv2D", "Dense")]
    assert layers
    for la in layers:
        kernel, bias = la.get_weights()
        bound = 1 / np.sqrt(np.prod(kernel.shape[:-1]))  # fan_in: kh * kw * c_in, or features
        assert np.abs(kernel).max() <= bound and np.abs(bias).max() <= bound, la.name
        if kernel.size >= 1000:  # the std of U(-b, b) is b / sqrt(3); 1000 draws: 3% error
            assert kernel.std() == pytest.approx(bound / np.sqrt(3), rel=0.1), la.name
        if bias.size >= 16:
            assert bias.std() == pytest.approx(bound / np.sqrt(3), rel=0.5), la.name


# ---- the EBM's bad input: one error naming the argument, nothing trained -------------------


def _tiny_ebm(fw, **kwargs):
    args = dict(step_size=0.01, n_steps=2, clamp=None, init_range=(-1, 1), buffer_size=64,
                seed=0)  # fmt: skip
    args.update(kwargs)
    energy = args.pop("energy") if "energy" in args else _mlp_energy(fw, 2, 8)
    return fw.EBM(energy, args.pop("shape", (2,)), **args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(clip_norm=-1.0), r"clip_norm \(bound on the gradient norm\) must be a finite "
         "number > 0, got -1.0"),
        (dict(alpha=-1.0), r"alpha \(weight of the energy regularisation\) must be a finite "
         "number >= 0"),
        (dict(shape=2), r"shape \(shape of one state\) must be a tuple of ints >= 1"),
        (dict(step_size=0.0), "step_size"),
        (dict(n_steps=0), "n_steps"),
        (dict(noise_scale=-0.1), "noise_scale"),
        (dict(init_range=5), r"init_range .* must be a pair \(low, high\), got 5"),
        (dict(init_range=(1, -1)), "low and high"),
        (dict(data_noise=-0.1), "data_noise"),
        (dict(max_energy=0.0), "max_energy"),
        (dict(seed=-1), r"seed \(random seed\) must be an int >= 0"),
        (dict(lr=0.0), r"lr \(Adam's step size\) must be a finite number > 0, got 0.0"),
        (dict(lr=-1.0), r"lr \(Adam's step size\)"),
        (dict(betas=(1.5, 0.999)), r"betas\[0\] \(Adam's decay of the mean gradient\) must "
         r"be a finite number in \[0, 1\), got 1.5"),
        (dict(betas=0.9), r"betas \(Adam's decay rates\) must be a pair"),
        (dict(energy=None), "energy must be a .* mapping a batch .* got NoneType"),
    ],
)
def test_a_bad_ebm_setting_is_named(fw, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _tiny_ebm(fw, **kwargs)


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (np.zeros((40, 3), np.float32), {}, r"x must hold rows of shape \(2,\) \(2 numbers "
         r"each\), as \[n, \*\(2,\)\] or \[n, 2\]; got shape \(40, 3\)"),
        (np.zeros((40, 2, 2), np.float32), {}, r"got shape \(40, 2, 2\)"),
        (np.zeros(40, np.float32), {}, r"got shape \(40,\)"),
        (np.full((40, 2), np.nan, np.float32), {}, "x contains 80 NaN or infinite values: clean "
         "the data first"),
        (np.zeros((40, 2), np.float32), dict(log_every=0), r"log_every \(updates per history "
         r"row\) must be an int >= 1"),
        (np.zeros((40, 2), np.float32), dict(updates=0), "updates"),
    ],
)
def test_bad_training_data_is_named_before_any_update(fw, data, kwargs, message):
    ebm = _tiny_ebm(fw)
    before = ebm.energies(np.ones((3, 2), np.float32))
    args = dict(updates=2, batch_size=8, progress=False)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ebm.fit(data, **args)
    assert ebm.updates == 0
    np.testing.assert_array_equal(ebm.energies(np.ones((3, 2), np.float32)), before)


@pytest.mark.parametrize("n_steps", [0, -3, 2.5])
def test_sample_refuses_a_bad_n_steps_instead_of_running_the_default(fw, n_steps):
    with pytest.raises(ValueError, match=r"n_steps \(number of Langevin steps\) must be an int"):
        _tiny_ebm(fw).sample(4, n_steps=n_steps)


def _cnn_energy(fw):
    """A tiny CNN energy for [n, 1, 28, 28] (torch) or [n, 28, 28, 1] (Keras) images."""
    if _is_torch(fw):
        return fw.CNNEnergy((2, 2, 2, 2), 4), (1, 28, 28)
    return fw.cnn_energy((2, 2, 2, 2), 4), (28, 28, 1)


def test_an_energy_built_for_other_states_is_named_when_the_ebm_is_built(fw):
    """Not at the first Langevin step, as a failing log_prob (issue 20)."""
    with pytest.raises(ValueError, match=r"energy must map a batch \[n, \*shape\] = "
                       r"\[n, \*\(3,\)\] to energies \[n\]; on a batch of shape \(2, 3\) it "
                       r"raised .*Build it for states of shape \(3,\)"):
        _tiny_ebm(fw, shape=(3,))
    if _is_torch(fw):
        import torch

        column = torch.nn.Linear(2, 1)  # [n, 2] -> [n, 1]: the last axis not squeezed
    else:
        import keras

        column = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"energy must map a batch \[n, \*\(2,\)\] to energies "
                       r"\[n\]; on a batch of shape \(2, 2\) it returned shape \(2, 1\); "
                       r"reshape its output to \[n\]"):
        _tiny_ebm(fw, energy=column)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (dict(n=0), r"n \(number of chains\) must be an int >= 1, got 0"),
        (dict(n=-1), r"n \(number of chains\) must be an int >= 1, got -1"),
        (dict(n=2.5), r"n \(number of chains\) must be an int >= 1, got 2.5"),
        (dict(n=4, start=np.zeros((4, 3), np.float32)), r"start must hold rows of shape \(2,\) "
         r"\(2 numbers each\), as \[n, \*\(2,\)\] or \[n, 2\]; got shape \(4, 3\)"),
        (dict(n=4, start=np.zeros((3, 2), np.float32)), r"start must hold n = 4 states \(one per "
         r"chain\), got 3"),
        (dict(n=4, start=np.full((4, 2), np.nan, np.float32)), "start contains 8 NaN or "
         "infinite values"),
        (dict(n=4, start="abc"), r"start must hold rows of shape \(2,\)"),
    ],
)
def test_sample_refuses_a_bad_count_or_start(fw, args, message):
    args = dict(args)
    with pytest.raises(ValueError, match=message):
        _tiny_ebm(fw).sample(args.pop("n"), **args)


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        (np.zeros((4, 3), np.float32), {}, r"x must hold rows of shape \(2,\) .*got shape "
         r"\(4, 3\)"),
        (np.zeros(4, np.float32), {}, r"x must hold rows of shape \(2,\) .*got shape \(4,\)"),
        ("abc", {}, r"x must hold rows of shape \(2,\)"),
        (np.full((4, 2), np.nan), {}, "x contains 8 NaN or infinite values: clean the data "
         "first$"),
        (np.zeros((4, 2), np.float32), dict(batch_size=0), r"batch_size \(states per forward "
         r"pass\) must be an int >= 1, got 0"),
    ],
)
def test_energies_refuse_states_of_another_shape_instead_of_reshaping_them(fw, x, kwargs,
                                                                           message):
    """[4, 3] used to come back as 6 energies of [6, 2] reshaped states."""
    with pytest.raises(ValueError, match=message):
        _tiny_ebm(fw).energies(x, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(batch_size=100), r"batch_size \(rows per update\) must be <= buffer_size = 64 "
         r"\(each row's negative sample starts from its own buffer state\), got 100"),
        (dict(callback=3), r"callback must be None or a function callback\(model, row\), got "
         "int 3"),
        (dict(progress="no"), "progress must be True or False, got 'no'"),
    ],
)
def test_a_bad_fit_setting_is_named_before_any_update(fw, kwargs, message):
    ebm = _tiny_ebm(fw)
    before = ebm.energies(np.ones((3, 2), np.float32))
    args = {"updates": 2, "batch_size": 8, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        ebm.fit(np.zeros((200, 2), np.float32), **args)
    assert ebm.updates == 0
    np.testing.assert_array_equal(ebm.energies(np.ones((3, 2), np.float32)), before)


def test_data_outside_the_samplers_range_is_refused_with_the_conversion(fw):
    """The sampler keeps its states in ``clamp``: data outside it, or [0, 1] images given to a
    [-1, 1] model, could never be matched by a sample."""
    ebm = _tiny_ebm(fw, clamp=(-1.0, 1.0))
    with pytest.raises(ValueError, match=r"x must lie in clamp = \(-1.0, 1.0\), the range the "
                       r"sampler keeps its states in; got values in \[-3, 3\]$"):
        ebm.fit(np.full((40, 2), 3.0) * [1, -1], updates=1, batch_size=8, progress=False)
    energy, shape = _cnn_energy(fw)
    images = _tiny_ebm(fw, energy=energy, shape=shape, clamp=(-1.0, 1.0))
    x01 = np.random.default_rng(0).random((16, *shape)).astype(np.float32)
    with pytest.raises(ValueError, match=r"x has no negative values \(range \[.*\]\): these look "
                       r"like images in \[0, 1\], .*pass 2 \* x - 1"):
        images.fit(x01, updates=1, batch_size=8, progress=False)
    with pytest.raises(ValueError, match=r"got values in \[.*, 255\]: they look like 0-255 "
                       r"pixels; pass ck.data.to_float\(images, \(-1.0, 1.0\)\)"):
        images.fit(np.rint(x01 * 255), updates=1, batch_size=8, progress=False)
    assert images.updates == 0


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((8, 3), np.float32), r"x_data must hold rows of shape \(2,\)"),
        (np.full((8, 2), np.nan, np.float32), "x_data contains 16 NaN or infinite values"),
        (np.full((8, 2), 5.0, np.float32), r"x_data must lie in clamp = \(-1.0, 1.0\)"),
        (np.zeros((80, 2), np.float32), r"x_data's rows must be <= buffer_size = 64"),
    ],
)
def test_train_step_checks_its_batch_as_fit_checks_its_data(fw, x, message):
    ebm = _tiny_ebm(fw, clamp=(-1.0, 1.0))
    states = ebm.buffer.states.copy()
    with pytest.raises(ValueError, match=message):
        ebm.train_step(x)
    assert ebm.updates == 0
    np.testing.assert_array_equal(ebm.buffer.states, states)
