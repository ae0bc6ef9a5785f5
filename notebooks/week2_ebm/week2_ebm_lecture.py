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
# # Week 2: Langevin sampling and energy-based models
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week2_ebm/week2_ebm_lecture.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# Last week we sampled RBMs with Gibbs steps. This week: **Langevin sampling**, which needs only
# $\nabla\log p$, and **energy-based models** trained with it. We check every claim on 2-D
# targets whose densities we know exactly; the labs (`week2_ebm_pytorch`, `week2_ebm_keras`)
# then train an EBM on MNIST.
#
# Follows M. Hjorth-Jensen's lecture notes (week of 15-19 April 2024, "Langevin sampling",
# "More on the SGLD"), with one correction marked below (the factor 1/2). Further reading:
# Roberts and Tweedie (1996) on Langevin and MALA; Welling and Teh (2011) on SGLD; Du and
# Mordatch (2019) and the uvadlc tutorial 8 (Lippe 2022) on image EBMs; Song and Kingma (2021),
# *How to train your energy-based models*.

# %% [markdown] slideshow={"slide_type": "notes"}
# The sampling sections are NumPy (`coursekit.reference.langevin`, float64): no autograd hides
# the maths; gradients of the toy densities are written out. The toy EBM of section 7 uses
# PyTorch (`coursekit.torch`); the same sampler exists in Keras (`coursekit.keras.langevin`),
# tested to give the same numbers.

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
CHAINS = ck.by_mode(full=4000, smoke=200)  # independent chains per experiment
STEPS = ck.by_mode(full=2000, smoke=100)  # Langevin steps per chain
STEP_SIZE = 0.02  # the drift step epsilon of the toy samplers
TOY_UPDATES = ck.by_mode(full=1500, smoke=20)  # updates of the 2-D toy EBM

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np

from coursekit.plotting import ebm as plotting_ebm
from coursekit.reference import langevin as ref

ck.plotting.use_style()
ck.seed_everything(SEED)
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The Langevin equation
#
# A particle in the potential $U(\boldsymbol{x}) = -\log p(\boldsymbol{x})$, overdamped and kicked
# by thermal noise, moves as
#
# $$d\boldsymbol{x}_t = \nabla\log p(\boldsymbol{x}_t)\,dt + \sqrt{2}\,d\boldsymbol{W}_t .$$
#
# Its density $\rho_t$ obeys the Fokker-Planck equation
# $\partial_t\rho = -\nabla\cdot(\rho\nabla\log p) + \nabla^2\rho$, and $\rho = p$ makes the
# right side vanish: $p\nabla\log p = \nabla p$. So **$p$ is the stationary law**, and we never
# need the normalising constant: $\nabla\log(p/Z) = \nabla\log p$.
#
# The Euler-Maruyama step of size $\epsilon$ is the **unadjusted Langevin algorithm** (ULA):
#
# $$\boldsymbol{x}_{t+1} = \boldsymbol{x}_t + \epsilon\,\nabla\log p(\boldsymbol{x}_t) + \sqrt{2\epsilon}\,\boldsymbol{w}_t,
# \qquad \boldsymbol{w}_t\sim\mathcal N(0, I).$$
#
# Welling and Teh (2011) write the same with $\eta = 2\epsilon$: drift $\frac{\eta}{2}\nabla\log p$,
# noise variance $\eta$. `coursekit` uses `step_size` $=\epsilon$ and, by default,
# `noise_scale` $=\sqrt{2\epsilon}$.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Three targets with exact densities
#
# A correlated Gaussian ($\rho = 0.9$), a mixture of two Gaussians with weights 0.7 and 0.3, and
# a ring. Chains start at one point; the paths show five of them, the dots the end points of
# all chains.

# %% slideshow={"slide_type": "fragment"}
targets = [ref.correlated_gaussian(0.9), ref.mixture(separation=5.0), ref.ring()]
runs = []
for target in targets:
    x0 = np.tile([[-3.0, 3.0]], (CHAINS, 1))
    runs.append(ref.langevin(target.log_prob, target.grad_log_prob, x0, step_size=STEP_SIZE,
                             n_steps=STEPS, return_chain=True, stride=10, rng=rng))

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
plotting_ebm.toy_panel(targets, runs, suptitle=f"ULA, step {STEP_SIZE}, {STEPS} steps");

