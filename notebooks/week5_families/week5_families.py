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
# # Week 5: the four families side by side
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week5_families/week5_families.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# The closing notebook of the course. Every lab of weeks 1 to 4 ended by recording its model's
# row of the course-wide results table (`coursekit.course.results`): the sample report of
# `coursekit.metrics`, the log-likelihood where the family has one, training and sampling time
# at the full-mode budget, and its first 500 samples. Here the four families (RBM, EBM, VAE, GAN)
# meet, **every one scored at the same sample count** beside a baseline without a neural
# network (PCA + a Gaussian mixture) and beside real digits: one table, one sample grid per
# family, quality against cost per sample, the likelihoods that exist, and what each family
# trades. **Nothing is trained** but the baseline (seconds): this notebook reads the records.
#
# Quotes M. Hjorth-Jensen's lecture notes (week of 15-19 April 2024) where they set the families
# against each other (in their VAE and GAN sections); further reading: Hinton (2002), Du and
# Mordatch (2019), Kingma and Welling (2014), Goodfellow et al. (2014), Radford et al. (2016).

# %% [markdown] slideshow={"slide_type": "notes"}
# Which records: the committed full-mode run (`benchmarks/results/course/`, refreshed by
# `make outputs`), replaced model by model by this run's records (`build/results/` after
# `make run`) when those are full mode and newer. Smoke-mode records (CI, `make run MODE=smoke`)
# are never shown unless `ALLOW_SMOKE = True`, and then every figure says SMOKE MODE. The first
# code cell prints where each row comes from.

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

ALLOW_SMOKE = False  # also show smoke-mode records (marked as such)
RECORDS = None  # folder of records to show (None: the committed benchmarks/results/course)
RUN_RECORDS = None  # this run's records (None: $COURSEKIT_RESULTS, else build/results)
REAL_NS = ck.by_mode(full=[100, 500, 1000, 2000], smoke=[100, 500])  # real digits per FID
N_GRID = 36  # samples shown per model (at most the 500 each record keeps)
SEED = 0  # the subsample of records storing more than N_COMPARE, the baseline, the real digits

# %% slideshow={"slide_type": "skip"}
from IPython.display import Markdown, display

from coursekit.course import families, results

N_COMPARE = results.N_COMPARE  # the one sample count of every score below (the smallest lab's)
ck.plotting.use_style()
chosen = families.choose_records(committed=RECORDS, run=RUN_RECORDS, allow_smoke=ALLOW_SMOKE)
rows = chosen.rows
print(chosen)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The yardstick: what it measures, what it misses
#
# Every lab judged its samples with the same small digit classifier (`coursekit.metrics`):
#
# * **classifier FID**: Gaussians fitted to the classifier's penultimate-layer features of the
#   samples $(\boldsymbol\mu_s,\boldsymbol\Sigma_s)$ and of the real test digits
#   $(\boldsymbol\mu_r,\boldsymbol\Sigma_r)$, and the Fréchet distance between them,
#
# $$\mathrm{FID} = \lVert\boldsymbol\mu_s-\boldsymbol\mu_r\rVert^2
#   + \mathrm{tr}\left(\boldsymbol\Sigma_s+\boldsymbol\Sigma_r
#   - 2\left(\boldsymbol\Sigma_s\boldsymbol\Sigma_r\right)^{1/2}\right)\quad(\text{lower is better});$$
#
# * **class coverage**: the classifier's predicted digit per sample; how many digits get at least
#   2.5% of the samples, and the entropy of the histogram ($\ln 10$ when perfectly balanced).

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What it misses.** FID sees only what the classifier's features see: a model that copied its
# training digits would score like real data (no test of memorisation), the features are tuned
# to MNIST digits, and neither number is a likelihood. **FID depends on $n$:** the covariance of
# few samples is noisy, which adds to the distance, so the same real digits score worse at small
# $n$. Real training digits (a random subset) against the test set:

# %% slideshow={"slide_type": "fragment"}
real = families.real_digit_fids(REAL_NS)
for n, fid, k in real:
    print(f"{n:>6,} real training digits: FID {fid:6.2f}, {k}/10 classes")

# %% [markdown] slideshow={"slide_type": "notes"}
# So compare models only at equal $n$, and read every FID against the real digits at the same
# $n$. The labs drew different numbers of samples (500 to 2,000), so this notebook scores every
# family again at one $n$ from the samples each record keeps (section 2); the dashed line in
# section 4 is the floor at that $n$.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The table, at one $n$
#
# Every record's stored samples scored again at $n$ = `N_COMPARE` (a fixed-seed subsample where
# a record keeps more) against the same test digits, beside two rows scored the same way: a
# **baseline**, PCA (50 components) + a Gaussian mixture (50 components, full covariances)
# fitted here to the training digits in seconds, and $n$ **real training digits** (the floor).
# A record that keeps fewer samples (one written before the records kept `N_COMPARE`, or a
# smoke run) is not scored, and the line below says so: never an FID at another $n$.

