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
# tutorial's widths (generator 256-128-64 channels, discriminator 64-128) cost several times
# more per update; on a 2-core CPU the full mode halves every width of the generator and the
# discriminator so that the lab finishes within its time budget (section 4 prints the time).
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
# section 2, the algorithm written here: two small MLPs, trained for about a minute
BUILD_UPDATES = ck.by_mode(full=1800, smoke=20)
BUILD_LOG = ck.by_mode(full=50, smoke=5)  # steps per point of the curves
BUILD_BATCH, BUILD_LATENT = 64, 64
BUILD_HIDDEN = ck.by_mode(full=256, smoke=32)

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
print(ck.data.splits(DATASET, train=len(x_train)), "(the yardstick scores against the test "
      "split)")
print(f"images {tuple(x_train.shape[1:])}, range [{x_train.min():.0f}, {x_train.max():.0f}]")
try:
    DCGAN(LATENT, seed=SEED).fit(ck.data.to_float(train_images[:64]), updates=1)
except ValueError as err:
    print("refused:", err)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Build it: the GAN game in plain PyTorch
#
# Before the package's DCGAN, the algorithm itself. The lecture notes' value function, with
# $D(\boldsymbol x)=\sigma(\ell(\boldsymbol x))$ the discriminator's probability that
# $\boldsymbol x$ is real, computed from its logit $\ell$ (the notes write $d$ for $D$):
#
# $$v(\theta^{(g)},\theta^{(d)})=\mathbb E_{\boldsymbol x\sim p_{\rm data}}\log D(\boldsymbol x)
# +\mathbb E_{\boldsymbol z\sim\mathcal N(0,I)}\log\big(1-D(G(\boldsymbol z))\big).$$
#
# The discriminator maximises $v$, so it minimises $-v$: the binary cross-entropy with real
# images labelled 1 and fakes labelled 0. With $\log\sigma(\ell)=-\mathrm{softplus}(-\ell)$ and
# $\log(1-\sigma(\ell))=-\mathrm{softplus}(\ell)$ it is computed from the logits, never from
# $D$ itself (which rounds to 0 or 1 in float32 once $|\ell|$ is large). The generator minimises
# $\log(1-D(G(\boldsymbol z)))$ in the minimax game (**saturating**: its gradient vanishes
# exactly when $D$ rejects the fakes, early in training), or $-\log D(G(\boldsymbol z))$
# (**non-saturating**, Goodfellow et al. 2014). The notes state the minimax $v$; their code,
# the TensorFlow tutorial, trains the non-saturating loss (`cross_entropy(ones, fake_output)`).

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** Write the discriminator's loss $-v$ on a batch: `logit_real` [n] on real
# images, `logit_fake` [m] on fakes; each term a mean over its own rows.

# %% slideshow={"slide_type": "fragment"}
from torch import nn
from torch.nn import functional as F


def discriminator_loss(logit_real, logit_fake):
    """-v: binary cross-entropy from logits, real labelled 1, fake 0 (a scalar tensor)."""
    ### BEGIN SOLUTION
    real = F.binary_cross_entropy_with_logits(logit_real, torch.ones_like(logit_real))
    fake = F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake))
    loss = real + fake
    ### END SOLUTION
    return loss


# %% slideshow={"slide_type": "fragment"}
from coursekit.torch import exercises as ex

ex.check_discriminator_loss(discriminator_loss)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** The generator's loss, a mean over the fakes: $\log(1-D(G(\boldsymbol z)))$
# with `saturating=True`, $-\log D(G(\boldsymbol z))$ with `saturating=False`.

# %% slideshow={"slide_type": "fragment"}
def generator_loss(logit_fake, saturating):
    """The generator's loss from the discriminator's logits on fakes [m] (a scalar tensor)."""
    ### BEGIN SOLUTION
    if saturating:  # log(1 - D) = -BCE(logit, 0)
        loss = -F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake))
    else:  # -log D = BCE(logit, 1)
        loss = F.binary_cross_entropy_with_logits(logit_fake, torch.ones_like(logit_fake))
    ### END SOLUTION
    return loss


# %% slideshow={"slide_type": "fragment"}
ex.check_generator_loss(generator_loss)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** One step of the game, as pytorch/examples' `dcgan/main.py` takes it: make
# `fake = G(z)`; the discriminator's step on real images and on `fake.detach()` (so that its
# backward pass stops at the fakes and leaves the generator alone); then the generator's step,
# on $D$ *after* its update, with `opt_g` only (its backward pass also fills $D$'s `.grad`,
# which the next discriminator step must zero). Each step zeroes its own gradients first.
# Return the two losses as numbers.

