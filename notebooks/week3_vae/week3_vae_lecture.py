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
# # Week 3: variational autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week3_vae/week3_vae_lecture.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# The lecture: from the autoencoder to the VAE, the central equation of variational inference,
# the closed-form KL divergence, the reparameterisation trick, decoders, and the gap between the
# ELBO and the log-likelihood. Every step is **checked with numbers**, most of them on a
# linear-Gaussian latent model where $\log p(\boldsymbol{x})$ and the posterior are exact. The
# labs (`week3_vae_pytorch`, `week3_vae_keras`) then train VAEs on MNIST.
#
# Follows M. Hjorth-Jensen's lecture notes (week of 15-19 April 2024), with corrections marked
# below; further reading: Kingma and Welling (2014), *Auto-encoding variational Bayes*; Rezende,
# Mohamed and Wierstra (2014); Doersch (2016), *Tutorial on variational autoencoders* (whose
# derivation the notes follow); Burda, Grosse and Salakhutdinov (2015), *Importance weighted
# autoencoders*.

# %% [markdown] slideshow={"slide_type": "notes"}
# NumPy (`coursekit.reference.vae`, float64) for the maths, torch only for
# `torch.distributions`. Runs in well under a minute.

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
D, K_LATENT = 6, 2  # observed and latent dimensions of the linear-Gaussian model
SIGMA2 = 0.4  # its observation noise variance
MC = ck.by_mode(full=200_000, smoke=20_000)  # Monte Carlo samples for the checks
SAMPLES = ck.by_mode(full=100_000, smoke=2000)  # importance samples per K for the IWAE table
K_VALUES = [1, 2, 5, 10, 50, 100, 1000]  # importance samples

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit.reference import vae as ref

ck.plotting.use_style()
ck.seed_everything(SEED)
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Autoencoder and variational autoencoder
#
# An **autoencoder** maps $\boldsymbol{x}$ to a code $\boldsymbol{h} = f(\boldsymbol{x};\boldsymbol{W})$
# and back, $\tilde{\boldsymbol{x}} = g(\boldsymbol{h};\boldsymbol{V})$, and minimises a
# reconstruction error. Nothing says what a code *between* the codes of training images means,
# so the decoder is no generator.
#
# A **variational autoencoder** is a probabilistic model with latent variables,
#
# $$p(\boldsymbol{x}) = \int d\boldsymbol{h}\; p(\boldsymbol{x}\mid\boldsymbol{h})\,p(\boldsymbol{h}),
# \qquad p(\boldsymbol{h}) = \mathcal{N}(\boldsymbol{0}, \boldsymbol{I}),$$
#
# trained by (approximate) maximum likelihood. The decoder $p(\boldsymbol{x}|\boldsymbol{h})$ is a
# neural network; the encoder $Q(\boldsymbol{h}|\boldsymbol{x})$ is a second network that makes
# the training tractable. New data: draw $\boldsymbol{h}\sim p(\boldsymbol{h})$, then
# $\boldsymbol{x}\sim p(\boldsymbol{x}|\boldsymbol{h})$; no Markov chain, unlike week 1's RBM.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 2. A model where everything is exact
#
# The **linear-Gaussian** latent model (probabilistic PCA):
# $p(\boldsymbol{x}|\boldsymbol{h}) = \mathcal{N}(\boldsymbol{W}\boldsymbol{h}+\boldsymbol{b}, \sigma^2\boldsymbol{I})$.
# Then the marginal and the posterior are Gaussian,
#
# $$p(\boldsymbol{x}) = \mathcal{N}(\boldsymbol{b},\ \boldsymbol{W}\boldsymbol{W}^T+\sigma^2\boldsymbol{I}),
# \qquad p(\boldsymbol{h}|\boldsymbol{x}) = \mathcal{N}\!\big(\boldsymbol{S}\boldsymbol{W}^T(\boldsymbol{x}-\boldsymbol{b})/\sigma^2,\ \boldsymbol{S}\big),
# \quad \boldsymbol{S} = (\boldsymbol{I}+\boldsymbol{W}^T\boldsymbol{W}/\sigma^2)^{-1}.$$
#
# The naive estimate $p(\boldsymbol{x}) \approx \frac1M\sum_m p(\boldsymbol{x}|\boldsymbol{h}_m)$,
# $\boldsymbol{h}_m\sim p(\boldsymbol{h})$, is unbiased, but it wastes the draws that explain
# $\boldsymbol{x}$ badly (the notes: "for most $h$, $p(x|h)$ will be nearly zero"). The
# effective sample size of the weights $p(\boldsymbol{x}|\boldsymbol{h}_m)$,
# $(\sum_m w_m)^2/\sum_m w_m^2$, says how many draws really count. How many depends on the
# latent dimension: the posterior occupies a fraction of the prior's mass along every latent
# direction that $\boldsymbol{x}$ constrains, and these fractions multiply. With the
# `K_LATENT` = 2 latent variables of this model the prior is a passable proposal (look at the
# printed share); the second model, with the same 6-D $\boldsymbol{x}$ and 20 latent
# variables, is where "nearly zero for most $h$" holds: a handful of draws carry the estimate
# and it misses the exact value by nats. The encoder $Q(\boldsymbol{h}|\boldsymbol{x})$ exists
# to propose the $\boldsymbol{h}$ that count.

