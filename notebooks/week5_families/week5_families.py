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
# at the full-mode budget, and 64 of its samples. Here the four families (RBM, EBM, VAE, GAN)
# meet: one table, one sample grid per family, quality against cost, the likelihoods that
# exist, and what each family trades. **Nothing is trained**: this notebook reads the records.
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
N_GRID = 36  # samples shown per model (at most the 64 each record keeps)

# %% slideshow={"slide_type": "skip"}
from IPython.display import Markdown, display

from coursekit.course import families

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
# So compare models only at equal $n$ (the table's `n` column), and read every FID against the
# real digits at the same $n$. The dashed line in section 4 is that floor.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The table
#
# One row per trained model (full mode unless marked): training length in parameter updates,
# wall-clock seconds on the machine that ran the lab, the sample report, and the test
# log-likelihood in nats per image where the family has one.

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
display(Markdown(families.table(rows)))

# %% [markdown] slideshow={"slide_type": "notes"}
# The full table with every column (model, entropy, reference set) is
# `benchmarks/results/course.md` for the committed run and `build/results.md` after `make run`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. One sample grid per family

# %% [markdown] slideshow={"slide_type": "notes"}
# The first samples each lab stored (families as columns, frameworks as rows), titled with their
# classifier FID at the report's sample count and the digits they cover.

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
fig = families.sample_grids(rows, n=N_GRID)

# %% [markdown] slideshow={"slide_type": "subslide"}
# What the samples are (each lab names its chains in the report):

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
display(Markdown(families.sample_descriptions(rows)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Which digits each model draws
#
# The classifier's predicted class of every sample: a chain stuck in a few modes, or a generator
# that dropped digits, shows as missing bars.

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
fig = families.coverage_histograms(rows)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Quality against cost
#
# An RBM or EBM sample is the end of a long Markov chain; a VAE or GAN sample is **one forward
# pass**.

# %% [markdown] slideshow={"slide_type": "notes"}
# Left: FID against training time. Right: FID against the time to draw the report's samples.
# An RBM sample is the end of a Gibbs chain and an EBM sample the end of a Langevin chain, each
# many network evaluations long; a VAE or GAN sample is one forward pass of the decoder or
# generator.

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
fig = families.quality_vs_cost(rows, real=real)  # dashed: real digits at the records' n

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
# The numbers first (each family's best record by FID):

# %% slideshow={"slide_type": "-"} tags=["hide-input"]
display(Markdown(families.family_facts(rows)))

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
# * Score every family at the same $n$: set the labs' `N_SAMPLES` equal and compare with the
#   real digits at that $n$ (section 1).
# * Week 1's parallel tempering or more Gibbs steps: how much sampling time buys the RBM's rare
#   digits (the Keras RBM's 0s)?
# * Estimate the VAE's likelihood with more importance samples (`K_IWAE`) and the RBM's with
#   more AIS chains: how much do the numbers of section 5 move?
# * `ALLOW_SMOKE = True` after `make run MODE=smoke`: the whole notebook on seconds-long runs,
#   every figure marked.