# %% slideshow={"slide_type": "skip"}
scores = families.compare(rows, n=N_COMPARE, seed=SEED)
print(scores)
print(scores.baseline_model)

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
display(Markdown(families.comparison_table(scores)))

# %% [markdown] slideshow={"slide_type": "notes"}
# Columns: training length in parameter updates and wall-clock seconds on the machine that ran
# the lab (the baseline: its fit here), sampling seconds per sample (the lab's `sample_seconds`
# over the samples it timed), the FID at $n$ and its excess over the real digits at the same
# $n$, classes covered, class entropy, and the test log-likelihood in nats per image where the
# family has one. The labs' own reports, each at the lab's own $n$, are
# `benchmarks/results/course.md` for the committed run and `build/results.md` after `make run`:
# read each of those against the real digits at its $n$ (section 1), never against each other.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Like with like: what the scored images are
#
# Every scored image is a grey-level image in $[0, 1]$, like the real test digits; they differ
# in whether they are one draw of the model or an average over its pixel noise:
#
# * **RBM**: the Bernoulli means $p(\boldsymbol x = 1\mid\boldsymbol h)$ of the last Gibbs step
#   (`RBM.sample` returns them), not the binary states $\boldsymbol x$ the chain carries.
# * **EBM**: the final states of the Langevin chains themselves, continuous values in $[-1, 1]$
#   mapped to $[0, 1]$: one draw per chain, no averaging.
# * **VAE**: the decoder means $p(\boldsymbol x = 1\mid\boldsymbol z)$ at
#   $\boldsymbol z\sim\mathcal N(0, I)$ (`VAE.sample` returns them), not Bernoulli draws from
#   them.
# * **GAN**: the generator's outputs themselves ($\tanh$ mapped to $[0, 1]$): one draw each.
# * **Baseline**: draws of the mixture mapped back to pixels and clipped to $[0, 1]$.
#
# So the RBM's and the VAE's images are averages (smoother than any one of their samples, and
# closer to grey-level digits), the others single draws. Scored as one binary draw from the same
# means instead, at the same $n$:

# %% slideshow={"slide_type": "-"}
draws = families.bernoulli_draws(scores, seed=SEED)
for entry in draws:
    mean = next(e for e in scores.models if e.row is entry.row)
    print(f"{entry.label}: FID {entry.fid:.2f} ({mean.fid:.2f} as means), "
          f"{entry.n_classes}/10 classes")
if not draws:
    print(f"No RBM or VAE record scored at n = {N_COMPARE:,}: nothing to draw from.")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. One sample grid per family

