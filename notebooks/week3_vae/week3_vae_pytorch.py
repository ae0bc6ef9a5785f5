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
# # Week 3 lab: a variational autoencoder on MNIST in PyTorch
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week3_vae/week3_vae_pytorch.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# We train two VAEs with Bernoulli decoders on binarised MNIST: one with a **2-D latent space**,
# small enough to draw (latent space, decoded manifold, interpolations), and one with **20
# latent variables**, the pytorch/examples model (784-400-20), for the log-likelihood and the
# samples. Both are measured the way the literature does: the test log-likelihood in nats,
# estimated with the importance-weighted bound at $K = 1000$. The maths is in
# `week3_vae_lecture`; the same lab in Keras 3 is `week3_vae_keras`.
#
# `coursekit.torch.VAE` is a `torch.nn.Module` whose encoder returns a
# `torch.distributions.Normal`, as in the lecture notes' PyTorch code.

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
# Training length is given in parameter **updates** (minibatches of 128), so a run takes about
# as long whether the full 60,000 MNIST digits are here or only the 4,000 offline ones. The full
# mode is sized to finish in under 10 minutes on a 2-core laptop CPU (measured: see the end).
# `DATASET = "fashion_mnist"` runs the same lab on Fashion-MNIST.

# %% slideshow={"slide_type": "skip"} tags=["parameters"]
import coursekit as ck

SEED = 0
DATASET = "mnist"  # or "fashion_mnist"
ARCH = "mlp"  # or "conv" (the keras.io shape; about 5x slower per update on a CPU)
HIDDEN = ck.by_mode(full=400, smoke=32)  # units of the MLP's hidden layer
LATENT = ck.by_mode(full=20, smoke=4)  # latent variables of the likelihood model
UPDATES_2D = ck.by_mode(full=4000, smoke=20)  # parameter updates of the 2-D model
UPDATES = ck.by_mode(full=6000, smoke=20)  # parameter updates of the LATENT-D model
BATCH = 128
LEARNING_RATE = 1e-3  # Adam (Kingma and Ba 2015), as in pytorch/examples
K_IWAE = ck.by_mode(full=1000, smoke=10)  # importance samples per test image
N_TEST = ck.by_mode(full=None, smoke=200)  # test images to score (None: all)
N_EXTRA = ck.by_mode(full=2000, smoke=50)  # test images for the secondary IWAE estimates
N_VAL = 2000  # test images whose ELBO is monitored after every epoch
N_SAMPLES = ck.by_mode(full=1000, smoke=500)  # prior samples judged by coursekit.metrics
# section 2, the algorithm written here: a smaller VAE, trained for about a minute
BUILD_HIDDEN = ck.by_mode(full=256, smoke=16)
BUILD_LATENT = ck.by_mode(full=16, smoke=2)
BUILD_UPDATES = ck.by_mode(full=5000, smoke=20)

# %% slideshow={"slide_type": "skip"}
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit.plotting import vae as vae_plots
from coursekit.reference.vae import PUBLISHED_IWAE_1LAYER
from coursekit.torch import VAE, device

ck.plotting.use_style()
ck.seed_everything(SEED)
torch.set_num_threads(ck.num_threads())
DEVICE = device(verbose=True)
notebook_start = time.perf_counter()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data and binarisation
#
# A Bernoulli decoder models binary pixels. **Training** uses *dynamic* binarisation: every
# epoch, pixel $i$ becomes 1 with probability equal to its intensity (Salakhutdinov and Murray
# 2008; Burda et al. 2015). The **test** images are binarised *statically*, at the threshold
# 0.5, exactly as in week 1, so that the RBM's and the VAE's numbers refer to the same binary
# images. We also report one fixed *stochastic* binarisation of the test images (seed 0), the
# protocol of Burda et al.