# %% slideshow={"slide_type": "fragment"}
def gan_step(G, D, opt_g, opt_d, x, z, saturating=False):
    """One discriminator step, then one generator step; returns (d_loss, g_loss) as floats."""
    ### BEGIN SOLUTION
    fake = G(z)
    opt_d.zero_grad()
    d_loss = discriminator_loss(D(x), D(fake.detach()))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = generator_loss(D(fake), saturating)
    g_loss.backward()
    opt_g.step()
    ### END SOLUTION
    return d_loss.item(), g_loss.item()


# %% slideshow={"slide_type": "fragment"}
ex.check_gan_step(gan_step)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Train it.** Your `gan_step` on two small MLPs (given: the networks are not this week's
# exercise), on flattened digits in $[-1,1]$, with Adam at Radford et al.'s settings, for
# `BUILD_UPDATES` steps: about a minute on a 2-core CPU (the cell prints its time). Every
# `BUILD_LOG` steps we note the mean $D$ on a fixed batch of real digits and on fixed noise.

# %% slideshow={"slide_type": "skip"}
torch.manual_seed(SEED)
G = nn.Sequential(nn.Linear(BUILD_LATENT, BUILD_HIDDEN), nn.LeakyReLU(0.2),
                  nn.Linear(BUILD_HIDDEN, 2 * BUILD_HIDDEN), nn.LeakyReLU(0.2),
                  nn.Linear(2 * BUILD_HIDDEN, 784), nn.Tanh())  # z [n, latent] -> x [n, 784]
D = nn.Sequential(nn.Linear(784, 2 * BUILD_HIDDEN), nn.LeakyReLU(0.2),
                  nn.Linear(2 * BUILD_HIDDEN, BUILD_HIDDEN), nn.LeakyReLU(0.2),
                  nn.Linear(BUILD_HIDDEN, 1), nn.Flatten(0))  # x [n, 784] -> logits [n]
opt_g = torch.optim.Adam(G.parameters(), lr=LEARNING_RATE, betas=(BETA_1, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=LEARNING_RATE, betas=(BETA_1, 0.999))
flat = torch.from_numpy(x_train.reshape(len(x_train), 784))
gen = torch.Generator().manual_seed(SEED)
x_watch, z_watch = flat[:256], torch.randn(256, BUILD_LATENT, generator=gen)
curve, losses, start = [], [], time.perf_counter()
for step in range(1, BUILD_UPDATES + 1):
    x = flat[torch.randint(len(flat), (BUILD_BATCH,), generator=gen)]
    z = torch.randn(BUILD_BATCH, BUILD_LATENT, generator=gen)
    losses.append(gan_step(G, D, opt_g, opt_d, x, z, saturating=LOSS == "saturating"))
    if step % BUILD_LOG == 0:
        with torch.no_grad():
            d_real, d_fake = torch.sigmoid(D(x_watch)).mean(), torch.sigmoid(D(G(z_watch))).mean()
        d_loss, g_loss = np.mean(losses[-BUILD_LOG:], axis=0)
        curve.append((step, d_loss, g_loss, d_real.item(), d_fake.item()))
build_seconds = time.perf_counter() - start
print(f"{BUILD_UPDATES:,} steps in {build_seconds:.0f} s")

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
steps, d_losses, g_losses, d_reals, d_fakes = np.array(curve).T
with torch.no_grad():
    core_samples = (G(z_watch[:36]).reshape(-1, 28, 28).numpy() + 1) / 2
fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.5), width_ratios=[1, 1, 0.9],
                                    layout="constrained")
ax1.plot(steps, d_losses, label="D's loss $-v$")
ax1.plot(steps, g_losses, label="G's loss")
ax1.axhline(np.log(4), color="grey", ls=":", label="$\\ln 4$")
ax1.set(xlabel="step", ylabel="loss (nats)", title=f"losses, means of {BUILD_LOG} steps")
ax1.legend(ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))
ax2.plot(steps, d_reals, label="$D(x)$, real")
ax2.plot(steps, d_fakes, label="$D(G(z))$, fake")
ax2.axhline(0.5, color="grey", ls=":")
ax2.set(xlabel="step", ylabel="mean D", ylim=(0, 1), title="fixed digits and noise")
ax2.legend(ncols=1, loc="upper center", bbox_to_anchor=(0.5, -0.2))
ck.plotting.image_grid(core_samples, ncols=6, ax=ax3, title="your G(z), fixed noise");

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
from IPython.display import Markdown

