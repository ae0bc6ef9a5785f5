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
# # Week 1 lab: an RBM on MNIST in Keras 3
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week1_rbm/week1_rbm_keras.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# We train a binary-binary RBM with 500 hidden units on MNIST with persistent contrastive
# divergence, look at what it learned (filters, samples, reconstructions) and measure it the way
# the literature does: the test log-likelihood, with $\log Z$ estimated by annealed importance
# sampling. The maths is in `week1_rbm_lecture`; the same lab in PyTorch is `week1_rbm_pytorch`.
#
# The model is `coursekit.keras.RBM`, written with `keras.ops` and `keras.random` only, so it runs
# on Keras 3's tensorflow backend (the default) and its torch backend alike: set
# `KERAS_BACKEND=torch` before starting Jupyter to switch. Given the same weights and random
# numbers it computes exactly what the PyTorch version does (a test holds the two together).
#
# *A note on the Keras RBM the lecture points to* (Babcock and Bali, chapter 4, `rbm.py`): it
# draws its uniform random numbers with shape `(n_visible, n_hidden)` where `(batch, n_hidden)` is
# needed, which only broadcasts correctly for a batch of one, and it computes
# $\log(1+e^z)$ literally, which overflows for large $z$. The version here draws one uniform per
# unit and example, uses a stable softplus, and is checked against exact enumeration.

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
# full 60,000 MNIST digits are here or only the 5,000 offline ones.

# %% slideshow={"slide_type": "skip"} tags=["parameters"]
import coursekit as ck

SEED = 0
N_HIDDEN = ck.by_mode(full=500, smoke=16)
UPDATES = ck.by_mode(full=6000, smoke=20)  # parameter updates (minibatches)
BATCH = 100
K = 1  # Gibbs steps per update
PERSISTENT = True  # PCD (Tieleman 2008); False gives CD-k
ETA, MOMENTUM, WEIGHT_DECAY = 0.01, 0.5, 1e-4  # Hinton (2010), sections 4, 9, 10
ETA_FINAL = 0.0  # eta decays linearly to this over the updates (None: constant eta)
GIBBS_STEPS = ck.by_mode(full=1000, smoke=5)  # steps of the sampling chains
AIS_CHAINS = ck.by_mode(full=100, smoke=4)
AIS_BETAS = ck.by_mode(full="sm2008", smoke=51)  # Salakhutdinov & Murray's 14,500 intervals
AIS_RUNS = ck.by_mode(full=4, smoke=2)  # the chains split into independent runs for the spread
N_TEST = ck.by_mode(full=None, smoke=200)  # test images to score (None: all)
N_SAMPLES = ck.by_mode(full=1000, smoke=500)  # Gibbs chains judged by coursekit.metrics
BURN_IN = ck.by_mode(full=1000, smoke=5)  # Gibbs steps before a chain's state counts
PT_CHAINS = ck.by_mode(full=100, smoke=50)  # parallel-tempering chains
PT_REPLICAS, PT_POWER = ck.by_mode(full=24, smoke=4), 1.5  # ladder: temperature_ladder(R, power=)
PT_STEPS = ck.by_mode(full=400, smoke=20)  # PT steps: about the cost of the Gibbs chains above
PT_EVERY = PT_STEPS // 20  # snapshots of the beta = 1 copies; the last N_SAMPLES are kept
# section 2, the algorithm written here: a smaller RBM, trained for about a minute
BUILD_HIDDEN = ck.by_mode(full=200, smoke=16)
BUILD_UPDATES = ck.by_mode(full=5000, smoke=20)
BUILD_ETA = 0.05  # decays linearly to 0, as in section 3

# %% slideshow={"slide_type": "skip"}
import math

import numpy as np

from coursekit.keras import RBM  # imports Keras without TensorFlow's start-up log noise
from coursekit.reference.ais import base_rate_biases
from coursekit.reference.evaluate import PUBLISHED_CD25_500, ais_report
from coursekit.reference.tempering import temperature_ladder

# isort: split
import keras

ck.plotting.use_style()
ck.seed_everything(SEED)
print("Keras", keras.__version__, "on the", keras.backend.backend(), "backend")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data
#
# Pixels become probabilities in $[0,1]$; during training each epoch draws a fresh binary image
# $x_i\sim\mathrm{Bernoulli}(\text{pixel}_i)$ (dynamic binarisation). For evaluation we fix one
# binary version of every image (static threshold at 0.5).