# %% slideshow={"slide_type": "fragment"}
train_images, train_labels = ck.data.load(DATASET, "train")
test_images, test_labels = ck.data.load(DATASET, "test")
x_train = ck.data.flatten(ck.data.to_float(train_images))  # [n, 784] in [0, 1]
x_test = ck.data.flatten(ck.data.to_float(test_images))[:N_TEST]
y_test = test_labels[:N_TEST]
test_bin = ck.data.binarize(x_test)  # threshold 0.5, as in week 1
test_stoch = ck.data.dynamic_binarize(x_test, rng=0)  # one fixed Bernoulli draw
epochs = lambda updates: max(1, math.ceil(updates * BATCH / len(x_train)))  # noqa: E731
print(ck.data.splits(DATASET, train=len(x_train), test=len(x_test)))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Build it: the VAE in plain PyTorch
#
# Before the package's VAE, the algorithm itself, in the lecture notes' notation: latent
# variables $\boldsymbol{h}$ with prior $p(\boldsymbol{h})=\mathcal{N}(\boldsymbol 0,\boldsymbol I)$,
# an encoder that maps an image to
# $Q(\boldsymbol{h}|\boldsymbol{x})=\mathcal{N}(\boldsymbol{\mu}(\boldsymbol{x}),\mathrm{diag}\,\boldsymbol{\sigma}^2(\boldsymbol{x}))$,
# a decoder that maps $\boldsymbol{h}$ to 784 logits $l_i$ with $p(x_i=1|\boldsymbol{h})=\mathrm{sigmoid}(l_i)$.
# Each update climbs the one-sample ELBO (the notes' equation (1)) of a minibatch,
#
# $$\mathcal{L}(\boldsymbol{x})=\underbrace{\sum_{i=1}^{784}x_i\log\mathrm{sigmoid}(l_i(\boldsymbol{z}))+(1-x_i)\log\big(1-\mathrm{sigmoid}(l_i(\boldsymbol{z}))\big)}_{\log p(\boldsymbol{x}|\boldsymbol{z})}
# -\underbrace{\tfrac12\sum_{j=1}^{k}\big(\sigma_j^2+\mu_j^2-1-\log\sigma_j^2\big)}_{\mathcal{D}[Q(\boldsymbol{h}|\boldsymbol{x})\,\|\,p(\boldsymbol{h})]},
# \qquad \boldsymbol{z}=\boldsymbol{\mu}+\boldsymbol{\sigma}\odot\boldsymbol{\epsilon},\ \boldsymbol{\epsilon}\sim\mathcal{N}(\boldsymbol 0,\boldsymbol I).$$
#
# The KL term is the notes' closed form with $\Sigma=\mathrm{diag}\,\boldsymbol{\sigma}^2$
# ($\operatorname{tr}\Sigma=\sum_j\sigma_j^2$, $\log\det\Sigma=\sum_j\log\sigma_j^2$). Writing the
# draw as $\boldsymbol{\mu}+\boldsymbol{\sigma}\odot\boldsymbol{\epsilon}$ (the notes'
# $\mu(X)+\Sigma^{1/2}(X)*\epsilon$) is the *reparameterisation trick*: the noise comes from
# outside, so the gradient of $\log p(\boldsymbol{x}|\boldsymbol{z})$ flows through
# $\boldsymbol{z}$ into the encoder. (The notes call the KL divergence "also known as ... Shannon
# entropy": it is the *relative* entropy, not Shannon's entropy.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** Write `encode`. The lecture notes' encoder has two heads, `enc_mu` and
# `enc_log_sigma`, and returns `torch.distributions.Normal(loc=mu, scale=sigma)` with
# `sigma = exp(log_sigma)`. Ours, like the package's and keras.io's, is one network whose output
# [n, 2k] holds $[\boldsymbol{\mu},\log\boldsymbol{\sigma}^2]$: the first $k$ columns the means,
# the last $k$ the log-*variances*. Return the same `Normal` (its `scale` is the standard
# deviation).

# %% slideshow={"slide_type": "fragment"}
from torch import nn

from coursekit.torch import exercises as ex


def encode(encoder, x):
    """Q(h|x) for rows x [n, 784]: torch.distributions.Normal with loc and scale [n, k]."""
    ### BEGIN SOLUTION
    mean, log_var = encoder(x).chunk(2, dim=1)
    sigma = torch.exp(0.5 * log_var)
    ### END SOLUTION
    return torch.distributions.Normal(loc=mean, scale=sigma)


