"""Property-based tests of the public entry points' input checks (Hypothesis).

For every documented argument domain (an int >= m, a finite float > 0, a probability, ...)
Hypothesis draws values from outside it (too small, fractional, NaN, infinite, a bool, a
string, None) and the entry point must refuse each with the package's error type, naming the
argument, before it changes anything. The examples are bounded (a few dozen per argument), so
the file runs in seconds; a failure prints the smallest value that got through.

The table :data:`DOMAINS` says what each argument accepts; each test lists the arguments of
one entry point.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursekit import data, metrics

EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_NOT_NUMBERS = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.just([1]))
_NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def ints_below(minimum: int) -> st.SearchStrategy:
    """Values outside "an int >= minimum": smaller ints, fractional floats, non-numbers."""
    return st.one_of(
        st.integers(max_value=minimum - 1),
        st.floats(allow_nan=True).filter(lambda v: not float(v).is_integer()),
        _NON_FINITE,
        _NOT_NUMBERS,
    )


def floats_outside(rule: str) -> st.SearchStrategy:
    """Values outside "a finite float obeying ``rule``"."""
    bad = {
        "> 0": st.floats(max_value=0.0),
        ">= 0": st.floats(max_value=-1e-12),
        "in [0, 1)": st.one_of(st.floats(max_value=-1e-12), st.floats(min_value=1.0)),
        "in [0, 1]": st.one_of(st.floats(max_value=-1e-12), st.floats(min_value=1.0 + 1e-9)),
    }[rule]
    return st.one_of(bad.filter(math.isfinite), _NON_FINITE, _NOT_NUMBERS.filter(
        lambda v: v is not None))  # fmt: skip


def refuses(call, name: str, value) -> None:
    """``call(value)`` raises ValueError naming ``name``."""
    with pytest.raises(ValueError) as info:
        call(value)
    assert name in str(info.value), f"{name}={value!r}: the message does not name it: {info.value}"


# ---- the RBMs (both frameworks) ------------------------------------------------------------

RBM_ARGUMENTS = {
    "n_visible": ints_below(1),
    "n_hidden": ints_below(1),
    "k": ints_below(1),
    "n_chains": ints_below(1).filter(lambda v: v is not None),
    "eta": floats_outside("> 0"),
    "momentum": floats_outside("in [0, 1)"),
    "weight_decay": floats_outside(">= 0"),
    "init_std": floats_outside(">= 0"),
    "seed": ints_below(0).filter(lambda v: v is not None),
}


@pytest.mark.parametrize("name", sorted(RBM_ARGUMENTS))
def test_the_rbm_constructor_refuses_every_value_outside_its_domain(RBM, name):
    def build(value):
        args = {"n_visible": 6, "n_hidden": 3, "persistent": True, name: value}
        return RBM(args.pop("n_visible"), args.pop("n_hidden"), **args)

    @EXAMPLES
    @given(RBM_ARGUMENTS[name])
    def check(value):
        refuses(build, name, value)

    check()


RBM_FIT_ARGUMENTS = {
    "epochs": ints_below(1),
    "batch_size": ints_below(1),
    "monitor_every": ints_below(0).filter(lambda v: v is not None),  # 0: no monitor
    "eta_final": st.one_of(floats_outside(">= 0"), st.floats(min_value=0.0501, max_value=1e6)),
}


@pytest.mark.parametrize("name", sorted(RBM_FIT_ARGUMENTS))
def test_rbm_fit_refuses_every_value_outside_its_domain_and_keeps_the_weights(RBM, name):
    rbm = RBM(6, 3, eta=0.05, seed=0)
    x = (np.random.default_rng(0).random((8, 6)) < 0.5).astype(np.float32)
    w0 = rbm.get_weights()["W"]

    def fit(value):
        args = {"epochs": 1, "progress": False, name: value}
        rbm.fit(x, **args)

    @EXAMPLES
    @given(RBM_FIT_ARGUMENTS[name])
    def check(value):
        refuses(fit, name, value)

    check()
    np.testing.assert_array_equal(rbm.get_weights()["W"], w0)


def sample_refuses(model, steps: str, name: str, values: st.SearchStrategy) -> None:
    """``model.sample(n, **{steps: k})`` (the RBM's ``steps``, the EBM's ``n_steps``) refuses
    every drawn value of ``name``, naming it."""

    @EXAMPLES
    @given(values)
    def check(value):
        args = {"n": 2, steps: 1, name: value}
        refuses(lambda _: model.sample(args.pop("n"), **args), name, value)

    check()


@pytest.mark.parametrize(("name", "domain"), [("n", ints_below(1)), ("steps", ints_below(1))])
def test_rbm_sample_refuses_every_value_outside_its_domain(RBM, name, domain):
    sample_refuses(RBM(6, 3, seed=0), "steps", name, domain)


# ---- data and the yardstick ----------------------------------------------------------------


@EXAMPLES
@given(floats_outside("in [0, 1]"))
def test_binarize_refuses_a_threshold_outside_0_1(value):
    refuses(lambda v: data.binarize(np.zeros((2, 4), np.float32), threshold=v), "threshold", value)


@EXAMPLES
@given(st.one_of(st.text(max_size=6), st.integers(), st.none()))
def test_the_loaders_refuse_an_unknown_split(value):
    if value in ("train", "test"):
        return
    refuses(lambda v: data.load_mnist(v), "split", value)


@EXAMPLES
@given(ints_below(1))
def test_the_yardstick_refuses_a_bad_min_samples(value):
    x = np.full((4, 784), 0.5, np.float32)
    refuses(lambda v: metrics.classifier_fid(x, reference=x, min_samples=v), "min_samples", value)


# ---- the EBMs, VAEs and DCGANs (both frameworks) -------------------------------------------


def _optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Bad values of an argument that also accepts None: None is not among them."""
    return strategy.filter(lambda v: v is not None)


