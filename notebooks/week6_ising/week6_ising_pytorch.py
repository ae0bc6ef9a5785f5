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
# # Week 6 lab: the four families on the 2-D Ising model, in PyTorch
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week6_ising/week6_ising_pytorch.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# Every model of weeks 1 to 4 was judged on digits, where there is no ground truth: FID is a
# proxy. Here the data are spin configurations of the 2-D Ising model, whose answers are known
# exactly, and a model is judged by what a physicist measures on its samples: the energy, the
# magnetisation, the specific heat and the susceptibility, against Monte Carlo and against
# Onsager. The lecture (`week6_ising_lecture`) derives the model, the exact answers and the
# sampler; this lab:
#
# 1. writes the measurement itself in PyTorch and checks it against `coursekit.reference.ising`;
# 2. trains an RBM at every temperature, as Torlai and Melko (2016) did, and draws its
#    thermodynamics across the transition;
# 3. on a 4 x 4 lattice, computes the RBM's **exact** log-likelihood and KL divergence by
#    enumerating all $2^{16}$ states, and checks AIS against the exact $\log Z$;
# 4. trains a VAE, a GAN and an EBM at $T_c$ and below, and asks which family reproduces the
#    physics, including the two ordered phases below $T_c$: a mode test that FID cannot give.
#
# The models are the package's (`coursekit.torch`), the same classes as weeks 1 to 4, given
# $L\times L$ lattices: the RBM $L^2$ visible units, the VAE rows $[n, L^2]$, the GAN and the EBM
# images $[n, 1, L, L]$.

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
# The lattice is $8\times8$ (64 spins): large enough to show the transition (a rounded peak of
# $c$ and $\chi$ near $T_c$), small enough that every model trains in about a minute or less per
# temperature on two cores. Try `L = 16` when you have the time: the data are made for any $L$.

# %% slideshow={"slide_type": "skip"} tags=["parameters"]
import coursekit as ck

SEED = 0
L = 8  # the lattice side of sections 2, 3 and 5
TEMPERATURES = ck.data.ising.COURSE_TEMPERATURES  # ten, from 1.5 to 3.5, T_c among them
N_TRAIN = ck.by_mode(full=4000, smoke=400)  # Monte Carlo configurations to train on, per T
N_SAMPLES = ck.by_mode(full=2000, smoke=200)  # each model's samples, and the reference set's
# section 3: an RBM per temperature
RBM_HIDDEN = ck.by_mode(full=64, smoke=8)
RBM_EPOCHS = ck.by_mode(full=400, smoke=2)  # 40 updates of 100 configurations per epoch
RBM_ETA = 0.05  # decays linearly to 0
GIBBS_STEPS = ck.by_mode(full=2000, smoke=20)  # steps of the sampling chains, from noise
# section 4: exact on 4 x 4
SMALL_L = 4
SMALL_TEMPERATURES = (1.8, ck.data.ising.T_C, 3.0)
SMALL_HIDDEN = (4, 16)
SMALL_EPOCHS = ck.by_mode(full=300, smoke=2)
AIS_CHAINS, AIS_BETAS = ck.by_mode(full=200, smoke=10), ck.by_mode(full=10000, smoke=100)
# section 5: the other families at T_c and below
FAMILY_TEMPERATURES = (1.8, ck.data.ising.T_C)
VAE_LATENT, VAE_EPOCHS = 8, ck.by_mode(full=100, smoke=2)
GAN_LATENT, GAN_UPDATES = 32, ck.by_mode(full=1500, smoke=10)
EBM_UPDATES, EBM_STEPS = ck.by_mode(full=1000, smoke=10), 20  # Langevin steps per update
EBM_SAMPLE_STEPS = ck.by_mode(full=500, smoke=10)

# %% slideshow={"slide_type": "skip"}
import time

import numpy as np
import torch
from IPython.display import Markdown, display

from coursekit import reference as ref
from coursekit.course import results
from coursekit.data import ising
from coursekit.metrics.ising import OBSERVABLES, ising_report
from coursekit.plotting import ising as ising_plots
from coursekit.reference import ising as ri
from coursekit.torch import DCGAN, EBM, RBM, VAE, device
from coursekit.torch.ebm import CNNEnergy