# %% slideshow={"slide_type": "fragment"}
model = ref.LinearGaussian.random(D, K_LATENT, sigma2=SIGMA2, seed=SEED)
x = model.sample(1, rng)  # one data point [1, D]
h = rng.standard_normal((MC, K_LATENT))
log_lik = model.log_likelihood(x, h)  # log p(x | h_m) [MC]
print(f"exact log p(x)              = {model.log_marginal(x)[0]:.4f}")
print(f"naive MC over the prior     = {ref.log_mean_exp(log_lik):.4f}  ({MC:,} draws)")
w = np.exp(log_lik - log_lik.max())
print(f"effective sample size (sum w)^2 / sum w^2: {w.sum() ** 2 / (w**2).sum() / MC:.1%} of the draws")

# %% slideshow={"slide_type": "fragment"}
from IPython.display import Markdown

ess = {}
for k in (K_LATENT, 20):  # the same recipe with 20 latent variables
    m = ref.LinearGaussian.random(D, k, sigma2=SIGMA2, seed=SEED)
    xk = m.sample(1, np.random.default_rng(SEED))
    ll = m.log_likelihood(xk, np.random.default_rng(SEED + 1).standard_normal((MC, k)))
    wk = np.exp(ll - ll.max())
    ess[k] = (wk.sum() ** 2 / (wk**2).sum(), ref.log_mean_exp(ll), m.log_marginal(xk)[0])
Markdown("**This run**, " + f"{MC:,} prior draws each: " + "; ".join(
    f"{k} latent variables: effective sample size {n:,.0f} ({n / MC:.2%}), naive estimate "
    f"{est:.2f} against the exact {exact:.2f} nats" for k, (n, est, exact) in ess.items()) + ".")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The central equation
#
# Take any distribution $Q(\boldsymbol{h})$. The KL divergence to the posterior, with Bayes' rule
# $p(\boldsymbol{h}|\boldsymbol{x}) = p(\boldsymbol{x}|\boldsymbol{h})p(\boldsymbol{h})/p(\boldsymbol{x})$:
#
# $$\mathcal{D}[Q(\boldsymbol{h})\|p(\boldsymbol{h}|\boldsymbol{x})]
# = E_{\boldsymbol{h}\sim Q}\big[\log Q(\boldsymbol{h}) - \log p(\boldsymbol{x}|\boldsymbol{h}) - \log p(\boldsymbol{h})\big] + \log p(\boldsymbol{x}).$$
#
# $\log p(\boldsymbol{x})$ leaves the expectation because it does not depend on $\boldsymbol{h}$.
# Rearranged, with $Q$ allowed to depend on $\boldsymbol{x}$:
#
# $$\log p(\boldsymbol{x}) - \mathcal{D}[Q(\boldsymbol{h}|\boldsymbol{x})\|p(\boldsymbol{h}|\boldsymbol{x})]
# = \underbrace{E_{\boldsymbol{h}\sim Q}[\log p(\boldsymbol{x}|\boldsymbol{h})] - \mathcal{D}[Q(\boldsymbol{h}|\boldsymbol{x})\|p(\boldsymbol{h})]}_{\text{ELBO}(\boldsymbol{x})}.$$
#
# Since $\mathcal{D}\ge0$, the right-hand side is a lower bound on $\log p(\boldsymbol{x})$, the
# **evidence lower bound**; maximising it over $Q$ pushes $Q$ towards the posterior, maximising
# it over the decoder raises the likelihood.

# %% [markdown] slideshow={"slide_type": "notes"}
# Corrections to the notes in this part: the marginal is written
# $\sum_h p(x|h;\Theta)\,p(h, n)$; it is $p(h)$. The "Rearranging" slide switches to a
# conditional model $p(y_i|x_i)$ (from Doersch's tutorial, section 2.4) without saying so, and
# ends with $\log p(y_i|y_i)$, which should read $\log p(y_i|x_i)$. The KL divergence is the
# *relative* entropy, not the Shannon entropy (the notes call it both).