# %% [markdown] slideshow={"slide_type": "subslide"}
# Mean and covariance of the chains' end points against the exact values. The Gaussian and the
# ring match within Monte Carlo error and the $O(\epsilon)$ bias. The mixture does not yet: its
# chains started near the heavy mode and $2000\times0.02$ time units are too few to cross
# between modes often enough (section 5).

# %% slideshow={"slide_type": "fragment"}
for target, run in zip(targets, runs, strict=True):
    print(f"{target.name:28s} mean {np.round(run.x.mean(0), 3)} (exact {np.round(target.mean, 3)}),"
          f" cov {np.round(np.cov(run.x.T).ravel(), 3)} (exact {np.round(target.cov.ravel(), 3)})")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The factor 1/2: the lecture's update samples $p^2$
#
# The lecture notes write $\theta_{i+1} = \theta_i + \eta\nabla\log p(\theta_i) + \sqrt{\eta}\,w_i$.
# Compare with ULA: drift $\eta$ means $\epsilon=\eta$, which needs noise $\sqrt{2\eta}$; with
# noise $\sqrt\eta$ the chain is ULA for the density whose $\nabla\log$ is twice as large,
#
# $$\eta\nabla\log p = \tfrac{\eta}{2}\nabla\log p^2 \quad\Rightarrow\quad \text{stationary law} \propto p^2
# \quad(\text{temperature } \tfrac12).$$
#
# **Correction to the notes:** either halve the drift ($\frac{\eta}{2}\nabla\log p$, Welling and
# Teh 2011) or double the noise variance. On $\mathcal N(0, \sigma^2)$ everything is exact: the
# chain is AR(1), $x' = (1-\epsilon/\sigma^2)x + s\,w$, with stationary variance
# $s^2/(1-(1-\epsilon/\sigma^2)^2)$; the lecture's form ($s^2=\epsilon$) gives
# $\sigma^2/(2-\epsilon/\sigma^2)\approx\sigma^2/2$.

# %% slideshow={"slide_type": "fragment"}
def std_normal(x):
    return -0.5 * np.sum(x * x, axis=1)


def std_normal_grad(x):
    return -x


eta = 0.05
x0 = np.zeros((CHAINS, 1))
lecture = ref.langevin(std_normal, std_normal_grad, x0, step_size=eta, noise_scale=eta**0.5,
                       n_steps=STEPS // 4, rng=rng).x
standard = ref.langevin(std_normal, std_normal_grad, x0, step_size=eta / 2, n_steps=STEPS // 2,
                        rng=rng).x
print(f"lecture form  (drift eta,   noise sqrt(eta)): variance {lecture.var():.3f}, exact "
      f"{ref.stationary_variance_gaussian(1.0, eta, eta**0.5):.3f}")
print(f"standard form (drift eta/2, noise sqrt(eta)): variance {standard.var():.3f}, exact "
      f"{ref.stationary_variance_gaussian(1.0, eta / 2):.3f}; target 1")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
fig, ax = plt.subplots(figsize=(8, 4.6))
grid = np.linspace(-4, 4, 400)
ax.hist(standard.ravel(), bins=80, density=True, alpha=0.5, label="standard form (drift $\\eta/2$)")
ax.hist(lecture.ravel(), bins=80, density=True, alpha=0.5, label="lecture form (drift $\\eta$)")
ax.plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), "k-", label="$p = \\mathcal{N}(0,1)$")
ax.plot(grid, np.exp(-grid**2) / np.sqrt(np.pi), "k--", label="$p^2/Z = \\mathcal{N}(0,1/2)$")
ax.set_xlabel("$x$")
ax.set_ylabel("density")
ax.set_title(f"eta = {eta}: the lecture's update samples p squared")
fig.legend(loc="outside lower center", ncols=2);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Discretisation bias, and MALA
#
# Even the right form is biased at finite $\epsilon$: on $\mathcal N(0,1)$ ULA's stationary variance is
# $1/(1-\epsilon/2)$, not 1. The **Metropolis-adjusted Langevin algorithm** (MALA; Roberts and
# Tweedie 1996) treats the ULA step as a proposal $q(\boldsymbol y\mid\boldsymbol x)=\mathcal N(\boldsymbol x+\epsilon\nabla\log p(\boldsymbol x), 2\epsilon I)$ and accepts it with probability
#
# $$\alpha = \min\Big(1,\ \frac{p(\boldsymbol y)\,q(\boldsymbol x\mid\boldsymbol y)}{p(\boldsymbol x)\,q(\boldsymbol y\mid\boldsymbol x)}\Big),$$
#
# which makes $p$ exactly stationary at any step size; the price is rejections as $\epsilon$ grows.
# (`langevin(..., mala=True)` reports the acceptance rate.)

