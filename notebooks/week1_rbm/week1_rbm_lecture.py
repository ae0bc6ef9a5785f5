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
# # Week 1: restricted Boltzmann machines
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week1_rbm/week1_rbm_lecture.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# The lecture: the binary-binary RBM, its energy, its conditionals, the log-likelihood gradient,
# and how contrastive divergence approximates it, all checked **exactly** on a model small enough
# to enumerate. The labs (`week1_rbm_pytorch`, `week1_rbm_keras`) then train RBMs on MNIST.
#
# Follows M. Hjorth-Jensen's lecture notes (week of 15-19 April 2024), with two corrections
# marked below; further reading: Hinton (2002) on contrastive divergence, Tieleman (2008) on
# persistent CD, Hinton (2010), *A practical guide to training RBMs*, and Salakhutdinov and
# Murray (2008) on evaluating RBMs.

# %% [markdown] slideshow={"slide_type": "notes"}
# Everything in this notebook is NumPy (`coursekit.reference`), float64 and exact: no framework,
# so the maths is not hidden behind autograd. It runs in well under a minute on a laptop.

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
N_HIDDEN = 6  # hidden units of the tiny RBM (the data has 9 visible units)
STEPS = ck.by_mode(full=4000, smoke=60)  # full-batch learning steps
ETA = 0.2  # step size eta
N_CHAINS = 500  # persistent chains for PCD
K_VALUES = [1, 2, 5, 10, 25, 100]  # Gibbs steps for the CD-k bias study
REPLICAS = ck.by_mode(full=400, smoke=20)  # copies of the data per CD estimate

# %% slideshow={"slide_type": "skip"}
import numpy as np

from coursekit import reference as ref
from coursekit.reference.tiny import gradient_error_by_k, init_params, train_tiny

