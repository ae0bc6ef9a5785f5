# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,slideshow,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # Week 4 lab: a DCGAN on MNIST in PyTorch
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week4_gan/week4_gan_pytorch.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# We train the lecture notes' GAN, the DCGAN of the TensorFlow tutorial, on MNIST, and watch
# the game while it is played: after every "epoch" (a fixed number of updates) the
# discriminator's mean output on real and on generated digits, both losses, the same 16 noise
# vectors turned into images, and the course's **sample report** (classifier FID and class
# coverage), so that a generator that drops digits shows it as a number. The maths is in
# `week4_gan_lecture`; the same lab in Keras 3 is `week4_gan_keras`.

# %% slideshow={"slide_type": "skip"}
import sys

if "google.colab" in sys.modules:  # only acts on Colab
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pooch", "mlxtend"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/coursekit/coursekit"], check=True)

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 0. Parameters
#
# Training length is given in parameter **updates** (minibatches of `BATCH`), so a run takes
# about as long whether the 60,000 MNIST digits are here or only the 4,000 offline ones. The
# tutorial's widths (generator 256-128-64 channels, discriminator 64-128) cost about 0.6 s per
# update at batch 128 on a 2-core CPU; the full mode halves every width of the generator and
# the discriminator (about 0.18 s per update, measured here) to finish in about 10 minutes.
# `DATASET = "fashion_mnist"` runs the same lab on Fashion-MNIST.

# %% slideshow={"slide_type": "skip"} tags=["parameters"]
import coursekit as ck

SEED = 0
DATASET = "mnist"  # or "fashion_mnist"
LATENT = 100  # noise dimension (the tutorial's)
G_CHANNELS = ck.by_mode(full=(128, 64, 32), smoke=(16, 8, 4))  # tutorial: (256, 128, 64)
D_CHANNELS = ck.by_mode(full=(32, 64), smoke=(4, 8))  # tutorial: (64, 128)
UPDATES = ck.by_mode(full=3000, smoke=12)  # parameter updates of each network
BATCH = ck.by_mode(full=128, smoke=32)
LOG_EVERY = ck.by_mode(full=300, smoke=4)  # updates per history row ("epoch")
LEARNING_RATE = 2e-4  # Adam, with beta_1 = 0.5: Radford et al. (2016)
BETA_1 = 0.5
LOSS = "non_saturating"  # or "saturating" (the minimax game)
N_REPORT = 500  # samples judged by coursekit.metrics at every row
N_SAMPLES = ck.by_mode(full=2000, smoke=500)  # samples of the final report

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit import metrics
from coursekit.course import results
from coursekit.plotting import gan as gan_plots
from coursekit.torch import DCGAN

ck.plotting.use_style()
ck.seed_everything(SEED)
torch.set_num_threads(ck.num_threads())
notebook_start = time.perf_counter()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data in $[-1, 1]$
#
# The generator ends in $\tanh$, so its images live in $[-1,1]$; the real images are mapped
# there too, $x \mapsto 2x-1$. (`DCGAN.fit` refuses images without negative values: they look
# like $[0,1]$ images passed by mistake.)

# %% slideshow={"slide_type": "fragment"}
train_images, _ = ck.data.load(DATASET, "train")
x_train = 2.0 * ck.data.to_float(train_images) - 1.0  # [n, 28, 28] in [-1, 1]
print(f"train {x_train.shape}, range [{x_train.min():.0f}, {x_train.max():.0f}]; "
      f"from {ck.data.source(DATASET, 'train')}")
try:
    DCGAN(LATENT, seed=SEED).fit(ck.data.to_float(train_images[:64]), updates=1)
except ValueError as err:
    print("refused:", err)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The networks
#
# Generator: $\boldsymbol z\in\mathbb R^{100}\to$ dense $7\times7\times c_0$ $\to$ transposed
# convolutions $5\times5$ to $7\times7\times c_1$, $14\times14\times c_2$ and $28\times28\times1$,
# with batch normalisation and leaky ReLU between them and $\tanh$ at the end. Discriminator:
# two $5\times5$ convolutions with stride 2, leaky ReLU and dropout 0.3, and one logit. Each
# update draws a minibatch of real digits and of noise, and updates both networks from the same
# pass, the discriminator on $-v$ and the generator on the non-saturating loss
# $-\log D(G(\boldsymbol z))$.

# %% slideshow={"slide_type": "fragment"}
gan = DCGAN(LATENT, generator_channels=G_CHANNELS, discriminator_channels=D_CHANNELS,
            loss=LOSS, learning_rate=LEARNING_RATE, beta_1=BETA_1, seed=SEED)