# %% [markdown] slideshow={"slide_type": "notes"}
# The first samples each lab stored (families as columns, frameworks as rows), and the
# baseline's (last column), titled with their classifier FID at $n$ = `N_COMPARE` and the digits
# they cover.

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
fig = families.sample_grids(rows, n=N_GRID, comparison=scores)

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the samples are (each lab names its chains in the report):

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
display(Markdown(families.sample_descriptions(rows)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Which digits each model draws
#
# The classifier's predicted class of every sample (the same $n$ for every panel): a chain stuck
# in a few modes, or a generator that dropped digits, shows as missing bars.

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
fig = families.coverage_histograms(scores)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Quality against cost
#
# An RBM or EBM sample is the end of a long Markov chain; a VAE or GAN sample is **one forward
# pass**.

# %% [markdown] slideshow={"slide_type": "notes"}
# Left: FID at $n$ = `N_COMPARE` against training time (the baseline: its fit). Right: the same
# FID against the sampling time **per sample** (each lab's sampling time over the number of
# samples it timed). The dashed line is the real digits at the same $n$; the legend sits under
# the panels. An RBM sample is the end of a Gibbs chain and an EBM sample the end of a Langevin chain, each
# many network evaluations long; a VAE or GAN sample is one forward pass of the decoder or
# generator.

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
fig = families.quality_vs_cost(scores)  # dashed: real digits at the same n

# %% slideshow={"slide_type": "fragment"} tags=["hide-input"]
display(Markdown(families.cost_text(rows)))

# %% [markdown] slideshow={"slide_type": "notes"}
# Times are wall-clock seconds of one run on the machine that ran the labs (a 2-core CPU for the
# committed run); the labs' benchmarks (`make bench`) compare the frameworks properly. Training
# budgets differ by family (each lab chose what fits its time limit), so the left panel says what
# each family reached in the time it was given, not what it could reach.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Likelihoods, where they exist
#
# Only two families give a number for $\log p(\boldsymbol x)$ of a test image:
#
# * **RBM**: $\log p(\boldsymbol x) = -F(\boldsymbol x) - \log Z$ with the free energy $F$ exact
#   and $\log Z$ estimated by annealed importance sampling (AIS, week 1). AIS estimates $Z$
#   without bias, so $\log\hat Z$ is too low on average (Jensen) and the log-likelihood
#   **too high**: an optimistic number (Salakhutdinov and Murray 2008).
# * **VAE**: the importance-weighted bound $\mathcal L_K \le \log p(\boldsymbol x)$ (IWAE,
#   week 3): a **pessimistic** number (Burda et al. 2016).
#
# The EBM has $e^{-E(\boldsymbol x)}$ without its normaliser (and week 2's short-run,
# low-temperature training does not make $e^{-E}$ a calibrated density); the GAN has no density
# at all, only a sampler.

# %% slideshow={"slide_type": "subslide"} tags=["hide-input"]
display(Markdown(families.likelihood_text(rows)))

# %% [markdown] slideshow={"slide_type": "-"}
# **What is comparable.** Both labs score the *same* binary images: every image of the test split
# they loaded, binarised statically with `ck.data.binarize` (1 where the intensity is at least
# 0.5), after training on dynamically binarised digits; the line above checks from the records
# that their runs loaded the same test set. So the numbers share units (nats per binary
# $28\times 28$ image) and data. Since the RBM's number leans high and the VAE's low, the VAE's
# lead above is, up to the spread of the AIS runs, a lower bound on the true gap. What is *not*
# comparable: published numbers on other binarisations (week 3 lists them), and any likelihood
# with the EBM or the GAN.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. What each family trades
#
# The numbers first (each family's best record by FID at $n$ = `N_COMPARE`):

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
display(Markdown(families.family_facts(scores)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### What each family buys over the baseline
#
# The baseline is a mixture of 50 Gaussians in the 50-dimensional linear subspace that keeps
# most of the digits' pixel variance: no neural network, fitted in seconds, one matrix product
# per sample. Each family against it, at the same $n$ (FID above the real digits' floor, classes,
# time per sample):

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
display(Markdown(families.buys_text(scores)))

# %% [markdown] slideshow={"slide_type": "notes"}
# What to look for: a family whose FID is not below the baseline's buys nothing on this
# yardstick, whatever its training cost; one that is below it buys sample quality, and the
# factor "closer to the floor" says how much. Beyond the yardstick, each family buys what the
# baseline lacks: the RBM a likelihood estimate and an energy, the EBM an energy usable as a
# score for out-of-distribution detection, the VAE an encoder, a latent space and a bound on
# the likelihood, the GAN sharp single-pass samples. The baseline's own density lives in the
# PCA subspace only, so it gives no likelihood of an image.

# %% [markdown] slideshow={"slide_type": "subslide"}
# * **RBM** (Hinton 2002; week 1 and the notes' Boltzmann machines): an explicit energy with
#   exact conditionals, a free energy in closed form and a log-likelihood up to one constant that
#   AIS estimates. It pays at sampling time: block Gibbs sampling mixes slowly between digits
#   (week 1's chains hold one digit for hundreds of steps, so the samples need many chains and
#   long burn-in), and binary units fit binary pixels only.
# * **EBM** (Du and Mordatch 2019, the paper the notes build their energy-based part on): any
#   network as energy, so the most flexible density model here. Training *and* sampling need
#   Langevin chains: with the RBM's Gibbs chains the slowest sampler per image (the order of the
#   two depends on the run, see section 4), and no normalised likelihood. (The notes'
#   Langevin step has the noise of a $p^2$ sampler; week 2 corrects the factor 1/2.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# * **VAE** (Kingma and Welling 2014): amortised inference gives an encoder, a latent space and
#   a bound on the likelihood, and, in the notes' words, "we can sample directly from $p(x)$
#   without performing Markov Chain Monte Carlo": one decoder pass. It pays in sharpness: the
#   pixel means of a factorised decoder are smooth images.
# * **GAN** (Goodfellow et al. 2014; DCGAN: Radford et al. 2016): one generator pass, sharp
#   samples, and, in the notes' words, "neither approximate inference ... nor approximation of a
#   partition function". It pays with no likelihood and no encoder, and with a game that need
#   not converge ("the generator and discriminator chase one another around in the parameter
#   space"): mode dropping shows in the class coverage, not in a loss.

# %% [markdown] slideshow={"slide_type": "notes"}
# For physics data the choice usually comes from the question: a density to evaluate (an RBM,
# or a flow, not covered here) or only samples (a GAN); a latent space to explore (a VAE); an
# energy to reuse as a score, e.g. for out-of-distribution detection (the EBM of week 2).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. What to try
#
# * Run one lab longer (on a GPU): how far do its FID and coverage move, and does the order of
#   the families change?
# * Score at a larger $n$: raise `N_SAMPLES` in every lab and `results.N_KEPT_SAMPLES`, re-run,
#   and set `N_COMPARE` here: how much do the FIDs, the baseline's and the floor fall, and does
#   the order change?
# * Week 1's parallel tempering or more Gibbs steps: how much sampling time buys the RBM's rare
#   digits (the Keras RBM's 0s)?
# * Estimate the VAE's likelihood with more importance samples (`K_IWAE`) and the RBM's with
#   more AIS chains: how much do the numbers of section 5 move?
# * `ALLOW_SMOKE = True` after `make run MODE=smoke`: the whole notebook on seconds-long runs,
#   every figure marked.
