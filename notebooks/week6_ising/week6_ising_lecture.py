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
# # Week 6: the 2-D Ising model, physics data with exact answers
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week6_ising/week6_ising_lecture.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# You know the Ising model from statistical mechanics. This week it is a **data set**: spin
# configurations drawn from a Boltzmann distribution we can write down, and on small lattices
# compute exactly. The question of the lecture is what a generative model of it must get right,
# and how we can tell: exact answers by enumeration (4 x 4), Onsager's infinite lattice, a
# checked Monte Carlo sampler (16 x 16), and the physics yardstick that judges a model's samples.
# The lab (`week6_ising_pytorch`) then trains the models of weeks 1 to 4 on these data.
#
# Sources: Onsager (1944) and Yang (1952) for the exact results, Metropolis et al. (1953) and
# Wolff (1989) for the samplers, Newman and Barkema (1999), *Monte Carlo Methods in Statistical
# Physics*, for all of it; Torlai and Melko (2016) for Boltzmann machines trained on Ising data.

# %% [markdown] slideshow={"slide_type": "notes"}
# Everything in this notebook is NumPy (`coursekit.reference.ising`, `coursekit.data.ising`,
# `coursekit.metrics.ising`): no framework. The Monte Carlo configurations are made in seconds and
# cached on disk (`~/.cache/coursekit/ising`), so the notebook runs in well under a minute.

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
T_LOW = 1.8  # an ordered temperature, below T_c
T_HIGH = 3.0  # a disordered temperature, above T_c
L_EXACT = 4  # the lattice we enumerate: 2^16 configurations
L_DATA = 16  # the lattice of the course's data set
N_DATA = 1000  # Monte Carlo configurations per temperature at L_DATA
N_CHECK = 4000  # configurations per temperature for the check against enumeration
N_REPEATS = 10  # further independent sets for the spread of the z-scores
L_CRIT = 32  # lattice of the Metropolis-against-Wolff comparison at T_c
N_CRIT = 256  # configurations of that comparison
TRACE_SWEEPS = 400  # sweeps shown in the single-chain traces

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np

from coursekit.metrics.ising import OBSERVABLES, ising_report
from coursekit.plotting import ising as ising_plots
from coursekit.reference import ising as ref

ck.plotting.use_style()
ck.seed_everything(SEED)
rng = np.random.default_rng(SEED)
T_C = ref.T_C
TEMPS = (T_LOW, T_C, T_HIGH)


def t_name(T):
    """A temperature as a label: T_c by name, others with two decimals."""
    return "T = T_c" if T == T_C else f"T = {T:.2f}"


# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The model
#
# An $L\times L$ square lattice with periodic boundaries, $N = L^2$ spins $s_i\in\{-1,+1\}$,
# coupling $J = 1$, no field, $k_B = 1$:
#
# $$E(\boldsymbol{s}) = -J\sum_{\langle ij\rangle} s_i s_j,\qquad
# p(\boldsymbol{s}) = \frac{e^{-E(\boldsymbol{s})/T}}{Z},\qquad
# Z = \sum_{\boldsymbol{s}} e^{-E(\boldsymbol{s})/T},$$
#
# the sum over the $2N$ nearest-neighbour bonds, each once. The per-spin observables, with
# $M = \sum_i s_i$:
#
# $$e = \frac{\langle E\rangle}{N},\quad |m| = \frac{\langle |M|\rangle}{N},\quad
# c = \frac{\langle E^2\rangle - \langle E\rangle^2}{N T^2},\quad
# \chi = \frac{\langle M^2\rangle - \langle |M|\rangle^2}{N T}.$$
#
# $\chi$ uses $|M|$ because on a finite lattice without a field $\langle M\rangle = 0$ by symmetry.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Conventions in code** (`coursekit.reference.ising`, the one place they are defined):
# configurations are int8 arrays `[n, L, L]` of $\pm1$; the models see 0/1 units,
# $x = (s+1)/2$ and $s = 2x - 1$ (`ref.to_01`, `ref.to_pm1`); `ref.energy` counts every site
# with its right and its lower neighbour, so each bond once.