n_g = sum(p.numel() for p in gan.generator.parameters())
n_d = sum(p.numel() for p in gan.discriminator.parameters())
print(f"generator {n_g:,} parameters, discriminator {n_d:,}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Training, with the sample report at every row
#
# Every `LOG_EVERY` updates: means over those updates of $D$ on real and on fake digits and of
# both losses, the fixed-noise grid, and the sample report of `N_REPORT` fresh samples.

# %% slideshow={"slide_type": "skip"}
reports = []


def judge(model, row):
    rep = metrics.sample_report(model.sample(N_REPORT, seed=SEED), dataset=DATASET,
                                min_samples=N_REPORT)
    reports.append(rep)
    print(f"update {row['update']:5d}: D(real) {row['d_real']:.3f}  D(fake) {row['d_fake']:.3f}  "
          f"losses D {row['d_loss']:.3f} G {row['g_loss']:.3f}  FID {rep.fid:7.2f}  "
          f"classes {rep.coverage.n_classes}/10  ({row['seconds']:.0f} s)")


history = gan.fit(x_train, updates=UPDATES, batch_size=BATCH, log_every=LOG_EVERY,
                  callback=judge, progress=False)
train_seconds = history["seconds"][-1]

# %% [markdown] slideshow={"slide_type": "subslide"}
# $D$ on real and fake digits and the two losses. At the equilibrium of the game $D = 1/2$
# everywhere and the discriminator's loss is $\ln 4 \approx 1.39$; a mean $D$ near 1/2 alone
# does not prove the equilibrium (lecture, section 6), which is why the FID and the class
# coverage are measured beside it.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
gan_plots.gan_curves(history, title=f"DCGAN (PyTorch), batch {BATCH}");

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
gan_plots.quality_curves(history["update"], reports);

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same 16 noise vectors after the first row, half-way and at the end (images in $[-1,1]$
# shown from black to white).

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
picks = sorted({0, len(history["grid"]) // 2, len(history["grid"]) - 1})
fig, axes = plt.subplots(1, len(picks), figsize=(4 * len(picks), 4.3), layout="constrained")
for ax, i in zip(np.atleast_1d(axes), picks, strict=True):
    ck.plotting.image_grid((history["grid"][i] + 1) / 2, ncols=4, ax=ax,
                           title=f"update {history['update'][i]}")

# %% [markdown] slideshow={"slide_type": "skip"}
# The same grid at every judged update, as an animation (press play, or step frame by frame):
# watch the digits form, and a digit change identity when the generator moves between modes.
# (Not in the deck: a slide shows no scripts; the three frames above stand in for it.)

# %% slideshow={"slide_type": "skip"} tags=["hide-input"]
gan_plots.grid_animation(history["grid"], history["update"])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The final sample report
#
# `N_SAMPLES` samples beside the same number of real training digits: the FID of real digits is
# the floor at this sample count.

# %% slideshow={"slide_type": "skip"}
start = time.perf_counter()
samples = gan.sample(N_SAMPLES, seed=SEED + 1)
sample_seconds = time.perf_counter() - start
report = metrics.sample_report(samples, f"DCGAN (PyTorch), {N_SAMPLES:,} samples",
                               dataset=DATASET)
real_report = metrics.sample_report((x_train[:N_SAMPLES] + 1) / 2,
                                    f"{N_SAMPLES:,} real training images", dataset=DATASET)

# %% slideshow={"slide_type": "fragment"}
print(report, real_report, sep="\n\n")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
ck.plotting.image_grid(samples[:64], ncols=8, title=f"64 samples after {gan.updates:,} updates");

# %% slideshow={"slide_type": "skip"}
row_file = results.record(
    "week4_gan_pytorch", family="GAN", framework="PyTorch", report=report,
    model=f"DCGAN G{G_CHANNELS} D{D_CHANNELS}, {LOSS} loss", train_seconds=train_seconds,
    sample_seconds=sample_seconds, updates=gan.updates, samples=samples,
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Save, load, and what to try
#
# `save` writes the weights in one layout that both frameworks read: the file loads into
# `coursekit.keras.DCGAN` too.

# %% slideshow={"slide_type": "skip"}
from pathlib import Path

path = gan.save(Path("checkpoints") / "dcgan_pytorch.npz")
same = DCGAN.load(path)
z = gan.noise(4, seed=0)
print(path, "reloaded:", np.array_equal(same.generate(z), gan.generate(z)))
print(f"notebook run time: {time.perf_counter() - notebook_start:.0f} s")

# %% [markdown] slideshow={"slide_type": "fragment"}
# * `LOSS = "saturating"`: compare $D$(fake) and the FID over the first rows.
# * `LEARNING_RATE = 1e-4`, `BETA_1 = 0.9` (the tutorial's Adam): slower or faster?
# * `DATASET = "fashion_mnist"`: which classes does the generator cover?
