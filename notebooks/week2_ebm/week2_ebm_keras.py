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
# # Week 2 lab: an energy-based model of MNIST in Keras 3
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week2_ebm/week2_ebm_keras.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# We train a small CNN energy $E_\theta(\boldsymbol{x})$ on MNIST the way Du and Mordatch (2019)
# and the uvadlc tutorial (Lippe 2022) do: negatives from short Langevin chains that start in a
# replay buffer, a contrastive loss with energy regularisation, Adam with $\beta_1=0$. Then we
# look at the buffer during training, a chain from noise to a digit, the energies of digits,
# noise and clothes (Fashion-MNIST), out-of-distribution detection by energy, and the samples
# through the course's yardstick. The maths is in `week2_ebm_lecture`; the same lab in PyTorch is
# `week2_ebm_pytorch`. Everything here is Keras 3 (`keras.ops`, `keras.random`) and runs on the
# tensorflow backend (the default) or on torch (`KERAS_BACKEND=torch` before starting Jupyter);
# the one backend-specific piece, the gradient, lives in `coursekit.keras.autodiff`.

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
# Training length is given in parameter **updates**, so a run takes about as long whether the
# full 60,000 digits or the 4,000 offline ones are here. **Sizes for this CPU.** The uvadlc
# settings (batch 128, 60 Langevin steps per update, 60 epochs = 28,000 updates) take hours on
# a 2-core CPU: every update runs the CNN forward and backward 60 times. The full mode below is
# sized so that this notebook finishes in about 11 minutes on 2 cores with the tensorflow backend:
# batch 64, 30 steps per update, 1,500 updates (a CPU budget, not a recommendation; the committed
# run trained in 629 s and took 664 s in all). With so few updates the tutorial's learning rate
# 1e-4 leaves blob-like samples (classifier FID 16.5, 4 of 10 classes after 400 updates in a test
# run); ten times that, 1e-3, gives digit-like ones (the committed run: FID 3.46 from noise, all
# 10 classes, and 1.29 for the replay buffer). On a GPU go back to the tutorial:
# `UPDATES = 20_000`, `BATCH = 128`, `STEPS = 60`, `LR = 1e-4`.

# %% slideshow={"slide_type": "skip"} tags=["parameters"]
import coursekit as ck

SEED = 0
UPDATES = ck.by_mode(full=1500, smoke=4)  # parameter updates
BATCH = ck.by_mode(full=64, smoke=16)
STEPS = ck.by_mode(full=30, smoke=3)  # Langevin steps per update (uvadlc: 60)
STEP_SIZE, NOISE, GRAD_CLIP = 10.0, 0.005, 0.03  # uvadlc / Du and Mordatch (2019)
ALPHA = 0.1  # energy regularisation
LR = 1e-3  # Adam learning rate (beta1 = 0); uvadlc: 1e-4, for 28,000 updates
BUFFER, RESTART = 8192, 0.05  # replay buffer size, share restarted from noise
SAMPLE_STEPS = ck.by_mode(full=256, smoke=4)  # Langevin steps for samples from noise
N_SAMPLES = ck.by_mode(full=500, smoke=40)  # samples judged by coursekit.metrics (>= 500)
N_EVAL = ck.by_mode(full=2000, smoke=100)  # images per energy histogram

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np

from coursekit import metrics
from coursekit.course import results
from coursekit.keras import EBM, cnn_energy  # imports Keras without TensorFlow's start-up noise
from coursekit.plotting import ebm as plotting_ebm

# isort: split
import keras
from keras import ops

ck.plotting.use_style()
ck.seed_everything(SEED)
print("Keras", keras.__version__, "on", keras.backend.backend())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data
#
# Pixels in $[-1, 1]$ (the range the Langevin chains are clamped to), images $[n, 28, 28, 1]$
# (channels last, Keras' convention).