ck.plotting.use_style()
ck.seed_everything(SEED)
DEVICE = device(verbose=True)
T_C = ri.T_C

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Data: Monte Carlo configurations at ten temperatures
#
# `ck.data.ising.sample(L, T, n, seed)` runs checkerboard Metropolis chains (Wolff clusters near
# $T_c$ on large lattices), discards a burn-in, and keeps one configuration every $2\tau$
# sweeps, where $\tau$ is the integrated autocorrelation time it measured; the lecture shows why.
# The configurations are cached on disk (checked by SHA-256 on reading). For every temperature
# we make a training set and an independent **reference set** (another seed) of the size of a
# model's sample: the reference is what every model's observables are compared with, and its
# own statistical error is the noise floor.

# %% slideshow={"slide_type": "fragment"}
t0 = time.perf_counter()
train = {T: ising.sample(L, T, N_TRAIN, seed=SEED) for T in TEMPERATURES}
reference = {T: ising.sample(L, T, N_SAMPLES, seed=SEED + 1) for T in TEMPERATURES}
for T in (TEMPERATURES[0], T_C, TEMPERATURES[-1]):
    print(train[T].summary())
print(f"{len(TEMPERATURES)} temperatures x ({N_TRAIN:,} + {N_SAMPLES:,}) configurations of "
      f"{L} x {L} in {time.perf_counter() - t0:.1f} s (from the cache when it is there)")

# %% slideshow={"slide_type": "subslide"}
show = [1.5, 2.0, T_C, 2.6, 3.5]
ising_plots.lattices(np.stack([train[T].spins[0] for T in show]),
                     titles=[f"T = {T:.3g}" for T in show],
                     title="one configuration per temperature (black -1, white +1)");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Build it: the measurement
#
# A model is judged by four per-spin observables of its samples, with $N = L^2$ spins,
# $E(\boldsymbol{s}) = -\sum_i s_i\,(s_{\mathrm{right}(i)} + s_{\mathrm{down}(i)})$ on the
# periodic lattice (every bond once) and $M = \sum_i s_i$:
#
# $$e = \frac{\langle E\rangle}{N},\qquad |m| = \frac{\langle |M|\rangle}{N},\qquad
# c = \frac{\langle E^2\rangle - \langle E\rangle^2}{N T^2},\qquad
# \chi = \frac{\langle M^2\rangle - \langle |M|\rangle^2}{N T}.$$
#
# $\chi$ uses $|M|$: without a field $\langle M\rangle = 0$ on any finite lattice, by symmetry.
# The models' binary units $x\in\{0,1\}$ are spins by $s = 2x - 1$.
#
# **Exercise.** Write `ising_energy` (hint: `torch.roll` gives the right and lower neighbours)
# and `observables`. The cell after it checks them against `coursekit.reference.ising`.

# %% slideshow={"slide_type": "fragment"}
def ising_energy(s: torch.Tensor) -> torch.Tensor:
    """E of spins s [n, L, L] in {-1, +1} on the periodic lattice -> [n]."""
    # hint: every bond once, with the right and the lower neighbour
    ### BEGIN SOLUTION
    right = torch.roll(s, shifts=-1, dims=2)
    down = torch.roll(s, shifts=-1, dims=1)
    return -(s * (right + down)).sum(dim=(1, 2))
    ### END SOLUTION


def observables(s: torch.Tensor, T: float) -> dict[str, float]:
    """e, |m|, c, chi per spin of configurations s [n, L, L] at temperature T."""
    # hint: population variances (unbiased=False), |M| in both |m| and chi
    ### BEGIN SOLUTION
    s = s.double()
    n_spins = s.shape[1] * s.shape[2]
    E = ising_energy(s)
    M = s.sum(dim=(1, 2)).abs()
    return {"e": (E.mean() / n_spins).item(),
            "abs_m": (M.mean() / n_spins).item(),
            "c": (E.var(unbiased=False) / (n_spins * T**2)).item(),
            "chi": (M.var(unbiased=False) / (n_spins * T)).item()}
    ### END SOLUTION


# %% slideshow={"slide_type": "fragment"}
from coursekit.common.exercises import NotYetRight, call_student

check = train[T_C].spins[:500]
energies = call_student(ising_energy, "ising_energy", "ising_energy(s) -> E [n]",
                        torch.from_numpy(check))
mine = call_student(observables, "observables", "observables(s, T) -> dict",
                    torch.from_numpy(check), T_C)