EBM_ARGUMENTS = {
    "step_size": floats_outside("> 0"),
    "n_steps": ints_below(1),
    "noise_scale": _optional(floats_outside("> 0")),
    "grad_clip": _optional(floats_outside("> 0")),
    "buffer_size": ints_below(1),
    "restart": floats_outside("in [0, 1]"),
    "alpha": floats_outside(">= 0"),
    "lr": floats_outside("> 0"),
    "clip_norm": _optional(floats_outside("> 0")),
    "data_noise": floats_outside(">= 0"),
    "max_energy": floats_outside("> 0"),
    "seed": _optional(ints_below(0)),
}


@pytest.mark.parametrize("name", sorted(EBM_ARGUMENTS))
def test_the_ebm_constructor_refuses_every_value_outside_its_domain(fw, name):
    energy = fw.MLPEnergy(2, 8) if fw.__name__ == "coursekit.torch" else fw.mlp_energy(2, 8)

    @EXAMPLES
    @given(EBM_ARGUMENTS[name])
    def check(value):
        args = {"clamp": None, "buffer_size": 16, name: value}
        refuses(lambda _: fw.EBM(energy, (2,), **args), name, value)

    check()


VAE_ARGUMENTS = {
    "latent_dim": ints_below(1),
    "hidden": ints_below(1),
    "learning_rate": floats_outside("> 0"),
    "seed": _optional(ints_below(0)),
}


@pytest.mark.parametrize("name", sorted(VAE_ARGUMENTS))
def test_the_vae_constructor_refuses_every_value_outside_its_domain(fw, name):
    @EXAMPLES
    @given(VAE_ARGUMENTS[name])
    def check(value):
        args = {"latent_dim": 2, "arch": "mlp", "hidden": 8, name: value}
        refuses(lambda _: fw.VAE(args.pop("latent_dim"), **args), name, value)

    check()


DCGAN_ARGUMENTS = {
    "latent_dim": ints_below(1),
    "learning_rate": floats_outside("> 0"),
    "beta_1": floats_outside("in [0, 1)"),
    "dropout": floats_outside("in [0, 1)"),
    "seed": _optional(ints_below(0)),
}


@pytest.mark.parametrize("name", sorted(DCGAN_ARGUMENTS))
def test_the_dcgan_constructor_refuses_every_value_outside_its_domain(fw, name):
    @EXAMPLES
    @given(DCGAN_ARGUMENTS[name])
    def check(value):
        args = {"latent_dim": 4, "generator_channels": (4, 4, 4),
                "discriminator_channels": (4, 4), name: value}  # fmt: skip
        refuses(lambda _: fw.DCGAN(args.pop("latent_dim"), **args), name, value)

    check()


# ---- the fit and sample arguments of the EBMs, VAEs and DCGANs (both frameworks) -----------


def _ebm(fw):
    energy = fw.MLPEnergy(2, 8) if fw.__name__ == "coursekit.torch" else fw.mlp_energy(2, 8)
    return fw.EBM(energy, (2,), clamp=None, buffer_size=16, n_steps=1, seed=0)


