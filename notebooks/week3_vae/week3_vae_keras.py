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
# # Week 3 lab: a variational autoencoder on MNIST in Keras 3
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week3_vae/week3_vae_keras.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# The convolutional VAE of the lecture (the keras.io example's encoder and decoder) with a
# **2-D latent space**, to draw its latent space, manifold and interpolations; then an MLP VAE
# with **20 latent variables** for the test log-likelihood in nats (IWAE, $K=1000$) and the
# samples. The maths is in `week3_vae_lecture`; the same lab in PyTorch is `week3_vae_pytorch`.
#
# *About the lecture's Keras code.* The keras.io example overrides `train_step` with a
# `tf.GradientTape`, so it runs on TensorFlow only. `coursekit.keras.VAE` computes the same loss
# in `compute_loss` with `keras.ops`, draws its noise with `keras.random` and a `SeedGenerator`,
# and trains with Keras' own `fit` on the tensorflow and the torch backend alike: set
# `KERAS_BACKEND=torch` before starting Jupyter to switch. Its decoder returns logits (the
# example returns probabilities and takes their logarithm, which underflows for confident
# pixels).

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
# Training length is given in parameter **updates** (minibatches of `BATCH` images, or
# `BATCH_CONV` for the convolutional model). The full mode is sized to finish in under 10
# minutes on a 2-core laptop CPU (measured: see the end). The convolutional model costs many
# times as much per image as the MLP, in training and in its $K=1000$ estimate, so it is scored
# on `N_IWAE_CONV` test images.
# `DATASET = "fashion_mnist"` runs the same lab on Fashion-MNIST.

# %% slideshow={"slide_type": "skip"} tags=["parameters"]
import coursekit as ck

SEED = 0
DATASET = "mnist"  # or "fashion_mnist"
UPDATES_CONV = ck.by_mode(full=6000, smoke=10)  # parameter updates of the 2-D conv VAE
BATCH_CONV = 32  # its minibatch (see section 3)
DENSE_CONV = 128  # units of the conv encoder's dense layer (keras.io: 16; see section 3)
LATENT = ck.by_mode(full=20, smoke=4)  # latent variables of the likelihood model (MLP)
HIDDEN = ck.by_mode(full=400, smoke=32)
UPDATES = ck.by_mode(full=6000, smoke=20)  # parameter updates of the MLP VAE
BATCH = 128
LEARNING_RATE = 1e-3  # Adam (Kingma and Ba 2015), as in the keras.io example
K_IWAE = ck.by_mode(full=1000, smoke=10)  # importance samples per test image
N_TEST = ck.by_mode(full=None, smoke=200)  # test images to score (None: all)
N_IWAE_CONV = ck.by_mode(full=100, smoke=20)  # test images for the conv model's IWAE
N_EXTRA = ck.by_mode(full=2000, smoke=50)  # test images for the stochastic-test IWAE
N_VAL = 2000  # test images whose ELBO is monitored after every epoch
N_SAMPLES = ck.by_mode(full=1000, smoke=500)  # prior samples judged by coursekit.metrics
# section 2, the algorithm written here: a smaller VAE, trained for about a minute
BUILD_HIDDEN = ck.by_mode(full=256, smoke=16)
BUILD_LATENT = ck.by_mode(full=16, smoke=2)
BUILD_UPDATES = ck.by_mode(full=3000, smoke=20)

# %% slideshow={"slide_type": "skip"}
import math
import time

import matplotlib.pyplot as plt
import numpy as np

from coursekit.keras import VAE  # imports Keras without TensorFlow's start-up log noise
from coursekit.plotting import vae as vae_plots
from coursekit.reference.vae import PUBLISHED_IWAE_1LAYER

# isort: split
import keras

ck.plotting.use_style()
ck.seed_everything(SEED)
print("Keras", keras.__version__, "on the", keras.backend.backend(), "backend")
notebook_start = time.perf_counter()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data and binarisation
#
# Training images are binarised *dynamically* inside the model: in every batch, pixel $i$
# becomes 1 with probability equal to its intensity (a `keras.random.uniform` draw). Test images
# are binarised *statically* at 0.5, as in week 1, and once *stochastically* (seed 0), the
# protocol of Burda et al. (2015).

