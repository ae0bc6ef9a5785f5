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
# # Week 7: training beyond one laptop
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/coursekit/coursekit/blob/main/notebooks/week7_scale/week7_scale.ipynb)
# [![Code: MIT](https://img.shields.io/badge/code-MIT-blue.svg)](../../LICENSE)
# [![Text: CC BY 4.0](https://img.shields.io/badge/text-CC%20BY%204.0-lightgrey.svg)](https://creativecommons.org/licenses/by/4.0/)
#
# A project that outgrows the laptop (a 64 x 64 Ising lattice, a calorimeter data set, the
# DCGAN at the tutorial's full width for hours) needs more processes, GPUs or nodes, and a run
# that survives being stopped. This page shows the two tools the course's trainers have for
# that, with numbers you can check:
#
# 1. **data parallelism**: several processes, each with a share of every batch, whose gradients
#    PyTorch's `DistributedDataParallel` (DDP) averages. It is *the same algorithm with a larger
#    batch split over workers*, and we show it is equal to one process, to float rounding;
# 2. **checkpoints**: the whole training state written every k updates and on a stop, and a
#    resumed run that ends exactly where an uninterrupted one would.
#
# The same `fit` runs in both cases; the command line `python -m coursekit.train` wraps it for
# `torchrun` and for cluster jobs.

# %% [markdown] slideshow={"slide_type": "notes"}
# ## 0. Running on Colab
#
# On your own machine, `make lab` (see the README) gives you everything. On Colab the next cell
# installs `coursekit` into the session; everywhere else it does nothing.

# %% slideshow={"slide_type": "skip"}
import sys

if "google.colab" in sys.modules:  # only acts on Colab
    import subprocess

    # Colab already has torch, TensorFlow and Keras 3: add coursekit without touching them.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pooch", "mlxtend"], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps",
         "git+https://github.com/coursekit/coursekit"],
        check=True,
    )

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Parameters

# %% tags=["parameters"]
import coursekit as ck

SEED = 0
BATCH = 128  # the global batch: all processes together
ROWS = ck.by_mode(full=8192, smoke=512)  # MNIST training images for the runs of sections 4-6
EPOCHS = ck.by_mode(full=3, smoke=2)  # VAE epochs in section 4
GAN_UPDATES = ck.by_mode(full=60, smoke=6)  # DCGAN updates in sections 4 and 6
GAN_WIDTHS = ck.by_mode(full=("64,32,16", "16,32"), smoke=("16,8,4", "4,8"))  # generator, D

# %%
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as nnf

from coursekit.config import REPO_URL
from coursekit.torch import DCGAN, VAE
from coursekit.torch.vae import elbo_terms

ck.seed_everything(SEED)
train_images = ck.data.load_mnist("train")[0]
ROWS = min(ROWS, len(train_images))  # the offline fallback has 4,000 training digits
x = ck.data.to_float(train_images[:BATCH]).reshape(BATCH, -1)
x = (x > 0.5).astype(np.float32)  # one batch of binarised digits [128, 784]
print(f"mode: {ck.mode()}; one batch {x.shape}; {ROWS} training images for the runs")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Data parallelism is gradient averaging
#
# A training step descends the mean loss of a batch $B$ of rows,
# $L(\theta) = \frac{1}{|B|} \sum_{i \in B} \ell_i(\theta)$. Split the batch into $W$ shares
# $B_1, \dots, B_W$ with $n_r$ rows each, and let process $r$ compute the mean loss of its
# share, $L_r = \frac{1}{n_r} \sum_{i \in B_r} \ell_i$. Since the gradient is linear,
#
# $$\nabla L = \sum_{r=1}^{W} \frac{n_r}{|B|} \nabla L_r
#            = \frac{1}{W} \sum_{r=1}^{W} \nabla (w_r L_r), \qquad w_r = \frac{W n_r}{|B|}.$$
#
# DDP computes the right-hand side: each process runs `backward` on its own (weighted) loss and
# DDP **averages the gradients** over the processes during `backward`, so every process then
# takes the same optimiser step. With equal shares $w_r = 1$; with unequal ones (the last batch
# of an epoch) the weights keep the average exact. Nothing else about the algorithm changes:
# $W$ processes with a global batch $|B|$ *are* one process with batch $|B|$.
#
# Check it on the week 3 VAE: the gradient of the whole batch against the average of the two
# halves' gradients (the same noise $\boldsymbol{\epsilon}$ for every row in both, as a
# data-parallel run draws it: see section 3).