Markdown(f"**This run**: {BUILD_UPDATES:,} steps in {build_seconds:.0f} s; over the last "
         f"{BUILD_LOG} steps $D$'s loss {d_losses[-1]:.2f} (the equilibrium's $\\ln 4$ = "
         f"{np.log(4):.2f}), $G$'s {g_losses[-1]:.2f}; $D(x)$ {d_reals[-1]:.2f} and "
         f"$D(G(z))$ {d_fakes[-1]:.2f} on the fixed batch.")

# %% [markdown] slideshow={"slide_type": "fragment"}
# **What to look for.** In the first few hundred steps $D(x)$ and $D(G(z))$ part: the
# discriminator learns first. Then the generator catches up and the two settle apart from
# each other, well away from $1/2$, while the losses jitter from step to step: a GAN's losses do not fall
# like a likelihood's, and a flat stretch is not convergence. A short run of an MLP GAN gives
# grey strokes with speckle in the background, some recognisable as digits and some not yet;
# the convolutional DCGAN below, trained longer, draws cleaner ones. Run the loop with
# `LOSS = "saturating"` and watch how long $D(G(z))$ stays near 0: the lecture's vanishing
# gradient (section 4) predicts a slower start.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The package computes what you wrote.** `coursekit.torch.DCGAN.train_step` is the same
# step on the tutorial's convolutional networks, with one difference of order: it updates
# both networks from one pass, as the TensorFlow tutorial does, so its generator's step sees
# $D$ *before* the discriminator's update; yours, as pytorch/examples', after it. So we run
# your `gan_step` on copies of the package's networks (same weights; dropout off, so that no
# random mask differs), with the package's first noise draw and the same batch, twice: as it
# is, for the discriminator's update, and with the discriminator's learning rate set to 0, for
# the generator's, where the two orders agree.

# %% slideshow={"slide_type": "fragment"}
import copy

from coursekit.torch import DCGAN

package = DCGAN(LATENT, generator_channels=G_CHANNELS, discriminator_channels=D_CHANNELS,
                learning_rate=LEARNING_RATE, beta_1=BETA_1, dropout=0.0, seed=SEED)
batch = torch.from_numpy(x_train[:BATCH])[:, None]  # [n, 1, 28, 28] in [-1, 1]
z = torch.randn((BATCH, LATENT), generator=torch.Generator().manual_seed(SEED))


def yours(d_learning_rate):
    """Your gan_step on copies of the package's networks and fresh Adams like the package's."""
    G, D = copy.deepcopy(package.generator), copy.deepcopy(package.discriminator)
    opt_g = torch.optim.Adam(G.parameters(), lr=LEARNING_RATE, betas=(BETA_1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=d_learning_rate, betas=(BETA_1, 0.999))
    d_loss, g_loss = gan_step(G.train(), D.train(), opt_g, opt_d, batch, z, saturating=False)
    return G, D, d_loss, g_loss


def largest(a, b):
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters(), strict=True))


_, D_mine, d_loss, _ = yours(LEARNING_RATE)
G_mine, _, _, g_loss = yours(0.0)
stats = package.train_step(batch)  # draws its noise from torch.Generator().manual_seed(SEED)
print(f"D's loss: yours {d_loss:.6f}, the package's {stats['d_loss']:.6f}")
print(f"G's loss: yours {g_loss:.6f}, the package's {stats['g_loss']:.6f}")
print(f"D's weights after the step: largest difference {largest(D_mine, package.discriminator):.1e}")
print(f"G's weights after the step: largest difference {largest(G_mine, package.generator):.1e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The networks
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
n_bn = sum(b.numel() for b in gan.generator.buffers() if b.is_floating_point())
print(f"generator {n_g:,} trainable parameters (and {n_bn:,} batch-norm running means and "
      f"variances, which Keras' count_params() counts too), discriminator {n_d:,}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Training, with the sample report at every row
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

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
fids = [r.fid for r in reports]
kinds = [r.coverage.n_classes for r in reports]
best = int(np.argmin(fids))
Markdown(f"**This run**: over the {len(reports)} judged rows the FID went from {fids[0]:.1f} to "
         f"{fids[-1]:.1f}, lowest {fids[best]:.1f} at update {history['update'][best]:,}, and "
         f"the digits covered between {min(kinds)} and {max(kinds)} of 10.")

# %% [markdown] slideshow={"slide_type": "fragment"}
# **What to look for.** If the FID and the class count rise and fall again instead of settling,
# that is the lecture's section 6 live: the generator and the discriminator chase each other,
# and the generator's samples move between modes (digits) rather than converging. The last row
# is not necessarily the best; the fixed-noise grids below show digits changing identity.

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
# ## 5. The final sample report
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
# ## 6. Save, load, and what to try
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
