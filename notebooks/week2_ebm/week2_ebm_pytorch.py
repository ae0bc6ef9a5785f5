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
# # Week 2 lab: an energy-based model of MNIST in PyTorch
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week2_ebm/week2_ebm_pytorch.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# We train a small CNN energy $E_\theta(\boldsymbol{x})$ on MNIST the way Du and Mordatch (2019)
# and the uvadlc tutorial (Lippe 2022) do: negatives from short Langevin chains that start in a
# replay buffer, a contrastive loss with energy regularisation, Adam with $\beta_1=0$. Then we
# look at the buffer during training, a chain from noise to a digit, the energies of digits,
# noise and clothes (Fashion-MNIST), out-of-distribution detection by energy, and the samples
# through the course's yardstick. The maths is in `week2_ebm_lecture`; the same lab in Keras is
# `week2_ebm_keras`.

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
# sized so that this notebook finishes within about 10 minutes on 2 cores: batch 64, 30 steps per update,
# 2,000 updates (a CPU budget, not a recommendation; section 3 prints the training time of this
# run). With so few updates the tutorial's learning rate 1e-4 leaves blob-like samples (try it,
# section 8); ten times that, 1e-3, gives digit-like ones (section 6 scores them with the
# yardstick). On a GPU go back to the tutorial: `UPDATES = 20_000`, `BATCH = 128`,
# `STEPS = 60`, `LR = 1e-4`.

# %% slideshow={"slide_type": "skip"} tags=["parameters"]
import coursekit as ck

SEED = 0
UPDATES = ck.by_mode(full=2000, smoke=4)  # parameter updates
BATCH = ck.by_mode(full=64, smoke=16)
STEPS = ck.by_mode(full=30, smoke=3)  # Langevin steps per update (uvadlc: 60)
STEP_SIZE, NOISE, GRAD_CLIP = 10.0, 0.005, 0.03  # uvadlc / Du and Mordatch (2019)
ALPHA = 0.1  # energy regularisation
LR = 1e-3  # Adam learning rate (beta1 = 0); uvadlc: 1e-4, for 28,000 updates
BUFFER, RESTART = 8192, 0.05  # replay buffer size, share restarted from noise
SAMPLE_STEPS = ck.by_mode(full=256, smoke=4)  # Langevin steps for samples from noise
N_SAMPLES = ck.by_mode(full=500, smoke=40)  # samples judged by coursekit.metrics (>= 500)
N_EVAL = ck.by_mode(full=2000, smoke=100)  # images per energy histogram
CLIP_NORM = 0.1  # bound on the parameter gradient's norm (the package's default)
# section 2, the algorithm written here: the same energy and sampler, trained for about a minute
BUILD_UPDATES = ck.by_mode(full=600, smoke=3)
BUILD_STEPS = ck.by_mode(full=20, smoke=3)  # Langevin steps per update

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from coursekit import metrics
from coursekit.course import results
from coursekit.metrics.ood import ink_score, roc_auc
from coursekit.plotting import ebm as plotting_ebm
from coursekit.torch import EBM, CNNEnergy

ck.plotting.use_style()
ck.seed_everything(SEED)
torch.set_num_threads(ck.num_threads())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data
#
# Pixels in $[-1, 1]$ (the range the Langevin chains are clamped to), images $[n, 1, 28, 28]$.