# %%
vae = VAE(20, seed=SEED)
batch = torch.from_numpy(x)
eps = torch.randn((BATCH, 20), generator=torch.Generator().manual_seed(SEED))


def loss_grad(rows: slice, weight: float = 1.0) -> torch.Tensor:
    """The gradient of the negative ELBO's mean over ``rows``, times ``weight``, flattened."""
    vae.zero_grad()
    out = vae(batch[rows], eps[rows])
    rec, kl = elbo_terms(batch[rows], out["mean"], out["log_var"], out["logits"])
    ((kl - rec).mean() * weight).backward()
    return torch.cat([p.grad.flatten() for p in vae.parameters()])


whole = loss_grad(slice(None))
halves = (loss_grad(slice(0, 64)) + loss_grad(slice(64, BATCH))) / 2
cut = 43  # an uneven split: 43 + 85 rows
plain = (loss_grad(slice(0, cut)) + loss_grad(slice(cut, BATCH))) / 2
weighted = (loss_grad(slice(0, cut), 2 * cut / BATCH)
            + loss_grad(slice(cut, BATCH), 2 * (BATCH - cut) / BATCH)) / 2
scale = whole.abs().max().item()
for name, g in [("two equal halves, averaged", halves), ("43 + 85 rows, averaged", plain),
                ("43 + 85 rows, weighted w_r", weighted)]:
    print(f"{name:28s} max |difference| from the whole batch = "
          f"{(g - whole).abs().max().item():.2e}  (largest gradient entry {scale:.2e})")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Equal halves agree with the whole batch to float rounding (the sums are added in another
# order). The uneven split agrees only with the weights $w_r$: without them the 43 rows of the
# first share would count as much as the 85 of the second.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. What the processes must share: batch statistics and random numbers
#
# Two parts of the course's models look at more than one row at a time or draw random numbers,
# and each would quietly change the algorithm if every process kept its own:
#
# * **Batch normalisation** (the DCGAN's generator) normalises with the mean and variance *of
#   the batch*. Statistics of one share are not those of the batch, so a data-parallel run
#   adds the processes' sums with an all-reduce (and the gradients through it likewise):
#   `coursekit.torch.distributed.global_batch_norm` (torch's `SyncBatchNorm` does the same on
#   GPUs only).
# * **Random numbers per row** (the VAE's $\boldsymbol{\epsilon}$, the GAN's noise $z$,
#   dropout's masks) are drawn for the whole global batch on every process, from the same
#   seeded generator, and each process keeps its share; the generators then stay in step with
#   a one-process run.
#
# How far apart are batch norm's outputs with per-share statistics?

# %%
gan = DCGAN(100, generator_channels=(64, 32, 16), seed=SEED)
z = gan.noise(BATCH, seed=SEED)
gan.generator.train()
with torch.no_grad():
    h = gan.generator.dense(z)  # the generator's first layer, before batch norm [128, 3136]
    bn = gan.generator.bn0
    global_stats = nnf.batch_norm(h, None, None, bn.weight, bn.bias, True, 0.0, bn.eps)
    per_share = torch.cat([nnf.batch_norm(part, None, None, bn.weight, bn.bias, True, 0.0, bn.eps)
                           for part in h.chunk(2)])
print(f"batch norm of 128 rows against two shares of 64 normalised apart: max |difference| = "
      f"{(global_stats - per_share).abs().max().item():.3f} (outputs of size about 1)")

# %% [markdown] slideshow={"slide_type": "fragment"}
# That is no rounding error: per-share statistics would train another model. The global batch
# norm removes the difference (section 4 compares whole trained DCGANs).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Two processes, for real: `torchrun`
#
# `torchrun --nproc_per_node=W` starts $W$ copies of a program and tells each its rank through
# the environment; the course's `fit` reads it (`coursekit.torch.distributed.current()`), joins
# the process group (gloo on CPUs, NCCL for CUDA tensors), takes its share of every batch and
# lets only process 0 show progress and write files. The command line is the same with one
# process or many:
#
# ```bash
# python -m coursekit.train vae --epochs 3 --out runs/vae                       # 1 process
# torchrun --standalone --nproc_per_node=2 -m coursekit.train vae --epochs 3 --out runs/vae2
# ```
#
# We run both for the VAE and the DCGAN on the same images, seed and global batch, and compare
# the trained weights.

# %%
WORK = Path(tempfile.mkdtemp(prefix="week7_"))
ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


def train(args: list[str], out: str, processes: int = 1, threads: int | None = None,
          **env: str) -> dict:
    """Run ``python -m coursekit.train`` (``torchrun`` for several processes) with ``env``
    added to the environment; its history."""
    launch = [sys.executable, "-m", "coursekit.train"]
    if processes > 1:
        launch = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                  f"--nproc_per_node={processes}", "-m", "coursekit.train"]
    env = {**ENV, **env} if threads is None else {**ENV, **env, "COURSEKIT_THREADS": str(threads)}
    run = subprocess.run([*launch, *args, "--quiet", "--out", str(WORK / out)], env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-2000:])
    return json.loads((WORK / out / "history.json").read_text())


