"""Week 3's exercise checks (the VAE): each passes the solution, names each typical mistake in
the student's terms, and answers bad input with one message (coursekit.torch.exercises,
coursekit.keras.exercises on the current Keras backend)."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from coursekit.common.exercises import ExerciseMessage, NotWrittenYet, NotYetRight

Normal = torch.distributions.Normal

# ---- PyTorch: encode, reparameterize, elbo -------------------------------------------------


def encode(encoder, x, scale=lambda lv: (0.5 * lv).exp(), swap=False):
    mean, log_var = encoder(x).chunk(2, dim=1)
    if swap:
        mean, log_var = log_var, mean
    return Normal(mean, scale(log_var))


def elbo(x, q, logits, *, kl_sign=-1.0, half=0.5, rec_fn=None, reduce="mean"):
    rec = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    if rec_fn is not None:
        rec = rec_fn(x, logits)
    kl = half * (q.variance + q.loc.square() - 1 - q.variance.log()).sum(1)
    agg = torch.mean if reduce == "mean" else torch.sum
    rec, kl = agg(rec), agg(kl)
    return rec + kl_sign * kl, rec, kl


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (encode, None),
        (lambda e, x: encode(e, x, scale=torch.exp), "the scale is exp\\(log_var\\), the variance"),
        (lambda e, x: encode(e, x, swap=True), "mean and log_var are swapped"),
        (lambda e, x: encode(e, x, scale=lambda lv: lv), "Normal refused its scale"),
        (lambda e, x: encode(e, x, scale=lambda lv: (-0.5 * lv).exp()), "inverse of sigma"),
        (lambda e, x: encoder_out(e, x), "must return a torch.distributions.Normal"),
    ],
)  # fmt: skip
def test_the_encode_check(capsys, fn, message):
    from coursekit.torch import exercises as ex

    if message is None:
        ex.check_encode(fn)
        assert capsys.readouterr().out.startswith("✓ encode agrees with coursekit")
    else:
        with pytest.raises(NotYetRight, match=message):
            ex.check_encode(fn)


def encoder_out(encoder, x):
    return encoder(x).chunk(2, dim=1)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda q, eps: q.loc + q.scale * eps, None),
        (lambda q, eps: q.sample(), "no gradient back to the encoder"),
        (lambda q, eps: q.rsample(), "ignores the eps given"),
        (lambda q, eps: q.loc + q.variance * eps, "scaled by the variance"),
        (lambda q, eps: q.loc + eps, "not scaled by sigma"),
        (lambda q, eps: q.loc * 1.0, "no noise"),
        (lambda q, eps: q.loc.detach() + q.scale * eps, "does not reach the mean"),
        (lambda q, eps: q.loc + q.scale.detach() * eps, "does not reach sigma"),
    ],
)  # fmt: skip
def test_the_reparameterize_check(capsys, fn, message):
    from coursekit.torch import exercises as ex

    if message is None:
        ex.check_reparameterize(fn)
        assert capsys.readouterr().out.startswith("✓ reparameterize agrees with coursekit")
    else:
        with pytest.raises(NotYetRight, match=message):
            ex.check_reparameterize(fn)


def _rec_probs(x, logits):
    return -F.binary_cross_entropy_with_logits(torch.sigmoid(logits), x, reduction="none").sum(1)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({}, None),
        ({"kl_sign": 1.0}, "the KL term is added"),
        ({"half": -0.5}, "the KL term has the wrong sign"),
        ({"half": 1.0}, "lacks the factor 1/2"),
        ({"rec_fn": _rec_probs}, "probabilities are passed where logits belong"),
        ({"rec_fn": lambda x, lg: -F.binary_cross_entropy_with_logits(lg, x, reduction="none"
                                                                      ).mean(1)},
         "mean over the pixels"),
        ({"rec_fn": lambda x, lg: F.binary_cross_entropy_with_logits(lg, x, reduction="none"
                                                                     ).sum(1)},
         "reconstruction term has the wrong sign"),
        ({"rec_fn": lambda x, lg: (x * F.logsigmoid(lg)).sum(1)}, "misses the \\(1 - x_i\\)"),
        ({"reduce": "sum"}, "sums over the batch"),
    ],
)  # fmt: skip
def test_the_elbo_check(capsys, kw, message):
    from coursekit.torch import exercises as ex

    def fn(x, q, logits):
        return elbo(x, q, logits, **kw)

    if message is None:
        ex.check_elbo(fn)
        assert capsys.readouterr().out.startswith("✓ elbo agrees with coursekit")
    else:
        with pytest.raises(NotYetRight, match=message):
            ex.check_elbo(fn)


def _stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (_stub, NotWrittenYet, "^not written yet: elbo"),
        ("elbo", NotYetRight, "expected a function elbo"),
        (lambda x, q: None, NotYetRight, r"must take 3 arguments: elbo\(x, q, logits\)"),
        (lambda *a: elbo(*a)[:2], NotYetRight, "must return three scalars"),
        (lambda *a: (elbo(*a)[0], elbo(*a)[1].item(), elbo(*a)[2]), NotYetRight,
         "reconstruction is a float"),
        (lambda x, q, lg: (elbo(x, q, lg)[0] * torch.ones(3), *elbo(x, q, lg)[1:]), NotYetRight,
         "elbo has shape \\(3,\\); expected a scalar"),
        (lambda x, q, lg: (elbo(x, q, lg)[0] * float("nan"), *elbo(x, q, lg)[1:]), NotYetRight,
         "NaN"),
        (lambda x, q, lg: tuple(t.detach() for t in elbo(x, q, lg)), NotYetRight,
         "does not depend on logits, mean, log_var"),
        (lambda *a: 1 / 0, NotYetRight, "elbo raised ZeroDivisionError"),
    ],
)  # fmt: skip
def test_bad_input_gets_one_message_and_no_traceback(fn, error, message):
    from coursekit.torch import exercises as ex

    with pytest.raises(error, match=message) as caught:
        ex.check_elbo(fn)
    assert isinstance(caught.value, ExerciseMessage)
    assert caught.value.__cause__ is None


def test_the_torch_stubs_say_not_written_yet():
    from coursekit.torch import exercises as ex

    for check in (ex.check_encode, ex.check_reparameterize):
        with pytest.raises(NotWrittenYet, match="^not written yet"):
            check(_stub)


# ---- Keras: reparameterize, kl_divergence, bernoulli_log_prob, on the current backend ------


def _ops():
    from keras import ops

    import coursekit.keras  # noqa: F401  (the backend is set before keras is imported)

    return ops


def _rep(kind):
    ops = _ops()
    return {
        "": lambda m, lv, e: m + ops.exp(0.5 * lv) * e,
        "var": lambda m, lv, e: m + ops.exp(lv) * e,
        "std": lambda m, lv, e: m + lv * e,
        "sqrt": lambda m, lv, e: m + ops.sqrt(lv) * e,
        "noscale": lambda m, lv, e: m + e,
        "stop": lambda m, lv, e: ops.stop_gradient(m + ops.exp(0.5 * lv) * e),
        "stopmean": lambda m, lv, e: ops.stop_gradient(m) + ops.exp(0.5 * lv) * e,
    }[kind]


@pytest.mark.keras
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("", None),
        ("var", "exp\\(log_var\\) is the variance"),
        ("std", "not the standard deviation"),
        ("sqrt", "NaN or infinite values. log_var = log sigma\\^2 is negative"),
        ("noscale", "not scaled by sigma"),
        ("stop", "no gradient back to the encoder"),
        ("stopmean", "does not reach the mean"),
    ],
)
def test_the_keras_reparameterize_check(capsys, kind, message):
    from coursekit.keras import exercises as ex

    if message is None:
        ex.check_reparameterize(_rep(kind))
        assert capsys.readouterr().out.startswith("✓ reparameterize agrees with coursekit")
    else:
        with pytest.raises(NotYetRight, match=message):
            ex.check_reparameterize(_rep(kind))


def _kl(kind):
    ops = _ops()

    def fn(m, lv):
        if kind == "var":
            return 0.5 * ops.sum(lv + ops.square(m) - 1.0 - ops.log(lv), axis=1)
        inner = 1.0 + lv - ops.square(m) - ops.exp(lv)
        reduce = ops.mean if kind == "mean" else ops.sum
        factor = {"sign": 0.5, "half": -1.0}.get(kind, -0.5)
        return factor * reduce(inner, axis=1)

    return fn


@pytest.mark.keras
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("", None),
        ("sign", "the sign is flipped"),
        ("half", "the factor 1/2 is missing"),
        ("var", "NaN or infinite values"),
        ("mean", "a mean over the latent variables"),
    ],
)
def test_the_keras_kl_check(capsys, kind, message):
    from coursekit.keras import exercises as ex

    if message is None:
        ex.check_kl_divergence(_kl(kind))
        assert capsys.readouterr().out.startswith("✓ kl_divergence agrees with coursekit")
    else:
        with pytest.raises(NotYetRight, match=message):
            ex.check_kl_divergence(_kl(kind))


def _bern(kind):
    import keras

    ops = _ops()
    return {
        "": lambda x, lg: ops.sum(x * lg - ops.softplus(lg), axis=1),
        "sign": lambda x, lg: -ops.sum(x * lg - ops.softplus(lg), axis=1),
        "probs": lambda x, lg: ops.sum(x * ops.sigmoid(lg) - ops.softplus(ops.sigmoid(lg)), axis=1),
        "mean": lambda x, lg: ops.mean(x * lg - ops.softplus(lg), axis=1),
        "ones": lambda x, lg: ops.sum(x * ops.log_sigmoid(lg), axis=1),
        "keras": lambda x, lg: keras.losses.binary_crossentropy(x, lg),
        "batch": lambda x, lg: ops.mean(ops.sum(x * lg - ops.softplus(lg), axis=1)),
    }[kind]


@pytest.mark.keras
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("", None),
        ("sign", "the sign is flipped"),
        ("probs", "probabilities are passed where logits belong"),
        ("mean", "a mean over the pixels"),
        ("ones", "the \\(1 - x_i\\) log"),
        ("keras", "without from_logits=True"),
        ("batch", "log_p has shape \\(\\); expected \\(6,\\)"),
    ],
)
def test_the_keras_bernoulli_check(capsys, kind, message):
    from coursekit.keras import exercises as ex

    if message is None:
        ex.check_bernoulli_log_prob(_bern(kind))
        assert capsys.readouterr().out.startswith("✓ bernoulli_log_prob agrees with coursekit")
    else:
        with pytest.raises(NotYetRight, match=message):
            ex.check_bernoulli_log_prob(_bern(kind))


@pytest.mark.keras
def test_keras_stubs_and_bad_input_get_one_message():
    from coursekit.keras import exercises as ex

    for check in (ex.check_reparameterize, ex.check_kl_divergence, ex.check_bernoulli_log_prob):
        with pytest.raises(NotWrittenYet, match="^not written yet"):
            check(_stub)
    with pytest.raises(NotYetRight, match="expected a function kl_divergence"):
        ex.check_kl_divergence(None)
    with pytest.raises(NotYetRight, match=r"must take 3 arguments: reparameterize\(mean"):
        ex.check_reparameterize(lambda mean, log_var: mean)
    with pytest.raises(NotYetRight, match="z is a Python number"):
        ex.check_reparameterize(lambda mean, log_var, eps: 1.0)
    with pytest.raises(NotYetRight, match=r"z has shape \(3, 6\); expected \(6, 3\)"):
        ex.check_reparameterize(lambda mean, log_var, eps: _ops().transpose(mean))