# %% slideshow={"slide_type": "fragment"}
train_images, _ = ck.data.load_mnist("train")
test_images, _ = ck.data.load_mnist("test")
x_train = ck.data.to_float(train_images, (-1, 1))[:, None]
x_test = ck.data.to_float(test_images, (-1, 1))[:, None]
print(ck.data.splits("mnist", train=len(x_train), test=len(x_test)))
print(f"images {tuple(x_train.shape[1:])} in [-1, 1]; {UPDATES:,} updates of {BATCH}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Build it: Langevin negatives, a replay buffer and the contrastive loss in plain PyTorch
#
# Before the package's `EBM`, the algorithm itself. An energy network $E_\theta$ defines
# $p_\theta(\boldsymbol{x})=e^{-E_\theta(\boldsymbol{x})}/Z_\theta$, and the gradient of the
# log-likelihood is a data term minus a model term, the positive and negative phases of week 1:
#
# $$\nabla_\theta\log p_\theta(\boldsymbol{x})=-\nabla_\theta E_\theta(\boldsymbol{x})
# +\mathbb{E}_{\boldsymbol{x}'\sim p_\theta}\big[\nabla_\theta E_\theta(\boldsymbol{x}')\big].$$
#
# The model term needs samples $\boldsymbol{x}'$ of $p_\theta$; Langevin chains give them from
# $\nabla_{\boldsymbol{x}}\log p_\theta=-\nabla_{\boldsymbol{x}}E_\theta$ alone ($Z_\theta$ drops
# out). **Which Langevin step.** The lecture notes write
# $\boldsymbol{x}_{i+1}=\boldsymbol{x}_i+\eta\nabla\log p(\boldsymbol{x}_i)+\sqrt{\eta}\,\boldsymbol{w}_i$;
# with drift $\eta$ that noise samples $p^2$, not $p$ (the lecture notebook, section 3, shows
# it): the correct noise is $\sqrt{2\eta}$. coursekit (`coursekit.torch.langevin`) and this
# exercise write one step with a step size $\epsilon$ and a separate noise scale $\sigma$,
#
# $$\boldsymbol{x}\leftarrow\mathrm{clamp}_{[-1,1]}\Big(\boldsymbol{x}+\epsilon\,\mathrm{clip}_c\big(\nabla_{\boldsymbol{x}}\log p_\theta(\boldsymbol{x})\big)+\sigma\,\boldsymbol{w}\Big),\qquad\boldsymbol{w}\sim\mathcal N(0,I),$$
#
# where $\sigma=\sqrt{2\epsilon}$ (`noise_scale=None`) is exact Langevin dynamics for $p_\theta$.
# Image EBMs decouple the two: $\epsilon=10$, $\sigma=0.005$, each gradient element clipped at
# $c=0.03$ (Du and Mordatch 2019; the lecture notebook, section 8): a low-temperature, noisy
# descent of the energy, which is what we train with here. The clamp keeps pixels in their
# range $[-1,1]$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** Write `langevin`: `len(noise)` steps of the update above, step `t` with the
# normals `noise[t]` (given, so that the check can compare your chains with coursekit's number
# for number). Take the gradient of the *sum* of the energies with `torch.autograd.grad`: each
# chain then gets its own $\nabla_{\boldsymbol{x}}\log p$.

# %% slideshow={"slide_type": "fragment"}
def langevin(energy, x, noise, step_size, noise_scale, grad_clip):
    """Langevin chains: len(noise) steps from x [n, 1, 28, 28] (any [n, ...]), pixels in [-1, 1].

    energy: a network [n, ...] -> [n]. noise [k, n, ...]: standard normals, noise[t] for step t.
    noise_scale None: sqrt(2 step_size), exact Langevin for exp(-E). grad_clip None: no
    clipping. Returns the chains' end states [n, ...], detached.
    """
    ### BEGIN SOLUTION
    if noise_scale is None:
        noise_scale = (2 * step_size) ** 0.5
    for w in noise:
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(-energy(x).sum(), x)  # grad log p = -grad E
        if grad_clip is not None:
            grad = grad.clamp(-grad_clip, grad_clip)
        x = (x + step_size * grad + noise_scale * w).clamp(-1, 1)
    ### END SOLUTION
    return x.detach()


# %% slideshow={"slide_type": "fragment"}
from coursekit.torch import exercises as ex

ex.check_langevin(langevin)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** Chains from noise would need hundreds of steps per update. A **replay buffer**
# (Du and Mordatch 2019, section 3.1; persistent CD in week 1) keeps the chains' end states and
# starts the next chains there, so that a few dozen steps suffice; a share `restart` of each
# batch starts afresh from uniform noise, so that the buffer keeps exploring. Write
# `buffer_draw`: the start states for one update, the first $k=\mathrm{round}(\texttt{restart}\cdot n)$
# rows fresh noise `fresh[:k]`, the others the stored rows `buffer[idx[k:]]` (`idx`, the drawn
# rows, and `fresh` are given). Leave the buffer itself unchanged: the chains' end states are
# written back after the Langevin run.

# %% slideshow={"slide_type": "fragment"}
def buffer_draw(buffer, idx, fresh, restart):
    """Start states [n, ...] from buffer [capacity, ...]: fresh noise in the first
    round(restart * n) rows, buffer[idx] in the others (n = len(idx); fresh [n, ...])."""
    ### BEGIN SOLUTION
    k = round(restart * len(idx))
    x0 = buffer[idx]  # indexing with a tensor copies the rows
    x0[:k] = fresh[:k]
    ### END SOLUTION
    return x0


# %% slideshow={"slide_type": "fragment"}
ex.check_buffer_draw(buffer_draw)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** Write the loss minimised per update (Du and Mordatch 2019, eq. 6 and section 3.3):
#
# $$L(\theta)=\overline{E_\theta(\boldsymbol{x}_{\rm data})}-\overline{E_\theta(\boldsymbol{x}_{\rm sample})}
# +\alpha\Big(\overline{E_\theta(\boldsymbol{x}_{\rm data})^2}+\overline{E_\theta(\boldsymbol{x}_{\rm sample})^2}\Big).$$
#
# Its gradient is minus the log-likelihood gradient above (with the samples standing in for
# $p_\theta$) plus a penalty that keeps energies near zero: $p_\theta$ does not change when a
# constant is added to $E_\theta$, so without it the energies drift. The samples are held fixed
# (`x_fake.detach()`): the model term is $\nabla_\theta E_\theta$ *at* the samples, not a
# derivative through the sampler.

# %% slideshow={"slide_type": "fragment"}
def ebm_loss(energy, x_data, x_fake, alpha):
    """The contrastive loss with its regulariser (a scalar tensor); x_data [n, ...],
    x_fake [m, ...] (the Langevin samples, held fixed)."""
    ### BEGIN SOLUTION
    e_data, e_fake = energy(x_data), energy(x_fake.detach())
    cdiv = e_data.mean() - e_fake.mean()
    loss = cdiv + alpha * (e_data.square().mean() + e_fake.square().mean())
    ### END SOLUTION
    return loss


# %% slideshow={"slide_type": "fragment"}
ex.check_ebm_loss(ebm_loss)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Train it.** One update: draw the start states, run the chains, write their ends back into
# the buffer, and take one Adam step ($\beta_1=0$) on $L$ with the parameter gradient's norm
# clipped at `CLIP_NORM` (the package's defaults). The energy is the package's `CNNEnergy`
# (the network is not this week's exercise). `BUILD_UPDATES` updates with `BUILD_STEPS`
# Langevin steps each take about a minute on a 2-core CPU (the cell prints its time): on 28x28
# digits at full size, which learns visibly in a minute at `LR` $=10^{-3}$. The curve is the
# mean energy of the data batch and of the samples; the grids show buffer states and chains
# your `langevin` runs from noise for `SAMPLE_STEPS` steps.

# %% slideshow={"slide_type": "skip"}
def ebm_update(energy, optimizer, buffer, x_data, idx, fresh, noise):
    """One update of the core; writes the chains' ends into buffer. Returns the loss."""
    x0 = buffer_draw(buffer, idx, fresh, RESTART)
    x_fake = langevin(energy, x0, noise, STEP_SIZE, NOISE, GRAD_CLIP)
    buffer[idx] = x_fake
    loss = ebm_loss(energy, x_data, x_fake, ALPHA)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(energy.parameters(), CLIP_NORM)
    optimizer.step()
    return loss.item()


torch.manual_seed(SEED)
core = CNNEnergy()
core_opt = torch.optim.Adam(core.parameters(), lr=LR, betas=(0.0, 0.999))
rng, gen = np.random.default_rng(SEED), torch.Generator().manual_seed(SEED)
buffer = torch.from_numpy(rng.uniform(-1, 1, (BUFFER, 1, 28, 28)).astype(np.float32))
data, curve, start = torch.from_numpy(x_train), [], time.perf_counter()
for step in range(1, BUILD_UPDATES + 1):
    x_data = data[rng.integers(len(data), size=BATCH)]
    idx = torch.from_numpy(rng.choice(BUFFER, BATCH, replace=False))
    fresh = torch.from_numpy(rng.uniform(-1, 1, (BATCH, 1, 28, 28)).astype(np.float32))
    noise = torch.randn(BUILD_STEPS, BATCH, 1, 28, 28, generator=gen)
    loss = ebm_update(core, core_opt, buffer, x_data, idx, fresh, noise)
    if step % max(1, BUILD_UPDATES // 50) == 0:
        with torch.no_grad():
            curve.append((step, core(x_data).mean().item(), core(buffer[idx]).mean().item()))
build_seconds = time.perf_counter() - start
print(f"{BUILD_UPDATES:,} updates in {build_seconds:.0f} s")

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
x_noise = torch.from_numpy(rng.uniform(-1, 1, (36, 1, 28, 28)).astype(np.float32))
core_samples = langevin(core, x_noise, torch.randn(SAMPLE_STEPS, *x_noise.shape, generator=gen),
                        STEP_SIZE, NOISE, GRAD_CLIP)
fig = plt.figure(figsize=(14, 4.2))
left, middle, right = fig.subfigures(1, 3, width_ratios=[1.3, 1, 1])
ck.plotting.plot_curves({"data": [e for _, e, _ in curve], "samples": [e for _, _, e in curve]},
                        x=[s for s, _, _ in curve], ax=left.subplots(), xlabel="update")
left.axes[0].set_title("mean energy")
ck.plotting.image_grid((buffer[:36, 0].numpy() + 1) / 2, ncols=6, ax=middle.subplots(),
                       title="your replay buffer")
ck.plotting.image_grid((core_samples[:, 0].numpy() + 1) / 2, ncols=6, ax=right.subplots(),
                       title=f"your chains from noise, {SAMPLE_STEPS} steps");

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
from IPython.display import Markdown

last = curve[-max(1, len(curve) // 5):]  # the last fifth of the logged updates
Markdown(f"**This run**: {BUILD_UPDATES:,} updates in {build_seconds:.0f} s; each buffer row "
         f"was continued {BUILD_UPDATES * BATCH / BUFFER:.1f} times on average. Over the last "
         f"fifth of the updates the data's mean energy averaged "
         f"{np.mean([d for _, d, _ in last]):.3f}, the samples' {np.mean([f for _, _, f in last]):.3f}.")

# %% [markdown] slideshow={"slide_type": "fragment"}
# **What to look for.** The data's energy starts below the samples'; then the two curves
# chase each other and settle close together, near zero: every update pushes the data down and
# the samples up, the sampler follows the new landscape, and the regulariser keeps both of
# order one. The buffer holds chains of every age: with `BUFFER` rows and `BATCH` drawn per
# update, a row has been continued only a few times on average (the count is printed above),
# so some rows are still half noise. The chains from noise run `SAMPLE_STEPS` steps on the
# final energy: strokes that close into digit-like shapes show what the energy has learned.
# A gap that grows without bound, or energies of tens and more, would mean the regulariser is
# missing or the sampler stopped following.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The package computes what you wrote.** `coursekit.torch.EBM.train_step` is the same update
# (its loss is `coursekit.torch.ebm.contrastive_loss`). The package draws its own random
# numbers: the buffer's rows and noise from its NumPy generator, the Langevin normals from its
# torch generator. So before each update we copy both generators and draw from the copies what
# the package will draw, in the same order. Given your trained weights, your buffer and the
# same data batch (the package's `data_noise` set to 0: the core adds none), two updates:

# %% slideshow={"slide_type": "fragment"}
import copy

package = EBM(copy.deepcopy(core), (1, 28, 28), step_size=STEP_SIZE, noise_scale=NOISE,
              n_steps=BUILD_STEPS, grad_clip=GRAD_CLIP, clamp=(-1, 1), buffer_size=BUFFER,
              restart=RESTART, alpha=ALPHA, lr=LR, clip_norm=CLIP_NORM, data_noise=0.0, seed=SEED)
package.buffer.states = buffer.numpy().copy()
mine, mine_buffer = copy.deepcopy(core), buffer.clone()
mine_opt = torch.optim.Adam(mine.parameters(), lr=LR, betas=(0.0, 0.999))
x_data = data[:BATCH]
for update in (1, 2):
    copy_rng = copy.deepcopy(package.buffer.rng)
    copy_gen = torch.Generator().set_state(package.generator.get_state())
    idx = torch.from_numpy(copy_rng.choice(BUFFER, BATCH, replace=False))
    fresh = torch.from_numpy(copy_rng.uniform(-1, 1, (BATCH, 1, 28, 28)).astype(np.float32))
    noise = torch.stack([torch.randn(x_data.shape, generator=copy_gen)
                         for _ in range(BUILD_STEPS)])
    loss = ebm_update(mine, mine_opt, mine_buffer, x_data, idx, fresh, noise)
    stats = package.train_step(x_data)
    pairs = list(zip(mine.parameters(), package.energy.parameters(), strict=True))
    grads = max((a.grad - b.grad).abs().max().item() for a, b in pairs)
    params = max((a - b).abs().max().item() for a, b in pairs)
    states = np.abs(mine_buffer.numpy() - package.buffer.states).max()
    print(f"update {update}: loss {loss:.5f} vs {stats['loss']:.5f}; largest difference: "
          f"gradient {grads:.1e}, weights after the step {params:.1e}, buffer {states:.1e}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# **Reading the differences.** The losses agree to the printed digits. The weights can differ by
# more than float rounding: Adam's early steps move each weight by about `LR` times the sign of
# its gradient, so a weight whose gradient is within rounding of zero can step one way in one
# version and not in the other. Judge the weights' difference against `LR`, and the buffer's
# against the Langevin step; a wrong formula would differ by whole steps.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The model and its training
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
ebm = EBM(CNNEnergy(), (1, 28, 28), step_size=STEP_SIZE, noise_scale=NOISE, n_steps=STEPS,
          grad_clip=GRAD_CLIP, clamp=(-1, 1), buffer_size=BUFFER, restart=RESTART,
          alpha=ALPHA, lr=LR, seed=SEED)
print(ebm.energy)
print(f"{sum(p.numel() for p in ebm.energy.parameters()):,} parameters")

# %% slideshow={"slide_type": "skip"}
snapshots = []  # buffer states during training


def keep_buffer(model, row):
    snapshots.append((row["update"], model.buffer.states[:8, 0].copy()))


LOG_EVERY = max(1, UPDATES // 10)
history = ebm.fit(x_train, updates=UPDATES, batch_size=BATCH, log_every=LOG_EVERY,
                  callback=keep_buffer, progress=False)  # a widget bar would be saved at 0%
train_seconds = history["seconds"][-1]
print(f"trained in {train_seconds:.0f} s ({UPDATES / train_seconds:.1f} updates/s)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What the curves show.** Each point is the mean over `LOG_EVERY` updates. At first the data's
# energy lies below the samples': the energy tells the buffer's states from digits, and the
# contrastive term $\overline{E}_{\rm data}-\overline{E}_{\rm sample}$ is negative. Then the two
# energies meet near zero, and the contrastive term and the regulariser both flatten out near
# zero. That is what a balanced game looks like with this loss, not a stalled one. For fixed
# samples the loss would push the data's energy to $-1/(2\alpha)$ and the samples' to
# $+1/(2\alpha)$ (the minimum of $\pm E+\alpha E^2$), a contrastive term of $-1/\alpha$. It
# stays far from that because every update that pushes data down and samples up is followed by
# Langevin chains that run down the new landscape: the samples become as low in energy as the
# digits. And since $p_\theta$ does not change when a constant is added to $E_\theta$, only the
# regulariser $\alpha(\overline{E^2_{\rm data}}+\overline{E^2_{\rm sample}})$ sets the common
# level: it pulls it to zero, and with it itself. A loss near zero therefore does not say that
# the model is good or that learning stopped (the gradient of the contrastive term is not zero);
# the samples' quality is measured in section 6. The cell below the figure prints this run's
# values beside the $-1/\alpha$ of an energy that separates data from samples.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
ck.plotting.plot_curves({"data": history["e_data"], "samples": history["e_fake"]},
                        x=history["update"], ax=ax1, xlabel="update")
ax1.set_title("mean energy")
ck.plotting.plot_curves({"contrastive": history["cdiv"], "regulariser": history["reg"]},
                        x=history["update"], ax=ax2)
ax2.set_xlabel("update");

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
cdiv, half = np.asarray(history["cdiv"]), len(history["cdiv"]) // 2
late = slice(half, None)  # the second half of the logged rows
Markdown(
    f"**This run** (means over {LOG_EVERY} updates): at update {history['update'][0]:,} the "
    f"contrastive term was {cdiv[0]:.3f} (data {history['e_data'][0]:.3f}, samples "
    f"{history['e_fake'][0]:.3f}); from update {history['update'][half]:,} on it stayed between "
    f"{cdiv[late].min():.4f} and {cdiv[late].max():.4f}, against {-1 / ALPHA:.0f} for an energy "
    f"that separates data from samples. In that half the mean energies stayed within "
    f"{max(np.abs(history['e_data'][half:]).max(), np.abs(history['e_fake'][half:]).max()):.4f} "
    f"of zero and the regulariser below {max(history['reg'][half:]):.4f}.")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The replay buffer during training
#
# The same eight buffer rows at each logged update (rows: time, top to bottom). Rows are
# overwritten when their chain is drawn again, so each row shows whatever chain lives there.

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
ck.plotting.image_grid(np.concatenate([s for _, s in snapshots]), ncols=8,
                       title="buffer at updates " + ", ".join(str(u) for u, _ in snapshots[::3]));

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. From noise to a digit
#
# Eight fresh chains from uniform noise (rows) on the trained energy, shown at the step numbered
# under each column: step 0 is the noise itself, then the first few steps one by one and the
# later ones further apart, up to `SAMPLE_STEPS`. Look for where the strokes appear: each step
# moves a pixel by at most $\epsilon\cdot 0.03=0.3$ (the gradient clip), so the first steps
# darken the background and brighten a few strokes, and the later ones refine the strokes into
# a digit (or into something digit-like that the classifier in section 6 judges).

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
torch.manual_seed(SEED)
frame_steps = sorted({s for s in (0, 1, 2, 3, 5, 10, 20, 50, 100, SAMPLE_STEPS) if s <= SAMPLE_STEPS})
x_start = ebm.buffer.noise(8)  # [8, 1, 28, 28], uniform in [-1, 1]
chain = ebm.sample(8, n_steps=SAMPLE_STEPS, start=x_start, return_chain=True).chain.numpy()
frames = np.stack([x_start if s == 0 else chain[s - 1] for s in frame_steps])[:, :, 0]
plotting_ebm.chain_frames(frames, frame_steps, title="8 chains from uniform noise");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Samples, and the yardstick
#
# `N_SAMPLES` chains from noise, `SAMPLE_STEPS` steps each, judged by `coursekit.metrics`
# (classifier FID and class coverage, see week 1), beside the same number of real digits.

# %% slideshow={"slide_type": "skip"}
start = time.perf_counter()
samples = torch.cat([ebm.sample(100, n_steps=SAMPLE_STEPS).x for _ in range(N_SAMPLES // 100)]
                    if N_SAMPLES >= 100 else [ebm.sample(N_SAMPLES, n_steps=SAMPLE_STEPS).x])
sample_seconds = time.perf_counter() - start
images01 = (samples[:, 0].numpy() + 1) / 2  # [n, 28, 28] in [0, 1]
min_n = ck.by_mode(full=500, smoke=len(images01))
ebm_report = metrics.sample_report(images01, f"{len(images01)} EBM samples, {SAMPLE_STEPS} steps "
                                   "from noise", min_samples=min_n)
buffer_report = metrics.sample_report((ebm.buffer.states[:len(images01), 0] + 1) / 2,
                                      "as many replay-buffer states", min_samples=min_n)
real_report = metrics.sample_report((x_train[:len(images01), 0] + 1) / 2,
                                    f"{len(images01)} real training digits", min_samples=min_n)

# %% slideshow={"slide_type": "subslide"}
ck.plotting.image_grid(images01[:64], ncols=16, title="EBM samples from noise")
print(ebm_report, buffer_report, real_report, sep="\n\n")

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
ck.plotting.class_histogram({"EBM samples": ebm_report, "real digits": real_report});

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Energies and out-of-distribution detection
#
# A model of $p(\boldsymbol{x})$ should give low energy to digits and high energy to anything
# else. We compare test digits, uniform noise, Fashion-MNIST clothes (never seen) and our own
# samples, and use $-E$ as a detector of "is this a digit?": the ROC AUC is the chance that a
# random digit scores higher than a random other image (1 perfect, 0.5 guessing). An AUC means
# little alone, so beside it stands a detector that knows nothing about digits: **ink**, minus
# the mean pixel value (`coursekit.metrics.ood.ink_score`: digits are mostly background), scored
# the same way on the same images.

# %% slideshow={"slide_type": "skip"}
rng = np.random.default_rng(SEED)
pixels = {"MNIST test digits": x_test[:N_EVAL],
          "uniform noise": rng.uniform(-1, 1, (N_EVAL, 1, 28, 28)).astype(np.float32)}
try:
    fashion, _ = ck.data.load_fashion_mnist("test")
    pixels["Fashion-MNIST"] = ck.data.to_float(fashion[:N_EVAL], (-1, 1))[:, None]
except ck.data.DataError as err:  # no Fashion-MNIST here: the other sets still tell the story
    print(err)
sets = {name: ebm.energies(x) for name, x in pixels.items()}
sets["EBM samples"] = ebm.energies(samples)
e_digits = sets["MNIST test digits"]
ink = {name: ink_score(x) for name, x in pixels.items()}
others = [name for name in pixels if name != "MNIST test digits"]

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
colors = {name: f"C{i}" for i, name in enumerate(sets)}  # one colour per set in every panel
fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 4.6),
                                    gridspec_kw={"width_ratios": [1.5, 1, 1]})
plotting_ebm.energy_histograms(sets, ax=ax1, title="energies, all sets", colors=colors)
close = ("MNIST test digits", "EBM samples")
plotting_ebm.energy_histograms({k: sets[k] for k in close}, ax=ax2, colors=colors,
                               title="digits and samples only")
_, aucs = plotting_ebm.roc_curves(-e_digits, {k: -sets[k] for k in others}, ax=ax3,
                                  label="energy, ", colors=[colors[k] for k in others])
_, ink_aucs = plotting_ebm.roc_curves(ink["MNIST test digits"], {k: ink[k] for k in others},
                                      ax=ax3, label="ink, ", linestyle="--",
                                      colors=[colors[k] for k in others])
ax3.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=1)
print("ROC AUC of -energy:", {k: round(v, 3) for k, v in aucs.items()})
print("ROC AUC of ink:    ", {k: round(v, 3) for k, v in ink_aucs.items()})

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
def ood_summary(name):
    """What the energy adds over ink against one set, in words, from this run's AUCs."""
    gain = aucs[name] - ink_aucs[name]
    verdict = ("separates them better than the ink does" if gain > 0.01 else
               "does no better than the ink" if gain > -0.01 else "does worse than the ink")
    # ink-matched: the images of both sets whose ink lies in the middle 80% of the digits'
    lo, hi = np.percentile(ink["MNIST test digits"], [10, 90])
    keep_in = (ink["MNIST test digits"] >= lo) & (ink["MNIST test digits"] <= hi)
    keep_out = (ink[name] >= lo) & (ink[name] <= hi)
    matched = (f"; on the {keep_out.sum():,} {name} images with as much ink as the middle 80% "
               f"of digits the energy's AUC is "
               f"{roc_auc(-e_digits[keep_in], -sets[name][keep_out]):.3f} and the ink's "
               f"{roc_auc(ink['MNIST test digits'][keep_in], ink[name][keep_out]):.3f}"
               if keep_out.sum() >= 50 else
               f"; fewer than 50 {name} images have as much ink as the middle 80% of digits")
    return (f"Against {name} the energy's AUC is {aucs[name]:.3f} and the ink's "
            f"{ink_aucs[name]:.3f}: the energy {verdict}{matched}.")


Markdown("**This run.** " + " ".join(ood_summary(name) for name in others))

# %% [markdown] slideshow={"slide_type": "fragment"}
# **What to look for.** On the left, all sets on one energy scale; in the middle the digits and
# the samples alone, on bins over their own range, so that the two distributions are resolved.
# Training pulls the two towards one level (section 3); where the samples still sit lower than
# the digits, the chains have found states the energy likes better than real digits (compare
# their strokes with the digits' in section 6), and where they sit higher, the chains have not
# reached the digits' level in `SAMPLE_STEPS` steps. On the
# right, the detectors: solid the energy, dashed the ink. Noise is easy to reject, for the ink
# too, so its AUC says little. Clothes are the real test, but only beside the baseline: many
# clothes carry more ink than any digit, and a detector that only measures darkness rejects them.
# The energy has learned something about digits only where its AUC beats the ink's, and above
# all on the ink-matched images, where ink cannot help (the line above says which holds in this
# run). Likelihood-based models are known to fail such tests in surprising ways (Nalisnick et
# al. 2019); EBMs trained this way do comparatively well (Du and Mordatch 2019, section 4.4;
# Grathwohl et al. 2020).

# %% [markdown] slideshow={"slide_type": "skip"}
# This model's row of the course-wide results table (`build/results.md` after `make run`):

# %% slideshow={"slide_type": "skip"}
row_file = results.record("week2_ebm_pytorch", family="EBM", framework="PyTorch",
               model=f"CNN energy, {STEPS} Langevin steps/update, replay buffer",
               report=ebm_report, train_seconds=train_seconds, sample_seconds=sample_seconds,
               updates=UPDATES,
               notes=f"OOD AUC vs Fashion-MNIST {aucs.get('Fashion-MNIST', float('nan')):.3f} "
                     f"(ink baseline {ink_aucs.get('Fashion-MNIST', float('nan')):.3f})",
               samples=images01)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. What to try
#
# * Set `NOISE = (2 * STEP_SIZE) ** 0.5` (exact Langevin for $e^{-E}$) and `GRAD_CLIP = None`:
#   what happens to the samples and the training? Why?
# * Set `RESTART = 0` (never restart chains) or `BUFFER = BATCH` (no memory): compare the
#   buffer images and the samples from noise.
# * Set `ALPHA = 0`: watch the energy curves.
# * Set `LR = 1e-4` (the tutorial's rate, meant for 28,000 updates) and compare the samples
#   after the same number of updates.
# * More `UPDATES` (on a GPU): how do FID, coverage and the Fashion-MNIST AUC move?