def weights(out: str) -> dict[str, np.ndarray]:
    with np.load(WORK / out / "model.npz") as f:
        return {k: f[k] for k in f.files if f[k].dtype.kind == "f"}


def compare(a: str, b: str) -> float:
    """Print and return the largest difference between two runs' trained weights, and the
    share of all weights that agree to within 1e-5."""
    wa, wb = weights(a), weights(b)
    diff = max(np.abs(wa[k] - wb[k]).max() for k in wa)
    close = sum((np.abs(wa[k] - wb[k]) <= 1e-5).sum() for k in wa) / sum(v.size for v in wa.values())
    print(f"{a:5s} against {b:5s}: max |difference| {diff:.1e}, {100 * close:.2f}% of the "
          f"weights within 1e-5")
    return diff


VAE_ARGS = ["vae", "--rows", str(ROWS), "--epochs", str(EPOCHS), "--batch", str(BATCH),
            "--seed", str(SEED)]
GAN_ARGS = ["gan", "--rows", str(ROWS), "--updates", str(GAN_UPDATES), "--batch", str(BATCH),
            "--generator-channels", GAN_WIDTHS[0], "--discriminator-channels", GAN_WIDTHS[1],
            "--log-every", "1", "--seed", str(SEED)]
histories = {
    "vae, 1 process x 2 threads": train(VAE_ARGS, "vae1"),
    "vae, 2 processes x 1 thread": train(VAE_ARGS, "vae2", processes=2),
    "vae, 1 process x 1 thread": train(VAE_ARGS, "vae1t", threads=1),
    "gan, 1 process x 2 threads": train(GAN_ARGS, "gan1"),
    "gan, 2 processes x 1 thread": train(GAN_ARGS, "gan2", processes=2),
    "gan, 1 process x 1 thread": train(GAN_ARGS, "gan1t", threads=1),
}
for model in ("vae", "gan"):
    _ = compare(f"{model}1", f"{model}2"), compare(f"{model}1", f"{model}1t")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Read each model's two lines together. The second is a yardstick for rounding alone: the same
# one-process run on one thread instead of two, which changes only the order of the sums inside
# torch's matrix products (where the split of the work changes it at all). The two processes,
# too, differ from one process only in the order of sums: they add their gradients in another
# order than one process adds its rows. How can that move a weight by more than rounding? Adam
# divides each step by the running size of the gradient: an entry whose gradient is almost
# always zero and now and then tiny moves by up to a learning rate per update, in a direction
# that rounding can decide. Where is the VAE's largest difference?

# %%
wa, wb = weights("vae1"), weights("vae2")
first = "weights/encoder.0.weight"  # the encoder's first layer [400 units, 784 pixels]
unit, pixel = np.unravel_index(np.abs(wa[first] - wb[first]).argmax(), wa[first].shape)
on = (ck.data.to_float(train_images[:ROWS]).reshape(ROWS, -1) > 0.5).mean(axis=0)
print(f"largest difference: unit {unit}, pixel {pixel} (row {pixel // 28}, column {pixel % 28});"
      f" that pixel is on in {100 * on[pixel]:.2f}% of the training images, the median pixel "
      f"with ink in {100 * np.median(on[on > 0]):.1f}%")
