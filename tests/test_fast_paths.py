"""The fast paths kept apart from the models (``coursekit.torch.fast``,
``coursekit.keras.langevin_graph``): each must equal what it replaces, in value or in law."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from coursekit.torch import fast

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---- torch: dropout from uniforms --------------------------------------------------------


def test_dropout_keeps_each_element_with_probability_one_minus_p_and_rescales():
    torch.manual_seed(0)
    p, n = 0.3, 200_000
    drop = fast.Dropout(p).train()
    out = drop(torch.ones(n))
    kept = (out != 0).double().mean().item()
    assert abs(kept - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)  # binomial, 5 standard errors
    assert torch.allclose(out[out != 0], torch.full_like(out[out != 0], 1 / (1 - p)))
    assert abs(out.double().mean().item() - 1.0) < 0.01  # the mean is kept, as nn.Dropout's


def test_dropout_gradient_is_the_mask_and_evaluation_passes_the_input():
    torch.manual_seed(1)
    drop = fast.Dropout(0.5).train()
    x = torch.randn(64, 8, requires_grad=True)
    y = drop(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert torch.equal(grad, (y != 0).float() * 2.0)
    drop.eval()
    assert drop(x) is x
    assert fast.Dropout(0.0).train()(x) is x


@pytest.mark.parametrize("p", [-0.1, 1.0, "0.3", float("nan")])
def test_dropout_refuses_a_bad_rate_naming_it(p):
    with pytest.raises(ValueError, match="p"):
        fast.Dropout(p)


def test_channels_last_changes_the_memory_not_the_values():
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 3))
    x = torch.randn(5, 1, 12, 12)
    before = net(x)
    assert fast.channels_last(net) is net
    assert net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(net(x), before, atol=1e-6)


# ---- Keras: the Langevin chain as one compiled loop ----------------------------------------


@pytest.mark.keras
def test_chunks_cover_every_step_within_the_draw_limit():
    from coursekit.keras import langevin_graph as lg

    assert lg.chunks(60, 128 * 784) == [60]
    parts = lg.chunks(1000, lg.MAX_DRAWN // 300)
    assert sum(parts) == 1000 and max(parts) == 300 and parts[-1] == 100
    assert lg.chunks(3, lg.MAX_DRAWN * 2) == [1, 1, 1]  # one step at a time, never zero


@pytest.mark.keras
@pytest.mark.parametrize("mala", [False, True])
def test_the_compiled_chain_equals_the_step_by_step_loop(mala):
    """Same noise and uniforms: the final states of ``return_chain=False`` (one compiled loop on
    tensorflow) and of ``return_chain=True`` (step by step) agree, and so do the MALA rates."""
    from coursekit.keras import langevin, target_log_prob
    from coursekit.reference.langevin import mixture

    rng = np.random.default_rng(3)
    steps, n = 25, 40
    x0 = rng.normal(size=(n, 2)).astype(np.float32)
    noise = rng.normal(size=(steps, n, 2)).astype(np.float32)
    uniforms = rng.random((steps, n)).astype(np.float32)
    log_prob = target_log_prob(mixture())
    kwargs = dict(step_size=0.05, n_steps=steps, mala=mala, noise=noise, uniforms=uniforms)
    one_loop = langevin(log_prob, x0, **kwargs)
    stepwise = langevin(log_prob, x0, **kwargs, return_chain=True)
    x_loop, x_steps = np.asarray(one_loop.x), np.asarray(stepwise.x)
    assert np.abs(x_loop - x_steps).max() < 1e-5
    assert np.abs(x_loop - x0).max() > 0.1  # the chains moved
    if mala:
        assert one_loop.acceptance_rate == pytest.approx(stepwise.acceptance_rate, abs=1e-6)


# ---- torch: the fused Adam ---------------------------------------------------------------


def test_fused_adam_takes_the_steps_of_the_per_tensor_adam():
    gen = torch.Generator().manual_seed(3)
    start = [torch.randn(40, 30, generator=gen), torch.randn(30, generator=gen)]
    runs = []
    for make in (fast.adam, lambda p, lr, betas: torch.optim.Adam(p, lr=lr, betas=betas,
                                                                 foreach=False)):  # fmt: skip
        params = [t.clone().requires_grad_(True) for t in start]
        opt = make(params, 1e-2, (0.5, 0.999))
        grads = torch.Generator().manual_seed(4)
        for _ in range(25):
            for p in params:
                p.grad = torch.randn(p.shape, generator=grads)
            opt.step()
        runs.append([p.detach() for p in params])
    assert runs[0][0].sub(start[0]).abs().max() > 0.1  # they moved (25 steps of about 1e-2)
    for a, b in zip(*runs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


# ---- torch: the crop -----------------------------------------------------------------------


def test_crop_equals_the_slice_in_value_gradient_and_layout():
    x = torch.randn(3, 4, 9, 8).contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    y = fast.crop(x, 7, 8)
    assert torch.equal(y, x[..., :7, :8])
    assert y.is_contiguous(memory_format=torch.channels_last)
    w = torch.randn(3, 4, 7, 8).contiguous(memory_format=torch.channels_last)  # as a conv gives
    (grad,) = torch.autograd.grad((y * w).sum(), x)
    want = torch.zeros(3, 4, 9, 8)
    want[..., :7, :8] = w
    assert torch.equal(grad, want)
    assert grad.is_contiguous(memory_format=torch.channels_last)


# ---- torch: the transposed convolution with its bias apart ---------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose_with_the_bias_apart_equals_torchs(bias):
    torch.manual_seed(2)
    ours = fast.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1, bias=bias)
    theirs = torch.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1, bias=bias)
    theirs.load_state_dict(ours.state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = torch.randn(5, 6, 7, 7).contiguous(memory_format=torch.channels_last)
    y = ours(x)
    assert y.shape == (5, 4, 14, 14)
    torch.testing.assert_close(y, theirs(x))
    torch.testing.assert_close(ours(x, output_size=[13, 13]), theirs(x, output_size=[13, 13]))
    grads = [torch.autograd.grad(m(x).square().sum(), list(m.parameters())) for m in (ours, theirs)]
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)
