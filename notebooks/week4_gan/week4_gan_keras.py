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
# # Week 4 lab: a DCGAN on MNIST in Keras 3
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week4_gan/week4_gan_keras.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# We train the lecture notes' GAN, the DCGAN of the TensorFlow tutorial, on MNIST, and watch
# the game while it is played: after every "epoch" (a fixed number of updates) the
# discriminator's mean output on real and on generated digits, both losses, the same 16 noise
# vectors turned into images, and the course's **sample report** (classifier FID and class
# coverage), so that a generator that drops digits shows it as a number. The maths is in
# `week4_gan_lecture`; the same lab in PyTorch is `week4_gan_pytorch`.
#
# The notes' code is the TensorFlow tutorial, whose `train_step` uses `tf.GradientTape` and so
# runs on TensorFlow only. Section 2 writes that step so that it runs on both backends;
# `coursekit.keras.DCGAN` computes the same step with `keras.ops` and `keras.random` and takes
# its gradients from whichever backend runs it: set `KERAS_BACKEND` to `tensorflow` or `torch`
# before starting Jupyter.

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
BUILD_UPDATES = ck.by_mode(full=3000, smoke=20)
BUILD_LOG = ck.by_mode(full=50, smoke=5)  # steps per point of the curves
BUILD_BATCH, BUILD_LATENT = 64, 64
BUILD_HIDDEN = ck.by_mode(full=256, smoke=32)

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np

from coursekit import metrics
from coursekit.course import results
from coursekit.keras import DCGAN  # imports Keras without TensorFlow's start-up log noise
from coursekit.plotting import gan as gan_plots

# isort: split
import keras

ck.plotting.use_style()
ck.seed_everything(SEED)
BACKEND = keras.backend.backend()
print('Keras backend:', BACKEND)
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
# ## 2. Build it: the tutorial's `train_step`, on both backends
#
# Before the package's DCGAN, the algorithm itself. The lecture notes' value function, with
# $D(\boldsymbol x)=\sigma(\ell(\boldsymbol x))$ the discriminator's probability that
# $\boldsymbol x$ is real, computed from its logit $\ell$ (the notes write $d$ for $D$):
#
# $$v(\theta^{(g)},\theta^{(d)})=\mathbb E_{\boldsymbol x\sim p_{\rm data}}\log D(\boldsymbol x)
# +\mathbb E_{\boldsymbol z\sim\mathcal N(0,I)}\log\big(1-D(G(\boldsymbol z))\big).$$
#
# The discriminator maximises $v$, so it minimises $-v$: the binary cross-entropy with real
# images labelled 1 and fakes labelled 0, which the tutorial writes
# `BinaryCrossentropy(from_logits=True)`. From the logits, since
# $\log\sigma(\ell)=-\mathrm{softplus}(-\ell)$ and $\log(1-\sigma(\ell))=-\mathrm{softplus}(\ell)$
# (`keras.ops.softplus` is the stable $\log(1+e^\ell)$; $D$ itself rounds to 0 or 1 in float32
# once $|\ell|$ is large). The generator minimises $\log(1-D(G(\boldsymbol z)))$ in the minimax
# game (**saturating**: its gradient vanishes exactly when $D$ rejects the fakes, early in
# training), or $-\log D(G(\boldsymbol z))$ (**non-saturating**, Goodfellow et al. 2014). The
# notes state the minimax $v$; their code, the tutorial, trains the non-saturating loss
# (`cross_entropy(tf.ones_like(fake_output), fake_output)`).

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** Write the discriminator's loss $-v$ on a batch with `keras.ops`: `logit_real`
# [n] on real images, `logit_fake` [m] on fakes; each term a mean over its own rows.

# %% slideshow={"slide_type": "fragment"}
from keras import layers, ops

from coursekit.keras import exercises as ex
from coursekit.keras.autodiff import compile_fn


def discriminator_loss(logit_real, logit_fake):
    """-v: binary cross-entropy from logits, real labelled 1, fake 0 (a scalar tensor)."""
    ### BEGIN SOLUTION
    loss = ops.mean(ops.softplus(-logit_real)) + ops.mean(ops.softplus(logit_fake))
    ### END SOLUTION
    return loss


