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
# # Week 4: generative adversarial networks
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week4_gan/week4_gan_lecture.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# The lecture: the GAN as a zero-sum game, the optimal discriminator $d^*$, the Jensen-Shannon
# divergence it turns the game into, the saturating and the non-saturating generator loss, and
# what goes wrong (mode dropping, oscillation). Every step is **checked with numbers** on the
# real line, where the data density is known and the whole game is plotted in seconds. The labs
# (`week4_gan_pytorch`, `week4_gan_keras`) then train the DCGAN of the notes on MNIST.
#
# Follows M. Hjorth-Jensen's lecture notes (week of 15-19 April 2024), with corrections marked
# below; the source of the maths is Goodfellow et al. (2014), *Generative adversarial nets*
# (NeurIPS; arXiv:1406.2661), further reading Goodfellow (2016), *NIPS 2016 tutorial:
# generative adversarial networks* (arXiv:1701.00160), both recommended by the notes.

# %% [markdown] slideshow={"slide_type": "notes"}
# NumPy (`coursekit.reference.gan`, float64) for the maths; small torch MLPs
# (`coursekit.torch.gan_toy`) for the 1-D game. Runs in about a minute in full mode.

# %% slideshow={"slide_type": "skip"}
import sys

if "google.colab" in sys.modules:  # only acts on Colab
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pooch", "mlxtend"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/coursekit/coursekit"], check=True)

# %% [markdown] slideshow={"slide_type": "skip"}
# ## Parameters

# %% slideshow={"slide_type": "skip"} tags=["parameters"]
import coursekit as ck

SEED = 0
D_STEPS = ck.by_mode(full=1000, smoke=150)  # discriminator-only steps against a fixed model
GAME_UPDATES = ck.by_mode(full=2000, smoke=160)  # generator updates of the 1-D game
FRAMES = 8  # panels of the game, frame by frame
COLLAPSE_UPDATES = ck.by_mode(full=1500, smoke=120)  # updates of the mode-dropping runs

# %% slideshow={"slide_type": "skip"}
import math

import matplotlib.pyplot as plt
import numpy as np

from coursekit.plotting import gan as gan_plots
from coursekit.reference import gan as ref
from coursekit.torch.gan_toy import ToyGAN1D

ck.plotting.use_style()
ck.seed_everything(SEED)
GRID = np.linspace(-5, 5, 401)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The game
#
# A **generator** $g$ turns noise $\boldsymbol{z}\sim p(\boldsymbol{z})$ into samples
# $\boldsymbol{x} = g(\boldsymbol{z};\theta^{(g)})$, whose density is $p_{\rm model}$; nowhere is
# $p_{\rm model}$ written down. A **discriminator** $d(\boldsymbol{x};\theta^{(d)})\in(0,1)$ is the
# probability that $\boldsymbol{x}$ is real. The notes' value function, the discriminator's
# reward in a zero-sum game (the generator gets $-v$):
#
# $$v(\theta^{(g)},\theta^{(d)}) = E_{\boldsymbol{x}\sim p_{\rm data}}\log d(\boldsymbol{x})
#   + E_{\boldsymbol{x}\sim p_{\rm model}}\log\big(1-d(\boldsymbol{x})\big),
# \qquad g^* = \arg\min_g\max_d v .$$
#
# $-v$ is the binary cross-entropy of a classifier with label 1 on data and 0 on samples: the
# discriminator is trained as a classifier, the generator against it.
#
# **Correction to the notes.** They say the two networks "alternate on which one trains at one
# time (i.e. for one epoch)". Goodfellow et al.'s Algorithm 1 alternates per *minibatch*: $k$
# discriminator steps (they use $k=1$), then one generator step. The notes' own code (the
# TensorFlow DCGAN tutorial) updates both networks from the same minibatch at the same time;
# `coursekit`'s DCGANs do the same.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The optimal discriminator
#
# For a fixed generator, $v = \int d\boldsymbol{x}\,\big[p_{\rm data}\log d + p_{\rm model}\log(1-d)\big]$.
# At each $\boldsymbol{x}$, $a\log y + b\log(1-y)$ is maximised at $y = a/(a+b)$, so
# (Goodfellow et al. 2014, Proposition 1)
#
# $$d^*(\boldsymbol{x}) = \frac{p_{\rm data}(\boldsymbol{x})}{p_{\rm data}(\boldsymbol{x}) + p_{\rm model}(\boldsymbol{x})}.$$
#
# Check: the data are $\mathcal N(0,1)$, the "generator" a fixed $\mathcal N(2, 0.5^2)$. A small
# network trained only as the discriminator (`D_STEPS` Adam steps, 512 samples of each per
# step) should approach $d^*$, here known in closed form.