# %% slideshow={"slide_type": "fragment"}
train_images, _ = ck.data.load_mnist("train")
test_images, _ = ck.data.load_mnist("test")
x_train = ck.data.flatten(ck.data.to_float(train_images))  # [n, 784] in [0, 1]
x_test = ck.data.flatten(ck.data.to_float(test_images))
x_test = x_test[:N_TEST] if N_TEST else x_test
train_bin, test_bin = ck.data.binarize(x_train), ck.data.binarize(x_test)
EPOCHS = math.ceil(UPDATES * BATCH / len(x_train))
print(ck.data.splits("mnist", train=len(x_train), test=len(x_test)))
print(f"{EPOCHS} epochs = {UPDATES:,} updates of {BATCH} images")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Build it: contrastive divergence as a loss, in Keras
#
# The Keras RBM the lecture points to (Babcock and Bali, chapter 4) writes CD as a loss to
# minimise with Keras' optimisers. The free energy
# $F(\boldsymbol{x})=-\boldsymbol{a}^T\boldsymbol{x}-\sum_j\log\big(1+e^{b_j+\boldsymbol{x}^T\boldsymbol{W}_{:,j}}\big)$
# sums the hidden units out, $p(\boldsymbol{x})=e^{-F(\boldsymbol{x})}/Z$, and its gradient is
# $-\partial F/\partial\boldsymbol{W}=\boldsymbol{x}\,p(\boldsymbol{h}\mid\boldsymbol{x})^T$.
# So the loss
#
# $$L=\big\langle F(\boldsymbol{x})\big\rangle_{\rm data}-\big\langle F(\boldsymbol{x}_k)\big\rangle_{\rm chains},$$
#
# with the chains' states $\boldsymbol{x}_k$ held fixed (no gradient flows through the Gibbs
# sampler), has $-\partial L/\partial\boldsymbol{W}=\langle\boldsymbol{x}\,p(\boldsymbol{h}\mid\boldsymbol{x})^T\rangle_{\rm data}-\langle\boldsymbol{x}_k\,p(\boldsymbol{h}\mid\boldsymbol{x}_k)^T\rangle_{\rm chains}$:
# exactly the CD-k estimate the PyTorch lab writes by explicit matrix products.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** Write `free_energy`: one value per row of `x`, the softplus summed over the
# hidden units (`keras.ops.softplus` is the stable $\log(1+e^z)$).

# %% slideshow={"slide_type": "fragment"}
import time

from keras import ops

from coursekit.keras import exercises as ex
from coursekit.keras.autodiff import compile_fn, loss_and_grads


def free_energy(x, W, a, b):
    """F(x) = -a^T x - sum_j softplus(b_j + x^T W[:, j]) for each row of x [n, n_v]: [n]."""
    ### BEGIN SOLUTION
    return -ops.matmul(x, a) - ops.sum(ops.softplus(ops.matmul(x, W) + b), axis=1)
    ### END SOLUTION