# %% [markdown] slideshow={"slide_type": "subslide"}
# Both sides for an arbitrary Gaussian $Q$ (not the posterior), exactly:

# %% slideshow={"slide_type": "fragment"}
post_mean, post_cov = model.posterior(x)
q_mean = post_mean + np.array([0.4, -0.3])  # a deliberately imperfect encoder
q_log_var = np.log(np.diag(post_cov) * 2.0)[None]
lhs = model.log_marginal(x) - model.elbo_gap(x, q_mean, q_log_var)
rhs = model.elbo(x, q_mean, q_log_var)
print(f"log p(x) - D[Q || p(h|x)] = {lhs[0]:.10f}")
print(f"E_Q[log p(x|h)] - D[Q || p(h)] = {rhs[0]:.10f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The KL term in closed form
#
# The encoder outputs $Q(\boldsymbol{h}|\boldsymbol{x}) = \mathcal{N}(\boldsymbol{\mu},\boldsymbol{\Sigma})$
# with $\boldsymbol{\Sigma} = \mathrm{diag}(\sigma_1^2,\dots,\sigma_k^2)$ (in code: `mean` and
# `log_var` $=\log\sigma_j^2$). The KL divergence between two Gaussians,
#
# $$\mathcal{D}[\mathcal{N}(\boldsymbol{\mu}_0,\boldsymbol{\Sigma}_0)\|\mathcal{N}(\boldsymbol{\mu}_1,\boldsymbol{\Sigma}_1)]
# = \tfrac12\Big(\mathrm{tr}(\boldsymbol{\Sigma}_1^{-1}\boldsymbol{\Sigma}_0) + (\boldsymbol{\mu}_1-\boldsymbol{\mu}_0)^T\boldsymbol{\Sigma}_1^{-1}(\boldsymbol{\mu}_1-\boldsymbol{\mu}_0) - k + \log\frac{\det\boldsymbol{\Sigma}_1}{\det\boldsymbol{\Sigma}_0}\Big),$$
#
# becomes against $\mathcal{N}(\boldsymbol{0},\boldsymbol{I})$ a sum over latent dimensions:
#
# $$\mathcal{D}[Q(\boldsymbol{h}|\boldsymbol{x})\|p(\boldsymbol{h})] = \tfrac12\sum_{j=1}^k\big(\sigma_j^2 + \mu_j^2 - 1 - \log\sigma_j^2\big).$$
#
# Three ways to compute it: the formula, torch's `kl_divergence`, and a Monte Carlo average of
# $\log Q(\boldsymbol{h}) - \log p(\boldsymbol{h})$ over $\boldsymbol{h}\sim Q$.

# %% slideshow={"slide_type": "fragment"}
mean, log_var = rng.normal(0, 1, (3, 4)), rng.normal(0, 0.7, (3, 4))  # 3 encoders, k = 4
closed = ref.kl_standard_normal(mean, log_var)
q = torch.distributions.Normal(torch.tensor(mean), torch.tensor(np.exp(0.5 * log_var)))
prior = torch.distributions.Normal(torch.zeros(3, 4, dtype=torch.float64), 1.0)
by_torch = torch.distributions.kl_divergence(q, prior).sum(-1).numpy()
z = ref.reparameterize(mean, log_var, rng.standard_normal((MC, 3, 4)))
terms = ref.diag_gaussian_log_prob(z, mean, log_var) - ref.diag_gaussian_log_prob(z, 0 * mean, 0 * log_var)
for j in range(3):
    print(f"closed form {closed[j]:.5f} | torch {by_torch[j]:.5f} | "
          f"MC {terms[:, j].mean():.5f} +- {terms[:, j].std() / np.sqrt(MC):.5f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The reparameterisation trick
#
# The first ELBO term is an expectation over $Q$, whose parameters we want to train. Writing
#
# $$\boldsymbol{h} = \boldsymbol{\mu} + \boldsymbol{\Sigma}^{1/2}\boldsymbol{\epsilon}, \qquad \boldsymbol{\epsilon}\sim\mathcal{N}(\boldsymbol{0},\boldsymbol{I}),$$
#
# moves the randomness into $\boldsymbol{\epsilon}$, so that
# $\nabla_{\boldsymbol{\mu}} E_Q[f(\boldsymbol{h})] = E_{\boldsymbol{\epsilon}}[\nabla f(\boldsymbol{\mu}+\boldsymbol{\Sigma}^{1/2}\boldsymbol{\epsilon})]$:
# one sample gives an unbiased gradient that backpropagation computes. (The notes' "the
# gradient symbol can be moved into the expectations" holds only after this substitution.)
# The alternative, the **score-function** (REINFORCE) estimator,
# $E_Q[f(\boldsymbol{h})\,\nabla_{\boldsymbol{\mu}}\log Q(\boldsymbol{h})] = E_Q[f(\boldsymbol{h})(\boldsymbol{h}-\boldsymbol{\mu})/\sigma^2]$,
# is also unbiased and needs no gradient of $f$, but it only sees the *value* of $f$, which
# carries a large constant offset here.
#
# The same gradient, $\nabla_{\boldsymbol{\mu}} E_Q[\log p(\boldsymbol{x}|\boldsymbol{h})]$ of
# the linear-Gaussian model, both ways; exact value
# $\boldsymbol{W}^T(\boldsymbol{x}-\boldsymbol{W}\boldsymbol{\mu}-\boldsymbol{b})/\sigma^2$:

# %% slideshow={"slide_type": "fragment"}
mu, sigma = q_mean[0], np.exp(0.5 * q_log_var[0])
f = lambda h: model.log_likelihood(x, h)  # noqa: E731  log p(x|h) [n]
df = lambda h: (x - h @ model.W.T - model.b) @ model.W / model.sigma2  # noqa: E731  [n, k]
score, reparam = ref.gradient_estimators(f, df, mu, sigma, MC, rng)
exact = df(mu[None])[0]
print("exact gradient            ", np.round(exact, 4))
print("score function: mean      ", np.round(score.mean(0), 4), " variance", np.round(score.var(0), 1))
print("reparameterised: mean     ", np.round(reparam.mean(0), 4), " variance", np.round(reparam.var(0), 3))
print("variance ratio (score / reparameterised):", np.round(score.var(0) / reparam.var(0)))

# %% [markdown] slideshow={"slide_type": "notes"}
# Subtracting a baseline (a control variate) from $f$ in the score-function estimator reduces
# its variance a lot, which is how REINFORCE is used for discrete latents; the
# reparameterised estimator needs no such tuning.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Decoders: Bernoulli and Gaussian
#
# * **Bernoulli** (binary pixels, our labs): $p(x_i=1|\boldsymbol{h}) = \mathrm{sigmoid}(l_i(\boldsymbol{h}))$,
#   $\log p(\boldsymbol{x}|\boldsymbol{h}) = \sum_i x_i l_i - \log(1+e^{l_i})$: minus the binary
#   cross-entropy. Computed from the logits $l_i$, never as $\log(\mathrm{sigmoid})$, which
#   underflows.
# * **Gaussian** (the notes' choice): $p(\boldsymbol{x}|\boldsymbol{h}) = \mathcal{N}(f(\boldsymbol{h}),\sigma^2\boldsymbol{I})$,
#   $\log p = -\frac{\lVert\boldsymbol{x}-f(\boldsymbol{h})\rVert^2}{2\sigma^2} - \frac d2\log(2\pi\sigma^2)$:
#   a squared error whose weight $1/2\sigma^2$ against the KL term is set by $\sigma^2$. A density
#   over continuous pixels; its "log-likelihood" is not comparable with the Bernoulli one in nats.

# %% slideshow={"slide_type": "fragment"}
xb = (rng.random((2, 784)) < 0.2).astype(float)
logits = rng.normal(0, 3, (2, 784))
bce = torch.nn.functional.binary_cross_entropy_with_logits(
    torch.tensor(logits), torch.tensor(xb), reduction="none").sum(-1).numpy()
print("Bernoulli log p(x|h):", ref.bernoulli_log_prob(xb, logits), " -BCE:", -bce)
with np.errstate(over="ignore", divide="ignore"):
    naive = np.log(1 / (1 + np.exp(800.0)))
print("x = 1 at logit -800:", ref.bernoulli_log_prob(np.ones((1, 1)), np.full((1, 1), -800.0)),
      " naive log(sigmoid):", naive)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The ELBO gap and the importance-weighted bound
#
# The gap between $\log p(\boldsymbol{x})$ and the ELBO is exactly
# $\mathcal{D}[Q(\boldsymbol{h}|\boldsymbol{x})\|p(\boldsymbol{h}|\boldsymbol{x})]$. Burda et al.
# (2015) tighten the bound with $K$ samples $\boldsymbol{h}_k\sim Q$:
#
# $$\mathcal{L}_K(\boldsymbol{x}) = E\Big[\log\frac1K\sum_{k=1}^K\frac{p(\boldsymbol{x},\boldsymbol{h}_k)}{Q(\boldsymbol{h}_k|\boldsymbol{x})}\Big],
# \qquad \text{ELBO} = \mathcal{L}_1 \le \mathcal{L}_2 \le \dots \le \log p(\boldsymbol{x}),
# \quad \mathcal{L}_K\to\log p(\boldsymbol{x}).$$
#
# With $K = 1000$ it is the standard estimate of a VAE's test log-likelihood. On the
# linear-Gaussian model, with $Q$ the imperfect encoder of section 3 (the posterior's variances
# doubled) whose mean misses the posterior mean by half, once and twice the offset of section 3
# for the three images. (With one and the same miss the three curves would coincide: in this
# model the posterior covariance, and so the gap, does not depend on $\boldsymbol{x}$.) Each
# $\mathcal{L}_K$ is averaged over `SAMPLES / K` (at least 20) independent estimates:

# %% slideshow={"slide_type": "fragment"}
xs = model.sample(3, rng)
pm, _ = model.posterior(xs)
miss = np.array([[0.5], [1.0], [2.0]]) * np.array([0.4, -0.3])  # per image: half, once, twice
qm, qlv = pm + miss, np.repeat(q_log_var, 3, axis=0)
elbo, log_px, gap = model.elbo(xs, qm, qlv), model.log_marginal(xs), model.elbo_gap(xs, qm, qlv)
iwae = {k: model.iwae(xs, qm, qlv, k, rng, repeats=max(20, SAMPLES // k)) for k in K_VALUES}
print("image | ELBO (exact) | " + " | ".join(f"IWAE K={k}" for k in K_VALUES) + " | log p(x) | gap = KL to posterior | log p(x) - ELBO")
for i in range(3):
    print(f"{i:5d} | {elbo[i]:12.4f} | " + " | ".join(f"{iwae[k][i]:9.4f}" for k in K_VALUES)
          + f" | {log_px[i]:8.4f} | {gap[i]:20.6f} | {log_px[i] - elbo[i]:.6f}")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for i, color in zip(range(3), ["C0", "C1", "C2"], strict=True):
    ax.plot(K_VALUES, [iwae[k][i] - log_px[i] for k in K_VALUES], "o-", color=color,
            label=f"image {i}: Q's mean off by {np.linalg.norm(miss[i]):.2f}")
    ax.axhline(elbo[i] - log_px[i], color=color, ls=":", lw=1)
ax.axhline(0, color="k", lw=1)
ax.set(xscale="log", xlabel="K (importance samples)", ylabel="bound - log p(x)  [nats]",
       title="IWAE bound rises towards log p(x); dotted: the ELBO")
ax.set_xticks(K_VALUES, [str(k) for k in K_VALUES])  # every K computed, not only the decades
ax.minorticks_off()
ax.legend(loc="lower right");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. From here to the labs
#
# A VAE replaces $\boldsymbol{W}\boldsymbol{h}+\boldsymbol{b}$ by a neural network (decoder) and
# the exact posterior by $Q(\boldsymbol{h}|\boldsymbol{x}) = \mathcal{N}(\boldsymbol{\mu}(\boldsymbol{x}),\mathrm{diag}\,\boldsymbol{\sigma}^2(\boldsymbol{x}))$
# from a second network (encoder), and maximises the one-sample ELBO
#
# $$\log p(\boldsymbol{x}\,|\,\boldsymbol{h}=\boldsymbol{\mu}+\boldsymbol{\sigma}\odot\boldsymbol{\epsilon}) - \tfrac12\textstyle\sum_j(\sigma_j^2+\mu_j^2-1-\log\sigma_j^2)$$
#
# by stochastic gradient ascent over minibatches. Nothing is exact any more, so the labs measure
# $\log p(\boldsymbol{x})$ on test images with the IWAE bound at $K=1000$, in nats, as the
# literature does.
#
# *About the notes' code.* The Keras example (keras.io, "Variational AutoEncoder") overrides
# `train_step` with `tf.GradientTape` and so runs on TensorFlow only; `coursekit.keras.VAE`
# computes the same loss in `compute_loss` with `keras.ops` and trains with `fit` on TensorFlow
# and on PyTorch. The PyTorch encoder of the notes returns a `torch.distributions.Normal`, as
# `coursekit.torch.VAE.encode` does; `torch.autograd.Variable` is obsolete since PyTorch 0.4.

# %% [markdown] slideshow={"slide_type": "fragment"}
# * Make $Q$ the exact posterior in section 7 (`qm = pm`, `qlv = log diag(S)`): why does a gap
#   remain? (Hint: $\boldsymbol{S}$ is not diagonal.)
# * Add a baseline $c$ to the score-function estimator ($f - c$): how small can its variance get?
