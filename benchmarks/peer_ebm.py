"""The peer of benchmarks/ebm.py: the uvadlc EBM tutorial's training in plain PyTorch.

Source: Phillip Lippe, "Tutorial 8: Deep Energy-Based Generative Models", UvA Deep Learning
Tutorials, https://uvadlc-notebooks.readthedocs.io/en/latest/tutorial_notebooks/tutorial8/
Deep_Energy_Models.html (notebook ``docs/tutorial_notebooks/tutorial8/Deep_Energy_Models.ipynb``
of github.com/phlippe/uvadlc_notebooks), after Y. Du and I. Mordatch, "Implicit Generation and
Generalization in Energy-Based Models", NeurIPS 2019 (arXiv:1903.08689).

Written from that notebook's ``CNNModel`` (``hidden_features=32``: Conv2d 1->16 k5 s2 p4, 16->32,
32->64, 64->64 k3 s2 p1, each followed by ``Swish`` written as ``x * sigmoid(x)``; Flatten;
Linear 256->64, Swish; Linear 64->1; torch's default initialisation; NCHW tensors), its
``Sampler`` (a Python list of single-image tensors, started with ``batch`` uniform images and
capped at 8,192; per batch ``np.random.binomial(batch, 0.05)`` fresh uniform images, the rest
drawn with ``random.choices``; the new samples put at the front of the list) with
``generate_samples`` (``model.eval()``, parameters ``requires_grad = False``, then per step:
``noise.normal_(0, 0.005)`` added, clamp to [-1, 1], ``-model(x)`` summed and ``backward()``,
the input gradient clamped to [-0.03, 0.03], ``x.data.add_(-10 * grad)``, grad zeroed, clamp;
then train mode and ``requires_grad`` restored), and ``DeepEnergyModel.training_step`` (real
images plus ``0.005 * randn`` in place, clamped; 60 steps of size 10 from the buffer; one forward
pass of real and fake images concatenated; ``reg = 0.1 * (real_out**2 + fake_out**2).mean()``,
``cdiv = fake_out.mean() - real_out.mean()``). One update is what PyTorch Lightning's automatic
optimisation does with that step under the tutorial's ``Trainer(gradient_clip_val=0.1)``:
gradients zeroed (``set_to_none``), ``loss.backward()``, the parameter gradient's norm clipped at
0.1 (``clip_grad_norm_``, Lightning's default algorithm), ``Adam(lr=1e-4, betas=(0.0, 0.999))``
steps. Batch 128.

Deviations from the original (none changes the arithmetic of an update):

* no PyTorch Lightning: the update above is written out; its logging (``self.log`` of five
  scalars, sent to TensorBoard every 50 steps), callbacks (image generation, buffer and
  outlier plots every few epochs), checkpointing, validation loop and the per-epoch
  ``StepLR(gamma=0.97)`` scheduler step are left out (a benchmark times updates within an epoch);
* no torchvision and no ``DataLoader``: the data are one batch of uniform images in [-1, 1],
  preloaded in memory and copied (``clone``) for each update, the stand-in for the loader's
  fresh batch tensor (the step adds its noise in place); MNIST itself does not change the cost;
* CPU only: the ``.to(device)`` calls are kept but move nothing;
* seeds: ``random``, NumPy and torch are seeded with 42 as ``pl.seed_everything(42)`` does;
* ``import coursekit`` first, as every row of the benchmark does, so that torch runs on the same
  threads (``COURSEKIT_THREADS``) as the rows it is compared with.
"""

from __future__ import annotations

import random
import time
from typing import Any

import numpy as np

DEVICE = "cpu"
BUFFER = 8192