# %% slideshow={"slide_type": "fragment"}
steps = [0.05, 0.1, 0.2, 0.4, 0.8, 1.2]
ula_var, mala_var, acc = [], [], []
for h in steps:
    ula_var.append(ref.langevin(std_normal, std_normal_grad, x0, step_size=h,
                                n_steps=max(50, int(10 / h)), rng=rng).x.var())
    out = ref.langevin(std_normal, std_normal_grad, x0, step_size=h, n_steps=max(200, int(40 / h)),
                       mala=True, rng=rng)
    mala_var.append(out.x.var())
    acc.append(out.acceptance_rate)
print("step      ", steps)
print("ULA var   ", np.round(ula_var, 3))
print("exact ULA ", np.round([ref.stationary_variance_gaussian(1.0, h) for h in steps], 3))
print("MALA var  ", np.round(mala_var, 3))
print("MALA acc. ", np.round(acc, 3))

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
fine = np.linspace(0.01, 1.3, 200)
ax1.plot(fine, [ref.stationary_variance_gaussian(1.0, h) for h in fine], "k-",
         label="ULA, exact $1/(1-\\epsilon/2)$")
ax1.plot(steps, ula_var, "o", label="ULA, simulated")
ax1.plot(steps, mala_var, "s", label="MALA, simulated")
ax1.axhline(1.0, color="gray", ls=":")
ax1.set_xlabel("step size $\\epsilon$")
ax1.set_ylabel("stationary variance")
ax1.legend()
ax2.plot(steps, acc, "s-")
ax2.set_xlabel("step size $\\epsilon$")
ax2.set_ylabel("MALA acceptance rate");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Separated modes: Langevin is local
#
# Langevin moves downhill in $-\log p$ plus small kicks. Between modes far apart the chain must
# climb a barrier, and the time to do so grows like $e^{\Delta U}$. With modes 10 standard
# deviations apart, chains never cross: the share of chains in each mode is set by where they
# started, not by the weights (0.7 / 0.3). At 5 apart (section 2) they mix.

# %% slideshow={"slide_type": "fragment"}
far = ref.mixture(separation=10.0)
for name, start in (("left", [-5.0, 0.0]), ("right", [5.0, 0.0]), ("middle", [0.0, 0.0])):
    end = ref.langevin(far.log_prob, far.grad_log_prob, np.tile([start], (CHAINS, 1)),
                       step_size=0.1, n_steps=STEPS, rng=rng).x
    share = np.bincount(far.mode_of(end), minlength=2) / CHAINS
    print(f"start {name:6s}: share in the heavy mode {share[0]:.2f} (weight 0.70)")
near = ref.mixture(separation=5.0)
end = ref.langevin(near.log_prob, near.grad_log_prob, np.tile([[2.5, 0.0]], (CHAINS, 1)),
                   step_size=0.1, n_steps=STEPS, rng=rng).x