theirs = ri.observables(check, T_C)
worst = max(abs(mine[k] - theirs[k]) for k in OBSERVABLES)
energies_agree = np.array_equal(energies.numpy(), ri.energy(check))
print("per configuration, E equal to coursekit.reference.ising.energy:", energies_agree)
print("largest difference of the four observables:", f"{worst:.1e}")
if not (energies_agree and worst < 1e-9):
    raise NotYetRight("ising_energy or observables differ from coursekit.reference.ising: "
                      "check every bond once (right and down) and population variances")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. An RBM per temperature
#
# Torlai and Melko (2016) trained one RBM per temperature on Monte Carlo configurations and
# measured the thermodynamics of its samples. We do the same with week 1's model: 64 visible
# units (one per spin, $x = (s + 1)/2$), `RBM_HIDDEN` hidden units, persistent contrastive
# divergence, the step size $\eta$ decaying linearly to zero. The RBM knows nothing about the
# lattice: which spins are neighbours, and that the couplings are uniform, it must learn from the
# data through $\boldsymbol{W}$. Samples are the binary states of `N_SAMPLES` Gibbs chains
# started from random units, after `GIBBS_STEPS` steps.

# %% slideshow={"slide_type": "fragment"}
def train_rbm(x: np.ndarray, n_hidden: int, epochs: int, seed: int) -> tuple[RBM, float]:
    """An RBM trained by PCD-1 on binary rows x [n, n_v]; returns it and the seconds taken."""
    rbm = RBM(x.shape[1], n_hidden, k=1, persistent=True, n_chains=100, eta=RBM_ETA,
              momentum=0.5, weight_decay=1e-4, seed=seed).to(DEVICE)
    rbm.init_visible_bias(x)
    t0 = time.perf_counter()
    rbm.fit(x, epochs=epochs, batch_size=100, binarize=None, eta_final=0.0, monitor_every=None,
            progress=False)
    return rbm, time.perf_counter() - t0


def rbm_spins(rbm: RBM, n: int, steps: int, side: int) -> np.ndarray:
    """Binary states of n Gibbs chains from random units, as spins int8 [n, side, side]."""
    gen = torch.Generator().manual_seed(SEED)
    x0 = torch.bernoulli(torch.full((n, rbm.n_visible), 0.5), generator=gen)
    return ising.to_spins(rbm.gibbs(x0, steps).cpu().numpy().astype(np.int8), side)


# %% slideshow={"slide_type": "subslide"}
rbm_reports, rbm_models, rbm_seconds, rbm_samples = {}, {}, {}, {}
t_all = time.perf_counter()
for T in TEMPERATURES:
    x = ising.to_visible(train[T].spins).astype(np.float32)  # [n, 64] in {0, 1}
    rbm_models[T], train_s = train_rbm(x, RBM_HIDDEN, RBM_EPOCHS, SEED)
    t0 = time.perf_counter()
    rbm_samples[T] = rbm_spins(rbm_models[T], N_SAMPLES, GIBBS_STEPS, L)
    rbm_seconds[T] = (train_s, time.perf_counter() - t0)
    rbm_reports[T] = ising_report(rbm_samples[T], reference[T].spins, T)
    print(f"T = {T:.3f}: trained in {train_s:.1f} s, sampled in {rbm_seconds[T][1]:.1f} s; "
          f"e {rbm_reports[T].values['e']:+.3f} (MC {rbm_reports[T].reference['e']:+.3f}), "
          f"|m| {rbm_reports[T].values['abs_m']:.3f} (MC {rbm_reports[T].reference['abs_m']:.3f})")
print(f"all {len(TEMPERATURES)} RBMs: {time.perf_counter() - t_all:.0f} s")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The thermodynamics of the RBMs' samples against Monte Carlo (points with jackknife errors,
# on the same $8\times8$ lattice) and the infinite lattice (black lines: Onsager's energy and
# Yang's spontaneous magnetisation). What to look for: the energy's bend and the fall of $|m|$
# near $T_c$, the peaks of $c$ and $\chi$ there, rounded and shifted by the finite lattice in
# the data as in the model; and where the RBM departs from the points by more than their error
# bars.