def build(hidden_features: int = 32, seed: int = 42) -> tuple[Any, type]:
    """The tutorial's ``CNNModel(hidden_features)`` (seeded) and its ``Sampler`` class."""
    import torch
    from torch import nn

    class Swish(nn.Module):
        def forward(self, x):
            return x * torch.sigmoid(x)

    class CNNModel(nn.Module):
        def __init__(self, hidden_features=32, out_dim=1):
            super().__init__()
            c_hid1, c_hid2, c_hid3 = hidden_features // 2, hidden_features, hidden_features * 2
            self.cnn_layers = nn.Sequential(
                nn.Conv2d(1, c_hid1, kernel_size=5, stride=2, padding=4), Swish(),  # 16x16
                nn.Conv2d(c_hid1, c_hid2, kernel_size=3, stride=2, padding=1), Swish(),  # 8x8
                nn.Conv2d(c_hid2, c_hid3, kernel_size=3, stride=2, padding=1), Swish(),  # 4x4
                nn.Conv2d(c_hid3, c_hid3, kernel_size=3, stride=2, padding=1), Swish(),  # 2x2
                nn.Flatten(),
                nn.Linear(c_hid3 * 4, c_hid3), Swish(),
                nn.Linear(c_hid3, out_dim),
            )

        def forward(self, x):
            return self.cnn_layers(x).squeeze(dim=-1)

    class Sampler:
        def __init__(self, model, img_shape, sample_size, max_len=BUFFER):
            self.model = model
            self.img_shape = img_shape
            self.sample_size = sample_size
            self.max_len = max_len
            self.examples = [(torch.rand((1,) + img_shape) * 2 - 1)
                             for _ in range(self.sample_size)]

        def sample_new_exmps(self, steps=60, step_size=10):
            n_new = np.random.binomial(self.sample_size, 0.05)  # noqa: NPY002 (as written)
            rand_imgs = torch.rand((n_new,) + self.img_shape) * 2 - 1
            old_imgs = torch.cat(random.choices(self.examples, k=self.sample_size - n_new), dim=0)
            inp_imgs = torch.cat([rand_imgs, old_imgs], dim=0).detach().to(DEVICE)
            inp_imgs = Sampler.generate_samples(self.model, inp_imgs, steps=steps,
                                                step_size=step_size)
            self.examples = list(inp_imgs.to(torch.device("cpu")).chunk(self.sample_size, dim=0)) \
                + self.examples
            self.examples = self.examples[:self.max_len]
            return inp_imgs

        @staticmethod
        def generate_samples(model, inp_imgs, steps=60, step_size=10):
            is_training = model.training
            model.eval()
            for p in model.parameters():
                p.requires_grad = False
            inp_imgs.requires_grad = True
            had_gradients_enabled = torch.is_grad_enabled()
            torch.set_grad_enabled(True)
            noise = torch.randn(inp_imgs.shape, device=inp_imgs.device)
            for _ in range(steps):
                noise.normal_(0, 0.005)
                inp_imgs.data.add_(noise.data)
                inp_imgs.data.clamp_(min=-1.0, max=1.0)
                out_imgs = -model(inp_imgs)
                out_imgs.sum().backward()
                inp_imgs.grad.data.clamp_(-0.03, 0.03)
                inp_imgs.data.add_(-step_size * inp_imgs.grad.data)
                inp_imgs.grad.detach_()
                inp_imgs.grad.zero_()
                inp_imgs.data.clamp_(min=-1.0, max=1.0)
            for p in model.parameters():
                p.requires_grad = True
            model.train(is_training)
            torch.set_grad_enabled(had_gradients_enabled)
            return inp_imgs

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (what pl.seed_everything does)
    torch.manual_seed(seed)
    return CNNModel(hidden_features).to(DEVICE), Sampler


def training_step(model: Any, sampler: Any, optimizer: Any, real_imgs: Any, *, steps: int = 60,
                  alpha: float = 0.1, clip: float = 0.1) -> Any:  # fmt: skip
    """One update: ``DeepEnergyModel.training_step`` inside Lightning's automatic optimisation
    (zero_grad, backward, gradient-norm clipping at ``gradient_clip_val``, Adam step)."""
    import torch

    small_noise = torch.randn_like(real_imgs) * 0.005
    real_imgs.add_(small_noise).clamp_(min=-1.0, max=1.0)
    fake_imgs = sampler.sample_new_exmps(steps=steps, step_size=10)
    inp_imgs = torch.cat([real_imgs, fake_imgs], dim=0)
    real_out, fake_out = model(inp_imgs).chunk(2, dim=0)
    reg_loss = alpha * (real_out**2 + fake_out**2).mean()
    cdiv_loss = fake_out.mean() - real_out.mean()
    loss = reg_loss + cdiv_loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss


def runner(batch: int = 128, steps: int = 60, updates: int = 2, langevin_steps: int = 20,
           hidden_features: int = 32, seed: int = 42) -> tuple[Any, dict]:  # fmt: skip
    """Series worker (benchmarks/series.py): ``run()`` times ``updates`` training updates at
    batch ``batch`` (``steps`` Langevin steps each), then, as an extra, one chain of
    ``generate_samples`` of ``langevin_steps`` steps on ``batch`` noise images."""
    import coursekit  # noqa: F401, I001  (first: the thread pools, as in every row)
    import torch

    model, sampler_cls = build(hidden_features, seed)
    sampler = sampler_cls(model, img_shape=(1, 28, 28), sample_size=batch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.0, 0.999))
    data = torch.rand((batch, 1, 28, 28)) * 2 - 1
    start = torch.rand((batch, 1, 28, 28)) * 2 - 1
    model.train()

    def run() -> tuple[float, dict]:
        t0 = time.perf_counter()
        for _ in range(updates):
            training_step(model, sampler, optimizer, data.clone(), steps=steps)
        t1 = time.perf_counter()
        sampler_cls.generate_samples(model, start.clone(), steps=langevin_steps, step_size=10)
        t2 = time.perf_counter()
        return t1 - t0, {"langevin": t2 - t1}

    return run, {"impl": "peer", "torch": torch.__version__, "threads": torch.get_num_threads()}