# %% slideshow={"slide_type": "fragment"}
train_images, _ = ck.data.load_mnist("train")
test_images, _ = ck.data.load_mnist("test")
x_train = ck.data.to_float(train_images, (-1, 1))[..., None]
x_test = ck.data.to_float(test_images, (-1, 1))[..., None]
print(f"train {x_train.shape}, test {x_test.shape}; {UPDATES:,} updates of {BATCH}")
print("from:", ck.data.source("mnist", "train"))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The model and its training
#
# The energy is a CNN (four strided convolutions, Swish activations, 2 layers on top). Each
# update takes $B$ start states from the replay buffer (5% fresh uniform noise), runs
# `STEPS` steps of
#
# $$\boldsymbol{x} \leftarrow \mathrm{clamp}_{[-1,1]}\Big(\boldsymbol{x} - \epsilon\,\mathrm{clip}_{0.03}\big(\nabla_{\boldsymbol{x}}E_\theta(\boldsymbol{x})\big) + \sigma\,\boldsymbol{w}\Big),\qquad \epsilon=10,\ \sigma=0.005,$$
#
# writes the results back into the buffer, and takes one Adam step on
#
# $$L(\theta) = \overline{E_\theta(\boldsymbol{x}_{\rm data})} - \overline{E_\theta(\boldsymbol{x}_{\rm sample})}
# + \alpha\Big(\overline{E_\theta(\boldsymbol{x}_{\rm data})^2} + \overline{E_\theta(\boldsymbol{x}_{\rm sample})^2}\Big).$$
#
# Note $\sigma \ne \sqrt{2\epsilon}$: this is **not** Langevin dynamics for $e^{-E}$ (see the
# lecture, section 8); it is a noisy descent that the training learns to shape.

# %% slideshow={"slide_type": "fragment"}
ebm = EBM(cnn_energy(), (28, 28, 1), step_size=STEP_SIZE, noise_scale=NOISE, n_steps=STEPS,
          grad_clip=GRAD_CLIP, clamp=(-1, 1), buffer_size=BUFFER, restart=RESTART,
          alpha=ALPHA, lr=LR, seed=SEED)
ebm.energy.summary()

# %% slideshow={"slide_type": "skip"}
snapshots = []  # buffer states during training


def keep_buffer(model, row):
    snapshots.append((row["update"], model.buffer.states[:8, ..., 0].copy()))