# %% slideshow={"slide_type": "fragment"}
def curve(reports: dict, which: str) -> dict[str, np.ndarray]:
    """{"T", "e", "e_err", ...} of the model's ("values") or the reference's observables."""
    values, errors = ("values", "errors") if which == "model" else ("reference",
                                                                   "reference_errors")
    out = {"T": np.array(list(reports))}
    for k in OBSERVABLES:
        out[k] = np.array([getattr(r, values)[k] for r in reports.values()])
        out[f"{k}_err"] = np.array([getattr(r, errors)[k] for r in reports.values()])
    return out


ising_plots.observable_curves(
    {f"Monte Carlo, L = {L}": curve(rbm_reports, "reference"),
     f"RBM {L * L}-{RBM_HIDDEN}": curve(rbm_reports, "model")},
    title=f"An RBM per temperature against Monte Carlo ({N_SAMPLES:,} configurations each)");

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same comparison as numbers: each observable's difference from Monte Carlo in units of
# the combined standard error, $z$. $|z| < 3$ is within the noise of the two sets;
# larger means the RBM's samples differ from the Boltzmann distribution by more than sampling
# can explain.

# %% slideshow={"slide_type": "fragment"}
def z_table(reports: list, label: str) -> str:
    """A markdown table of (name, IsingReport) pairs: each observable, model / MC (z)."""
    rows = [f"| {label} | T | " + " | ".join(f"{k} (model / MC, z)" for k in OBSERVABLES)
            + " | share M > 0 (MC) | TV(m) |", "|---|---:|" + "---:|" * (len(OBSERVABLES) + 2)]
    for name, r in reports:
        cells = [f"{r.values[k]:.3f} / {r.reference[k]:.3f} ({r.z[k]:+.1f})" for k in OBSERVABLES]
        rows.append(f"| {name} | {r.T:.3f} | " + " | ".join(cells)
                    + f" | {r.up_share:.2f} ({r.reference_up_share:.2f}) | {r.m_distance:.2f} |")
    return "\n".join(rows)


display(Markdown(z_table([(f"RBM {L * L}-{RBM_HIDDEN}", r) for r in rbm_reports.values()], "model")))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Exact on 4 x 4: the log-likelihood, the KL divergence and AIS
#
# On a $4\times4$ lattice both distributions can be written down in full: the Boltzmann
# distribution $p(\boldsymbol{s}) = e^{-E(\boldsymbol{s})/T}/Z$ by enumerating its $2^{16}$ states
# (`ri.exact`), and the RBM's $q(\boldsymbol{x}) = e^{-F(\boldsymbol{x})}/Z_{\rm RBM}$ by summing
# out the hidden units (the free energy $F$ of week 1) and enumerating $Z_{\rm RBM}$. So the
# quantities that are only estimated for MNIST are exact here:
#
# * the **KL divergence** $D_{\rm KL}(p\,\|\,q) = \sum_{\boldsymbol{s}} p \log (p/q)$, zero only
#   for a perfect model;
# * the **test log-likelihood** per configuration on fresh exact samples, whose ceiling is
#   $-H(p)$, minus the entropy of the Boltzmann distribution;
# * the error of **AIS**, the estimator of $\log Z_{\rm RBM}$ that week 1 used on MNIST.
#
# Two baselines bracket the RBMs: independent fair spins, $q = 2^{-16}$ for every state (what a
# model that learned nothing about the couplings gives; by symmetry each spin is up half the
# time), and the exact distribution itself ($D_{\rm KL} = 0$).

# %% slideshow={"slide_type": "subslide"}
states01 = ref.all_states(SMALL_L * SMALL_L)  # [65536, 16], in the order of ri.enumerate_states
M = (2 * states01.astype(np.int64) - 1).sum(axis=1)  # magnetisation of every state


def up_share(prob: np.ndarray) -> float:
    """The exact share of M > 0 under a distribution over the 2^16 states (M = 0 counts 1/2)."""
    return float(prob[M > 0].sum() + 0.5 * prob[M == 0].sum())


