"""Week 4's exercise checks (the GAN), PyTorch and Keras: each passes the solution, names each
typical mistake in the student's terms, and answers bad input with one message."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from coursekit.common.exercises import ExerciseMessage, NotWrittenYet, NotYetRight

# ---- PyTorch --------------------------------------------------------------------------------


def d_loss(r, f, *, swap=False, twice=False, joint=False, sign=1.0):
    """The solution (with the defaults), and the typical mistakes by keyword."""
    if twice:
        r, f = torch.sigmoid(r), torch.sigmoid(f)
    ones, zeros = torch.ones_like, torch.zeros_like
    if swap:
        ones, zeros = zeros, ones
    if joint:
        logits, labels = torch.cat([r, f]), torch.cat([ones(r), zeros(f)])
        return F.binary_cross_entropy_with_logits(logits, labels)
    loss = (F.binary_cross_entropy_with_logits(r, ones(r))
            + F.binary_cross_entropy_with_logits(f, zeros(f)))  # fmt: skip
    return sign * loss


def g_loss(f, saturating, *, swap=False, ignore=False, sign=1.0, twice=False):
    if twice:
        f = torch.sigmoid(f)
    if swap:
        saturating = not saturating
    if ignore:
        saturating = False
    if saturating:
        return -sign * F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
    return sign * F.binary_cross_entropy_with_logits(f, torch.ones_like(f))


def gan_step(G, D, opt_g, opt_d, x, z, saturating=False, *, detach=True, zero_d=True,
             zero_g=True, swap=False, twice_d=False, order="dg"):  # fmt: skip
    fake = G(z)
    if order == "gd":  # the generator first
        opt_g.zero_grad()
        g = g_loss(D(fake), saturating)
        g.backward()
        opt_g.step()
    if zero_d:
        opt_d.zero_grad()
    if not detach:  # both zeroed at the top; the generator's .grad gets D's loss too
        opt_g.zero_grad()
        zero_g = False
    d = d_loss(D(x), D(fake.detach() if detach else fake), swap=swap)
    d.backward()
    opt_d.step()
    if twice_d:  # the generator's backward, then opt_d.step() again
        opt_d.step()
    if order == "dg":
        if zero_g:
            opt_g.zero_grad()
        g = g_loss(D(fake if detach else G(z)), saturating)
        g.backward()
        opt_g.step()
    return d.item(), g.item()


def _torch():
    from coursekit.torch import exercises as ex

    return ex


def test_the_torch_solutions_pass(capsys):
    ex = _torch()
    ex.check_discriminator_loss(d_loss)
    ex.check_generator_loss(g_loss)
    ex.check_gan_step(gan_step)
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" agrees")[0] for line in out] == [
        "✓ discriminator_loss", "✓ generator_loss", "✓ gan_step"]


D_MISTAKES = [
    ({"swap": True}, "labels are swapped"),
    ({"twice": True}, "sigmoid is applied twice"),
    ({"joint": True}, "one mean over real and fake rows together"),
    ({"sign": -1.0}, "the sign is flipped"),
]
G_MISTAKES = [
    ({"swap": True}, "the two kinds are swapped"),
    ({"ignore": True}, "saturating is ignored"),
    ({"sign": -1.0}, "the signs are flipped"),
    ({"twice": True}, "sigmoid is applied twice"),
]
STEP_MISTAKES = [
    ({"swap": True}, "labels are swapped in the discriminator's step"),
    ({"detach": False}, "the fakes are not detached"),
    ({"zero_d": False}, "the discriminator's gradients are not zeroed"),
    ({"zero_g": False}, "the generator's gradients are not zeroed"),
    ({"twice_d": True}, r"opt_d.step\(\) ran 2 times in one step"),
    ({"order": "gd"}, "the generator was updated before the discriminator"),
]


@pytest.mark.parametrize(("mistake", "message"), D_MISTAKES)
def test_each_torch_discriminator_loss_mistake_is_named(mistake, message):
    with pytest.raises(NotYetRight, match=message):
        _torch().check_discriminator_loss(lambda r, f: d_loss(r, f, **mistake))


def test_missing_terms_and_sums_are_named():
    ex = _torch()
    with pytest.raises(NotYetRight, match="the fake term is missing"):
        ex.check_discriminator_loss(lambda r, f: F.softplus(-r).mean() + 0 * f.sum())
    with pytest.raises(NotYetRight, match="sums over the rows"):
        ex.check_discriminator_loss(lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum())


@pytest.mark.parametrize(("mistake", "message"), G_MISTAKES)
def test_each_torch_generator_loss_mistake_is_named(mistake, message):
    with pytest.raises(NotYetRight, match=message):
        _torch().check_generator_loss(lambda f, s: g_loss(f, s, **mistake))


@pytest.mark.parametrize(("mistake", "message"), STEP_MISTAKES)
def test_each_torch_gan_step_mistake_is_named(mistake, message):
    with pytest.raises(NotYetRight, match=message):
        _torch().check_gan_step(lambda *a: gan_step(*a, **mistake))


def test_torch_errors_of_a_wrong_step_are_said_in_the_students_terms():
    def undetached(G, D, opt_g, opt_d, x, z, saturating):  # reuses the freed graph
        fake = G(z)
        opt_d.zero_grad()
        d = d_loss(D(x), D(fake))
        d.backward()
        opt_d.step()
        opt_g.zero_grad()
        g = g_loss(D(fake), saturating)
        g.backward()
        opt_g.step()
        return d.item(), g.item()

    def stale_logits(G, D, opt_g, opt_d, x, z, saturating):  # D's output from before its step
        fake = G(z)
        opt_d.zero_grad()
        d = d_loss(D(x), D(fake.detach()))
        d.backward()
        logit_fake = D(fake)
        opt_d.step()
        opt_g.zero_grad()
        g = g_loss(logit_fake, saturating)
        g.backward()
        opt_g.step()
        return d.item(), g.item()

    with pytest.raises(NotYetRight, match="not detached in the discriminator's step"):
        _torch().check_gan_step(undetached)
    with pytest.raises(NotYetRight, match="before\nopt_d.step|before opt_d.step"):
        _torch().check_gan_step(stale_logits)


def _stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("check", "fn", "error", "message"),
    [
        ("check_discriminator_loss", _stub, NotWrittenYet, "^not written yet: discriminator_loss"),
        ("check_generator_loss", _stub, NotWrittenYet, "^not written yet: generator_loss"),
        ("check_gan_step", _stub, NotWrittenYet, "^not written yet: gan_step"),
        ("check_discriminator_loss", 42, NotYetRight, "expected a function discriminator_loss"),
        ("check_gan_step", lambda G, D: None, NotYetRight,
         r"must take 7 arguments: gan_step\(G, D, opt_g, opt_d, x \[n, ...\]"),
        ("check_discriminator_loss", lambda r, f: d_loss(r, f).item(), NotYetRight,
         "must return a scalar tensor"),
        ("check_discriminator_loss", lambda r, f: F.softplus(-r) + F.softplus(f).mean(),
         NotYetRight, r"the loss has shape \(7,\); expected a scalar"),
        ("check_generator_loss", lambda f, s: g_loss(f, s) * math.nan, NotYetRight, "NaN"),
        ("check_gan_step", lambda *a: gan_step(*a)[0], NotYetRight, "must return two values"),
        ("check_gan_step", lambda *a: (gan_step(*a)[0], "x"), NotYetRight,
         "g_loss is a str"),
        ("check_generator_loss", lambda f, s: 1 / 0, NotYetRight,
         "generator_loss raised ZeroDivisionError"),
    ],
)  # fmt: skip
def test_torch_bad_input_gets_one_message(check, fn, error, message):
    with pytest.raises(error, match=message) as caught:
        getattr(_torch(), check)(fn)
    assert isinstance(caught.value, ExerciseMessage)
    assert caught.value._render_traceback_() == [str(caught.value)]


def test_the_torch_step_check_holds_students_to_the_packages_losses():
    """The reference step uses coursekit.torch.gan's losses; pytorch/examples' step written
    with nn.BCEWithLogitsLoss (the solution above) is the same step."""
    from coursekit.torch.exercises.gan import _both, _run_student

    want, got = _both(), _run_student(gan_step, False)
    assert torch.allclose(want["G's weights after the step"], got["G"], atol=1e-6)
    assert torch.allclose(want["D's weights after the step"], got["D"], atol=1e-6)


# ---- Keras (both backends: make test runs these again with KERAS_BACKEND=torch) --------------


def _keras():
    import keras

    import coursekit.keras  # noqa: F401  (the backend is set before keras is imported)
    from coursekit.keras import exercises as ex

    return keras, keras.ops, ex


def k_d_loss(r, f, *, swap=False, twice=False, joint=False, sign=1.0):
    _, ops, _ = _keras()
    if twice:
        r, f = ops.sigmoid(r), ops.sigmoid(f)
    if swap:
        r, f = -r, -f
    if joint:
        return ops.mean(ops.concatenate([ops.softplus(-r), ops.softplus(f)]))
    return sign * (ops.mean(ops.softplus(-r)) + ops.mean(ops.softplus(f)))


def k_g_loss(f, saturating, *, swap=False, ignore=False, sign=1.0, twice=False):
    _, ops, _ = _keras()
    if twice:
        f = ops.sigmoid(f)
    saturating = False if ignore else (not saturating if swap else saturating)
    if saturating:
        return -sign * ops.mean(ops.softplus(f))
    return sign * ops.mean(ops.softplus(-f))


def k_train_step(generator, discriminator, g_opt, d_opt, x, z, saturating=False, *, swap=False,
                 one_loss=False, g_on_d=False, alternating=False, apply_d_twice=False):  # fmt: skip
    from coursekit.keras.autodiff import loss_and_grads, two_losses_and_grads

    def losses():
        fake = generator(z, training=True)
        lr, lf = discriminator(x, training=True), discriminator(fake, training=True)
        d, g = k_d_loss(lr, lf, swap=swap), k_g_loss(lf, saturating)
        if one_loss:
            return d + g, d + g, (d, g)
        return d, (d if g_on_d else g), (d, g)

    (d, g), d_grads, g_grads = two_losses_and_grads(
        losses, discriminator.trainable_variables, generator.trainable_variables)
    d_opt.apply(d_grads, discriminator.trainable_variables)
    if apply_d_twice:
        d_opt.apply(d_grads, discriminator.trainable_variables)
    if alternating:
        g, _, g_grads = loss_and_grads(lambda: losses()[1:], generator.trainable_variables)
    g_opt.apply(g_grads, generator.trainable_variables)
    return d, g


@pytest.mark.keras
def test_the_keras_solutions_pass(capsys):
    _, _, ex = _keras()
    ex.check_discriminator_loss(k_d_loss)
    ex.check_generator_loss(k_g_loss)
    ex.check_train_step(k_train_step)
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" agrees")[0] for line in out] == [
        "✓ discriminator_loss", "✓ generator_loss", "✓ train_step"]


@pytest.mark.keras
@pytest.mark.parametrize(("mistake", "message"), D_MISTAKES)
def test_each_keras_discriminator_loss_mistake_is_named(mistake, message):
    with pytest.raises(NotYetRight, match=message):
        _keras()[2].check_discriminator_loss(lambda r, f: k_d_loss(r, f, **mistake))


@pytest.mark.keras
@pytest.mark.parametrize(("mistake", "message"), G_MISTAKES)
def test_each_keras_generator_loss_mistake_is_named(mistake, message):
    with pytest.raises(NotYetRight, match=message):
        _keras()[2].check_generator_loss(lambda f, s: k_g_loss(f, s, **mistake))


@pytest.mark.keras
@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ({"swap": True}, "labels are swapped in the discriminator's loss"),
        ({"one_loss": True}, "both networks descend d_loss \\+ g_loss"),
        ({"g_on_d": True}, "the generator descends the discriminator's loss"),
        ({"alternating": True}, "ran against the updated discriminator"),
        ({"apply_d_twice": True}, "d_opt was applied 2 times"),
    ],
)
def test_each_keras_train_step_mistake_is_named(mistake, message):
    with pytest.raises(NotYetRight, match=message):
        _keras()[2].check_train_step(lambda *a: k_train_step(*a, **mistake))


@pytest.mark.keras
@pytest.mark.parametrize(
    ("check", "fn", "error", "message"),
    [
        ("check_discriminator_loss", _stub, NotWrittenYet, "^not written yet: discriminator_loss"),
        ("check_generator_loss", _stub, NotWrittenYet, "^not written yet: generator_loss"),
        ("check_train_step", _stub, NotWrittenYet, "^not written yet: train_step"),
        ("check_train_step", "train_step", NotYetRight, "expected a function train_step"),
        ("check_generator_loss", lambda f: f, NotYetRight,
         r"must take 2 arguments: generator_loss\(logit_fake \[m\], saturating\)"),
        ("check_discriminator_loss", lambda r, f: 0.5, NotYetRight,
         "must return a scalar tensor"),
        ("check_discriminator_loss", lambda r, f: r[:3] * 0 + 1.0, NotYetRight,
         r"the loss has shape \(3,\); expected a scalar"),
        ("check_generator_loss", lambda f, s: k_g_loss(f, s) * math.nan, NotYetRight, "NaN"),
        ("check_train_step", lambda *a: None, NotYetRight, "must return two values"),
    ],
)  # fmt: skip
def test_keras_bad_input_gets_one_message(check, fn, error, message):
    with pytest.raises(error, match=message) as caught:
        getattr(_keras()[2], check)(fn)
    assert isinstance(caught.value, ExerciseMessage)