# %% slideshow={"slide_type": "fragment"}
toy = ToyGAN1D(seed=SEED)
d_losses = toy.train_discriminator(lambda n, r: r.normal(0, 1, n), lambda n, r: r.normal(2, 0.5, n),
                                   steps=D_STEPS)
x = np.linspace(-2, 3.5, 221)
d_star = ref.optimal_discriminator_gaussians(x, 0, 1, 2, 0.5)
d_net = toy.discriminator_prob(x)
print(f"max |D - d*| on [-2, 3.5] after {D_STEPS} steps: {np.abs(d_net - d_star).max():.3f}")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
ax.fill_between(x, ref.gaussian_pdf(x, 0, 1), color="0.85", label="$p_{data} = N(0, 1)$")
ax.plot(x, ref.gaussian_pdf(x, 2, 0.5), "C0", label="$p_{model} = N(2, 0.5^2)$")
ax.plot(x, d_star, "k:", lw=2, label="$d^*(x)$ (exact)")
ax.plot(x, d_net, "C3", label=f"trained D ({D_STEPS} steps)")
ax.set(xlabel="x", ylabel="density, or D(x)",
       title="A discriminator trained against a fixed model approaches d*")
ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5));

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. What the generator minimises: the Jensen-Shannon divergence
#
# Put $d^*$ back into $v$ (Goodfellow et al. 2014, Theorem 1):
#
# $$\max_d v = v(g, d^*) = -\ln 4 + 2\,\mathrm{JS}(p_{\rm data}\,\|\,p_{\rm model}),\qquad
# \mathrm{JS}(p\|q) = \tfrac12\mathcal D\big[p\,\|\,\tfrac{p+q}2\big] + \tfrac12\mathcal D\big[q\,\|\,\tfrac{p+q}2\big].$$
#
# $0\le\mathrm{JS}\le\ln 2$: zero only for $p_{\rm model}=p_{\rm data}$, where $d^* = 1/2$
# everywhere and $v = -\ln 4$. Both sides computed independently by quadrature for the data
# $\mathcal N(0,1)$ against models $\mathcal N(\mu, 1)$, and the trained discriminator's loss
# from section 2 against $\ln 4 - 2\,\mathrm{JS}$:

# %% slideshow={"slide_type": "fragment"}
wide = np.linspace(-30, 30, 120_001)
p_data = ref.gaussian_pdf(wide, 0, 1)
print("model mean | JS (nats) | v(d*) by quadrature | -ln 4 + 2 JS")
for mu in [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]:
    q = ref.gaussian_pdf(wide, mu, 1)
    js = ref.js_divergence(p_data, q, wide)
    print(f"{mu:10.1f} | {js:9.5f} | {ref.value_at_optimum(p_data, q, wide):19.5f} | "
          f"{-math.log(4) + 2 * js:12.5f}")