rows, small_ais = [], {}
for T in SMALL_TEMPERATURES:
    exact = ri.exact(SMALL_L, T)
    log_p = exact.log_prob(ri.enumerate_states(SMALL_L))  # [65536]
    p = np.exp(log_p)
    entropy = -(p * log_p).sum()
    test = ri.sample_exact(SMALL_L, T, N_SAMPLES, seed=SEED + 2)  # independent exact draws
    test_index = ref.state_index(ri.to_01(test).reshape(len(test), -1))
    x = ising.to_visible(ising.sample(SMALL_L, T, N_TRAIN, seed=SEED).spins).astype(np.float32)
    uniform = SMALL_L * SMALL_L * np.log(2.0)
    rows.append((T, "independent fair spins", "—", uniform - entropy, -uniform, -entropy, "—",
                 0.5))
    for n_hidden in SMALL_HIDDEN:
        rbm, _ = train_rbm(x, n_hidden, SMALL_EPOCHS, SEED)
        w = {k: v.astype(np.float64) for k, v in rbm.get_weights().items()}
        log_z = ref.log_partition(w["W"], w["a"], w["b"])
        log_q = -ref.free_energy(states01, w["W"], w["a"], w["b"]) - log_z
        kl = float((p * (log_p - log_q)).sum())
        ais = ref.ais_log_partition(w["W"], w["a"], w["b"], n_chains=AIS_CHAINS,
                                    n_betas=AIS_BETAS, base_a=ref.base_rate_biases(x), rng=SEED)
        small_ais[(T, n_hidden)] = (ais.log_z, log_z)
        rows.append((T, f"RBM 16-{n_hidden}", f"{log_z:.3f}", kl, log_q[test_index].mean(),
                     -entropy, f"{ais.log_z - log_z:+.3f}", up_share(np.exp(log_q))))