# %% slideshow={"slide_type": "fragment"}
ex.check_encode(encode)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** Write `reparameterize`: the draw $\boldsymbol{z}=\boldsymbol{\mu}+\boldsymbol{\sigma}\odot\boldsymbol{\epsilon}$
# from `q`, with the noise `eps` given (so the check can compare your draw with coursekit's,
# number for number). `q.sample()` would draw without a path back to $\boldsymbol{\mu}$ and
# $\boldsymbol{\sigma}$; `q.rsample()` keeps the path but draws its own noise.

# %% slideshow={"slide_type": "fragment"}
def reparameterize(q, eps):
    """z = mu + sigma * eps [n, k] for Q = q (a Normal [n, k]) and noise eps [n, k]."""
    ### BEGIN SOLUTION
    z = q.loc + q.scale * eps
    ### END SOLUTION
    return z


# %% slideshow={"slide_type": "fragment"}
ex.check_reparameterize(reparameterize)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** Write `elbo`: the batch means of the two terms above and their difference.
# The decoder returns logits: `torch.nn.functional.binary_cross_entropy_with_logits` is minus
# $\log p(x_i|\boldsymbol{z})$ per pixel, stable for confident pixels. Sum over the pixels and
# the latent variables, then average over the images.

# %% slideshow={"slide_type": "fragment"}
from torch.nn import functional as F


def elbo(x, q, logits):
    """Batch means of ELBO, log p(x|z) and D[Q(h|x) || N(0, I)], for binary x [n, 784],
    Q = q (a Normal [n, k]) and decoder logits [n, 784]: three scalars."""
    ### BEGIN SOLUTION
    reconstruction = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    kl = 0.5 * (q.variance + q.loc.square() - 1 - q.variance.log()).sum(1)
    reconstruction, kl = reconstruction.mean(), kl.mean()
    ### END SOLUTION
    return reconstruction - kl, reconstruction, kl


# %% slideshow={"slide_type": "fragment"}
ex.check_elbo(elbo)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Train it.** Your three functions and one optimiser step are the whole algorithm. Encoder
# 784-`BUILD_HIDDEN`-(2 x `BUILD_LATENT`), decoder `BUILD_LATENT`-`BUILD_HIDDEN`-784 (the
# package's MLP layout, smaller), Adam on minus the ELBO, dynamic binarisation (a fresh
# Bernoulli draw of every batch), `BUILD_UPDATES` updates: about a minute on a 2-core CPU (the
# cell prints its time). The curves are the terms of the training batches, averaged over 50
# windows; the samples decode draws from the prior.

# %% slideshow={"slide_type": "skip"}
def vae_step(encoder, decoder, optimizer, x, eps):
    """One optimiser step down -ELBO of the batch x [n, 784] with noise eps [n, k]; returns the
    batch means (ELBO, log p(x|z), KL) before the step."""
    q = encode(encoder, x)
    terms = elbo(x, q, decoder(reparameterize(q, eps)))
    optimizer.zero_grad()
    (-terms[0]).backward()
    optimizer.step()
    return [t.item() for t in terms]


torch.manual_seed(SEED)
encoder = nn.Sequential(nn.Linear(784, BUILD_HIDDEN), nn.ReLU(),
                        nn.Linear(BUILD_HIDDEN, 2 * BUILD_LATENT))
decoder = nn.Sequential(nn.Linear(BUILD_LATENT, BUILD_HIDDEN), nn.ReLU(),
                        nn.Linear(BUILD_HIDDEN, 784))
optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=LEARNING_RATE)
gen, data = torch.Generator().manual_seed(SEED), torch.from_numpy(x_train)
every, window, curve = max(1, BUILD_UPDATES // 50), [], []
start = time.perf_counter()
for step in range(1, BUILD_UPDATES + 1):
    rows = torch.randint(len(data), (BATCH,), generator=gen)
    x = (torch.rand(BATCH, 784, generator=gen) < data[rows]).float()  # dynamic binarisation
    eps = torch.randn(BATCH, BUILD_LATENT, generator=gen)
    window.append(vae_step(encoder, decoder, optimizer, x, eps))
    if step % every == 0:
        curve.append((step, *np.mean(window, axis=0)))
        window = []
build_seconds = time.perf_counter() - start
print(f"{BUILD_UPDATES:,} updates in {build_seconds:.0f} s")

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
steps, elbos, recs, kls = (list(c) for c in zip(*curve, strict=True))
with torch.no_grad():
    core_samples = torch.sigmoid(decoder(torch.randn(36, BUILD_LATENT, generator=gen))).numpy()
fig = plt.figure(figsize=(12, 4.2))
left, right = fig.subfigures(1, 2, width_ratios=[1.3, 1])
ck.plotting.plot_curves({"-ELBO": [-e for e in elbos], "-log p(x|z)": [-r for r in recs],
                         "KL": kls}, x=steps, ax=left.subplots(), xlabel="update", ylabel="nats")
ck.plotting.image_grid(core_samples, ncols=6, ax=right.subplots(),
                       title="your VAE: p(x=1|h), h from the prior");

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
from IPython.display import Markdown

Markdown(f"**This run**: minus the ELBO of the training batches fell from {-elbos[0]:.1f} to "
         f"{-elbos[-1]:.1f} nats per image in {build_seconds:.0f} s; its KL term went from "
         f"{kls[0]:.1f} to {kls[-1]:.1f} nats.")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The package computes what you wrote.** `coursekit.torch.VAE` with the same layout, your
# weights copied in, the same batch and the same noise: its `loss_terms` gives the same ELBO
# terms, and its `train_step` (the step its `fit` repeats) the same Adam update.

# %% slideshow={"slide_type": "fragment"}
package = VAE(BUILD_LATENT, arch="mlp", hidden=BUILD_HIDDEN, learning_rate=LEARNING_RATE)
package.encoder.load_state_dict(encoder.state_dict())
package.decoder.load_state_dict(decoder.state_dict())
optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=LEARNING_RATE)
mine = vae_step(encoder, decoder, optimizer, x, eps)  # one more step of yours, a fresh Adam
theirs = package.train_step(x, eps)
print("largest difference of log p(x|z), KL:",
      ", ".join(f"{abs(a - float(b)):.1e}" for a, b in zip(mine[1:], theirs, strict=True)))
after = {**dict(encoder.named_parameters(prefix="encoder")),
         **dict(decoder.named_parameters(prefix="decoder"))}