EBM_FIT_ARGUMENTS = {
    "updates": ints_below(1),
    "batch_size": ints_below(1),
    "log_every": ints_below(1),
}


def fit_refuses_before_any_update(model, x, name: str, values: st.SearchStrategy) -> None:
    """``model.fit(x, updates=1, ..., name=value)`` refuses every drawn value, naming ``name``,
    and the model has made no update (the EBM and the DCGAN share this ``fit`` signature)."""

    @EXAMPLES
    @given(values)
    def check(value):
        args = {"updates": 1, "batch_size": 8, "progress": False, name: value}
        refuses(lambda _: model.fit(x, **args), name, value)

    check()
    assert model.updates == 0


@pytest.mark.parametrize("name", sorted(EBM_FIT_ARGUMENTS))
def test_ebm_fit_refuses_every_value_outside_its_domain_before_any_update(fw, name):
    ebm = _ebm(fw)
    x = np.zeros((32, 2), np.float32)

    fit_refuses_before_any_update(ebm, x, name, EBM_FIT_ARGUMENTS[name])


@pytest.mark.parametrize(("name", "domain"), [("n", ints_below(1)),
                                              ("n_steps", _optional(ints_below(1)))])
def test_ebm_sample_refuses_every_value_outside_its_domain(fw, name, domain):
    sample_refuses(_ebm(fw), "n_steps", name, domain)


LANGEVIN_ARGUMENTS = {
    "step_size": floats_outside("> 0"),
    "n_steps": ints_below(1),
    "noise_scale": _optional(floats_outside("> 0")),
    "grad_clip": _optional(floats_outside("> 0")),
    "stride": ints_below(1),
    "seed": _optional(ints_below(0)),
}


@pytest.mark.parametrize("name", sorted(LANGEVIN_ARGUMENTS))
def test_langevin_refuses_every_value_outside_its_domain(fw, name):
    if fw.__name__ == "coursekit.torch":
        log_prob = lambda x: -0.5 * (x * x).sum(1)  # noqa: E731
    else:
        from keras import ops

        log_prob = lambda x: -0.5 * ops.sum(x * x, axis=1)  # noqa: E731
    x0 = np.zeros((3, 2), np.float32)

    @EXAMPLES
    @given(LANGEVIN_ARGUMENTS[name])
    def check(value):
        args = {"step_size": 0.1, "n_steps": 1, name: value}
        refuses(lambda _: fw.langevin(log_prob, x0, **args), name, value)

    check()


def _vae_fit(vae, x, **args):
    if type(vae).__module__.startswith("coursekit.keras"):
        return vae.fit(x, verbose=0, **args)
    return vae.fit(x, progress=False, **args)


@pytest.mark.parametrize(("name", "domain"), [("epochs", ints_below(1)),
                                              ("batch_size", ints_below(1))])
def test_vae_fit_refuses_every_value_outside_its_domain_before_any_update(fw, name, domain):
    vae = fw.VAE(2, arch="mlp", hidden=8, seed=0)
    x = np.full((16, 784), 0.5, np.float32)

    @EXAMPLES
    @given(domain)
    def check(value):
        args = {"epochs": 1, "batch_size": 8, name: value}
        refuses(lambda _: _vae_fit(vae, x, **args), name, value)

    check()
    assert vae.updates == 0


@pytest.mark.parametrize(("method", "name", "domain"), [
    ("sample", "n", ints_below(1)),
    ("sample", "seed", _optional(ints_below(0))),
    ("log_likelihood", "k", ints_below(1)),
    ("log_likelihood", "max_rows", _optional(ints_below(1))),
    ("embed", "batch_size", ints_below(1)),
])  # fmt: skip
def test_vae_evaluation_refuses_every_value_outside_its_domain(fw, method, name, domain):
    vae = fw.VAE(2, arch="mlp", hidden=8, seed=0)
    x = np.full((2, 784), 0.5, np.float32)
    calls = {"sample": lambda v: vae.sample(2, **{name: v}) if name != "n" else vae.sample(v),
             "log_likelihood": lambda v: vae.log_likelihood(x, **{"k": 2, name: v}),
             "embed": lambda v: vae.embed(x, batch_size=v)}  # fmt: skip

    @EXAMPLES
    @given(domain)
    def check(value):
        refuses(calls[method], name, value)

    check()


DCGAN_FIT_ARGUMENTS = {
    "updates": ints_below(1),
    "batch_size": ints_below(1),
    "log_every": _optional(ints_below(1)),
    "grid_size": ints_below(1),
}