# %% slideshow={"slide_type": "fragment"}
train_images, train_labels = ck.data.load(DATASET, "train")
test_images, test_labels = ck.data.load(DATASET, "test")
x_train = ck.data.flatten(ck.data.to_float(train_images))  # [n, 784] in [0, 1]
x_test = ck.data.flatten(ck.data.to_float(test_images))[:N_TEST]
y_test = test_labels[:N_TEST]
test_bin = ck.data.binarize(x_test)  # threshold 0.5, as in week 1
test_stoch = ck.data.dynamic_binarize(x_test, rng=0)  # one fixed Bernoulli draw
epochs = lambda updates, batch=BATCH: max(1, math.ceil(updates * batch / len(x_train)))  # noqa: E731
print(ck.data.splits(DATASET, train=len(x_train), test=len(x_test)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Build it: the VAE as a Keras model with its own `train_step`
#
# Before the package's VAE, the algorithm itself, as keras.io's example writes it: a
# `keras.Model` subclass whose `train_step` computes minus the one-sample ELBO (the lecture
# notes' equation (1)) and takes one optimiser step,
#
# $$-\mathcal{L}(\boldsymbol{x})=\underbrace{\tfrac12\sum_{j=1}^{k}\big(\sigma_j^2+\mu_j^2-1-\log\sigma_j^2\big)}_{\mathcal{D}[Q(\boldsymbol{h}|\boldsymbol{x})\,\|\,p(\boldsymbol{h})]}
# -\underbrace{\sum_{i=1}^{784}\big(x_i\,l_i-\log(1+e^{l_i})\big)}_{\log p(\boldsymbol{x}|\boldsymbol{z})},
# \qquad \boldsymbol{z}=\boldsymbol{\mu}+\boldsymbol{\sigma}\odot\boldsymbol{\epsilon},\ \boldsymbol{\epsilon}\sim\mathcal{N}(\boldsymbol 0,\boldsymbol I),$$
#
# averaged over the batch. The encoder returns $\boldsymbol{\mu}$ and
# $\log\boldsymbol{\sigma}^2$ (`z_mean`, `z_log_var` in keras.io), so $\boldsymbol{\sigma}=e^{\log\boldsymbol{\sigma}^2/2}$;
# the decoder returns logits $l_i$, $p(x_i=1|\boldsymbol{h})=\mathrm{sigmoid}(l_i)$, and
# $x_i\log\mathrm{sigmoid}(l_i)+(1-x_i)\log(1-\mathrm{sigmoid}(l_i))=x_i l_i-\log(1+e^{l_i})$.
# The KL term is the notes' closed form with $\Sigma=\mathrm{diag}\,\boldsymbol{\sigma}^2$. (The
# notes call the KL divergence "also known as ... Shannon entropy": it is the *relative*
# entropy, not Shannon's entropy.) First the three pieces, each checked on both backends.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** Write `reparameterize`: the draw $\boldsymbol{z}=\boldsymbol{\mu}+\boldsymbol{\sigma}\odot\boldsymbol{\epsilon}$
# with the noise `eps` given, so that gradients reach $\boldsymbol{\mu}$ and
# $\log\boldsymbol{\sigma}^2$ (the check compares them too).

# %% slideshow={"slide_type": "fragment"}
from keras import layers, ops

from coursekit.keras import exercises as ex


def reparameterize(mean, log_var, eps):
    """z = mean + sigma * eps [n, k], sigma = exp(log_var / 2); all three [n, k]."""
    ### BEGIN SOLUTION
    z = mean + ops.exp(0.5 * log_var) * eps
    ### END SOLUTION
    return z


# %% slideshow={"slide_type": "fragment"}
ex.check_reparameterize(reparameterize)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** Write `kl_divergence`, one value per image, summed over the $k$ latent
# variables.

# %% slideshow={"slide_type": "fragment"}
def kl_divergence(mean, log_var):
    """D[N(mean, diag(exp(log_var))) || N(0, I)] for each row of mean, log_var [n, k]: [n]."""
    ### BEGIN SOLUTION
    kl = 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=1)
    ### END SOLUTION
    return kl


# %% slideshow={"slide_type": "fragment"}
ex.check_kl_divergence(kl_divergence)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** Write `bernoulli_log_prob` from the logits, summed over the pixels
# (`keras.ops.softplus` is the stable $\log(1+e^l)$).

# %% slideshow={"slide_type": "fragment"}
def bernoulli_log_prob(x, logits):
    """log p(x|z) = sum_i x_i l_i - softplus(l_i) for each row of x, logits [n, 784]: [n]."""
    ### BEGIN SOLUTION
    log_p = ops.sum(x * logits - ops.softplus(logits), axis=1)
    ### END SOLUTION
    return log_p


# %% slideshow={"slide_type": "fragment"}
ex.check_bernoulli_log_prob(bernoulli_log_prob)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The model.** keras.io's `train_step` records the loss under a `tf.GradientTape` and so runs
# on TensorFlow only. Keras 3 has no backend-neutral gradient, so this one branches, as
# keras.io's guides "Customizing what happens in `fit()`" do for each backend: a
# `GradientTape` on tensorflow; on torch, `zero_grad`, `backward` and the gradients stored in
# the variables. Everything else (the pieces above, the optimiser, the metrics) is
# backend-neutral. The noise comes from a seeded `keras.random.SeedGenerator`; the training
# images are binarised afresh in every batch; the layout is the package's MLP (784-`BUILD_HIDDEN`-2k,
# k-`BUILD_HIDDEN`-784).

# %% slideshow={"slide_type": "fragment"}
class BuildVAE(keras.Model):
    def __init__(self, latent, hidden, seed):
        super().__init__()
        self.latent = latent
        self.encoder = keras.Sequential([keras.Input((784,)), layers.Dense(hidden, "relu"),
                                         layers.Dense(2 * latent)])
        self.decoder = keras.Sequential([keras.Input((latent,)), layers.Dense(hidden, "relu"),
                                         layers.Dense(784)])
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = [keras.metrics.Mean(name=n) for n in ("loss", "reconstruction", "kl")]

    @property
    def metrics(self):
        return self.trackers

    def call(self, x):  # Keras builds the model through it: the reconstruction's logits
        return self.decoder(self.encoder(x)[:, : self.latent])

    def negative_elbo(self, x):
        """Batch means of -ELBO, log p(x|z) and KL for images x [n, 784] in [0, 1]."""
        u = keras.random.uniform(ops.shape(x), seed=self.seed_generator)
        x = ops.cast(ops.less(u, x), "float32")  # dynamic binarisation
        out = self.encoder(x)
        mean, log_var = out[:, : self.latent], out[:, self.latent :]
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        logits = self.decoder(reparameterize(mean, log_var, eps))
        rec = ops.mean(bernoulli_log_prob(x, logits))
        kl = ops.mean(kl_divergence(mean, log_var))
        return kl - rec, rec, kl

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)  # fit(x): no labels
        weights = self.trainable_weights
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                terms = self.negative_elbo(x)
            self.optimizer.apply(tape.gradient(terms[0], weights), weights)
        else:  # torch
            import torch

            self.zero_grad()
            terms = self.negative_elbo(x)
            terms[0].backward()
            with torch.no_grad():
                self.optimizer.apply([w.value.grad for w in weights], weights)
        for tracker, value in zip(self.trackers, terms, strict=True):
            tracker.update_state(value)
        return {t.name: t.result() for t in self.trackers}