ck.plotting.use_style()
ck.seed_everything(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The energy
#
# Visible units $\boldsymbol{x}\in\{0,1\}^{n_v}$ (the pixels), hidden units
# $\boldsymbol{h}\in\{0,1\}^{n_h}$ (features), weights $\boldsymbol{W}\in\mathbb{R}^{n_v\times n_h}$,
# visible bias $\boldsymbol{a}$, hidden bias $\boldsymbol{b}$:
#
# $$E(\boldsymbol{x},\boldsymbol{h}) = -\boldsymbol{a}^T\boldsymbol{x} - \boldsymbol{b}^T\boldsymbol{h} - \boldsymbol{x}^T\boldsymbol{W}\boldsymbol{h},$$
#
# $$p(\boldsymbol{x},\boldsymbol{h}) = \frac{e^{-E(\boldsymbol{x},\boldsymbol{h})}}{Z},
# \qquad Z = \sum_{\boldsymbol{x},\boldsymbol{h}} e^{-E(\boldsymbol{x},\boldsymbol{h})}.$$
#
# "Restricted": no visible-visible and no hidden-hidden couplings. The partition function $Z$
# sums $2^{n_v+n_h}$ terms, hopeless for MNIST ($2^{784+500}$) but easy for the tiny model here.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 2. The marginal and the free energy
#
# Summing out the hidden units one at a time (each $h_j$ appears in one factor):
#
# $$p(\boldsymbol{x}) = \sum_{\boldsymbol{h}} p(\boldsymbol{x},\boldsymbol{h}) = \frac{e^{-F(\boldsymbol{x})}}{Z},$$
#
# $$F(\boldsymbol{x}) = -\boldsymbol{a}^T\boldsymbol{x} - \sum_{j=1}^{n_h} \log\left(1 + e^{\,b_j + \boldsymbol{x}^T\boldsymbol{W}_{:j}}\right).$$
#
# $F$ is the **free energy**. The same trick with the roles swapped gives $Z$ by enumerating only
# the *smaller* layer, which is how `ref.log_partition` computes it exactly. A check against the
# brute-force sum over every $(\boldsymbol{x},\boldsymbol{h})$:

# %% slideshow={"slide_type": "fragment"}
W, a, b = init_params(4, 3, init_std=1.0, seed=SEED)
xs, hs = ref.all_states(4), ref.all_states(3)
E = np.array([[ref.energy(x[None], h[None], W, a, b)[0] for h in hs] for x in xs])  # [16, 8]
print("log Z, brute force over 2^7 states:", np.log(np.exp(-E).sum()))
print("log Z, enumerating the hidden layer:", ref.log_partition(W, a, b))
print("F(x) vs -log sum_h exp(-E):", ref.free_energy(xs[5:6], W, a, b)[0], -np.log(np.exp(-E[5]).sum()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 3. The conditionals
#
# Because $E$ is linear in each $h_j$ given $\boldsymbol{x}$, the hidden units are independent
# given the visible ones, and vice versa:
#
# $$p(h_j = 1\mid\boldsymbol{x}) = \sigma\!\left(b_j + \boldsymbol{x}^T\boldsymbol{W}_{:j}\right),
# \qquad p(x_i = 1\mid\boldsymbol{h}) = \sigma\!\left(a_i + \boldsymbol{W}_{i:}\boldsymbol{h}\right),
# \qquad \sigma(z) = \frac{1}{1+e^{-z}}.$$
#
# So one layer can be sampled *in one go* given the other: **block Gibbs sampling**.

# %% slideshow={"slide_type": "fragment"}
joint = np.exp(-E) / np.exp(-E).sum()  # p(x, h) for all 16 x 8 states
p_h_given_x5 = joint[5] / joint[5].sum()  # p(h | x = state 5), by Bayes
brute = (p_h_given_x5[:, None] * hs).sum(axis=0)  # p(h_j = 1 | x)
print("brute force:", np.round(brute, 6))
print("sigmoid    :", np.round(ref.p_h_given_x(xs[5:6], W, b)[0], 6))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Learning: KL divergence and maximum likelihood
#
# Let $f(\boldsymbol{x})$ be the data distribution. For binary $\boldsymbol{x}$ the integral of
# the lecture notes is a sum:
#
# $$\begin{aligned}\mathrm{KL}(f\,\|\,p) &= \sum_{\boldsymbol{x}} f(\boldsymbol{x})\log\frac{f(\boldsymbol{x})}{p(\boldsymbol{x})}\\
# &= \underbrace{\langle \log f\rangle_f}_{\text{no parameters}} + \langle F(\boldsymbol{x})\rangle_{f} + \log Z .\end{aligned}$$
#
# The first term does not depend on $\boldsymbol{W},\boldsymbol{a},\boldsymbol{b}$, so minimising
# the KL divergence **is** maximising the mean log-likelihood $\langle\log p(\boldsymbol{x})\rangle_f$.
#
# *Corrections to the notes.* (i) The notes write $\langle E(\boldsymbol{x})\rangle_{\rm data}$
# in the last line; with hidden units the energy of the marginal is the free energy
# $F(\boldsymbol{x})$, not $E(\boldsymbol{x},\boldsymbol{h})$. (ii) The KL divergence is the
# *relative* entropy, not the Shannon entropy: it is cross-entropy minus entropy,
# $\mathrm{KL}(f\|p) = H(f,p) - H(f) \ge 0$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 5. The gradient: positive minus negative phase
#
# Differentiating $\log p(\boldsymbol{x}) = -F(\boldsymbol{x}) - \log Z$:
#
# $$\frac{\partial \langle\log p\rangle_f}{\partial W_{ij}} = \underbrace{\langle x_i\,h_j\rangle_{f(\boldsymbol{x})p(\boldsymbol{h}|\boldsymbol{x})}}_{\text{positive phase (data)}} - \underbrace{\langle x_i\,h_j\rangle_{p(\boldsymbol{x},\boldsymbol{h})}}_{\text{negative phase (model)}},$$
#
# $$\frac{\partial \langle\log p\rangle_f}{\partial a_i} = \langle x_i\rangle_f - \langle x_i\rangle_p,
# \qquad \frac{\partial \langle\log p\rangle_f}{\partial b_j} = \langle h_j\rangle_f - \langle h_j\rangle_p .$$
#
# The positive phase is cheap: $h_j$ is replaced by $p(h_j=1|\boldsymbol{x})$. The negative phase
# needs samples from the model, i.e. $Z$'s whole sum. We check the formula against finite
# differences of the exact log-likelihood:

# %% slideshow={"slide_type": "fragment"}
data = ck.data.bars_and_stripes(3).astype(float)
W, a, b = init_params(9, N_HIDDEN, init_std=0.5, seed=SEED)
dW, da, db = ref.log_likelihood_gradient(data, W, a, b)
eps, (i, j) = 1e-5, (4, 2)
Wp, Wm = W.copy(), W.copy()
Wp[i, j] += eps
Wm[i, j] -= eps
numeric = (ref.log_likelihood(data, Wp, a, b) - ref.log_likelihood(data, Wm, a, b)) / (2 * eps)
print(f"dL/dW[{i},{j}]: formula {dW[i, j]:.8f}, finite difference {numeric:.8f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Gibbs sampling, CD-k and persistent CD
#
# Block Gibbs sampling alternates $\boldsymbol{h}\sim p(\boldsymbol{h}|\boldsymbol{x})$ and
# $\boldsymbol{x}\sim p(\boldsymbol{x}|\boldsymbol{h})$; its stationary distribution is the model.
# Running it to equilibrium for every update is too slow, so:
#
# * **CD-k** (Hinton 2002): start the chain **at the data** and stop after $k$ steps;
#   the negative phase uses $\boldsymbol{x}^{(k)}$. Biased, but cheap, and often good enough.
# * **PCD-k** (Tieleman 2008): keep *persistent* chains across updates; each update moves them
#   $k$ steps. Because the parameters change slowly, the chains stay close to the model.
#
# The update with step size $\eta$, and likewise for $\boldsymbol{a}$ and $\boldsymbol{b}$:
#
# $$\boldsymbol{W} \leftarrow \boldsymbol{W} + \eta\left(\langle\boldsymbol{x}\boldsymbol{h}^T\rangle_{\rm data} - \langle\boldsymbol{x}\boldsymbol{h}^T\rangle_{\rm chain}\right).$$

# %% [markdown] slideshow={"slide_type": "subslide"}
# **In code.** The package's RBM writes this estimate as you would: below is the real source of
# `coursekit.torch.RBM.gradient`, not a copy (`show` reads it from the installed package). The
# labs write it themselves first, then compare with it.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
from coursekit.course.source import show
from coursekit.torch import RBM

show(RBM.gradient)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. A tiny world: 3×3 bars and stripes
#
# All $3\times3$ images whose rows are each all-on or all-off (stripes), or whose columns are
# (bars): 14 distinct patterns out of $2^9 = 512$ (MacKay, *Information Theory, Inference and
# Learning Algorithms*, 2003). The data distribution puts $1/14$ on each.

# %% tags=["hide-input"]
p_data = ck.data.bars_and_stripes_distribution(3)
ck.plotting.image_grid(data.reshape(-1, 3, 3), ncols=7, pad=1, title="the 14 patterns");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Training three ways, with the exact KL
#
# Same initial weights and step size, full batch: the exact gradient, CD-1, CD-10 and PCD-1
# (500 persistent chains). After every step, $\mathrm{KL}(f\|p)$ exactly.

# %% slideshow={"slide_type": "skip"}
init = init_params(9, N_HIDDEN, init_std=0.1, seed=SEED)
runs = {
    "exact gradient": train_tiny(data, N_HIDDEN, method="exact", steps=STEPS, eta=ETA, init=init),
    "CD-1": train_tiny(data, N_HIDDEN, method="cd", k=1, steps=STEPS, eta=ETA, init=init),
    "CD-10": train_tiny(data, N_HIDDEN, method="cd", k=10, steps=STEPS, eta=ETA, init=init),
    "PCD-1": train_tiny(data, N_HIDDEN, method="pcd", k=1, steps=STEPS, eta=ETA, init=init,
                        n_chains=N_CHAINS),
}

# %% tags=["hide-input"]
ck.plotting.plot_curves({name: run.kl for name, run in runs.items()}, xlabel="learning step",
                        ylabel="KL(f || p) [nats]", logy=True,
                        title="exact KL during training", figsize=(10, 3.0));

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
for name, run in runs.items():
    print(f"{name:>15}: KL {run.kl[0]:.3f} -> {run.kl[-1]:.3f} nats")

# %% [markdown] slideshow={"slide_type": "notes"}
# PCD-1 follows the exact curve for a long time, then gets noisy: its chains lag behind a model
# whose modes become sharp, and with a large step size the estimate can even throw the model
# back (with 100 chains and eta = 0.3 it does). Tieleman (2008) uses small, decaying step sizes.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## 9. What the model learned
#
# The exact model distribution over all 512 states after training with the exact gradient and
# with CD-1 (the shaded states are the 14 patterns):

# %% tags=["hide-input"]
data_states = np.flatnonzero(p_data)
ck.plotting.plot_distributions(
    {"data": p_data,
     "model (exact gradient)": ref.model_distribution(*runs["exact gradient"].params),
     "model (CD-1)": ref.model_distribution(*runs["CD-1"].params)},
    highlight=data_states, title="p(x) over all 512 states");

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
for name in ("exact gradient", "CD-1"):
    p_model = ref.model_distribution(*runs[name].params)
    print(f"{name:>15}: mass on the 14 patterns {p_model[data_states].sum():.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Samples: 16 Gibbs chains started from noise, 200 steps each, from the model trained with the
# exact gradient.

# %% tags=["hide-input"]
rng = np.random.default_rng(SEED)
x = (rng.random((16, 9)) < 0.5).astype(float)
for _ in range(200):
    _, x = ref.gibbs_step(x, *runs["exact gradient"].params, rng=rng)
ck.plotting.image_grid(x.reshape(-1, 3, 3), ncols=8, title="Gibbs samples after 200 steps");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. How biased is CD-k?
#
# At a given set of parameters we compare the CD-k estimate of $\partial L/\partial\boldsymbol{W}$
# (averaged over many chains, so what is left is bias, not noise) with the exact gradient:
# the relative error $\|\Delta\boldsymbol{W}_{\rm CD} - \Delta\boldsymbol{W}_{\rm exact}\| / \|\Delta\boldsymbol{W}_{\rm exact}\|$.

# %% slideshow={"slide_type": "skip"}
start = init_params(9, N_HIDDEN, init_std=1.0, seed=SEED)
errors = {
    "random weights (std 1)": gradient_error_by_k(data, *start, K_VALUES, replicas=REPLICAS),
    "after CD-1 training": gradient_error_by_k(data, *runs["CD-1"].params, K_VALUES,
                                               replicas=REPLICAS),
}

# %% tags=["hide-input"]
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(10, 3.4))
for name, err in errors.items():
    ax.plot(list(err), list(err.values()), "o-", label=name)
ax.set(xscale="log", xlabel="k (Gibbs steps)", ylabel="relative error of dW", title="CD-k vs exact gradient")
ax.set_xticks(K_VALUES, labels=[str(k) for k in K_VALUES])
ax.legend();

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
for name, err in errors.items():
    print(f"{name:>24}: " + ", ".join(f"k={k}: {e:.2f}" for k, e in err.items()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# With more Gibbs steps the estimate approaches the exact gradient. Near the end of CD-1
# training the *exact* gradient is small, so CD-1's bias is as large as the gradient itself:
# CD-1 has stopped where *its* estimate vanishes, not where the likelihood is highest. That is
# why the KL curve of CD-1 levels off above the exact one, and why CD-k with larger k, or PCD,
# is used when the likelihood matters.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 11. Summary, and on to MNIST
#
# * $p(\boldsymbol{x}) = e^{-F(\boldsymbol{x})}/Z$ with the free energy $F$; the conditionals are sigmoids.
# * Learning = minimising $\mathrm{KL}(f\|p)$ = maximising the likelihood: positive minus negative phase.
# * CD-k and PCD replace the intractable negative phase with short Gibbs chains; CD-k is biased.
#
# For MNIST ($n_v = 784$), $Z$ cannot be enumerated: the labs estimate it with
# **annealed importance sampling** (Salakhutdinov and Murray 2008) to report a test
# log-likelihood, and train with `coursekit.torch.RBM` or `coursekit.keras.RBM`.