ga, gb = weights("gan1"), weights("gan2")
where = max(ga, key=lambda k: np.abs(ga[k] - gb[k]).max())
print(f"the DCGAN's largest difference is in {where}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# A pixel that is rarely on gives its weights a gradient that is zero in most updates, which
# is where Adam's normalised steps let rounding grow. In the DCGAN, look for a layer whose
# gradient is small for another reason, such as the generator's dense layer, which feeds a batch
# norm (the output does not depend on that layer's scale). A real difference in the
# algorithm (per-share batch statistics, unweighted shares) moves the weights far more, and fails
# `tests/test_distributed.py`.
#
# The losses agree to the digits shown; the VAE's loss per epoch:

# %%
for name in ("vae, 1 process x 2 threads", "vae, 2 processes x 1 thread"):
    print(f"{name:28s} loss per epoch:", np.round(histories[name]["loss"], 3))

# %% [markdown] slideshow={"slide_type": "slide"}
# ### The same with Keras
#
# Keras 3 models on the torch backend are torch modules, so the same engine serves them: under
# `torchrun`, the course's Keras `fit` sends its training forward pass through
# `DistributedDataParallel` around the model's variables, draws every random number for the
# global batch and takes global batch statistics (`coursekit/keras/distributed.py`). The
# command line's `--framework keras` picks the Keras twin; `KERAS_BACKEND=torch` picks the
# backend. The DCGAN again: 2 processes against 1, beside the same yardstick for rounding (one
# process on one thread):

# %%
def train_keras(args: list[str], out: str, processes: int = 1, threads: int | None = None) -> dict:
    """``train`` for the Keras twin on Keras' torch backend."""
    return train([*args, "--framework", "keras"], out, processes, threads, KERAS_BACKEND="torch")


keras_histories = {
    "keras gan, 1 process": train_keras(GAN_ARGS, "kgan1"),
    "keras gan, 2 processes": train_keras(GAN_ARGS, "kgan2", processes=2),
    "keras gan, 1 process x 1 thread": train_keras(GAN_ARGS, "kgan1t", threads=1),
}
_ = compare("kgan1", "kgan2"), compare("kgan1", "kgan1t")

# %% [markdown] slideshow={"slide_type": "fragment"}
# On the tensorflow backend the engine is TensorFlow's: build the model inside
# `tf.distribute.MirroredStrategy().scope()` (several GPUs of one machine;
# `MultiWorkerMirroredStrategy` across machines) and call `fit` with the global batch. Each
# replica's loss is divided by the number of replicas, because Keras' optimizer adds the
# replicas' gradients; draws and batch statistics are again the global batch's.
# `tests/test_keras_distributed.py` checks the DCGAN and the VAE both ways: on 2 logical CPU
# devices against one device, and with 2 gloo processes against one.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### On a cluster
#
# A job script starts `torchrun` on the node (or on several, with a rendezvous address instead
# of `--standalone`) and submits itself again after a stop; the course's example for SLURM:

# %%
script = Path(ck.__file__).resolve().parents[1] / "examples" / "slurm_dcgan.sh"
# in a clone of the repository; an installed package (Colab) links to it instead
print(script.read_text() if script.is_file() else f"{REPO_URL}/blob/main/examples/slurm_dcgan.sh")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. What to expect: 2 CPU cores against a GPU node
#
# The runs above took these times inside their training steps (start-up and data loading left
# out):

# %%
def updates_per_second(history: dict, skip: int) -> float:
    """Updates per second after the first ``skip`` history rows (they set up the kernels)."""
    count = history["updates"] if "updates" in history else history["update"]
    return (count[-1] - count[skip - 1]) / (history["seconds"][-1] - history["seconds"][skip - 1])


for name, h in histories.items():  # skip the VAE's first epoch, the DCGAN's first 2 updates
    print(f"{name:28s} {updates_per_second(h, 1 if name.startswith('vae') else 2):7.1f} "
          "updates per second")

# %% [markdown] slideshow={"slide_type": "fragment"}
# On a laptop or on this course's 2-core machines, **expect no speed-up, and often a slowdown**:
#
# * the two processes share the same cores that one process with two threads already keeps
#   busy; the arithmetic is the same, only split differently;
# * each process multiplies matrices of half the rows on one thread, which uses a core less
#   well than larger products;
# * every update adds communication: the gradient all-reduce, the batch norms' all-reduces and
#   the processes' agreement on when to stop. For a small model (the VAE) that overhead is a
#   large part of an update.
#
# Data parallelism adds *hardware*, not speed per core. On a node with $W$ GPUs each process
# has a device of its own, so an update of the same global batch takes about $1/W$ of the time
# plus the all-reduce, which NCCL runs over the GPUs' links and DDP overlaps with the backward
# pass (Li et al. 2020, "PyTorch Distributed: Experiences on Accelerating Data Parallel
# Training", VLDB). If you instead grow the global batch with $W$, you change the algorithm:
# Goyal et al. (2017, "Accurate, Large Minibatch SGD") scale the learning rate with the batch
# and warm it up. `benchmarks/distributed.py` measures the updates per second of both models
# with 1 and 2 processes on the machine it runs on (`benchmarks/results/distributed.md`).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Resume after a stop
#
# A laptop lid, a Colab timeout or a job's time limit stops a run. With `checkpoint=` the
# trainers write the **whole** training state (weights, the optimisers' moments, every random
# generator, the position in the data and the history) every `checkpoint_every` updates, at the
# end, and when stopped: Ctrl-C (SIGINT) or SIGTERM, which clusters send before their limit.
# The update under way is finished first, and the file is replaced atomically, so a stop never
# leaves half a checkpoint. In a notebook:
#
# ```python
# history = gan.fit(x, updates=3000, checkpoint="gan.ckpt.npz", checkpoint_every=200)
# history = gan.fit(x, updates=3000, checkpoint="gan.ckpt.npz", resume="gan.ckpt.npz")
# ```
#
# Here we stop a command-line run with SIGTERM as soon as its first checkpoint exists, resume
# it, and compare it with a run that was never stopped.

# %%
args = [*GAN_ARGS, "--checkpoint-every", "2"]
train(args, "whole")
stopped = subprocess.Popen([sys.executable, "-m", "coursekit.train", *args, "--quiet", "--out",
                            str(WORK / "stopped")], env=ENV, stderr=subprocess.PIPE, text=True)
while not (WORK / "stopped" / "checkpoint.npz").exists() and stopped.poll() is None:
    time.sleep(0.05)
stopped.send_signal(signal.SIGTERM)
message = stopped.communicate()[1].strip().splitlines()[-1]
print(f"exit status {stopped.returncode}: {message}")
train([*args, "--resume"], "stopped")
_ = compare("whole", "stopped")

# %% [markdown] slideshow={"slide_type": "fragment"}
# The resumed run ends with the same weights as the uninterrupted one, bit for bit (on one CPU
# process; across devices or process counts, to float rounding). A checkpoint of another model
# or of other settings is refused with the difference named, e.g. another batch size:

# %%
try:
    train([*args, "--batch", str(BATCH // 2), "--resume"], "stopped")
except RuntimeError as err:
    print(str(err).strip().splitlines()[-1].replace(f"{WORK}/", ""))  # the run folder, not /tmp

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Summary
#
# * Data parallelism is gradient averaging: $W$ processes with shares of a global batch take
#   the same steps as one process with that batch, *if* the shares' losses are weighted by
#   their sizes, batch statistics are global and per-row random numbers are drawn for the whole
#   batch. We checked all three, and whole training runs against a yardstick for rounding.
# * It pays when each process brings hardware of its own (GPUs, nodes), not on the 2 cores of a
#   laptop, where the communication is pure cost.
# * Checkpoints make a run's stop harmless: the resumed run is the uninterrupted run.
#
# The Keras twins train data-parallel the same way: under `torchrun` on Keras' torch backend,
# and under a `tf.distribute` strategy on tensorflow. Not here yet: the EBMs and RBMs, which
# train in one process, and a check of the command line on GPUs.

# %% slideshow={"slide_type": "skip"}
import shutil

shutil.rmtree(WORK, ignore_errors=True)