# %% [markdown] slideshow={"slide_type": "subslide"}
# **Train it.** Adam on minus the ELBO with Keras' own `fit` (it calls your `train_step` for
# every batch), `BUILD_UPDATES` updates: about a minute on a 2-core CPU (the cell prints its
# time). The curves are the epoch means of the two terms; the samples decode draws from the
# prior.

# %% slideshow={"slide_type": "skip"}
model = BuildVAE(BUILD_LATENT, BUILD_HIDDEN, seed=SEED)
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
start = time.perf_counter()
build = model.fit(x_train, epochs=epochs(BUILD_UPDATES), batch_size=BATCH, verbose=0).history
build_seconds = time.perf_counter() - start
print(f"{epochs(BUILD_UPDATES)} epochs ({int(ops.convert_to_numpy(model.optimizer.iterations)):,} "
      f"updates) in "
      f"{build_seconds:.0f} s on the {keras.backend.backend()} backend")

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
z = keras.random.normal((36, BUILD_LATENT), seed=SEED)
core_samples = ops.convert_to_numpy(ops.sigmoid(model.decoder(z)))
fig = plt.figure(figsize=(12, 4.2))
left, right = fig.subfigures(1, 2, width_ratios=[1.3, 1])
ck.plotting.plot_curves({"-ELBO": build["loss"], "-log p(x|z)": [-r for r in build["reconstruction"]],
                         "KL": build["kl"]}, ax=left.subplots(), ylabel="nats")