table = ["| T | model | exact log Z | KL(p ‖ q) (nats) | test log-likelihood (nats) "
         "| ceiling −H(p) | AIS log Z − exact | q(M > 0) |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
table += [f"| {T:.3f} | {name} | {lz} | {kl:.3f} | {ll:.3f} | {h:.3f} | {ais} | {up:.3f} |"
          for T, name, lz, kl, ll, h, ais, up in rows]
display(Markdown("\n".join(table)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to read in the table: the KL divergence of each RBM against that of the independent
# spins (how much of the coupling the RBM has learned), and how it changes with the hidden
# layer and with the temperature; the test log-likelihood against its ceiling $-H(p)$ (their
# difference is the KL divergence up to the sampling error of the test set); and AIS's error,
# which is small here because 16 visible units make an easy path from the base-rate model.
# The last column is the share of the RBM's own probability on configurations with $M > 0$,
# summed exactly: one half for the Boltzmann distribution. If it is near one half while Gibbs
# samples of a model show a share near 0 or 1 (sections 3 and 5), the model has both phases and
# the *sampler* lost one: chains started from noise fall into one of the two ordered phases,
# and crossing to the other needs a domain wall across the lattice, which below $T_c$ costs
# far more energy than a Gibbs step will pay. Week 1's parallel tempering is the remedy. If the
# share is itself far from one half, the model itself is lopsided: training by PCD estimates
# the gradient's negative phase with Gibbs chains too, and that estimate is only as good as
# their mixing between the phases; the exact symmetry $E(-\boldsymbol s) = E(\boldsymbol s)$
# is nowhere in the RBM's parameters unless it learns it.
# On MNIST (week 1) none of these columns could be checked.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The other families at $T_c$ and below
#
# The VAE of week 3, the DCGAN of week 4 and the EBM of week 2, each given the same Monte Carlo
# configurations at two temperatures: at $T_c$, where correlations reach across the lattice,
# and at $T = 1.8$, in the ordered phase, where the Boltzmann distribution has **two** modes
# (mostly up, mostly down) of equal weight. How each family sees a configuration:
#
# * **VAE**: rows $[n, L^2]$ of units $x = (s+1)/2\in\{0,1\}$, a Bernoulli decoder; a sample
#   is a Bernoulli draw from the decoder's means, so given the latent code the spins are
#   independent;
# * **GAN**: images $[n, 1, L, L]$ of the spins themselves, which lie in the generator's tanh
#   range $[-1, 1]$; a sample is the sign of the generator's output;
# * **EBM**: the same images; Langevin dynamics moves continuous values in $[-1, 1]$, and a
#   sample is the sign of the chain's end.
#
# Each is trained for about a minute per temperature or less, the settings of the parameters
# cell; the RBM of section 3 at the same temperatures stands beside them.

# %% slideshow={"slide_type": "subslide"}
def fit_vae(T: float) -> tuple[np.ndarray, float, float, int]:
    x = ising.to_visible(train[T].spins).astype(np.float32)  # [n, 64] in {0, 1}
    vae = VAE(VAE_LATENT, arch="mlp", hidden=256, image_side=L, seed=SEED).to(DEVICE)
    t0 = time.perf_counter()
    vae.fit(x, epochs=VAE_EPOCHS, batch_size=64, binarize=None, progress=False)
    t1 = time.perf_counter()
    p = vae.sample(N_SAMPLES, seed=SEED)  # Bernoulli means [n, 64]
    x_new = np.random.default_rng(SEED).random(p.shape) < p  # the model's draws
    spins = ising.to_spins(x_new.astype(np.int8), L)  # s = 2x - 1, [n, 8, 8]
    return spins, t1 - t0, time.perf_counter() - t1, VAE_EPOCHS * -(-len(x) // 64)


def fit_gan(T: float) -> tuple[np.ndarray, float, float, int]:
    images = ising.to_images(train[T].spins)  # float32 [n, 1, 8, 8] in {-1, +1}
    gan = DCGAN(GAN_LATENT, generator_channels=(64, 32, 16), discriminator_channels=(16, 32),
                learning_rate=2e-4, beta_1=0.5, image_side=L, seed=SEED)
    t0 = time.perf_counter()
    gan.fit(images, updates=GAN_UPDATES, batch_size=64, progress=False)
    t1 = time.perf_counter()
    out = gan.generate(gan.noise(N_SAMPLES, SEED))  # [n, 8, 8] in [-1, 1]
    spins = ising.to_spins(np.where(out >= 0, 1, -1))  # the sign of tanh's output
    return spins, t1 - t0, time.perf_counter() - t1, GAN_UPDATES


def fit_ebm(T: float) -> tuple[np.ndarray, float, float, int]:
    images = ising.to_images(train[T].spins)  # float32 [n, 1, 8, 8] in {-1, +1}
    ebm = EBM(CNNEnergy(image_side=L), (1, L, L), n_steps=EBM_STEPS, seed=SEED)
    t0 = time.perf_counter()
    ebm.fit(images, updates=EBM_UPDATES, batch_size=64, progress=False)
    t1 = time.perf_counter()
    chains = ebm.sample(N_SAMPLES, n_steps=EBM_SAMPLE_STEPS)
    spins = ising.to_spins(np.where(chains.x.detach().cpu().numpy() >= 0, 1, -1))  # the sign
    return spins, t1 - t0, time.perf_counter() - t1, EBM_UPDATES


# %% slideshow={"slide_type": "subslide"}
family_spins, family_reports, family_cost = {}, {}, {}
for T in FAMILY_TEMPERATURES:
    for family, fit in (("VAE", fit_vae), ("GAN", fit_gan), ("EBM", fit_ebm)):
        spins, train_s, sample_s, updates = fit(T)
        family_spins[(family, T)] = spins
        family_cost[(family, T)] = (train_s, sample_s, updates)
        family_reports[(family, T)] = ising_report(spins, reference[T].spins, T)
        print(f"T = {T:.3f} {family}: trained in {train_s:.0f} s ({updates:,} updates), "
              f"{N_SAMPLES:,} samples in {sample_s:.1f} s")
    family_spins[("RBM", T)] = rbm_samples[T]  # section 3's RBM at this temperature
    family_reports[("RBM", T)] = rbm_reports[T]

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The mode test: histograms of the magnetisation
#
# Below $T_c$ the Monte Carlo histogram of $m = M/N$ has two peaks near $\pm|m|$, of equal
# height: the two ordered phases. A model that has found both reproduces both peaks; one that
# collapsed onto one phase (a GAN's classic failure) shows one, and can still get $|m|$ right,
# which is why the share of configurations with $M > 0$ is in the table. At $T_c$ the histogram is
# broad, with weight at $m = 0$: the fluctuations at all scales that $\chi$ measures.

# %% slideshow={"slide_type": "fragment"}
import matplotlib.pyplot as plt

FAMILY_ORDER = ("RBM", "EBM", "VAE", "GAN")  # the weeks' order
fig, axes = plt.subplots(len(FAMILY_TEMPERATURES), len(FAMILY_ORDER), figsize=(15, 7.5),
                         sharex=True)
for row, T in enumerate(FAMILY_TEMPERATURES):
    for col, family in enumerate(FAMILY_ORDER):
        ax = axes[row, col]
        ising_plots.magnetisation_histograms(
            {"Monte Carlo": reference[T].spins, family: family_spins[(family, T)]}, bins=17,
            ax=ax, title=f"{family}, T = {T:.2f}")
        handles = ax.get_legend().legend_handles
        ax.get_legend().remove()
        ax.set(xlabel="m" if row else "", ylabel="density" if col == 0 else "")
fig.legend(handles, ["Monte Carlo (filled)", "the family's samples (line)"],
           loc="outside lower center", ncol=2, frameon=False)
fig.suptitle(f"magnetisation per spin m = M / N, {N_SAMPLES:,} samples each, L = {L}");

# %% [markdown] slideshow={"slide_type": "subslide"}
# The observables of each family at both temperatures, against the same Monte Carlo reference
# ($z$ as in section 3), and what each cost on this machine:

# %% slideshow={"slide_type": "fragment"}
display(Markdown(z_table([(f, family_reports[(f, T)]) for T in FAMILY_TEMPERATURES
                          for f in FAMILY_ORDER], "family")))
for T in FAMILY_TEMPERATURES:
    train_s, sample_s = rbm_seconds[T]
    family_cost[("RBM", T)] = (train_s, sample_s, RBM_EPOCHS * -(-N_TRAIN // 100))
print("training seconds / sampling seconds per model:")
for f in FAMILY_ORDER:
    print(f"  {f}: " + ", ".join(f"T = {T:.3f}: {family_cost[(f, T)][0]:.0f} / "
                                 f"{family_cost[(f, T)][1]:.1f}" for T in FAMILY_TEMPERATURES))

# %% slideshow={"slide_type": "subslide"}
show = {f"{f}": family_spins[(f, FAMILY_TEMPERATURES[0])][:8] for f in FAMILY_ORDER}
ising_plots.lattices(np.concatenate([reference[FAMILY_TEMPERATURES[0]].spins[:8], *show.values()]),
                     ncols=8, title=f"T = {FAMILY_TEMPERATURES[0]}: Monte Carlo (top row), then "
                     + ", ".join(show) + " (one row each)");

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. What the physics says about the families
#
# Read the table and the histograms with these questions; the answers are in the numbers this
# run printed, and a re-run on another machine may move them by a little, not in kind.
#
# * **Energy.** The energy is a sum of nearest-neighbour products: it tests whether a model
#   reproduces the short-range correlations. A decoder that draws every spin independently
#   given the code (the VAE) adds uncorrelated flips, which raise the energy: compare its $e$
#   with the others'.
# * **Fluctuations.** $c$ and $\chi$ are variances: a model can get the means right and the
#   spread wrong. Which families over-disperse?
# * **Both phases.** Below $T_c$, is the share with $M > 0$ near one half, and does the
#   histogram have two peaks? For the RBM and the EBM, whose samples come from Markov chains,
#   a lopsided share may be the chains' fault rather than the model's (section 4 shows how to
#   tell on 4 x 4); for the VAE and the GAN, which sample in one pass, it is the model's.
# * **The baseline.** Section 1's reference set is itself a sample: $|z| < 3$ is as close as
#   any model can be shown to be with this many samples. Independent random spins would have
#   $e = 0$, far from every row.
#
# What FID could not tell us on digits, the physics tells us here: which samples are right in
# the sense of the distribution, not only in looks.

# %% [markdown] slideshow={"slide_type": "skip"}
# ## 7. Record the results
#
# Each model of section 5 (and the RBMs at the same temperatures) becomes a row of the
# course-wide table's Ising part, with its observables against Monte Carlo in place of FID.

# %% slideshow={"slide_type": "skip"}
MODELS = {"RBM": f"RBM {L * L}-{RBM_HIDDEN}, PCD-1", "EBM": "CNN energy, SGLD",
          "VAE": f"VAE MLP, {VAE_LATENT}-D latent", "GAN": "DCGAN (small)"}
for (family, T), report in family_reports.items():
    train_s, sample_s, updates = family_cost[(family, T)]
    results.record(f"week6_ising_{family.lower()}_T{T:.3f}", family=family, model=MODELS[family],
                   framework="PyTorch", ising=report, train_seconds=train_s,
                   sample_seconds=sample_s, updates=updates)
print(f"recorded {len(family_reports)} rows of the course-wide results table")