gap = max((after[name] - value).abs().max().item() for name, value in package.named_parameters())
print(f"weights after the step: largest difference {gap:.1e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The model
#
# Encoder: $\boldsymbol{x}\to$ 400 ReLU units $\to(\boldsymbol{\mu},\log\boldsymbol{\sigma}^2)$, i.e.
# $Q(\boldsymbol{h}|\boldsymbol{x}) = \mathcal{N}(\boldsymbol{\mu}(\boldsymbol{x}),\mathrm{diag}\,\boldsymbol{\sigma}^2(\boldsymbol{x}))$.
# Decoder: $\boldsymbol{h}\to$ 400 ReLU units $\to$ 784 logits $l_i$,
# $p(x_i=1|\boldsymbol{h}) = \mathrm{sigmoid}(l_i)$. Each update maximises the one-sample ELBO of
# a minibatch with Adam,
#
# $$\underbrace{\sum_i x_i l_i(\boldsymbol{z}) - \log(1+e^{l_i(\boldsymbol{z})})}_{\log p(\boldsymbol{x}|\boldsymbol{z}),\ \boldsymbol{z}=\boldsymbol{\mu}+\boldsymbol{\sigma}\odot\boldsymbol{\epsilon}}
# \;-\; \underbrace{\tfrac12\textstyle\sum_j(\sigma_j^2+\mu_j^2-1-\log\sigma_j^2)}_{\mathcal{D}[Q(\boldsymbol{h}|\boldsymbol{x})\|p(\boldsymbol{h})]},$$
#
# and `fit` records the two terms separately.

# %% slideshow={"slide_type": "fragment"}
vae2 = VAE(2, arch=ARCH, hidden=HIDDEN, learning_rate=LEARNING_RATE, seed=SEED).to(DEVICE)
print(vae2)
q = vae2.encode(torch.from_numpy(test_bin[:3]).to(DEVICE))
print("Q(h|x) for 3 test images:", type(q).__name__, "loc", tuple(q.loc.shape))

# %% slideshow={"slide_type": "skip"}
history2 = vae2.fit(x_train, epochs=epochs(UPDATES_2D), batch_size=BATCH,
                    validation=test_bin[:N_VAL], seed=SEED)
print(f"2-D model: {vae2.updates:,} updates in {history2['seconds'][-1]:.0f} s")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two terms during training (means per training image, nats). The reconstruction term
# falls as the decoder improves; the KL term rises as the encoder spends more information on
# each image. Their sum is the negative ELBO.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
vae_plots.terms_curves(history2);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Reconstructions
#
# Top: test images; bottom: $p(\boldsymbol{x}=1|\boldsymbol{h}=\boldsymbol{\mu}(\boldsymbol{x}))$.
# Two numbers per image are little: the reconstructions keep the slant and thickness and drop
# the details, and some change the digit. How often, is measured below: the course's digit
# classifier (`coursekit.metrics`, see week 1) labels `N_VAL` test images and their
# reconstructions; the share of reconstructions that get the input's label is beside the
# classifier's accuracy on the test images themselves, the most a reconstruction can reach.
# It reads each reconstruction twice: the Bernoulli means shown, and the most probable image
# (a pixel on where $p(x_i=1|\boldsymbol{h})>0.5$), binary like the test images; the means of a
# 2-D model are faint where it is unsure, and the classifier, which learnt from sharp digits,
# may read a faint blur as another digit.
#
# A second reference says how much of the label the *code* holds: each test code
# $\boldsymbol{\mu}(\boldsymbol{x})$ gets the majority label of its 5 nearest training codes
# (`metrics.neighbour_accuracy`; labels are used only here). The decoder sees only the code, so
# its reconstructions cannot keep many more labels than that vote; where the two are close, the
# limit is the two numbers per image, not the decoder. Section 6 measures the same share for a
# model with `LATENT` numbers per image.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
ck.plotting.image_grid(np.concatenate([test_bin[:12], vae2.reconstruct(test_bin[:12])]), ncols=12);

# %% slideshow={"slide_type": "fragment"}
from coursekit import metrics

classifier = metrics.load_classifier(DATASET)
rec_means = vae2.reconstruct(test_bin[:N_VAL])
print(f"classifier on the {len(rec_means):,} test images themselves: "
      f"{np.mean(classifier.predict(test_bin[:N_VAL]) == y_test[:N_VAL]):.1%} correct")
code_vote = metrics.neighbour_accuracy(vae2.embed(x_train), train_labels,
                                       vae2.embed(test_bin[:N_VAL]), y_test[:N_VAL], k=5)
print(f"2-D model, vote of the 5 nearest training codes: {code_vote:.1%} correct")
for name, rec in [("Bernoulli means", rec_means), ("most probable image", rec_means > 0.5)]:
    kept = classifier.predict(rec.astype(np.float32)) == y_test[:N_VAL]
    print(f"2-D model, {name}: {kept.mean():.1%} of the reconstructions keep the image's label")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The latent space
#
# The encoder means $\boldsymbol{\mu}(\boldsymbol{x})$ of the test images, coloured by their
# label (which the VAE never saw). The KL term pulls the cloud towards $\mathcal{N}(\boldsymbol 0,\boldsymbol I)$;
# the reconstruction term separates the digits.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
vae_plots.latent_scatter(vae2.embed(test_bin), y_test);

# %% [markdown] slideshow={"slide_type": "subslide"}
# The decoder on a grid: $p(\boldsymbol{x}=1|\boldsymbol{h})$ for $\boldsymbol{h}$ at the 5%..95%
# quantiles of $\mathcal{N}(0,1)$ along each axis. Neighbouring codes decode to similar images
# and one digit morphs into the next: the decoder is a smooth map from the plane to images.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
vae_plots.manifold(vae2, n=15);

# %% [markdown] slideshow={"slide_type": "subslide"}
# Interpolation: decode the straight line between the codes of two test digits.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
a, b = int(np.flatnonzero(y_test == 1)[0]), int(np.flatnonzero(y_test == 7)[0])
vae_plots.interpolation(vae2, test_bin[a], test_bin[b], steps=10);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. More latent variables: the likelihood model
#
# Same recipe, 20 latent variables (784-400-20, batch 128, Adam $10^{-3}$: the pytorch/examples
# VAE). The figure plots one quantity for both sets, minus the ELBO (nats per image; lower is
# better): the epoch mean over the training batches, and the value on `N_VAL` test images after
# each epoch. The two curves do not see the same kind of image: the training batches are fresh
# Bernoulli draws of the digits (noisy pixels cost nats), the test images are thresholded at 0.5
# (clean), so the test curve can lie *below* the training curve without the model doing better
# on unseen digits. Overfitting its (offline: 4,000) training digits would show as the test curve
# turning up while the training curve keeps falling. The line under the figure removes the
# binarisation from the comparison: it scores `N_VAL` training digits thresholded like the test
# images, so the difference of those two numbers is the generalisation gap.

# %% slideshow={"slide_type": "skip"}
vae = VAE(LATENT, arch=ARCH, hidden=HIDDEN, learning_rate=LEARNING_RATE, seed=SEED).to(DEVICE)
history = vae.fit(x_train, epochs=epochs(UPDATES), batch_size=BATCH, validation=test_bin[:N_VAL],
                  seed=SEED)
train_seconds = history["seconds"][-1]
print(f"{LATENT}-D model: {vae.updates:,} updates in {train_seconds:.0f} s")
for name, rec in [("Bernoulli means", vae.reconstruct(test_bin[:N_VAL])),
                  ("most probable image", vae.reconstruct(test_bin[:N_VAL]) > 0.5)]:
    kept = classifier.predict(rec.astype(np.float32)) == y_test[:N_VAL]
    print(f"{LATENT}-D model, {name}: {kept.mean():.1%} of the reconstructions keep the "
          "image's label (section 4)")

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
vae_plots.elbo_curves(history);

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
train_elbo, test_elbo = vae.elbo(ck.data.binarize(x_train[:N_VAL])), vae.elbo(test_bin[:N_VAL])
Markdown(f"**This run**, last epoch: -ELBO {history['loss'][-1]:.1f} on the training batches "
         f"(Bernoulli draws), {-history['val_elbo'][-1]:.1f} on the test images (thresholded). "
         f"Both thresholded, {N_VAL:,} images each: training {-train_elbo:.1f}, test "
         f"{-test_elbo:.1f} nats: the model explains the digits it trained on "
         f"{abs(train_elbo - test_elbo):.1f} nats per image "
         f"{'better' if train_elbo > test_elbo else 'worse'} than unseen ones.")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Samples from the prior, $p(\boldsymbol{x}=1|\boldsymbol{h})$ with $\boldsymbol{h}\sim\mathcal{N}(\boldsymbol 0,\boldsymbol I)$,
# for both models: one decoder pass each, no Markov chain. The Bernoulli means are shown (grey
# where the model is unsure); binary samples would add salt-and-pepper noise.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5.6), layout="constrained")
ck.plotting.image_grid(vae2.sample(64, seed=1), ncols=8, ax=ax1, title="2-D latent space")
ck.plotting.image_grid(vae.sample(64, seed=1), ncols=8, ax=ax2, title=f"{LATENT}-D latent space");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The test log-likelihood in nats
#
# For each test image, $\log p(\boldsymbol{x}) \gtrsim \log\frac1K\sum_{k=1}^K\frac{p(\boldsymbol{x}|\boldsymbol{h}_k)p(\boldsymbol{h}_k)}{Q(\boldsymbol{h}_k|\boldsymbol{x})}$,
# $\boldsymbol{h}_k\sim Q(\boldsymbol{h}|\boldsymbol{x})$ (Burda et al. 2015), with $K=1000$,
# computed in batches so that the 1000 decoder passes per image fit in memory. $K=1$ is the
# ELBO. Means over the test images, nats per image:

# %% slideshow={"slide_type": "fragment"}
start = time.perf_counter()
iwae_all = vae.log_likelihood(test_bin, k=K_IWAE)  # the main number: every test image
main_seconds = time.perf_counter() - start
extra = slice(0, N_EXTRA)
table = {
    f"{LATENT}-D": {"ELBO": vae.elbo(test_bin), f"IWAE K={K_IWAE}": iwae_all.mean(),
                    "on the first N_EXTRA": iwae_all[extra].mean(),
                    "same, stochastic test": vae.log_likelihood(test_stoch[extra], k=K_IWAE).mean()},
    "2-D": {"ELBO": vae2.elbo(test_bin), f"IWAE K={K_IWAE}": float("nan"),
            "on the first N_EXTRA": vae2.log_likelihood(test_bin[extra], k=K_IWAE).mean(),
            "same, stochastic test": vae2.log_likelihood(test_stoch[extra], k=K_IWAE).mean()},
}
print(f"nats per image; ELBO and IWAE on all {len(test_bin):,} test images "
      f"(IWAE in {main_seconds:.0f} s), the last two columns on the first {N_EXTRA:,}")
for name, row in table.items():  # "—": not computed for this model (it costs minutes)
    print(f"{name:5s}", " | ".join(f"{k}: {v:8.2f}" if v == v else f"{k}:        —"
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
row = table[f"{LATENT}-D"]
print(f"this run, {LATENT}-D, first {N_EXTRA:,} test images: thresholded "
      f"{row['on the first N_EXTRA']:.1f}, stochastic {row['same, stochastic test']:.1f} nats "
      f"(the binarisation is worth "
      f"{row['on the first N_EXTRA'] - row['same, stochastic test']:.1f}); Burda et al. 2015, "
      f"stochastic: {PUBLISHED_IWAE_1LAYER} nats")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. One yardstick for every model: classifier FID and class coverage
#
# `coursekit.metrics` shows samples to one fixed digit classifier: the Fréchet distance between
# the Gaussians fitted to its features of the samples and of real test digits (classifier FID,
# lower is better), and how the samples spread over the ten classes. We judge the Bernoulli
# means of prior samples of the 20-D model, beside real digits at the same count.

# %% slideshow={"slide_type": "skip"}
from coursekit.course import results

start = time.perf_counter()
samples = vae.sample(N_SAMPLES, seed=SEED)
sample_seconds = time.perf_counter() - start
report = metrics.sample_report(samples, f"VAE (PyTorch, {LATENT}-D), {N_SAMPLES:,} prior samples",
                               dataset=DATASET)
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
         f"convolutional decoder (`ARCH = \"conv\"`).")

# %% slideshow={"slide_type": "skip"}
row_file = results.record(
    "week3_vae_pytorch", family="VAE", framework="PyTorch", report=report,
    model=f"VAE {ARCH} 784-{HIDDEN}-{LATENT}, Bernoulli decoder", log_likelihood=test_ll,
    likelihood_method=f"IWAE K={K_IWAE}, test binarised at 0.5", train_seconds=train_seconds,
    sample_seconds=sample_seconds, updates=vae.updates, samples=samples,
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. Save, load, and what to try
#
# `save` writes the architecture and weights atomically; `VAE.load` builds the model the file
# describes and loads its weights, as every model of the course does.

# %% slideshow={"slide_type": "skip"}
from pathlib import Path

path = vae.save(Path("checkpoints") / "vae_pytorch.npz")
same = VAE.load(path)
print(path, "reloaded:", np.array_equal(same.embed(test_bin[:5]), vae.cpu().embed(test_bin[:5])))
print(f"notebook run time: {time.perf_counter() - notebook_start:.0f} s")

# %% [markdown] slideshow={"slide_type": "fragment"}
# * Double `UPDATES`: does the test log-likelihood improve or get worse? Watch the KL curve.
# * `ARCH = "conv"`: the convolutional VAE; compare the log-likelihood per minute of training.
# * `K_IWAE = 1, 10, 100, 1000`: how fast does the bound rise for the 2-D and the 20-D model?
# * `DATASET = "fashion_mnist"`: which classes does the 2-D latent space separate?