ck.plotting.image_grid(core_samples, ncols=6, ax=right.subplots(),
                       title="your VAE: p(x=1|h), h from the prior");

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
from IPython.display import Markdown

Markdown(f"**This run**: minus the ELBO (epoch means over the training batches) fell from "
         f"{build['loss'][0]:.1f} to {build['loss'][-1]:.1f} nats per image in "
         f"{build_seconds:.0f} s; its KL term went from {build['kl'][0]:.1f} to "
         f"{build['kl'][-1]:.1f} nats.")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The package computes what you wrote.** `coursekit.keras.VAE` with the same layout and your
# weights, its noise generator set to the state of yours (so both binarise the batch and draw
# $\boldsymbol{\epsilon}$ identically), and a fresh Adam each: one `train_on_batch` of each
# gives the same terms and the same updated weights.

# %% slideshow={"slide_type": "fragment"}
package = VAE(BUILD_LATENT, arch="mlp", hidden=BUILD_HIDDEN, learning_rate=LEARNING_RATE)
package.encoder.set_weights(model.encoder.get_weights())
package.decoder.set_weights(model.decoder.get_weights())
package.seed_generator.state.assign(model.seed_generator.state.value)
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))  # a fresh Adam
batch = x_train[:BATCH]
mine = model.train_on_batch(batch, return_dict=True)
theirs = package.train_on_batch(batch, return_dict=True)
print("largest difference of", ", ".join(f"{k} {abs(mine[k] - theirs[k]):.1e}" for k in mine))
after = [*model.encoder.get_weights(), *model.decoder.get_weights()]
gap = max(np.abs(a - b).max() for a, b in zip(
    after, [*package.encoder.get_weights(), *package.decoder.get_weights()], strict=True))