@pytest.mark.parametrize("name", sorted(DCGAN_FIT_ARGUMENTS))
def test_dcgan_fit_refuses_every_value_outside_its_domain_before_any_update(fw, name):
    gan = fw.DCGAN(4, generator_channels=(4, 4, 4), discriminator_channels=(4, 4), seed=0)
    x = -np.ones((16, 28, 28), np.float32)

    fit_refuses_before_any_update(gan, x, name, DCGAN_FIT_ARGUMENTS[name])


# ---- the replay buffer, the metrics, week 5's helpers and the results records --------------


REPLAY_BUFFER_ARGUMENTS = {
    "capacity": ints_below(1),
    "restart": floats_outside("in [0, 1]"),
    "seed": _optional(ints_below(0)),
}


@pytest.mark.parametrize("name", sorted(REPLAY_BUFFER_ARGUMENTS))
def test_the_replay_buffer_refuses_every_value_outside_its_domain(name):
    from coursekit.common.ebm import ReplayBuffer

    @EXAMPLES
    @given(REPLAY_BUFFER_ARGUMENTS[name])
    def check(value):
        args = {"capacity": 4, "shape": (2,), name: value}
        refuses(lambda _: ReplayBuffer(args.pop("capacity"), args.pop("shape"), **args), name,
                value)

    check()


@EXAMPLES
@given(floats_outside("in [0, 1]").filter(lambda v: v != 0.0) | st.just(0.0))
def test_class_coverage_refuses_a_min_share_outside_0_1(value):
    x = np.full((4, 784), 0.5, np.float32)
    refuses(lambda v: metrics.class_coverage(x, min_share=v), "min_share", value)


WEEK5_ARGUMENTS = {
    ("compare", "n"): ints_below(10),
    ("compare", "seed"): ints_below(0),
    ("subsample", "n"): ints_below(1),
    ("subsample", "seed"): ints_below(0),
    ("fit_gaussian_mixture", "k"): ints_below(1),
    ("fit_gaussian_mixture", "max_iter"): ints_below(1),
    ("fit_gaussian_mixture", "tol"): floats_outside("> 0"),
    ("fit_gaussian_mixture", "reg"): floats_outside(">= 0"),
    ("fit_gaussian_mixture", "seed"): ints_below(0),
    ("fid_verdict", "fid"): floats_outside(">= 0"),
    ("fid_tie_band", "floor"): floats_outside(">= 0"),
}


@pytest.mark.parametrize(("function", "name"), sorted(WEEK5_ARGUMENTS))
def test_week5_helpers_refuse_every_value_outside_their_domain(function, name):
    from coursekit.course import families
    from coursekit.course.families import baseline

    z = np.random.default_rng(0).normal(size=(12, 2))
    images = np.zeros((20, 28, 28), np.float32)
    calls = {
        "compare": lambda v: families.compare([], baseline=False, real=False,
                                              **{"n": 10, name: v}),
        "subsample": lambda v: families.subsample(images, **{"n": 5, name: v}),
        "fit_gaussian_mixture": lambda v: baseline.fit_gaussian_mixture(z, **{"k": 2, name: v}),
        "fid_verdict": lambda v: families.fid_verdict(v, 10.0, 1.0),
        "fid_tie_band": lambda v: families.fid_tie_band(10.0, v),
    }  # fmt: skip

    @EXAMPLES
    @given(WEEK5_ARGUMENTS[(function, name)])
    def check(value):
        refuses(calls[function], name, value)

    check()


RECORD_ARGUMENTS = {
    "updates": _optional(ints_below(0)),
    "train_seconds": _optional(floats_outside(">= 0")),
    "sample_seconds": _optional(floats_outside(">= 0")),
    "log_likelihood": _NON_FINITE | _NOT_NUMBERS.filter(lambda v: v is not None),
}


@pytest.mark.parametrize("name", sorted(RECORD_ARGUMENTS))
def test_a_results_record_refuses_every_value_outside_its_domain_and_writes_nothing(
    tmp_path_factory, name
):
    from coursekit.course import results

    folder = tmp_path_factory.mktemp("records")

    @EXAMPLES
    @given(RECORD_ARGUMENTS[name])
    def check(value):
        refuses(lambda v: results.record("k", family="VAE", model="m", framework="f",
                                         folder=folder, **{name: v}), name, value)

    check()
    assert list(folder.iterdir()) == []