# %% slideshow={"slide_type": "fragment"}
ex.check_discriminator_loss(discriminator_loss)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** The generator's loss, a mean over the fakes: $\log(1-D(G(\boldsymbol z)))$
# with `saturating=True`, $-\log D(G(\boldsymbol z))$ with `saturating=False`.

# %% slideshow={"slide_type": "fragment"}
def generator_loss(logit_fake, saturating):
    """The generator's loss from the discriminator's logits on fakes [m] (a scalar tensor)."""
    ### BEGIN SOLUTION
    if saturating:  # log(1 - D) = -softplus(logit)
        loss = -ops.mean(ops.softplus(logit_fake))
    else:  # -log D = softplus(-logit)
        loss = ops.mean(ops.softplus(-logit_fake))
    ### END SOLUTION
    return loss


# %% slideshow={"slide_type": "fragment"}
ex.check_generator_loss(generator_loss)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** The tutorial's `train_step`: one forward pass (`fake = generator(z)`, the
# discriminator's logits on `x` and on `fake`), then the gradient of `d_loss` by the
# discriminator's weights only and of `g_loss` by the generator's only, each applied by its own
# optimizer, `opt.apply(grads, variables)`. Both gradients are taken at the same weights,
# before either update. The notes describe the game as alternating (hold $G$ fixed and train
# $D$, then the reverse, "for one epoch" each; in practice, and in both labs, it is one
# minibatch each); the tutorial's simultaneous step keeps what matters: each network moves on
# its own loss only. `keras.ops` has no gradient function, so this is where the backend
# shows. On tensorflow, two `tf.GradientTape`s record the pass, as in the tutorial; on
# torch, `torch.autograd.grad` takes each loss's gradient by the variables' torch tensors
# (`v.value`), the first with `retain_graph=True` so that the second can use the same pass
# (`loss.backward()`, as in keras.io's PyTorch `train_step` guide, would put each loss's
# gradient into both networks' `.grad`). Write the branch of the backend you run; the solution
# has both. Return the two losses.

# %% slideshow={"slide_type": "fragment"}
if BACKEND == "tensorflow":
    import tensorflow as tf
else:  # torch
    import torch


def train_step(generator, discriminator, g_opt, d_opt, x, z, saturating=False):
    """One update of each network from one pass: x [n, ...] real images, z [n, latent] noise.
    Returns (d_loss, g_loss), scalar tensors."""
    d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables
    ### BEGIN SOLUTION
    def losses():
        fake = generator(z, training=True)
        logit_real = discriminator(x, training=True)
        logit_fake = discriminator(fake, training=True)
        return discriminator_loss(logit_real, logit_fake), generator_loss(logit_fake, saturating)

    if BACKEND == "tensorflow":  # the tutorial: two tapes record the same pass
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            d_loss, g_loss = losses()
        d_grads = d_tape.gradient(d_loss, d_vars)
        g_grads = g_tape.gradient(g_loss, g_vars)
    else:  # torch: the same two gradients from autograd
        d_loss, g_loss = losses()
        d_grads = torch.autograd.grad(d_loss, [v.value for v in d_vars], retain_graph=True)
        g_grads = torch.autograd.grad(g_loss, [v.value for v in g_vars])
    d_opt.apply(d_grads, d_vars)
    g_opt.apply(g_grads, g_vars)
    ### END SOLUTION
    return d_loss, g_loss