print(f"5 apart, all from the light mode: share in the heavy mode "
      f"{np.mean(near.mode_of(end) == 0):.2f} (weight 0.70)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. SGLD: Langevin with minibatch gradients
#
# For a Bayesian posterior $p(\theta\mid\mathcal D)\propto p(\theta)\prod_{i=1}^N p(y_i\mid\theta)$
# the gradient is a sum over all data. SGLD (Welling and Teh 2011) replaces it by a minibatch
# estimate, $\nabla\log p(\theta) + \frac{N}{B}\sum_{i\in\text{batch}}\nabla\log p(y_i\mid\theta)$,
# in the Langevin step. This is what the lecture notes call SGLD. The minibatch error adds
# variance; Welling and Teh let $\epsilon\to0$ to make it vanish.
#
# Example with an exact answer: $y_i\sim\mathcal N(\boldsymbol\theta, I)$ in 2-D, prior
# $\mathcal N(0, 10^2 I)$, $N = 500$. The posterior is Gaussian with precision
# $\Lambda = N + 10^{-2}$, and the SGLD chain's stationary variance is exactly
# $\frac{1}{\Lambda}\cdot\frac{1+\epsilon V/2}{1-\epsilon\Lambda/2}$ with $V = N^2\,\mathrm{var}(y)/B$
# (`ref.sgld_stationary_variance`).

# %% slideshow={"slide_type": "fragment"}
data = rng.normal([1.0, -0.5], 1.0, (500, 2))
post_mean, post_cov = ref.gaussian_mean_posterior(data, 1.0, 10.0)
print("exact posterior mean", np.round(post_mean, 4), " sd", np.round(np.sqrt(np.diag(post_cov)), 4))
for h in (2e-4, 1e-4, 2e-5):
    traj = ref.sgld(data, 1.0, 10.0, np.zeros((CHAINS, 2)), step_size=h,
                    n_steps=int(15 / (h * 500)), batch_size=50, rng=rng)
    want = ref.sgld_stationary_variance(data, 1.0, 10.0, step_size=h, batch_size=50)
    print(f"step {h:.0e}: SGLD mean {np.round(traj[-1].mean(0), 4)}, sd "
          f"{np.round(traj[-1].std(0), 4)}, exact SGLD sd {np.round(np.sqrt(want), 4)}")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
fig, ax = plt.subplots(figsize=(8, 4.4))
grid = np.linspace(post_mean[0] - 0.2, post_mean[0] + 0.2, 300)
sd = np.sqrt(post_cov[0, 0])
ax.hist(traj[-1][:, 0], bins=60, density=True, alpha=0.5, label=f"SGLD, step {h:.0e}, B = 50")
ax.plot(grid, np.exp(-(grid - post_mean[0])**2 / (2 * sd**2)) / (sd * np.sqrt(2 * np.pi)), "k-",
        label="exact posterior")
ax.set_xlabel("$\\theta_1$")
ax.set_ylabel("density")
ax.set_title("posterior of $\\theta_1$: SGLD against the exact answer")
fig.legend(loc="outside lower center", ncols=2);

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Energy-based models
#
# An EBM is any network $E_\theta(\boldsymbol x)$ read as
# $p_\theta(\boldsymbol x) = e^{-E_\theta(\boldsymbol x)}/Z_\theta$. The gradient of the log-likelihood is
#
# $$\nabla_\theta \log p_\theta(\boldsymbol x) = -\nabla_\theta E_\theta(\boldsymbol x) + \mathbb{E}_{\boldsymbol x'\sim p_\theta}\big[\nabla_\theta E_\theta(\boldsymbol x')\big]:$$
#
# a **data term** minus a **model term**: exactly the positive and negative phases of week 1's
# RBM, where the model term came from Gibbs chains (and PCD kept them alive between updates).
# Here the model term comes from Langevin chains on $\boldsymbol x$, which need only
# $\nabla_{\boldsymbol x}E_\theta$ (autograd). Minimising
# $L = \overline{E(\boldsymbol x_{\rm data})} - \overline{E(\boldsymbol x_{\rm sample})}$ follows this
# gradient; a penalty $\alpha(\overline{E^2_{\rm data}}+\overline{E^2_{\rm sample}})$ keeps energies
# near zero (the likelihood does not care about a constant shift; without it they drift).
#
# A toy: an MLP energy trained on the ring, with exact ULA negatives kept in a **replay buffer**
# (chains continue from where earlier chains ended, the PCD idea; 5% restart from noise).

# %% slideshow={"slide_type": "fragment"}
import torch

from coursekit.torch import EBM, MLPEnergy

torch.set_num_threads(ck.num_threads())
ring = ref.ring()
ring_data = ring.sample(4000, rng).astype(np.float32)
toy = EBM(MLPEnergy(2, 64), (2,), step_size=0.01, noise_scale=None, n_steps=30,
          grad_clip=None, clamp=None, init_range=(-4, 4), buffer_size=4000, alpha=0.1, lr=2e-3,
          clip_norm=None, data_noise=0.0, seed=SEED)
toy_hist = toy.fit(ring_data, updates=TOY_UPDATES, batch_size=200,
                   log_every=max(1, TOY_UPDATES // 10), progress=False)
print(f"{TOY_UPDATES} updates in {toy_hist['seconds'][-1]:.0f} s")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(12.6, 4.4))
plotting_ebm.density_and_chains(ring, samples=ring_data[:2000], ax=axes[0],
                                title="data, exact density")
grid = np.linspace(-4, 4, 200)
xx, yy = np.meshgrid(grid, grid)
e_grid = toy.energies(np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32)).reshape(xx.shape)
axes[1].imshow(np.exp(-(e_grid - e_grid.min())), origin="lower", extent=(-4, 4, -4, 4),
               cmap="Blues")
axes[1].set_title("learned $e^{-E(x)}$, unnormalised")
axes[1].set_xlabel("$x_1$")
axes[1].set_ylabel("$x_2$")
buf = toy.buffer.states
axes[2].plot(buf[:, 0], buf[:, 1], ".", ms=1.5, color="tab:orange")
axes[2].set_xlim(-4, 4)
axes[2].set_ylim(-4, 4)
axes[2].set_aspect("equal")
axes[2].set_title("replay buffer, trained")
axes[2].set_xlabel("$x_1$")
axes[2].set_ylabel("$x_2$")
e_data = toy.energies(ring_data[:1000])
e_noise = toy.energies(rng.uniform(-4, 4, (1000, 2)).astype(np.float32))
print(f"mean energy: data {e_data.mean():.2f}, uniform noise {e_noise.mean():.2f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Image EBMs decouple step and noise
#
# The image EBMs students copy (Du and Mordatch 2019; the uvadlc tutorial; Foster, chapter 7)
# run, on pixels in $[-1,1]$,
#
# $$\boldsymbol x \leftarrow \mathrm{clamp}\big(\boldsymbol x - 10\cdot\mathrm{clip}_{0.03}(\nabla_{\boldsymbol x} E) + 0.005\,\boldsymbol w\big),$$
#
# 60 steps, from a replay buffer. Exact Langevin with step 10 would need noise $\sqrt{20}\approx 4.5$
# per pixel, which drowns every image; with noise 0.005 the chain samples
# $p^{1/T}$ at temperature $T = \sigma^2/(2\epsilon) \approx 10^{-6}$: almost noiseless gradient
# descent towards low energy. The gradient clip bounds each step to 0.3 per pixel. So these
# models are not trained by maximum likelihood with a correct sampler; they learn an energy
# whose *short-run, low-temperature* descent from the buffer gives good images (Nijkamp et al.
# 2019 call such models "short-run MCMC"). They sample well but the density $e^{-E}$ is not a
# calibrated model. On our Gaussian the same recipe collapses to the mode:

# %% slideshow={"slide_type": "fragment"}
gauss = targets[0]
decoupled = ref.langevin(gauss.log_prob, gauss.grad_log_prob, rng.uniform(-3, 3, (CHAINS, 2)),
                         step_size=0.05, noise_scale=0.005, n_steps=200, rng=rng).x
exact = ref.langevin(gauss.log_prob, gauss.grad_log_prob, rng.uniform(-3, 3, (CHAINS, 2)),
                     step_size=0.05, n_steps=200, rng=rng).x
print(f"noise 0.005: covariance {np.array2string(np.cov(decoupled.T).ravel(), precision=2)}")
print(f"noise sqrt(2 * 0.05): covariance {np.round(np.cov(exact.T).ravel(), 3)}; "
      f"exact {gauss.cov.ravel()}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# * ULA: $\boldsymbol x + \epsilon\nabla\log p + \sqrt{2\epsilon}\,\boldsymbol w$ samples $p$ up to
#   an $O(\epsilon)$ bias; the lecture's $\eta$ / $\sqrt\eta$ form samples $p^2$.
# * MALA removes the bias with an accept/reject step; acceptance falls as $\epsilon$ grows.
# * Langevin is local: separated modes need long chains (or tempering).
# * SGLD: minibatch gradients, exact only as $\epsilon\to0$ (the excess variance is computable).
# * EBM gradient = data term minus model term (the RBM's phases); Langevin supplies the model
#   term; a replay buffer and an energy penalty make it work; image EBMs run a low-temperature
#   descent, not Langevin for $e^{-E}$.
#
# Next: the labs train a CNN energy on MNIST in PyTorch and in Keras.