js_sec2 = ref.js_divergence(p_data, ref.gaussian_pdf(wide, 2, 0.5), wide)
print(f"\nsection 2: ln 4 - 2 JS = {math.log(4) - 2 * js_sec2:.4f}; "
      f"trained D's loss (mean of its last 100 steps) = {np.mean(d_losses[-100:]):.4f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# As the model moves away, JS saturates at $\ln 2$: two densities that barely overlap are all
# equally "far" for an optimal discriminator, which then offers the generator almost no
# gradient. That is the practical problem of the next section.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Saturating and non-saturating generator losses
#
# With the discriminator's logit $l$, $d = \sigma(l)$, per fake sample:
#
# | loss | value | $\partial/\partial l$ | as $d\to 0$ |
# |---|---|---|---|
# | saturating (the minimax game) | $\log(1-d) = -\mathrm{softplus}(l)$ | $-d$ | $\to 0$ |
# | non-saturating (Goodfellow et al.) | $-\log d = \mathrm{softplus}(-l)$ | $-(1-d)$ | $\to -1$ |
#
# Early in training the generator is poor and the discriminator rejects its samples with
# confidence ($d\to0$): the saturating loss then gives the generator almost no gradient. The
# notes quote the fix (Goodfellow et al.'s "best-performing formulation"): the generator
# maximises $\log d(g(\boldsymbol z))$ instead. Same fixed point, different dynamics.

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
logit = np.linspace(-8, 8, 401)
fig, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
for loss in ref.LOSSES:
    ax.plot(ref.sigmoid(logit), np.abs(ref.generator_loss_grad(logit, loss)), label=loss)
ax.set(xscale="log", xlabel="d(g(z)) (log scale)", ylabel="|dloss / dlogit|",
       title="Gradient reaching the generator, per fake sample")
ax.legend();

# %% [markdown] slideshow={"slide_type": "subslide"}
# Measured on a network: data $\mathcal N(3, 0.3^2)$, a fresh generator (its samples sit near
# 0), the discriminator trained for `D_STEPS // 2` steps against it. Then the norm of the
# gradient of each generator loss with respect to the generator's weights:

# %% slideshow={"slide_type": "fragment"}
early = ToyGAN1D(seed=SEED)
early.train_discriminator(lambda n, r: r.normal(3, 0.3, n),
                          lambda n, r: early.generate(n), steps=D_STEPS // 2)
d_fake = early.discriminator_prob(early.generate(4096)).mean()
norms = {loss: early.generator_gradient_norm(loss) for loss in ref.LOSSES}
print(f"mean D(g(z)) = {d_fake:.4f}")
for loss, g in norms.items():
    print(f"{loss:>15}: |grad| = {g:.3e}")
print(f"ratio non-saturating / saturating = {norms['non_saturating'] / norms['saturating']:.0f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The game, frame by frame
#
# Now both networks learn (Algorithm 1 with $k=1$ and Adam, non-saturating loss). The data: a
# mixture of two Gaussians at $\pm 1.5$. In each frame, the generator's density (a kernel
# density estimate of its samples, bandwidth 0.08), the data's, the discriminator $D$, and the
# optimal discriminator $d^*$ *for that generator*. At the equilibrium $p_{\rm model} = p_{\rm data}$,
# $d^* = 1/2$.

# %% slideshow={"slide_type": "fragment"}
def two_modes(n, r):
    return np.where(r.random(n) < 0.5, -1.5, 1.5) + 0.4 * r.standard_normal(n)


def two_modes_pdf(x):
    return 0.5 * ref.gaussian_pdf(x, -1.5, 0.4) + 0.5 * ref.gaussian_pdf(x, 1.5, 0.4)


game = ToyGAN1D(seed=SEED)
frames = game.train(two_modes, updates=GAME_UPDATES, frame_every=max(1, GAME_UPDATES // (FRAMES - 1)),
                    grid=GRID)
print("update | D(real) | D(fake) | JS(data || KDE of the generator)")
for f in frames[1:]:
    js = ref.js_divergence(two_modes_pdf(GRID), f["p_model"] / np.trapezoid(f["p_model"], GRID), GRID)
    print(f"{f['update']:6d} | {f['d_real']:7.3f} | {f['d_fake']:7.3f} | {js:.4f}")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
gan_plots.game_frames(frames[: FRAMES // 2], two_modes_pdf,
                      title="Generator (blue) against the data (grey); D (orange) against d* (dotted)");

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
gan_plots.game_frames(frames[FRAMES // 2 : FRAMES], two_modes_pdf, title="... and later");

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the frames against the table: the generator finds both modes within a few hundred
# updates, but in this run it makes each of them too *narrow* (the blue spikes), and the JS
# column stays well above 0. The optimal discriminator would punish that ($d^* < 1/2$ on the
# spikes, $> 1/2$ beside them), yet the trained $D$, a smooth network that learns a step at a
# time, stays close to 1/2 and $D$(real) $\approx$ $D$(fake) $\approx 1/2$ throughout.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. When the game goes wrong: mode dropping and oscillation
#
# Nothing in the simultaneous gradient game guarantees convergence. **Correction to the
# notes:** they say convergence is guaranteed when $\max_d v$ "is convex in $\theta^{(g)}$".
# Goodfellow et al.'s Proposition 2 assumes the updates are made on $p_{\rm model}$ itself (in
# function space, where $v$ is convex) and that $d$ reaches $d^*$ at every step; for networks,
# updated in parameter space, neither holds, and the notes' next sentence (the networks "chase
# one another around in the parameter space") is the common case.
#
# Three modes at $-3, 0, 3$; two runs that differ only in network size and step size. Per
# frame, the fraction of generator samples nearest to each mode (1/3 each for a perfect
# generator), and $D$ on the fakes:

# %% slideshow={"slide_type": "fragment"}
CENTERS = np.array([-3.0, 0.0, 3.0])


def three_modes(n, r):
    return CENTERS[r.integers(0, 3, n)] + 0.25 * r.standard_normal(n)


runs = {}
for name, hidden, lr in [("hidden 32, lr 1e-3", 32, 1e-3), ("hidden 16, lr 5e-3", 16, 5e-3)]:
    model = ToyGAN1D(hidden, learning_rate=lr, seed=SEED)
    runs[name] = model.train(three_modes, updates=COLLAPSE_UPDATES,
                             frame_every=max(1, COLLAPSE_UPDATES // 6), grid=GRID)
    print(name)
    for f in runs[name][1:]:
        fr = gan_plots.mode_fractions(f["samples"], CENTERS)
        print(f"  update {f['update']:5d}: modes {np.round(fr, 2)}, D(fake) = {f['d_fake']:.2f}")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True, layout="constrained")
for ax, (name, fr) in zip(axes, runs.items(), strict=True):
    ax.fill_between(GRID, sum(ref.gaussian_pdf(GRID, c, 0.25) for c in CENTERS) / 3,
                    color="0.85", label="data")
    ax.plot(GRID, fr[-1]["p_model"], "C0", label=f"generator, update {fr[-1]['update']}")
    ax.set(title=name, xlabel="x")
axes[0].set_ylabel("density")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to read off the numbers above: with the larger step and the smaller networks the
# generator loses most of the middle mode and does not win it back within these updates, while
# $D$ on its samples stays far from 0: the discriminator does not punish a dropped mode
# strongly, because it only sees where the fakes *are*. The game also does not settle
# smoothly: the JS column of section 5 goes up and down instead of falling steadily (part of
# that is the noise of the density estimate). **Correction to the notes:** they propose to
# "stop training when the discriminator starts outputting 1/2 everywhere". $D = 1/2$ is what
# the equilibrium looks like, but a mean $D$ near 1/2 does not show that the equilibrium is
# reached: a generator that has dropped a mode can keep it there. The labs therefore judge
# samples with the course's yardstick (`coursekit.metrics`: classifier FID and class
# coverage), where a dropped digit shows as a missing class.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. From here to the labs
#
# The labs train the notes' DCGAN (the TensorFlow tutorial's networks: a dense layer to
# $7\times7$ channels, transposed convolutions to $28\times28$, batch normalisation, leaky ReLU,
# $\tanh$ output in $[-1,1]$; a convolutional discriminator with dropout) as
# `coursekit.torch.DCGAN` and `coursekit.keras.DCGAN`. The tutorial's `train_step` uses
# `tf.GradientTape` and runs on TensorFlow only; the Keras model here uses `keras.ops` and
# runs on TensorFlow and on PyTorch, with the same weights giving the same images as the
# PyTorch model. Per epoch: $D$ on real and on fake, both losses, a fixed-noise sample grid,
# and the sample report.

# %% [markdown] slideshow={"slide_type": "fragment"}
# * Rerun section 5 with `ToyGAN1D(loss="saturating")` and the data far from 0: how many
#   updates until the generator moves?
# * In section 6, raise `d_steps` (discriminator steps per generator step): does the mode
#   dropping go away?