history = ebm.fit(x_train, updates=UPDATES, batch_size=BATCH, log_every=max(1, UPDATES // 10),
                  callback=keep_buffer)
train_seconds = history["seconds"][-1]
print(f"trained in {train_seconds:.0f} s ({UPDATES / train_seconds:.1f} updates/s)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The contrastive term $\overline{E}_{\rm data}-\overline{E}_{\rm sample}$ goes negative and
# hovers: the model keeps pushing data energy down and sample energy up, the sampler keeps
# catching up. Energies stay of order one thanks to the $\alpha$ term.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
ck.plotting.plot_curves({"data": history["e_data"], "samples": history["e_fake"]},
                        x=history["update"], ax=ax1, xlabel="update")
ax1.set_title("mean energy")
ck.plotting.plot_curves({"contrastive": history["cdiv"], "regulariser": history["reg"]},
                        x=history["update"], ax=ax2)
ax2.set_xlabel("update");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The replay buffer during training
#
# The same eight buffer rows at each logged update (rows: time, top to bottom). Rows are
# overwritten when their chain is drawn again, so each row shows whatever chain lives there.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
ck.plotting.image_grid(np.concatenate([s for _, s in snapshots]), ncols=8,
                       title="buffer at updates " + ", ".join(str(u) for u, _ in snapshots[::3]));

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. From noise to a digit
#
# A fresh chain from uniform noise, shown every few steps (left to right): the energy landscape
# the model has learned pulls noise into strokes and then into digits.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
keras.utils.set_random_seed(SEED)
every = max(1, SAMPLE_STEPS // 8)
chain = ebm.sample(8, n_steps=SAMPLE_STEPS, return_chain=True, stride=every).chain  # [k, 8, ...]
chain = ops.convert_to_numpy(chain)[..., 0]  # [k, 8, 28, 28]
ck.plotting.image_grid(chain.transpose(1, 0, 2, 3).reshape(-1, 28, 28), ncols=chain.shape[0],
                       title=f"8 chains from noise, every {every} steps");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Samples, and the yardstick
#
# `N_SAMPLES` chains from noise, `SAMPLE_STEPS` steps each, judged by `coursekit.metrics`
# (classifier FID and class coverage, see week 1), beside the same number of real digits.

# %% slideshow={"slide_type": "skip"}
start = time.perf_counter()
samples = np.concatenate([ops.convert_to_numpy(ebm.sample(100, n_steps=SAMPLE_STEPS).x)
                          for _ in range(N_SAMPLES // 100)] if N_SAMPLES >= 100 else
                         [ops.convert_to_numpy(ebm.sample(N_SAMPLES, n_steps=SAMPLE_STEPS).x)])
sample_seconds = time.perf_counter() - start
images01 = (samples[..., 0] + 1) / 2  # [n, 28, 28] in [0, 1]
min_n = ck.by_mode(full=500, smoke=len(images01))
ebm_report = metrics.sample_report(images01, f"{len(images01)} EBM samples, {SAMPLE_STEPS} steps "
                                   "from noise", min_samples=min_n)
buffer_report = metrics.sample_report((ebm.buffer.states[:len(images01), ..., 0] + 1) / 2,
                                      "as many replay-buffer states", min_samples=min_n)
real_report = metrics.sample_report((x_train[:len(images01), ..., 0] + 1) / 2,
                                    f"{len(images01)} real training digits", min_samples=min_n)

# %% slideshow={"slide_type": "subslide"}
ck.plotting.image_grid(images01[:64], ncols=16, title="EBM samples from noise")
print(ebm_report, buffer_report, real_report, sep="\n\n")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
ck.plotting.class_histogram({"EBM samples": ebm_report, "real digits": real_report});

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Energies and out-of-distribution detection
#
# A model of $p(\boldsymbol{x})$ should give low energy to digits and high energy to anything
# else. We compare test digits, uniform noise, Fashion-MNIST clothes (never seen) and our own
# samples, and use $-E$ as a detector of "is this a digit?": the ROC AUC is the chance that a
# random digit scores higher than a random other image (1 perfect, 0.5 guessing).

# %% slideshow={"slide_type": "skip"}
rng = np.random.default_rng(SEED)
e_digits = ebm.energies(x_test[:N_EVAL])
e_noise = ebm.energies(rng.uniform(-1, 1, (N_EVAL, 28, 28, 1)).astype(np.float32))
e_samples = ebm.energies(samples)
sets = {"MNIST test digits": e_digits, "uniform noise": e_noise, "EBM samples": e_samples}
try:
    fashion, _ = ck.data.load_fashion_mnist("test")
    sets["Fashion-MNIST"] = ebm.energies(ck.data.to_float(fashion[:N_EVAL], (-1, 1))[..., None])
except ck.data.DataError as err:  # no Fashion-MNIST here: the other sets still tell the story
    print(err)

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [2, 1]})
plotting_ebm.energy_histograms(sets, ax=ax1, title="energies under the trained EBM")
others = {k: -v for k, v in sets.items() if k not in ("MNIST test digits", "EBM samples")}
_, aucs = plotting_ebm.roc_curves(-e_digits, others, ax=ax2)
print({k: round(v, 3) for k, v in aucs.items()})

# %% [markdown] slideshow={"slide_type": "fragment"}
# Noise is easy to reject. Clothes are the real test: a good AUC there means the energy learned
# something about digits, not just "smooth images have low energy". Likelihood-based models are
# known to fail such tests in surprising ways (Nalisnick et al. 2019); EBMs trained this way do
# comparatively well (Du and Mordatch 2019, section 4.4; Grathwohl et al. 2020).

# %% [markdown] slideshow={"slide_type": "skip"}
# This model's row of the course-wide results table (`build/results.md` after `make run`):

# %% slideshow={"slide_type": "skip"}
row_file = results.record("week2_ebm_keras", family="EBM",
               framework=f"Keras ({keras.backend.backend()})",
               model=f"CNN energy, {STEPS} Langevin steps/update, replay buffer",
               report=ebm_report, train_seconds=train_seconds, sample_seconds=sample_seconds,
               updates=UPDATES,
               notes=f"OOD AUC vs Fashion-MNIST {aucs.get('Fashion-MNIST', float('nan')):.3f}",
               samples=images01)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. What to try
#
# * Set `NOISE = (2 * STEP_SIZE) ** 0.5` (exact Langevin for $e^{-E}$) and `GRAD_CLIP = None`:
#   what happens to the samples and the training? Why?
# * Set `RESTART = 0` (never restart chains) or `BUFFER = BATCH` (no memory): compare the
#   buffer images and the samples from noise.
# * Set `ALPHA = 0`: watch the energy curves.
# * Set `LR = 1e-4` (the tutorial's rate, meant for 28,000 updates) and compare the samples
#   after the same number of updates.
# * More `UPDATES` (on a GPU): how do FID, coverage and the Fashion-MNIST AUC move?