# %% slideshow={"slide_type": "fragment"}
s = (2 * rng.integers(0, 2, size=(3, L_EXACT, L_EXACT)) - 1).astype(np.int8)  # 3 random lattices
x = ref.to_01(s)  # the models' 0/1 units
print("E(all up) =", ref.energy(np.ones((L_EXACT, L_EXACT), np.int8))[0], "= -2N")
print("E, M of three random lattices:", ref.energy(s), ref.magnetisation(s))
print("s -> x -> s gives s back:", np.array_equal(ref.to_pm1(x), s))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The Ising model is a Boltzmann machine
#
# Week 1 wrote
# $E(\boldsymbol{x},\boldsymbol{h}) = -\boldsymbol{a}^T\boldsymbol{x} - \boldsymbol{b}^T\boldsymbol{h} - \boldsymbol{x}^T\boldsymbol{W}\boldsymbol{h}$
# and $p\propto e^{-E}$. The Ising model at temperature $T$ is a **fully visible** Boltzmann
# machine: no hidden units (no $\boldsymbol h$, no $\boldsymbol b$), and instead the
# visible-visible couplings that the RBM forbids,
#
# $$p(\boldsymbol{s}) \propto \exp\Big(\sum_{i<j} W_{ij}\, s_i s_j + \boldsymbol{a}^T\boldsymbol{s}\Big),
# \qquad W_{ij} = \begin{cases} J/T & i, j \text{ neighbours}\\ 0 & \text{else}\end{cases},
# \qquad \boldsymbol{a} = \boldsymbol 0 \text{ (no field)}.$$
#
# In 0/1 units the same distribution has other parameters: with
# $s_i s_j = 4x_ix_j - 2x_i - 2x_j + 1$ and four bonds per site, $W_{ij} = 4J/T$ on the bonds
# and a bias $a_i = -8J/T$ on every unit.

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same distribution both ways: a check on the three random lattices at `T_LOW` (both sides
# are $\log p + \log Z$):

# %% slideshow={"slide_type": "fragment"}
n_sites = L_EXACT * L_EXACT
W01 = np.zeros((n_sites, n_sites))  # couplings of the 0/1 units, each bond once
for i in range(n_sites):
    r, c = divmod(i, L_EXACT)
    right, down = r * L_EXACT + (c + 1) % L_EXACT, ((r + 1) % L_EXACT) * L_EXACT + c
    W01[i, right] = W01[i, down] = 4 / T_LOW
a01 = np.full(n_sites, -8 / T_LOW)
xf = x.reshape(len(x), -1).astype(float)
print("-E(s)/T               :", -ref.energy(s) / T_LOW)
quadratic = np.einsum("ni,ij,nj->n", xf, W01, xf)
print("a.x + x W x + 2N J/T  :", xf @ a01 + quadratic + 2 * n_sites / T_LOW)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What an RBM must learn.** An RBM has no visible-visible couplings. Summing out its hidden
# units gives the free energy of week 1,
#
# $$F(\boldsymbol{x}) = -\boldsymbol{a}^T\boldsymbol{x} - \sum_{j}\log\left(1 + e^{\,b_j + \boldsymbol{x}^T\boldsymbol{W}_{:j}}\right),$$
#
# and each softplus term couples all the visible units that hidden unit $j$ sees: expanded in
# $\boldsymbol{x}$, it holds pairwise (and higher) interactions. So the RBM must build the
# effective coupling $J/T$ between neighbours **through its hidden layer**. Torlai and Melko
# (2016), "Learning thermodynamics with Boltzmann machines", Phys. Rev. B 94, 165134, trained
# one RBM per temperature on Monte Carlo configurations and compared the thermodynamics of its
# samples with Monte Carlo; they needed more hidden units the closer they came to $T_c$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Why physics data.** The lecture notes (week of 15-19 April 2024) say a generator network
# "uses existing data to generate new data (from for example simulations of physical systems,
# ...)" and that a Boltzmann machine can be "trained to produce for example a quantum mechanical
# probability distribution". This week does the classical version, where the target is known:
# $p(\boldsymbol s)$ above, with $Z$ computable on small lattices. A model of MNIST can only be
# compared with more MNIST; a model of the Ising model can be compared with **the answer**.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Exact answers by enumeration
#
# A 4 x 4 lattice has $2^{16} = 65{,}536$ configurations: few enough to list. `ref.exact` counts
# the density of states $g(E, M)$ once and reweights it for each temperature,
#
# $$Z(T) = \sum_{E, M} g(E, M)\, e^{-E/T},\qquad p(E, M) = g(E, M)\,e^{-E/T}/Z,$$
#
# in log space (nothing overflows). Limits to check: $T\to0$, only the two ground states
# ($E = -2N$) count, $\log Z\to 2N/T + \log 2$; $T\to\infty$, all states count, $\log Z\to N\log 2$.

# %% slideshow={"slide_type": "fragment"}
N = L_EXACT * L_EXACT
for T in (0.5, T_LOW, T_C, T_HIGH, 100.0):
    ex = ref.exact(L_EXACT, T)
    print(f"T = {T:6.3f}: log Z = {ex.log_z:8.4f}   e = {ex.e:+.4f}   |m| = {ex.abs_m:.4f}")
print(f"limits: 2N/T + log 2 at T = 0.5: {2 * N / 0.5 + np.log(2):.4f};  "
      f"N log 2: {N * np.log(2):.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **A closed form to check against.** On the 2 x 2 lattice each pair is a neighbour twice (right
# and left are the same site), so $E = -2(s_as_b + s_bs_d + s_ds_c + s_cs_a)$: two aligned states
# at $E = -8$, two checkerboards at $E = +8$, twelve at $E = 0$, and
# $Z = 4\cosh(8/T) + 12$ (`ref.log_z_2x2`). Enumeration against the formula:

# %% slideshow={"slide_type": "fragment"}
for T in (0.5, T_C, 5.0):
    print(f"T = {T:5.3f}: log Z enumerated {ref.exact(2, T).log_z:.12f}, "
          f"closed form {ref.log_z_2x2(T):.12f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The likelihood ceiling.** With $Z$ known, $\log p(\boldsymbol s) = -E(\boldsymbol s)/T - \log Z$
# of any configuration is exact (`ex.log_prob`). A model $q$ trained on samples of $p$ has
# expected test log-likelihood
#
# $$\langle\log q\rangle_p = -H(p) - \mathrm{KL}(p\,\|\,q) \le -H(p),\qquad
# H(p) = \log Z + \langle E\rangle/T,$$
#
# so on 4 x 4 the lab can say how many nats a model is from perfect. The entropy per spin, against
# its maximum $\log 2$ (independent coin flips):

# %% slideshow={"slide_type": "fragment"}
for T in TEMPS:
    ex = ref.exact(L_EXACT, T)
    entropy = ex.log_z + N * ex.e / T
    print(f"{t_name(T):>9}: H/N = {entropy / N:.4f} nats  (log 2 = {np.log(2):.4f})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The magnetisation distribution
#
# $p(m)$, $m = M/N$, of the 4 x 4 lattice at three temperatures: exact, no sampling.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
for ax, T in zip(axes, TEMPS, strict=True):
    ex = ref.exact(L_EXACT, T)
    ax.bar(ex.magnetisations / N, ex.p_magnetisation, width=1.6 / N, color="C0")
    ax.set(title=t_name(T), xlabel="m = M / N", xticks=[-1, 0, 1])
axes[0].set_ylabel("p(m), exact");

# %% [markdown] slideshow={"slide_type": "subslide"}
# Below $T_c$: two sharp peaks at $m = \pm1$, the two ordered phases, with **equal weight** by the
# symmetry $E(-\boldsymbol s) = E(\boldsymbol s)$. At $T_c$ the peaks broaden. At `T_HIGH`, above
# $T_c$, they have moved in and the valley has filled, but on 16 spins there are still two: a
# lattice this small has no sharp transition (section 3). On the 16 x 16 lattice (section 4) the
# high-temperature histogram has a single peak at $m = 0$.

# %% slideshow={"slide_type": "fragment"}
for T in TEMPS:
    ex = ref.exact(L_EXACT, T)
    mode = abs(ex.magnetisations[np.argmax(ex.p_magnetisation)]) / N
    print(f"{t_name(T):>9}: most probable |m| = {mode:.3f}, p(M = 0) = "
          f"{ex.p_magnetisation[ex.magnetisations == 0][0]:.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The infinite lattice: Onsager and Yang
#
# Kramers and Wannier (1941) located the transition by duality, $\sinh(2J/T_c) = 1$, so
# $T_c = 2/\ln(1+\sqrt2) \approx 2.269$. Onsager (1944) solved the model; his energy per spin is
#
# $$u(T) = -\coth(2\beta)\left[1 + \frac{2}{\pi}\left(2\tanh^2(2\beta) - 1\right)K(k)\right],
# \qquad k = \frac{2\sinh(2\beta)}{\cosh^2(2\beta)},\quad \beta = 1/T,$$
#
# with $K$ the complete elliptic integral of the first kind; Yang (1952) derived the spontaneous
# magnetisation,
#
# $$|m|(T) = \left(1 - \sinh^{-4}(2\beta)\right)^{1/8}\ (T < T_c),\qquad 0\ (T \ge T_c).$$
#
# At $T_c$: $u = -\sqrt2$ with an infinite slope, $c$ diverges like $\ln|T - T_c|$, $\chi$ like
# $|T - T_c|^{-7/4}$, and $|m|$ vanishes like $(T_c - T)^{1/8}$.

# %% slideshow={"slide_type": "fragment"}
print(f"T_c = {T_C:.6f};  u(T_c) = {ref.onsager_energy_per_spin(T_C):.6f}, "
      f"-sqrt(2) = {-np.sqrt(2):.6f}")
for T in TEMPS:
    ex = ref.exact(L_EXACT, T)
    print(f"{t_name(T):>9}: e   Onsager {ref.onsager_energy_per_spin(T):+.4f}, 4 x 4 {ex.e:+.4f};"
          f"   |m| Yang {ref.spontaneous_magnetisation(T):.4f}, 4 x 4 {ex.abs_m:.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Exact 4 x 4 (dots) against the infinite lattice (black: Onsager's $e$, Yang's $|m|$; its $c$
# and $\chi$ diverge at $T_c$):

# %% tags=["hide-input"]
grid = np.round(np.arange(1.0, 4.001, 0.1), 2)
exact_curve = [ref.exact(L_EXACT, T) for T in grid]
exact_4 = {"T": grid, **{k: [getattr(ex, k) for ex in exact_curve] for k in OBSERVABLES}}
ising_plots.observable_curves({"exact, L = 4": exact_4}, figsize=(12, 5.4));

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Finite-size rounding.** On 16 spins nothing is singular: $e$ bends smoothly where Onsager's
# has an infinite slope; $|m|$ does not vanish above $T_c$ ($|M|$ of a finite lattice always has
# a positive mean, of order $\sqrt N$ in the disordered phase); $c$ and $\chi$ have smooth, finite
# peaks, above $T_c$. As $L$ grows the peaks sharpen and move towards $T_c$, by about $1/L$; the
# peak of $c$ grows like $\ln L$ (Ferdinand and Fisher 1969), that of $\chi$ like $L^{7/4}$.
# Where the 4 x 4 peaks are:

# %% slideshow={"slide_type": "fragment"}
fine = np.linspace(1.5, 4.0, 501)
fine_exact = [ref.exact(L_EXACT, T) for T in fine]
for k in ("c", "chi"):
    values = [getattr(ex, k) for ex in fine_exact]
    print(f"peak of {k:>3} on 4 x 4: T = {fine[np.argmax(values)]:.3f} (T_c = {T_C:.3f}), "
          f"height {max(values):.3f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Monte Carlo: checkerboard Metropolis
#
# Beyond 4 x 4 we sample. **Metropolis** (Metropolis et al. 1953): propose to flip $s_i$; with
# $h_i = \sum_{j\sim i} s_j$ the energy changes by $\Delta E = 2 s_i h_i$; accept with probability
# $\min(1, e^{-\Delta E/T})$. Detailed balance makes $p(\boldsymbol s)$ stationary.
#
# **The checkerboard.** Colour the sites like a chessboard: every neighbour of a black site is
# white. Given the white spins, the black spins are **conditionally independent**, so a whole
# sublattice is updated at once (vectorised over sites and over many chains). That is week 1's
# **block Gibbs sampling**: the two sublattices play the RBM's visible and hidden layers. With
# the heat-bath rule in place of Metropolis' the update is exactly the RBM's sigmoid,
# $p(s_i = +1\mid\text{neighbours}) = \sigma(2h_i/T)$. Checked on one site of a 4 x 4 lattice:

# %% slideshow={"slide_type": "fragment"}
s0 = ref.sample_exact(L_EXACT, T_C, 1, seed=SEED)[0]
up, down = s0.copy(), s0.copy()
up[0, 0], down[0, 0] = 1, -1
e_up, e_down = ref.energy(np.stack([up, down]))
h = s0[0, 1] + s0[1, 0] + s0[0, -1] + s0[-1, 0]  # the four neighbours of site (0, 0)
print(f"p(s = +1 | rest), from the two energies: {1 / (1 + np.exp((e_up - e_down) / T_C)):.6f}")
print(f"sigmoid(2 h / T) with h = {h}:            {1 / (1 + np.exp(-2 * h / T_C)):.6f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Critical slowing down, and Wolff's clusters
#
# Near $T_c$ there are domains of every size, and single-spin flips move their walls only by
# diffusion: the autocorrelation time of Metropolis grows like $L^z$ with $z \approx 2.17$
# (Nightingale and Blöte 1996). **Wolff** (1989) flips whole clusters: from a random site, add
# each aligned neighbour with probability $1 - e^{-2/T}$, repeat from the new sites, flip the
# cluster; the move is always accepted. Near $T_c$ the clusters are the physical domains.

# %% [markdown] slideshow={"slide_type": "subslide"}
# $|m|$ along one chain of a 32 x 32 lattice at $T_c$, after a burn-in, against sweeps (for
# Wolff: spins flipped / $N$):

# %% slideshow={"slide_type": "skip"}
n_crit = L_CRIT * L_CRIT
chain = ck.data.ising.random_spins(1, L_CRIT, rng)
ck.data.ising.metropolis_sweep(chain, T_C, rng, sweeps=5 * TRACE_SWEEPS)  # burn-in
metropolis_trace = []
for _ in range(TRACE_SWEEPS):
    ck.data.ising.metropolis_sweep(chain, T_C, rng)
    metropolis_trace.append(abs(chain.mean()))
chain = ck.data.ising.random_spins(1, L_CRIT, rng)
ck.data.ising.wolff_step(chain, T_C, rng, steps=TRACE_SWEEPS)  # burn-in
wolff_sweeps, wolff_trace = [0.0], [abs(chain.mean())]
while wolff_sweeps[-1] < TRACE_SWEEPS:
    wolff_sweeps.append(wolff_sweeps[-1] + ck.data.ising.wolff_step(chain, T_C, rng) / n_crit)
    wolff_trace.append(abs(chain.mean()))

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(12, 3.8))
ax.plot(np.arange(1, TRACE_SWEEPS + 1), metropolis_trace, lw=1.8, label="checkerboard Metropolis")
ax.plot(wolff_sweeps, wolff_trace, lw=1.8, label="Wolff clusters")
ax.set(xlabel="sweeps", ylabel="|m| of the chain", ylim=(0, 1),
       title=f"one chain at T_c, L = {L_CRIT}")
fig.legend(loc="outside lower center", ncols=2);

# %% [markdown] slideshow={"slide_type": "fragment"}
# Metropolis' $|m|$ drifts: it takes many sweeps to forget where it was. Wolff's jumps to a new
# value within a sweep or so, dips included (a cluster the size of a domain flipped at once).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Autocorrelation time and thinning
#
# For a chain's series $x_t$ with autocorrelation $\rho(t)$, the integrated autocorrelation time
#
# $$\tau = 1 + 2\sum_{t\ge1}\rho(t)$$
#
# (summed up to Sokal's self-consistent window) is the number of steps per independent sample:
# the variance of a mean over $n$ steps is $\tau\,\mathrm{Var}(x)/n$. `ck.data.ising.sample`
# measures $\tau$ of $|m|$ and $E$ in a pilot run (also the burn-in), keeps every
# $\lceil 2\tau\rceil$-th step of many chains side by side, and flips each stored configuration
# whole with probability one half: exact, since $E(-\boldsymbol s) = E(\boldsymbol s)$, and it
# gives the two phases equal shares, which a low-temperature chain never would on its own.
# At $T_c$, 32 x 32, the two samplers (tau in sweeps):

# %% slideshow={"slide_type": "fragment"}
for algorithm in ("metropolis", "wolff"):
    crit = ck.data.ising.sample(L_CRIT, T_C, N_CRIT, seed=SEED, algorithm=algorithm)
    print(f"{algorithm:>10}: tau = {crit.tau_sweeps:6.2f} sweeps, thinning {crit.thin} steps, "
          f"{crit.seconds:.2f} s")

# %% [markdown] slideshow={"slide_type": "notes"}
# Per sweep a vectorised Metropolis update is far cheaper than Wolff's cluster growth in NumPy,
# so at L = 16 Metropolis gives an independent configuration sooner at every temperature, and
# the data set below uses it (`algorithm="auto"`; the measurements are in
# `benchmarks/results/ising.md`). Wolff wins from L = 32 near T_c, and by more as L grows.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The data set: 16 x 16 at ten temperatures
#
# The course data: `ck.data.ising.sample(16, T, n, seed=0)` at the temperatures of
# `ck.data.ising.COURSE_TEMPERATURES` (cached on disk after the first call). How three of them
# were made:

# %% slideshow={"slide_type": "fragment"}
data = {T: ck.data.ising.sample(L_DATA, T, N_DATA, seed=SEED)
        for T in ck.data.ising.COURSE_TEMPERATURES}
for T in TEMPS:
    print(data[T].summary())

# %% [markdown] slideshow={"slide_type": "subslide"}
# Nine configurations of the data at each of three temperatures (white $+1$, black $-1$).

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
for ax, T in zip(axes, TEMPS, strict=True):
    ck.plotting.image_grid(data[T].spins[:9], ncols=3, value_range=(-1, 1), frame=True, ax=ax,
                           title=t_name(T))

# %% [markdown] slideshow={"slide_type": "fragment"}
# Below $T_c$: one colour, small islands of the other; both colours occur (the two phases). At
# $T_c$: large islands, $m$ varying from one configuration to the next (that is $\chi$). Above
# $T_c$: domains of both colours a few sites across.

# %% [markdown] slideshow={"slide_type": "subslide"}
# Histograms of $m$ at 16 x 16: two sharp peaks near $\pm1$ below $T_c$, two broad ones well
# inside $\pm1$ at $T_c$, and a single peak at $m = 0$ above.

# %% tags=["hide-input"]
ising_plots.magnetisation_histograms({t_name(T): data[T].spins for T in TEMPS}, bins=41,
                                     title=f"{N_DATA} Monte Carlo configurations, L = {L_DATA}");

# %% [markdown] slideshow={"slide_type": "subslide"}
# The data's observables (jackknife errors) beside exact 4 x 4 and the infinite lattice:

# %% tags=["hide-input"]
mc = {"T": np.array(list(data))}
for T, d in data.items():
    values, errors = ref.observables(d.spins, T), ref.observable_errors(d.spins, T)
    for k in OBSERVABLES:
        mc.setdefault(k, []).append(values[k])
        mc.setdefault(f"{k}_err", []).append(errors[k])
exact_4_range = {k: np.asarray(v)[(grid >= 1.5) & (grid <= 3.5)] for k, v in exact_4.items()}
ising_plots.observable_curves({f"Monte Carlo, L = {L_DATA}": mc, "exact, L = 4": exact_4_range},
                              figsize=(12, 5.4));

# %% [markdown] slideshow={"slide_type": "subslide"}
# The 16 x 16 lattice is much closer to Onsager and Yang than the 4 x 4 one, with higher, sharper
# peaks of $c$ and $\chi$ nearer $T_c$. Away from $T_c$ the finite-size corrections to $e$ are
# exponentially small in $L/\xi$ ($\xi$ the correlation length), so the 16 x 16 energy should
# agree with Onsager's within its error bar:

# %% slideshow={"slide_type": "fragment"}
for T in (T_LOW, T_HIGH):
    i = list(data).index(T)
    z = (mc["e"][i] - ref.onsager_energy_per_spin(T)) / mc["e_err"][i]
    print(f"{t_name(T)}: e = {mc['e'][i]:.4f} ± {mc['e_err'][i]:.4f}, Onsager "
          f"{ref.onsager_energy_per_spin(T):.4f}, z = {z:+.2f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Checking the sampler against the exact answer
#
# A sampler is only as good as its check. At 4 x 4 we have the exact answer: `N_CHECK`
# Monte Carlo configurations at each temperature, their observables with jackknife errors
# (`ref.observable_errors`: recompute each observable leaving out one of 20 blocks), and the
# z-score $z = (\text{MC} - \text{exact})/\sigma_{\rm MC}$.

# %% slideshow={"slide_type": "subslide"}
rows = {k: [] for k in OBSERVABLES}
for T in TEMPS:
    spins = ck.data.ising.sample(L_EXACT, T, N_CHECK, seed=SEED).spins
    values, errors = ref.observables(spins, T), ref.observable_errors(spins, T)
    ex = ref.exact(L_EXACT, T)
    for k in OBSERVABLES:
        z = (values[k] - getattr(ex, k)) / errors[k]
        rows[k].append(f"{values[k]:+.4f} ± {errors[k]:.4f}  {getattr(ex, k):+.4f}  {z:+5.2f}")
print("each entry: MC ± jackknife error, exact, z")
print((" " * 5 + "".join(f"   {t_name(T):^32}" for T in TEMPS)).rstrip())
for k, entries in rows.items():
    print(f"{k:>5}" + "".join(f"   {entry:^32}" for entry in entries))

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Reading z-scores.** If sampler and error bars are right, each $z$ is a draw from a standard
# normal, so $|z|$ around 2 happens (about one in twenty); and the four $z$ of one temperature
# are **correlated**, being computed from the same configurations, so a set that fluctuates
# shows it in all four at once. One set is one draw. Over `N_REPEATS` further independent sets
# at `T_LOW`: a bias would show as a mean $z$ away from zero, error bars that are too small as an
# rms well above one.

# %% slideshow={"slide_type": "fragment"}
ex = ref.exact(L_EXACT, T_LOW)
z = []
for seed in range(SEED + 1, SEED + 1 + N_REPEATS):
    spins = ck.data.ising.sample(L_EXACT, T_LOW, N_CHECK, seed=seed, cache=False).spins
    values, errors = ref.observables(spins, T_LOW), ref.observable_errors(spins, T_LOW)
    z.append([(values[k] - getattr(ex, k)) / errors[k] for k in OBSERVABLES])
z = np.array(z)
for k, mean, rms in zip(OBSERVABLES, z.mean(0), np.sqrt((z**2).mean(0)), strict=True):
    print(f"{k:>5}: mean z {mean:+.2f}, rms z {rms:.2f}  over {N_REPEATS} sets")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The noise floor at 16 x 16.** There is no enumeration at $L = 16$, so a model will be judged
# against Monte Carlo data, and the question becomes: how far apart are two *correct* sets?
# `ising_report` (`coursekit.metrics.ising`) scores one set against another: both sets' errors
# enter the z-scores, plus the mode test of section 6. A second, independent Monte Carlo set
# against the data at `T_LOW`, the best any model can do at this $n$:

# %% slideshow={"slide_type": "fragment"}
reference = data[T_LOW].spins
second = ck.data.ising.sample(L_DATA, T_LOW, N_DATA, seed=SEED + 1).spins
print(ising_report(second, reference, T_LOW).summary())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. What a generative model must reproduce
#
# The yardstick of `coursekit.metrics.ising`, the same for every model of the lab:
#
# * the **four observables** with error bars: $e$ (local order: the bonds), $c$ (its
#   fluctuations), $|m|$ (global order) and $\chi$ (its fluctuations). The fluctuations are the
#   hard part: a model that makes "average" configurations can get $e$ right and $c$ wrong;
# * below $T_c$, the **mode test**: the share of configurations with $M > 0$ (one half for the
#   Boltzmann distribution) and the histogram of $m$, compared with the data by its
#   total-variation distance (0: the same; 1: no overlap);
# * on 4 x 4, the **exact log-likelihood** (section 2).

# %% [markdown] slideshow={"slide_type": "subslide"}
# Two sets to show it, against the data at `T_LOW`: a **one-phase** set, the second Monte Carlo
# set with every down-phase configuration flipped up (a model that learned one ordered phase)...

# %% slideshow={"slide_type": "fragment"}
one_phase = second * np.where(ref.magnetisation(second) < 0, -1, 1).astype(np.int8)[:, None, None]
print(ising_report(one_phase, reference, T_LOW).summary())

# %% [markdown] slideshow={"slide_type": "fragment"}
# ... and **independent random spins**, the trivial baseline:

# %% slideshow={"slide_type": "fragment"}
random_spins = ck.data.ising.random_spins(N_DATA, L_DATA, rng)
print(ising_report(random_spins, reference, T_LOW).summary())

# %% [markdown] slideshow={"slide_type": "subslide"}
# The one-phase set has **the same four observables** as the correct second set (flipping
# $\boldsymbol s\to-\boldsymbol s$ changes neither $E$ nor $|M|$), and every one of its
# configurations is exactly as probable as before. Only the share with $M > 0$ and the
# histogram of $m$ see that half the distribution is missing. Random spins fail everything.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(12, 4.2))
ising_plots.magnetisation_histograms(
    {"the data (MC)": reference, "second MC set": second, "one phase": one_phase,
     "random spins": random_spins},
    bins=41, ax=ax, title=f"histograms of m at {t_name(T_LOW)}, L = {L_DATA}")
handles, labels = ax.get_legend_handles_labels()
ax.get_legend().remove()
ax.set_ylim(0, ax.get_ylim()[1] / 1.3)  # no room needed for a legend inside
fig.legend(handles, labels, loc="outside right center");

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Which scores see a missing phase.** A sample-quality score cannot: each one-phase
# configuration is a perfectly typical one; what is wrong is the set's coverage. FID cannot
# either, unless its features happen to depend on the sign of $m$. Divergences differ too:
# for $q$ the one-phase distribution ($q = 2p$ on $M > 0$, $p$ on $M = 0$, zero on $M < 0$),
#
# $$\mathrm{KL}(q\,\|\,p) = \big(1 - p(M{=}0)\big)\log 2 \le \log 2,\qquad \mathrm{KL}(p\,\|\,q) = \infty:$$
#
# the mode-seeking direction charges at most $\log 2$ for the lost phase, the likelihood
# (mass-covering) direction charges everything. On 4 x 4 at `T_LOW`:

# %% slideshow={"slide_type": "fragment"}
ex = ref.exact(L_EXACT, T_LOW)
p0 = ex.p_magnetisation[ex.magnetisations == 0][0]
kl = (1 - p0) * np.log(2)
print(f"KL(q || p) = {kl:.4f} nats in all, {kl / N:.4f} per spin;  "
      f"entropy H(p) = {ex.log_z + N * ex.e / T_LOW:.4f} nats")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The lab
#
# `week6_ising_pytorch` trains the families of weeks 1 to 4 on configurations made by this
# sampler, on an $8\times8$ lattice so that each model trains in about a minute or less (the
# lab says why, and how to try $L = 16$), and judges them with this yardstick:
#
# * an **RBM per temperature**, as Torlai and Melko (2016), across the ten temperatures: do the
#   curves of $e$, $|m|$, $c$, $\chi$ of its samples follow the data's?
# * on 4 x 4, the RBM's **exact likelihood** against the entropy ceiling of section 2;
# * the **VAE, GAN and EBM** at $T_c$ and below, where the mode test bites.
#
# Summary: the Ising model is a Boltzmann machine with known couplings; its answers are exact on
# 4 x 4 and known on the infinite lattice; the sampler is checked against them; and a model is
# judged by the physics of its samples, the fluctuations and both phases included.
