"""The PyTorch models on a CUDA GPU (issue 24): moved with ``.to("cuda")`` as the notebooks do
(``coursekit.torch.device()``), they train with their data and random numbers on the GPU.

Every test here carries the ``gpu`` marker and is skipped, with that reason, on a machine without
a CUDA GPU (``tests/conftest.py``). The DCGAN's step reads its statistics from the device once
per update (the divergence check needs them); ``torch.cuda.set_sync_debug_mode`` counts every
other synchronising call.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from coursekit.torch import DCGAN, EBM, RBM, VAE, CNNEnergy  # noqa: E402

pytestmark = pytest.mark.gpu

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 1, (256, 28, 28)).astype(np.float32) ** 3


def _on_cuda(model) -> bool:
    return all(p.device.type == "cuda" for p in model.parameters())


def test_the_dcgan_trains_on_the_gpu_with_its_data_and_noise_there():
    gan = DCGAN(16, generator_channels=(32, 16, 8), discriminator_channels=(8, 16), seed=0)
    before = gan.get_weights()
    gan.to("cuda")
    assert gan.device.type == "cuda" and _on_cuda(gan)
    assert gan.noise(4).device.type == "cuda"
    history = gan.fit(2 * IMAGES - 1, updates=6, batch_size=32, log_every=3, progress=False)
    assert _on_cuda(gan) and np.isfinite(history["d_loss"]).all()
    after = gan.get_weights()
    assert sum(not np.allclose(after[k], before[k]) for k in after) >= len(after) // 2
    assert gan.sample(5, seed=1).shape == (5, 28, 28)


def test_the_dcgan_step_reads_from_the_gpu_once_per_update():
    gan = DCGAN(16, generator_channels=(32, 16, 8), discriminator_channels=(8, 16), seed=0)
    gan.to("cuda")
    real = torch.as_tensor(2 * IMAGES[:32, None] - 1, device="cuda")
    gan._update(real)  # warm-up: first calls allocate and pick kernels
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for _ in range(3):
                gan._update(real)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message).lower()]
    assert len(syncs) <= 3, [str(w.message) for w in syncs]


def test_the_vae_trains_on_the_gpu():
    vae = VAE(4, hidden=32, seed=0).to("cuda")
    history = vae.fit(IMAGES, epochs=2, batch_size=64, progress=False)
    assert _on_cuda(vae) and history["loss"][1] < history["loss"][0]
    assert vae.sample(3, seed=0).shape == (3, 784)


def test_the_rbm_trains_on_the_gpu():
    rbm = RBM(784, 32, seed=0).to("cuda")
    rbm.fit(IMAGES.reshape(256, -1), epochs=2, batch_size=64, progress=False)
    assert _on_cuda(rbm) and rbm.W.device.type == "cuda"
    binary = (IMAGES.reshape(256, -1) > 0.5).astype(np.float32)
    assert bool(torch.isfinite(rbm.free_energy(binary)).all())


def test_the_ebm_trains_on_the_gpu_with_its_chains_there():
    ebm = EBM(CNNEnergy((8, 8, 8, 8), 16), (1, 28, 28), n_steps=5, buffer_size=256, seed=0)
    ebm.to("cuda")
    x = 2 * IMAGES[:, None] - 1
    history = ebm.fit(x, updates=4, batch_size=16, log_every=2, progress=False)
    assert ebm.device.type == "cuda" and np.isfinite(history["loss"]).all()
    chains = ebm.sample(3, n_steps=3).x
    assert chains.device.type == "cuda" and chains.shape == (3, 1, 28, 28)
    assert np.isfinite(ebm.energies(x[:5])).all()