# %% slideshow={"slide_type": "fragment"}
ex.check_free_energy(free_energy)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** Write `cd_loss`: $k$ block-Gibbs steps of the chains (step `s` draws
# $\boldsymbol{h}$ with `u_h[s] < p(h | x)`, then $\boldsymbol{x}$ with `u_x[s] < p(x | h)`;
# the uniforms are given so that the check can compare your draws with coursekit's), the end
# states held fixed with `keras.ops.stop_gradient`, then $L$ above.

# %% slideshow={"slide_type": "fragment"}
def cd_loss(x, chain, W, a, b, u_h, u_x):
    """The CD loss mean F(x) - mean F(x_k) and the chains' end states x_k [m, n_v].

    x [n, n_v]: binary data. chain [m, n_v]: where the chains start (x itself for CD, the
    persistent chains for PCD). u_h [k, m, n_h], u_x [k, m, n_v]: the uniforms of the k steps.
    """
    ### BEGIN SOLUTION
    for s in range(u_h.shape[0]):
        h = ops.cast(u_h[s] < ops.sigmoid(ops.matmul(chain, W) + b), "float32")
        chain = ops.cast(u_x[s] < ops.sigmoid(ops.matmul(h, ops.transpose(W)) + a), "float32")
    chain = ops.stop_gradient(chain)
    loss = ops.mean(free_energy(x, W, a, b)) - ops.mean(free_energy(chain, W, a, b))
    ### END SOLUTION
    return loss, chain


# %% slideshow={"slide_type": "fragment"}
ex.check_cd_loss(cd_loss)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The same update as the explicit form.** On one batch, minus the gradient of your loss (taken
# by Keras' backend: `loss_and_grads` runs `tf.GradientTape` on tensorflow and
# `torch.autograd` on torch) against the statistics written out, as in the PyTorch lab:

# %% slideshow={"slide_type": "fragment"}
seeds = keras.random.SeedGenerator(SEED)
p_pix = np.clip(x_train.mean(axis=0), 1e-3, 1 - 1e-3)
W = keras.Variable(keras.random.normal((784, BUILD_HIDDEN), stddev=0.01, seed=seeds), name="W")
a = keras.Variable(np.log(p_pix / (1 - p_pix)).astype("float32"), name="a")  # Hinton, sec. 8
b = keras.Variable(np.zeros(BUILD_HIDDEN, "float32"), name="b")
params = [W, a, b]
x = ops.cast(ops.less(keras.random.uniform((BATCH, 784), seed=seeds), x_train[:BATCH]), "float32")
u_h = keras.random.uniform((K, BATCH, BUILD_HIDDEN), seed=seeds)
u_x = keras.random.uniform((K, BATCH, 784), seed=seeds)
_, chain_end, grads = loss_and_grads(
    lambda: cd_loss(x, x, W.value, a.value, b.value, u_h, u_x), params)
p_data = ops.sigmoid(ops.matmul(x, W.value) + b.value)
p_model = ops.sigmoid(ops.matmul(chain_end, W.value) + b.value)
explicit = [ops.matmul(ops.transpose(x), p_data) / BATCH
            - ops.matmul(ops.transpose(chain_end), p_model) / BATCH,
            ops.mean(x, axis=0) - ops.mean(chain_end, axis=0),
            ops.mean(p_data, axis=0) - ops.mean(p_model, axis=0)]
for name, grad, value in zip("Wab", grads, explicit, strict=True):
    gap = float(ops.max(ops.abs(-grad - value)))
    print(f"d{name}: -gradient of the loss vs explicit statistics, largest difference {gap:.1e}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Train it.** Keras' SGD with momentum $\mu$ on $L+\frac{\lambda}{2}\lVert\boldsymbol{W}\rVert^2$
# is Hinton's rule of section 3 ($\boldsymbol{v}\leftarrow\mu\boldsymbol{v}-\eta\,\nabla L$,
# $\boldsymbol{\theta}\leftarrow\boldsymbol{\theta}+\boldsymbol{v}$), with persistent chains,
# dynamic binarisation and a step size decaying to 0: a smaller RBM (`BUILD_HIDDEN` hidden
# units) for `BUILD_UPDATES` updates, under a minute on a 2-core CPU (the cell prints its
# time). `compile_fn` compiles the step with `tf.function` on tensorflow and leaves it as it is
# on torch. The curve is the mean-field reconstruction error of held-out digits; the samples
# are chain ends from noise (drawn with the package's sampler).

# %% slideshow={"slide_type": "skip"}
optimizer = keras.optimizers.SGD(learning_rate=BUILD_ETA, momentum=MOMENTUM)
optimizer.build(params)


def train_step(x, chain, u_h, u_x):
    def loss_fn():
        loss, end = cd_loss(x, chain, W.value, a.value, b.value, u_h, u_x)
        return loss + 0.5 * WEIGHT_DECAY * ops.sum(ops.square(W.value)), end

    _, end, grads = loss_and_grads(loss_fn, params)
    optimizer.apply(grads, params)
    return end


step_fn = compile_fn(train_step)
data, held_out = ops.convert_to_tensor(x_train), ops.convert_to_tensor(test_bin[:500])
rows = np.random.default_rng(SEED).integers(0, len(x_train), (BUILD_UPDATES, BATCH))
chain = ops.cast(keras.random.uniform((BATCH, 784), seed=seeds) < 0.5, "float32")  # persistent
curve, start = [], time.perf_counter()
for step in range(1, BUILD_UPDATES + 1):
    pixels = ops.take(data, rows[step - 1], axis=0)
    x = ops.cast(keras.random.uniform((BATCH, 784), seed=seeds) < pixels, "float32")
    u_h = keras.random.uniform((K, BATCH, BUILD_HIDDEN), seed=seeds)
    u_x = keras.random.uniform((K, BATCH, 784), seed=seeds)
    optimizer.learning_rate.assign(BUILD_ETA * (1 - (step - 0.5) / BUILD_UPDATES))
    chain = step_fn(x, chain, u_h, u_x)
    if step % max(1, BUILD_UPDATES // 50) == 0:
        p_h = ops.sigmoid(ops.matmul(held_out, W.value) + b.value)
        r = ops.sigmoid(ops.matmul(p_h, ops.transpose(W.value)) + a.value)
        curve.append((step, float(ops.mean(ops.sum(ops.square(held_out - r), axis=1)))))
print(f"{BUILD_UPDATES:,} updates in {time.perf_counter() - start:.0f} s")

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
import matplotlib.pyplot as plt

core = RBM(784, BUILD_HIDDEN, seed=SEED)
core.set_weights(W=W.value, a=a.value, b=b.value)
core_samples = core.sample(36, steps=GIBBS_STEPS)
fig = plt.figure(figsize=(12, 4.2))
left, right = fig.subfigures(1, 2, width_ratios=[1.3, 1])
ck.plotting.plot_curves({"reconstruction error": [e for _, e in curve]},
                        x=[s for s, _ in curve], ax=left.subplots(), xlabel="update")
ck.plotting.image_grid(core_samples, ncols=6, ax=right.subplots(),
                       title="your RBM: chain ends from noise");

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The package computes what you wrote.** `coursekit.keras.RBM.gradient` is the explicit
# estimate (its `fit` runs it as one compiled graph, `coursekit/keras/rbm_fast.py`); given your
# weights, the same batch and the same uniforms, it is minus your loss's gradient:

# %% slideshow={"slide_type": "fragment"}
package = RBM(784, BUILD_HIDDEN, persistent=True, n_chains=BATCH, seed=SEED)
package.set_weights(W=W.value, a=a.value, b=b.value)
package.persistent_chains = chain
theirs = package.gradient(x, uniforms=(u_h, u_x))
_, mine_end, grads = loss_and_grads(
    lambda: cd_loss(x, chain, W.value, a.value, b.value, u_h, u_x), params)
for name, grad, value in zip("Wab", grads, theirs, strict=True):
    print(f"d{name}: largest difference {float(ops.max(ops.abs(-grad - value))):.1e}")
print("chains identical:", np.array_equal(ops.convert_to_numpy(mine_end), package.persistent_chains))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The model and its training
#
# `RBM(784, 500)` starts with small random weights, $W_{ij}\sim\mathcal{N}(0, 0.01^2)$, zero
# hidden biases, and visible biases $a_i = \log\frac{p_i}{1-p_i}$ from the pixel means $p_i$
# (Hinton 2010, section 8). Each update with PCD-1 moves 100 persistent chains one Gibbs step
# and applies
#
# $$\Delta\boldsymbol{W} \leftarrow \mu\,\Delta\boldsymbol{W} + \eta\left(\langle\boldsymbol{x}\boldsymbol{h}^T\rangle_{\rm data} - \langle\boldsymbol{x}\boldsymbol{h}^T\rangle_{\rm chains} - \lambda\boldsymbol{W}\right),
# \qquad \boldsymbol{W}\leftarrow\boldsymbol{W}+\Delta\boldsymbol{W},$$
#
# with momentum $\mu$ and weight decay $\lambda$ (biases likewise, without decay).

# %% [markdown] slideshow={"slide_type": "subslide"}
# **A step size that decays.** $\eta$ falls linearly to `ETA_FINAL` $=0$ over the updates. At a
# constant $\eta$ the parameters (and, with PCD, the chains that steer them) keep moving until
# the last update, and the model we keep is a snapshot of that motion; a stochastic-approximation
# method settles only with a decreasing step size (Robbins and Monro 1951; for maximum likelihood
# in Markov random fields, Younes 1999).
#
# What the decay buys is yours to measure: section 9 asks you to train once more with
# `ETA_FINAL = None` (a constant $\eta$) and to compare the class histogram, the FID and the
# test log-likelihood with this run's. One pair of runs is one draw: compare two seeds of each
# before concluding.

# %% slideshow={"slide_type": "fragment"}
rbm = RBM(784, N_HIDDEN, k=K, persistent=PERSISTENT, n_chains=BATCH, eta=ETA,
          momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, seed=SEED)
rbm.init_visible_bias(x_train)
print(rbm)

# %% slideshow={"slide_type": "skip"}
history = rbm.fit(x_train, epochs=EPOCHS, batch_size=BATCH, binarize="dynamic",
                  validation=x_test[:1000], monitor_every=max(1, EPOCHS // 15), seed=SEED,
                  eta_final=ETA_FINAL)
print(f"trained in {history['seconds'][-1]:.0f} s")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two cheap monitors on held-out images (the exact likelihood is intractable during training):
# the **reconstruction error** $\sum_i (x_i - p(x_i=1\mid \boldsymbol{h}=p(\boldsymbol{h}|\boldsymbol{x})))^2$
# and the **pseudo-log-likelihood** $\sum_i \log p(x_i\mid\boldsymbol{x}_{-i})$, estimated by
# flipping one random pixel per image. Neither is the log-likelihood; a low reconstruction
# error says little about samples.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
import matplotlib.pyplot as plt

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
ck.plotting.plot_curves({"reconstruction error": history["recon_error"]}, x=history["epoch"], ax=ax1)
ck.plotting.plot_curves({"pseudo-log-likelihood": history["pll"]}, x=history["epoch"], ax=ax2);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. What the hidden units detect
#
# Column $j$ of $\boldsymbol{W}$ is hidden unit $j$'s receptive field: red pixels switch it on,
# blue ones switch it off. A few are localised blobs; most span the whole digit area, strokes of
# both signs in several places: templates that tell digits apart.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
ck.plotting.filter_grid(rbm.get_weights()["W"], n=100, ncols=20, title="first 100 filters");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Samples from Gibbs chains
#
# Starting from noise, block Gibbs sampling $\boldsymbol{h}\sim p(\boldsymbol{h}|\boldsymbol{x})$,
# $\boldsymbol{x}\sim p(\boldsymbol{x}|\boldsymbol{h})$ walks towards the model's distribution.
# We show $p(\boldsymbol{x}\mid\boldsymbol{h})$ along 10 chains (one per row).

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
every = max(1, GIBBS_STEPS // 10)
chain = rbm.sample(10, steps=GIBBS_STEPS, start="noise", every=every)  # [snapshots, 10, 784]
ck.plotting.image_grid(chain.transpose(1, 0, 2).reshape(-1, 784), ncols=chain.shape[0],
                       title=f"from noise: every {every} steps, left to right");

# %% [markdown] slideshow={"slide_type": "subslide"}
# Chains started at test images stay near digits but wander between them: the model has
# learned where the data lives. The chains from noise move from digit to digit as well, some
# every hundred or two hundred steps (the fourth row: 4, 7, 4, 9, 8, 5, 3), others holding one
# digit for most of the 1,000 steps (the 1 of the third row): mixing between modes is slow,
# which is also why PCD needs many chains.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
chain = rbm.sample(10, steps=GIBBS_STEPS, start=test_bin[:10], every=every)
ck.plotting.image_grid(chain.transpose(1, 0, 2).reshape(-1, 784), ncols=chain.shape[0],
                       title="from test digits");

# %% [markdown] slideshow={"slide_type": "subslide"}
# Reconstructions, $p(\boldsymbol{x}\mid\boldsymbol{h}=p(\boldsymbol{h}|\boldsymbol{x}))$: top test
# images, bottom their reconstructions.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
ck.plotting.image_grid(np.concatenate([test_bin[:12], rbm.reconstruct(test_bin[:12])]), ncols=12);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The test log-likelihood, by AIS
#
# $\log p(\boldsymbol{x}) = -F(\boldsymbol{x}) - \log Z$ needs $\log Z$, a sum over $2^{500}$
# hidden states. Annealed importance sampling (Neal 2001; for RBMs Salakhutdinov and Murray 2008)
# moves chains from a base model with known $Z_A$ (independent pixels with the data's base rates)
# through distributions $p_k \propto p_A^{1-\beta_k} p_B^{\beta_k}$, $0=\beta_0<\dots<\beta_K=1$,
# and averages importance weights: $Z_B/Z_A \approx \frac1M\sum_m w^{(m)}$.
#
# **An honest error bar.** The average of the weights is unbiased for $Z$, but its logarithm is
# biased *low* (Jensen's inequality), by an amount that shrinks as the schedule gets finer. The
# "$\pm 3\sigma$" of the weights, the error bar usually printed, misses that bias: two estimates
# of one model on schedules of different lengths can differ by more than either's $\pm 3\sigma$
# (the report below prints both: compare their difference with $\sigma$). So we run AIS twice, on Salakhutdinov and Murray's 14,500 intervals and,
# with independent chains, on every other beta of it, and report
# $\log\hat Z_K \in [\min(\log\hat Z_K - 3\sigma_K,\ \log\hat Z_{K/2} - 3\sigma_{K/2}),\ \log\hat Z_K + |\log\hat Z_K - \log\hat Z_{K/2}| + 3\sigma_K]$:
# if the bias falls like $c/K$, the full schedule is still low by about the change that doubling
# the betas made. $\sigma$ is the larger of the delta-method error and the spread over
# `AIS_RUNS` independent runs. (On models small enough for the exact $\log Z$, a test checks
# that this range contains it and that doubling the betas once more stays inside it.)

# %% slideshow={"slide_type": "fragment"}
report = ais_report(rbm.get_weights(), train_bin, test_bin, n_chains=AIS_CHAINS,
                    betas=AIS_BETAS, n_runs=AIS_RUNS, seed=SEED)
print(report)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Compared with the literature, on the same kind of data.** Salakhutdinov and Murray (2008)
# report about **-86.3 nats** per test image for a 500-hidden-unit RBM trained with CD-25 on the
# full MNIST for many hours. Their test digits were binarised *stochastically* (each pixel drawn
# once, 1 with probability its intensity; the data set Larochelle and Murray 2011 reuse), ours
# above at a *threshold* of 0.5, which removes the pixel noise. These are different data, and the
# same model scores higher on the thresholded digits. So we also score our model on one fixed
# stochastic binarisation of the same test digits (with the same $\log\hat Z$; only the free
# energies change): that number, not the thresholded one, is the one to set beside theirs.
# Ours comes from a few minutes of PCD-1 on a laptop (and, offline, from 4,000 training digits
# only), so expect it well below theirs; more updates move it up. The likelihood's range comes
# from the range of $\log Z$: it covers the Monte Carlo spread and the schedule's bias as
# estimated by doubling, not every possible failure of AIS (a mode that no chain ever finds stays
# invisible to it).

# %% slideshow={"slide_type": "fragment"}
from coursekit.reference.rbm import free_energy

weights = rbm.get_weights()
test_stoch = ck.data.dynamic_binarize(x_test, rng=0)  # one fixed Bernoulli draw per pixel
neg_f = {"thresholded at 0.5": -free_energy(test_bin, weights["W"], weights["a"], weights["b"]),
         "one stochastic binarisation": -free_energy(test_stoch, weights["W"], weights["a"],
                                                     weights["b"])}
for what, values in neg_f.items():
    print(f"test log-likelihood, {len(values):,} digits {what}: "
          f"{values.mean() - report.log_z:7.2f} nats")
worth = neg_f["thresholded at 0.5"].mean() - neg_f["one stochastic binarisation"].mean()
print(f"the binarisation is worth {worth:.1f} nats to this model; published CD-25(500), "
      f"stochastic binarisation, full MNIST: {PUBLISHED_CD25_500} nats")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. One yardstick for every model: classifier FID and class coverage
#
# A likelihood exists for RBMs and VAEs only. To compare all four families of the course, every
# lab also shows its samples to one fixed digit classifier (`coursekit.metrics`, a small CNN
# trained by the project, evaluated in NumPy):
#
# * **classifier FID**: fit Gaussians $\mathcal N(\boldsymbol\mu_s,\Sigma_s)$ and
#   $\mathcal N(\boldsymbol\mu_r,\Sigma_r)$ to the classifier's 128 penultimate-layer features
#   of the samples and of real test digits, and take the Fréchet distance
#   $d^2=\lVert\boldsymbol\mu_s-\boldsymbol\mu_r\rVert^2+\operatorname{tr}\big(\Sigma_s+\Sigma_r-2(\Sigma_s^{1/2}\Sigma_r\Sigma_s^{1/2})^{1/2}\big)$;
# * **class coverage**: the histogram of predicted digits, how many digits get at least 2.5%
#   of the samples, and its entropy ($\ln 10 = 2.303$ for a balanced generator).
#
# FID measures whether the samples, as a cloud, look like real digits to the classifier: blur,
# noise and missing digits all raise it. It misses what the 128 features do not see, says
# nothing about likelihood or novelty (a model that copies its training digits scores like real
# data), and it depends on the sample count, so we compare at equal counts, beside real digits.

# %% slideshow={"slide_type": "skip"}
import time

from coursekit import metrics
from coursekit.course import results

start = time.perf_counter()
samples = rbm.sample(N_SAMPLES, steps=BURN_IN, start="noise")  # p(x | h) after BURN_IN steps
sample_seconds = time.perf_counter() - start
gibbs_report = metrics.sample_report(samples, f"{N_SAMPLES:,} Gibbs chains from noise, "
                                     f"{BURN_IN:,} steps")
real_images = ck.data.to_float(test_images)
# random halves: the test set's first and last 5,000 come from different writer pools (LeCun
order = np.random.default_rng(SEED).permutation(len(real_images))  # et al.'s MNIST page)
half = len(real_images) // 2
halves = metrics.sample_report(real_images[order[:half]], "real test digits: one random half "
                               "against the other", reference=real_images[order[half:]])
real_same_n = metrics.sample_report(x_train[:N_SAMPLES], f"{N_SAMPLES:,} real training digits")

# %% slideshow={"slide_type": "subslide"}
print(gibbs_report, real_same_n, halves, sep="\n\n")

# %% [markdown] slideshow={"slide_type": "fragment"}
# The class shares show what the grid of ten chains hinted at: the classifier's histogram of the
# Gibbs samples against the balanced share of real digits.

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
ck.plotting.class_histogram({"Gibbs samples": gibbs_report, "real training digits": real_same_n});

# %% [markdown] slideshow={"slide_type": "skip"}
# This model's row of the course-wide results table (`build/results.md` after `make run`,
# [`benchmarks/results/course.md`](../../benchmarks/results/course.md) for the committed run):

# %% slideshow={"slide_type": "skip"}
row_file = results.record("week1_rbm_keras", family="RBM", framework=f"Keras ({keras.backend.backend()})",
               model=f"RBM 784-{N_HIDDEN}, {'PCD' if PERSISTENT else 'CD'}-{K}",
               report=gibbs_report, log_likelihood=report.test_ll,
               likelihood_method=f"AIS, {AIS_CHAINS} chains, {len(report.ais.betas) - 1:,} intervals",
               train_seconds=history["seconds"][-1], sample_seconds=sample_seconds,
               updates=UPDATES,
               samples=samples)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Chains that mix: parallel tempering
#
# A Gibbs chain leaves a digit only now and then (section 5): a 784-500 RBM has deep, well
# separated modes, and one Gibbs sweep changes the state only locally. Physicists know the cure from spin
# glasses: **replica exchange** (Swendsen and Wang 1986; exchange Monte Carlo, Hukushima and
# Nemoto 1996), for RBMs *parallel tempering* (Desjardins et al. 2010). Run $R$ copies of the chain at inverse temperatures
# $1=\beta_0>\beta_1>\dots>\beta_{R-1}=0$; hot copies cross between modes easily, and swaps hand
# their states down to $\beta=1$, whose states are the samples.
#
# As in AIS we temper towards the base-rate model $A$ (independent pixels, biases
# $\boldsymbol a_A$), so the hottest copy draws digit-shaped blobs rather than white noise:
# $E_\beta(\boldsymbol x,\boldsymbol h)=\beta E(\boldsymbol x,\boldsymbol h)-(1-\beta)\boldsymbol a_A^T\boldsymbol x$,
# an RBM with $\beta\boldsymbol W$, $\beta\boldsymbol b$ and $(1-\beta)\boldsymbol a_A+\beta\boldsymbol a$.
# Each step proposes to swap the states of neighbours $(k,k+1)$ (even pairs, then odd pairs)
# and then makes one Gibbs sweep in every copy. With the hidden units summed out, the target is
# $\prod_k p_{\beta_k}(\boldsymbol x_k)$ and Metropolis accepts a swap with
#
# $$\min\Big(1,\ \exp\big[F_k(\boldsymbol x_k)+F_{k+1}(\boldsymbol x_{k+1})-F_k(\boldsymbol x_{k+1})-F_{k+1}(\boldsymbol x_k)\big]\Big),
# \qquad -F_\beta(\boldsymbol x)=(1-\beta)\boldsymbol a_A^T\boldsymbol x+\beta\boldsymbol a^T\boldsymbol x+\sum_j \log\big(1+e^{\beta(b_j+\boldsymbol x^T\boldsymbol W_{:j})}\big).$$
#
# The partition functions cancel; the rule satisfies detailed balance (the tests check it, and
# that PT reproduces the exact distribution of a tiny RBM where Gibbs is stuck). The ladder is
# denser near $\beta=1$, where the free energy changes fastest; a swap rate near 0 anywhere
# would cut the ladder in two. But high swap rates are not yet mixing: what carries a state
# from the hot end, where chains cross between digits, down to $\beta=1$ is a *replica*
# travelling through many accepted swaps. So we also follow every replica and count its **round
# trips**, coldest $\to$ hottest $\to$ coldest (the measure Katzgraber et al. 2006 tune
# ladders by).

# %% slideshow={"slide_type": "skip"}
ladder = temperature_ladder(PT_REPLICAS, power=PT_POWER)
start = time.perf_counter()
pt = rbm.sample_tempered(PT_CHAINS, steps=PT_STEPS, betas=ladder, every=PT_EVERY,
                         base_a=base_rate_biases(train_bin), seed=SEED)
pt_seconds = time.perf_counter() - start
keep = min(len(pt.samples), -(-N_SAMPLES // PT_CHAINS))  # the last snapshots: N_SAMPLES states
pt_samples = pt.samples[-keep:].reshape(-1, 784)[:N_SAMPLES]
pt_report = metrics.sample_report(pt_samples, f"parallel tempering: {PT_CHAINS} chains x "
                                  f"{PT_REPLICAS} replicas, {PT_STEPS} steps")
print(f"{pt} ({pt_seconds:.0f} s; Gibbs: {sample_seconds:.0f} s)")
print(pt.ladder_table())

# %% [markdown] slideshow={"slide_type": "subslide"}
# Side by side, at about the same cost (in full mode `N_SAMPLES` $\times$ `BURN_IN` $=10^6$
# Gibbs sweeps of one image for Gibbs, `PT_CHAINS` $\times R\times$ `PT_STEPS` $=0.96\cdot10^6$
# for PT): on the left the first 50 Gibbs chains, on the right the $\beta=1$ copy of ten PT
# chains at their last five snapshots (one chain per column, time running downwards).

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 6.5))
ck.plotting.image_grid(samples[:50], ncols=10, ax=ax1, title="Gibbs")
ck.plotting.image_grid(pt.samples[-5:, :10].reshape(-1, 784), ncols=10, ax=ax2,
                       title="parallel tempering");

# %% slideshow={"slide_type": "subslide"}
print(gibbs_report, pt_report, sep="\n\n")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
ck.plotting.class_histogram({"Gibbs": gibbs_report, "parallel tempering": pt_report,
                             "real training digits": real_same_n});

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
from IPython.display import Markdown


def shares(report):
    h = 100 * report.coverage.histogram
    most, least = int(h.argmax()), int(h.argmin())
    return (f"FID {report.fid:.2f}, {report.coverage.n_classes} of 10 digits covered (the "
            f"{most} {h[most]:.0f}% of the samples, the {least} {h[least]:.0f}%)")


Markdown(f"**This run**, {N_SAMPLES:,} samples each: Gibbs {shares(gibbs_report)}; parallel "
         f"tempering {shares(pt_report)}. For scale: {real_same_n.fid:.2f} for "
         f"{N_SAMPLES:,} real training digits, {halves.fid:.2f} for one half of the test "
         f"digits against the other. Swap rates {pt.swap_rates.min():.2f} to "
         f"{pt.swap_rates.max():.2f} (mean {pt.swap_rates.mean():.2f}); "
         f"{int(pt.round_trips.sum()):,} round trips of replicas in {PT_STEPS:,} steps, "
         f"{int((pt.round_trips > 0).sum())} of the {PT_CHAINS} chains with at least one.")

# %% [markdown] slideshow={"slide_type": "fragment"}
# **What to look for.** A swap rate near 0 anywhere would cut the ladder in two. Rates well
# above 0 all along it are necessary, not sufficient: the round trips say whether states from the
# hot end did arrive at $\beta=1$ (a chain with none has sampled only what its cold replicas
# reached by Gibbs steps). Compare the two samplers' histograms digit by digit: a digit that
# Gibbs under-samples and PT does not is a mode that chains from noise seldom reach within
# `BURN_IN` steps; an excess both samplers share belongs to the *model*, not to a sampler.
# PT's samples are `PT_EVERY`-spaced snapshots of `PT_CHAINS` chains, so a chain that holds one
# digit counts several times (a column of the right grid that keeps one digit): its histogram
# is noisier than that of `N_SAMPLES` independent Gibbs chains.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. Save, load, and what to try
#
# `rbm.save` writes the parameters, momentum buffers and persistent chains atomically (a crash
# mid-write leaves the old file), so training can resume from the file.

# %% slideshow={"slide_type": "skip"}
from pathlib import Path

path = rbm.save(Path("checkpoints") / "rbm_keras.npz")
same = RBM.load(path)
print(path, "reloaded:", np.array_equal(same.get_weights()["W"], rbm.get_weights()["W"]))

# %% [markdown] slideshow={"slide_type": "fragment"}
# * Set `PERSISTENT = False` (CD-1): the reconstruction error improves, the samples from noise
#   and the AIS log-likelihood get worse. Why?
# * Train with `K = 10`, or twice as many updates: how much does the test log-likelihood move?
# * Fewer hidden units (e.g. 25): compare the filters and the log-likelihood.
# * Set `ETA_FINAL = None` (a constant step size): compare the class histograms and the test
#   log-likelihood with this run.
# * Parallel tempering: halve `PT_REPLICAS`. Which swap rate collapses first, and what happens
#   to the class coverage?