# %% slideshow={"slide_type": "fragment"}
ex.check_train_step(train_step)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Train it.** Your `train_step` on two small MLPs (given: the networks are not this week's
# exercise), on flattened digits in $[-1,1]$, with Adam at Radford et al.'s settings, for
# `BUILD_UPDATES` steps: about a minute on a 2-core CPU with torch, less with tensorflow,
# whose compiled step is faster here (the cell prints its time).
# `compile_fn` compiles the step with `tf.function` on tensorflow and leaves it as it is on
# torch. Every `BUILD_LOG` steps we note the mean $D$ on a fixed batch of real digits and on
# fixed noise.

# %% slideshow={"slide_type": "skip"}
ck.seed_everything(SEED)  # the MLPs' initial weights
G = keras.Sequential([keras.Input((BUILD_LATENT,)),
                      layers.Dense(BUILD_HIDDEN), layers.LeakyReLU(0.2),
                      layers.Dense(2 * BUILD_HIDDEN), layers.LeakyReLU(0.2),
                      layers.Dense(784, activation="tanh")])  # z [n, latent] -> x [n, 784]
D = keras.Sequential([keras.Input((784,)),
                      layers.Dense(2 * BUILD_HIDDEN), layers.LeakyReLU(0.2),
                      layers.Dense(BUILD_HIDDEN), layers.LeakyReLU(0.2),
                      layers.Dense(1), layers.Reshape(())])  # x [n, 784] -> logits [n]
g_opt = keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1)
d_opt = keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1)
g_opt.build(G.trainable_variables)  # before compiling: tf.function creates no new variables
d_opt.build(D.trainable_variables)
step_fn = compile_fn(lambda x, z: train_step(G, D, g_opt, d_opt, x, z, LOSS == "saturating"))
flat = ops.convert_to_tensor(x_train.reshape(len(x_train), 784))
rng, seeds = np.random.default_rng(SEED), keras.random.SeedGenerator(SEED)
x_watch, z_watch = flat[:256], keras.random.normal((256, BUILD_LATENT), seed=seeds)
curve, losses, start = [], [], time.perf_counter()
for step in range(1, BUILD_UPDATES + 1):
    x = ops.take(flat, rng.integers(0, len(x_train), BUILD_BATCH), axis=0)
    z = keras.random.normal((BUILD_BATCH, BUILD_LATENT), seed=seeds)
    losses.append([float(ops.convert_to_numpy(v)) for v in step_fn(x, z)])
    if step % BUILD_LOG == 0:
        d_real = float(ops.convert_to_numpy(ops.mean(ops.sigmoid(D(x_watch)))))
        d_fake = float(ops.convert_to_numpy(ops.mean(ops.sigmoid(D(G(z_watch))))))
        d_loss, g_loss = np.mean(losses[-BUILD_LOG:], axis=0)
        curve.append((step, d_loss, g_loss, d_real, d_fake))
build_seconds = time.perf_counter() - start
print(f"{BUILD_UPDATES:,} steps in {build_seconds:.0f} s ({BACKEND})")

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
steps, d_losses, g_losses, d_reals, d_fakes = np.array(curve).T
core_samples = (ops.convert_to_numpy(G(z_watch[:36])).reshape(-1, 28, 28) + 1) / 2
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

Markdown(f"**This run** ({BACKEND}): {BUILD_UPDATES:,} steps in {build_seconds:.0f} s; over the "
         f"last {BUILD_LOG} steps $D$'s loss {d_losses[-1]:.2f} (the equilibrium's $\\ln 4$ = "
         f"{np.log(4):.2f}), $G$'s {g_losses[-1]:.2f}; $D(x)$ {d_reals[-1]:.2f} and "
         f"$D(G(z))$ {d_fakes[-1]:.2f} on the fixed batch.")

# %% [markdown] slideshow={"slide_type": "fragment"}
# **What to look for.** Within the first hundred steps $D(x)$ and $D(G(z))$ part: the
# discriminator learns first. The generator catches up for a while ($D(G(z))$ rises), then the
# two curves stay apart, $D(x)$ high and $D(G(z))$ lower and jumping from point to point, and
# the losses settle well away from the equilibrium's
# $\ln 4$ without falling any further: a GAN's losses do not fall like a likelihood's, and a
# flat stretch is not convergence. A minute of an MLP GAN gives rough strokes on a speckled
# background, some of them recognisable digits, some no digit at all; the convolutional DCGAN
# below, trained longer, draws cleaner ones. Rerun from the parameters with
# `LOSS = "saturating"` and compare $D(G(z))$ over the first thousand steps: while $D$ rejects
# the fakes ($D(G(z))$ near 0) that loss gives the generator almost no gradient. The other
# backend gives other numbers (other random draws and kernels), not another algorithm.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The package computes what you wrote.** `coursekit.keras.DCGAN.train_step` is the same step
# on the tutorial's convolutional networks: one pass (its discriminator sees real images and
# fakes in one batch), both gradients from it by `coursekit.keras.autodiff.two_losses_and_grads`
# (the two tapes on tensorflow, two `torch.autograd.grad` calls on torch, as in yours), then
# one Adam step each. Two DCGANs built with the same seed start from the same weights, and with
# dropout off no random mask differs. We run your `train_step` on the second one's networks,
# with fresh Adams of the package's settings (the package's are fresh too before its first
# step), the same batch, and noise drawn as the package draws its first: `keras.random.normal`
# from a new `SeedGenerator(SEED)`. Then we compare the two losses and every weight after the
# step, batch normalisation's moving statistics included.

