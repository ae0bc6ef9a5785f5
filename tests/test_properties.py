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


@pytest.mark.parametrize(("name", "domain"), [("n", ints_below(1)), ("steps", ints_below(1))])
def test_rbm_sample_refuses_every_value_outside_its_domain(RBM, name, domain):
    rbm = RBM(6, 3, seed=0)

    @EXAMPLES
    @given(domain)
    def check(value):
        args = {"n": 2, "steps": 1, name: value}
        refuses(lambda _: rbm.sample(args.pop("n"), **args), name, value)

    check()


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