print(f"weights after the step: largest difference {gap:.1e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The convolutional VAE
#
# Encoder (keras.io): two stride-2 convolutions (32 and 64 filters, $28\to14\to7$), a dense
# layer of `DENSE_CONV` ReLU units, then $(\boldsymbol{\mu},\log\boldsymbol{\sigma}^2)$. Decoder: dense
# $7\times7\times64$, two stride-2 transposed convolutions (64, 32), and a last one to one
# channel of logits. The loss, in `compute_loss`, is the negative one-sample ELBO,
# $\mathcal{D}[Q(\boldsymbol{h}|\boldsymbol{x})\|p(\boldsymbol{h})] - \log p(\boldsymbol{x}|\boldsymbol{z})$
# with $\boldsymbol{z}=\boldsymbol{\mu}+\boldsymbol{\sigma}\odot\boldsymbol{\epsilon}$; `fit` reports
# both terms.
#
# *One change from keras.io.* Its encoder's dense layer has 16 units, and keras.io trains for
# 30 passes over 70,000 digits. Here, with this lab's budget of updates on the 4,000 offline
# digits, those 16 ReLU units left the encoder almost unused: the KL term (what the code says
# about each image) started near zero and stayed low, the decoded grid showed two or three
# digits, and most reconstructions changed the digit. With `DENSE_CONV = 128` (about the same
# cost per update) the encoder carries the digit from the first epoch. Try `DENSE_CONV = 16`
# and look at the KL curve and at the numbers of section 4.
#
# *A second change: smaller minibatches.* An update on 32 images costs much less than one on
# 128 (the convolutions dominate the cost), and for this model the number of updates mattered
# more than the noise of each: when we tried `BATCH_CONV = 128` with a quarter of the updates,
# in a similar time, the ELBO was worse and the latent space kept fewer labels. Try it, and
# compare the numbers of section 4.

# %% slideshow={"slide_type": "fragment"}
conv = VAE(2, arch="conv", dense=DENSE_CONV, learning_rate=LEARNING_RATE, seed=SEED)
conv.encoder.summary(line_length=80)

# %% slideshow={"slide_type": "skip"}
def train(model, updates, batch=BATCH):
    """``fit`` for ``updates`` updates of ``batch`` images; returns the history with the
    update count per epoch, and the seconds it took."""
    start = time.perf_counter()
    fitted = model.fit(x_train, epochs=epochs(updates, batch), batch_size=batch,
                       validation_data=test_bin[:N_VAL], verbose=0)
    seconds = time.perf_counter() - start
    steps = math.ceil(len(x_train) / batch)
    history = {"updates": [steps * (e + 1) for e in fitted.epoch], **fitted.history}
    print(f"{model.updates:,} updates in {seconds:.0f} s; last epoch: "
          + ", ".join(f"{k} {v[-1]:.1f}" for k, v in fitted.history.items()))
    return history, seconds


history_conv, conv_seconds = train(conv, UPDATES_CONV, BATCH_CONV)

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
vae_plots.terms_curves(history_conv);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Reconstructions, latent space, manifold, interpolation
#
# Test images (top) and $p(\boldsymbol{x}=1|\boldsymbol{h}=\boldsymbol{\mu}(\boldsymbol{x}))$
# (bottom):

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
ck.plotting.image_grid(np.concatenate([test_bin[:12], conv.reconstruct(test_bin[:12])]), ncols=12);

# %% [markdown] slideshow={"slide_type": "subslide"}
# The encoder means of the test images, coloured by digit (labels never used in training):

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
vae_plots.latent_scatter(conv.embed(test_bin), y_test);

# %% [markdown] slideshow={"slide_type": "subslide"}
# The decoder on a grid of latent points (5%..95% quantiles of $\mathcal{N}(0,1)$ per axis),
# the picture of the keras.io example:

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
vae_plots.manifold(conv, n=15);

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Did it work?** The course's digit classifier (`coursekit.metrics`, see week 1) gives two
# numbers: the classes it reads in the decoded grid above (a failed model decodes most of the
# plane to one or two blobs), and the share of test reconstructions that get the input's label
# (a failed model changes the digit). Two references say what "good" can mean here:
#
# * the classifier's accuracy on the test images themselves, the most any reconstruction can
#   reach;
# * the labels of the 5 nearest *training codes* $\boldsymbol{\mu}(\boldsymbol{x})$ (a
#   $k$-nearest-neighbour vote in the 2-D plane, `metrics.neighbour_accuracy`; labels are used
#   only here): the share of digits
#   that two numbers, as this encoder places them, keep apart at all. A decoder reads only the
#   code, so its reconstructions cannot keep more labels than the code holds, give or take
#   the vote's own errors.
#
# The classifier reads each decoded image twice: the Bernoulli means drawn above, and the
# decoder's most probable image (a pixel on where $p(x_i=1|\boldsymbol{h})>0.5$), binary like
# the test images the model was trained to explain. The means of a 2-D model are faint and
# blurred where it is unsure; the classifier learnt from sharp digits (shifted and turned a
# little, never blurred), and it reads many of them as one class (compare the class shares
# printed below with the grid above). The most probable image is the fairer reading.

# %% slideshow={"slide_type": "fragment"}
from coursekit import metrics

classifier = metrics.load_classifier(DATASET)
grid_means = conv.decode_mean(vae_plots.latent_grid(15))
rec_means = conv.reconstruct(test_bin[:N_VAL])
code_vote = metrics.neighbour_accuracy(conv.embed(x_train), train_labels,
                                       conv.embed(test_bin[:N_VAL]), y_test[:N_VAL], k=5)
print(f"{N_VAL:,} test images. The classifier on the images themselves: "
      f"{np.mean(classifier.predict(test_bin[:N_VAL]) == y_test[:N_VAL]):.1%} correct; "
      f"vote of the 5 nearest training codes: {code_vote:.1%}")
for name, grid, rec in [("Bernoulli means", grid_means, rec_means),
                        ("most probable image", grid_means > 0.5, rec_means > 0.5)]:
    grid, rec = grid.astype(np.float32), rec.astype(np.float32)
    kept = classifier.predict(rec) == y_test[:N_VAL]
    print(f"{name}: reconstructions keeping the label {kept.mean():.1%}; decoded 15 x 15 grid "
          f"{metrics.class_coverage(grid, dataset=DATASET)}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Read the two readings against the two references. Where the most probable image keeps about
# as many labels as the nearest codes, the decoder does what the code allows, and the limit is
# the code: two numbers per image, placed by a model that is rewarded for pixels (stroke
# width, slant), not for labels, so digits written alike (4 and 9, 3, 5 and 8) share a region
# of the plane (look for the mixed colours in the scatter plot). Section 5 trains a model with
# `LATENT` numbers per image and measures the same share for it.

# %% [markdown] slideshow={"slide_type": "subslide"}
# Interpolation: the decoder on the straight line between the codes of two test digits. A 1
# and a 0 lie far apart in the plane, and the path passes through the digits that the grid
# above shows between them. A 4 and a 9 are written alike and lie close together (the scatter
# plot): if the second path decodes to one digit all the way, its two ends share a region of
# the plane, and the 4's own reconstruction has changed the digit, one of those counted above.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
first = {digit: int(np.flatnonzero(y_test == digit)[0]) for digit in (0, 1, 4, 9)}
vae_plots.interpolation(conv, test_bin[first[1]], test_bin[first[0]], steps=10);

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
vae_plots.interpolation(conv, test_bin[first[4]], test_bin[first[9]], steps=10);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. An MLP VAE with 20 latent variables
#
# For the likelihood we mirror the PyTorch lab's model, 784-400-20 with batch 128, so that the
# two frameworks can be compared number for number. `arch="mlp"` swaps the networks; the loss
# and the training loop are the same code.

# %% slideshow={"slide_type": "skip"}
mlp = VAE(LATENT, arch="mlp", hidden=HIDDEN, learning_rate=LEARNING_RATE, seed=SEED)
history, train_seconds = train(mlp, UPDATES)

# %% [markdown] slideshow={"slide_type": "fragment"}
# Does the code hold the digit when it has `LATENT` numbers? The share of section 4, for this
# model:

# %% slideshow={"slide_type": "fragment"}
for name, rec in [("Bernoulli means", mlp.reconstruct(test_bin[:N_VAL])),
                  ("most probable image", mlp.reconstruct(test_bin[:N_VAL]) > 0.5)]:
    kept = classifier.predict(rec.astype(np.float32)) == y_test[:N_VAL]
    print(f"{LATENT}-D MLP, {name}: reconstructions keeping the label {kept.mean():.1%}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# One quantity for both sets, minus the ELBO (nats per image; lower is better): the epoch mean
# over the training batches, and the value on `N_VAL` test images after each epoch. The two
# curves do not see the same kind of image: the training batches are fresh Bernoulli draws of
# the digits (noisy pixels cost nats), the test images are thresholded at 0.5 (clean), so the
# test curve can lie *below* the training curve without the model doing better on unseen
# digits. Overfitting its (offline: 4,000) training digits would show as the test curve turning
# up while the training curve keeps falling. The line under the figure removes the binarisation
# from the comparison: it scores `N_VAL` training digits thresholded like the test images, so
# the difference of those two numbers is the generalisation gap.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
vae_plots.elbo_curves(history);

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
train_elbo, test_elbo = mlp.elbo(ck.data.binarize(x_train[:N_VAL])), mlp.elbo(test_bin[:N_VAL])
Markdown(f"**This run**, last epoch: -ELBO {history['loss'][-1]:.1f} on the training batches "
         f"(Bernoulli draws), {history['val_loss'][-1]:.1f} on the test images (thresholded). "
         f"Both thresholded, {N_VAL:,} images each: training {-train_elbo:.1f}, test "
         f"{-test_elbo:.1f} nats: the model explains the digits it trained on "
         f"{abs(train_elbo - test_elbo):.1f} nats per image "
         f"{'better' if train_elbo > test_elbo else 'worse'} than unseen ones.")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Samples from the prior, Bernoulli means $p(\boldsymbol{x}=1|\boldsymbol{h})$,
# $\boldsymbol{h}\sim\mathcal{N}(\boldsymbol 0,\boldsymbol I)$:

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5.6), layout="constrained")
ck.plotting.image_grid(conv.sample(64, seed=1), ncols=8, ax=ax1, title="conv, 2-D latent space")
ck.plotting.image_grid(mlp.sample(64, seed=1), ncols=8, ax=ax2, title=f"MLP, {LATENT}-D latent space");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The test log-likelihood in nats
#
# The importance-weighted bound with $K$ samples from $Q(\boldsymbol{h}|\boldsymbol{x})$,
# $\log\frac1K\sum_k p(\boldsymbol{x},\boldsymbol{h}_k)/Q(\boldsymbol{h}_k|\boldsymbol{x})$, batched
# so that $K=1000$ fits in memory; $K=1$ is the ELBO. The convolutional model is scored on the
# first `N_IWAE_CONV` test images only (its decoder is ~20x the MLP's cost per pass).

# %% slideshow={"slide_type": "fragment"}
start = time.perf_counter()
iwae_all = mlp.log_likelihood(test_bin, k=K_IWAE)  # the main number: every test image
main_seconds = time.perf_counter() - start
n_conv, extra = min(N_IWAE_CONV, len(test_bin)), slice(0, N_EXTRA)
table = {
    f"MLP {LATENT}-D": {"ELBO": mlp.elbo(test_bin), f"IWAE K={K_IWAE}": iwae_all.mean(),
                        "on the first N_EXTRA": iwae_all[extra].mean(),
                        "same, stochastic test": mlp.log_likelihood(test_stoch[extra], k=K_IWAE).mean(),
                        "on the first N_IWAE_CONV": iwae_all[:n_conv].mean()},
    "conv 2-D": {"ELBO": conv.elbo(test_bin), f"IWAE K={K_IWAE}": float("nan"),
                 "on the first N_EXTRA": float("nan"), "same, stochastic test": float("nan"),
                 "on the first N_IWAE_CONV": conv.log_likelihood(test_bin[:n_conv], k=K_IWAE).mean()},
}
print(f"nats per image; ELBO and IWAE on all {len(test_bin):,} test images (MLP IWAE in "
      f"{main_seconds:.0f} s), then on the first {N_EXTRA:,} and the first {n_conv:,}")
for name, row in table.items():  # "—": not computed for this model (it costs minutes)
    print(f"{name:9s}", " | ".join(f"{k}: {v:8.2f}" if v == v else f"{k}:        —"
                            for k, v in row.items()))
test_ll = float(iwae_all.mean())

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Compared with the literature and with week 1.** Which binarisation the test images get
# matters more than anything else here: a threshold at 0.5 removes the pixel noise, so the same
# model scores higher on thresholded digits than on Bernoulli draws of them (the columns *on the
# first N_EXTRA* and *same, stochastic test* hold the same images; the line below prints the
# difference). The two are different data sets and their log-likelihoods cannot be compared with
# each other. Look also at the 2-D model against the 20-D one: two numbers cannot hold a digit's
# details.
#
# * **Burda et al. (2015)**: **-86.76 nats** for a VAE with one stochastic layer of 50 units
#   (two deterministic layers of 200 tanh units), on *dynamically* binarised MNIST, $K=5000$,
#   after 3,280 passes over the 60,000 training digits with a decaying learning rate. Comparable
#   with our *stochastic test* column, not with the thresholded one: we train for a minute or
#   two (offline, on 4,000 digits), so expect to be below them. A thresholded number near
#   theirs would be a coincidence of the two binarisations, not a match.
# * **Week 1's RBM** (500 hidden units, PCD-1, a few minutes) is scored by AIS on every test
#   digit thresholded at 0.5, like our thresholded column, and on one stochastic binarisation.
#   Week 5 sets the two families' records side by side (after checking that they scored the same
#   test images). Two caveats: IWAE is a stochastic *lower* bound (the true value is higher),
#   while AIS tends to *overestimate* an RBM's log-likelihood (it underestimates $\log Z$).

# %% slideshow={"slide_type": "fragment"}
row = table[f"MLP {LATENT}-D"]
print(f"this run, {LATENT}-D, first {N_EXTRA:,} test images: thresholded "
      f"{row['on the first N_EXTRA']:.1f}, stochastic {row['same, stochastic test']:.1f} nats "
      f"(the binarisation is worth "
      f"{row['on the first N_EXTRA'] - row['same, stochastic test']:.1f}); Burda et al. 2015, "
      f"stochastic: {PUBLISHED_IWAE_1LAYER} nats")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Classifier FID and class coverage
#
# The course-wide yardstick (`coursekit.metrics`, see week 1) on prior samples of the 20-D
# model, beside real digits at the same count; the row goes into the course's results table.

# %% slideshow={"slide_type": "skip"}
from coursekit.course import results

start = time.perf_counter()
samples = mlp.sample(N_SAMPLES, seed=SEED)
sample_seconds = time.perf_counter() - start
backend = keras.backend.backend()
report = metrics.sample_report(samples, f"VAE (Keras/{backend}, {LATENT}-D), "
                               f"{N_SAMPLES:,} prior samples", dataset=DATASET)
real_report = metrics.sample_report(x_train[:N_SAMPLES], f"{N_SAMPLES:,} real training images",
                                    dataset=DATASET)

# %% slideshow={"slide_type": "fragment"}
print(report, real_report, sep="\n\n")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Against a baseline without a neural network.** Week 5 sets every family beside a PCA (50
# components) + Gaussian mixture (50 components, full covariances) fitted to the same training
# digits in seconds (`coursekit.course.families.baseline`). Here it is at this lab's sample
# count, with one change to the VAE measured beside it: score binary images, one Bernoulli draw
# $\boldsymbol{x}\sim p(\boldsymbol{x}|\boldsymbol{h})$ per prior sample (what the model
# generates), instead of the Bernoulli means (grey where it is unsure). The numbers below say
# which way each comparison goes in this run; FID is compared at equal $n$ only.

# %% slideshow={"slide_type": "fragment"}
from coursekit.course.families import baseline

base = baseline.fit_pca_gmm(x_train, seed=SEED)
base_report = metrics.sample_report(base.sample(N_SAMPLES, seed=SEED),
                                    f"PCA + Gaussian mixture, {N_SAMPLES:,} samples", dataset=DATASET)
binary = (np.random.default_rng(SEED).random(samples.shape) < samples).astype(np.float32)
binary_report = metrics.sample_report(binary, f"VAE {LATENT}-D, one Bernoulli draw per sample",
                                      dataset=DATASET)
for r in (report, binary_report, base_report):
    print(f"{r.name:55s} FID {r.fid:6.2f}, {r.coverage.n_classes}/10 classes")

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
from coursekit.course.families import fid_tie_band, fid_verdict

verdict = fid_verdict(report.fid, base_report.fid, real_report.fid)
verdict = "is level with" if verdict == "level with" else verdict
Markdown(f"**This run**: at n = {N_SAMPLES:,} the {LATENT}-D VAE's Bernoulli means (FID "
         f"{report.fid:.2f}) {verdict} the baseline (FID {base_report.fid:.2f}; differences "
         f"below {fid_tie_band(base_report.fid, real_report.fid):.2f} are "
         f"within FID's noise at this n); scoring one "
         f"Bernoulli draw per sample instead gives FID {binary_report.fid:.2f}, "
         f"{'worse' if binary_report.fid > report.fid else 'better'} than the means. Left to try "
         f"(not measured here): the full 60,000 training digits, more updates, the "
         f"convolutional model with `LATENT` latent variables.")

# %% slideshow={"slide_type": "skip"}
row_file = results.record(
    "week3_vae_keras", family="VAE", framework=f"Keras ({backend})", report=report,
    model=f"VAE mlp 784-{HIDDEN}-{LATENT}, Bernoulli decoder", log_likelihood=test_ll,
    likelihood_method=f"IWAE K={K_IWAE}, test binarised at 0.5", train_seconds=train_seconds,
    sample_seconds=sample_seconds, updates=mlp.updates, samples=samples,
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Save, load, and what to try
#
# `save` writes the architecture and the weights atomically; `VAE.load` builds the model the
# file describes and loads its weights, as every model of the course does.

# %% slideshow={"slide_type": "skip"}
from pathlib import Path

path = conv.save(Path("checkpoints") / "vae_keras_conv.npz")
same = VAE.load(path)
print(path, "reloaded:", np.allclose(same.embed(test_bin[:5]), conv.embed(test_bin[:5])))
print(f"notebook run time: {time.perf_counter() - notebook_start:.0f} s")

# %% [markdown] slideshow={"slide_type": "fragment"}
# * Restart with `KERAS_BACKEND=torch`: the same notebook, the other backend. Compare the time
#   per update.
# * `DENSE_CONV = 16`, keras.io's encoder: what do the KL curve, the grid and the two numbers of
#   section 4 say?
# * Train the convolutional model with `LATENT` latent variables and score it: is it better than
#   the MLP per minute of training?
# * `DATASET = "fashion_mnist"`: how do the latent space and the log-likelihood change?