# %% slideshow={"slide_type": "fragment"}
kw = {"generator_channels": G_CHANNELS, "discriminator_channels": D_CHANNELS,
      "learning_rate": LEARNING_RATE, "beta_1": BETA_1, "dropout": 0.0, "seed": SEED}
package, twin = DCGAN(LATENT, **kw), DCGAN(LATENT, **kw)
before = package.get_weights()  # a dict of NumPy arrays, the same for twin
batch = ops.convert_to_tensor(x_train[:BATCH, :, :, None])  # [n, 28, 28, 1] in [-1, 1]
z = keras.random.normal((BATCH, LATENT), seed=keras.random.SeedGenerator(SEED))
g_adam = keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1)
d_adam = keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1)
step_losses = train_step(twin.generator, twin.discriminator, g_adam, d_adam, batch, z, False)
stats = package.train_step(batch)  # draws its z from its SeedGenerator(SEED)
for name, yours in zip(("d_loss", "g_loss"), step_losses, strict=True):
    print(f"{name}: yours {float(ops.convert_to_numpy(yours)):.6f}, "
          f"the package's {stats[name]:.6f}")
mine, theirs = twin.get_weights(), package.get_weights()
for net, name in (("d/", "D"), ("g/", "G")):
    gap = max(np.abs(mine[k] - theirs[k]).max() for k in theirs if k.startswith(net))
    print(f"{name}'s weights after the step: largest difference {gap:.1e}")
moved = max(np.abs(theirs[k] - before[k]).max() for k in theirs if "moving" not in k)
print(f"(for scale: the step moved the weights by up to {moved:.1e})")

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
n_g, n_d = gan.generator.count_params(), gan.discriminator.count_params()
print(f"generator {n_g:,} parameters, discriminator {n_d:,}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Keras' `count_params()` also counts the batch-norm layers' moving means and variances, which
# are statistics, not trained weights. The PyTorch lab's count (`parameters()`) holds only the
# trained weights and prints the running statistics apart: the same network, counted two ways.

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
gan_plots.gan_curves(history, title=f"DCGAN (Keras, {BACKEND}), batch {BATCH}");

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
gan_plots.quality_curves(history["update"], reports);

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
report = metrics.sample_report(samples, f"DCGAN (Keras, {BACKEND}), {N_SAMPLES:,} samples",
                               dataset=DATASET)
real_report = metrics.sample_report((x_train[:N_SAMPLES] + 1) / 2,
                                    f"{N_SAMPLES:,} real training images", dataset=DATASET)

# %% slideshow={"slide_type": "fragment"}
print(report, real_report, sep="\n\n")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
ck.plotting.image_grid(samples[:64], ncols=8, title=f"64 samples after {gan.updates:,} updates");

# %% slideshow={"slide_type": "skip"}
row_file = results.record(
    "week4_gan_keras", family="GAN", framework=f"Keras ({BACKEND})", report=report,
    model=f"DCGAN G{G_CHANNELS} D{D_CHANNELS}, {LOSS} loss", train_seconds=train_seconds,
    sample_seconds=sample_seconds, updates=gan.updates, samples=samples,
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Save, load, and what to try
#
# `save` writes the weights in one layout that both frameworks read: the file loads into
# `coursekit.torch.DCGAN` too.

# %% slideshow={"slide_type": "skip"}
from pathlib import Path

path = gan.save(Path("checkpoints") / "dcgan_keras.npz")
same = DCGAN.load(path)
z = gan.noise(4, seed=0)
print(path, "reloaded:", np.array_equal(same.generate(z), gan.generate(z)))
print(f"notebook run time: {time.perf_counter() - notebook_start:.0f} s")

# %% [markdown] slideshow={"slide_type": "fragment"}
# * `LOSS = "saturating"`: compare $D$(fake) and the FID over the first rows.
# * `LEARNING_RATE = 1e-4`, `BETA_1 = 0.9` (the tutorial's Adam): slower or faster?
# * `DATASET = "fashion_mnist"`: which classes does the generator cover?
