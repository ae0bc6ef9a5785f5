"""The RBM benchmark's peer: the course's "week 12" PyTorch RBM, trained through autograd.

Source: issue 8's description of the RBM in the course's week 12 notebook (the notebook itself
is not public, so the description is the specification). The model is an ``nn.Module`` with
``W`` [n_v, n_h] (``randn * 0.01``), visible bias ``a`` and hidden bias ``b`` (zeros). One
training step takes a batch ``x`` of binary rows, runs one Gibbs step from it, ``x -> h ~
Bernoulli(sigmoid(x W + b)) -> x_1 ~ Bernoulli(sigmoid(h W^T + a))``, detaches ``x_1``, and
minimises the free-energy difference ``mean F(x) - mean F(x_1)`` with ``F(x) = -x.a -
sum softplus(x W + b)`` through ``loss.backward()`` and ``torch.optim.SGD`` (lr 0.1, momentum
0.9, weight decay 1e-4); it reads ``loss.item()`` every batch (a host sync the notebook does to
log the loss). That is contrastive divergence with one step (CD-1, Hinton 2002, "Training
products of experts by minimizing contrastive divergence", Neural Computation 14), written the
way public PyTorch RBMs often write it (e.g. github.com/bacnguyencong/rbm-pytorch): autograd on
the free energy instead of the explicit statistics. Per batch it does six GEMMs of B x n_v x n_h
(two for the Gibbs step, two for the free energies, two for their weight gradients).

Deviations from the notebook, all of them:

* the data: binary MNIST rows, binarised once before timing and kept in one in-memory tensor,
  each epoch indexed in ``torch.randperm`` order; the notebook's data pipeline (torchvision
  dataset, ``DataLoader``, binarisation per batch) is not described in issue 8 and is left out,
  and so is torchvision; where this machine has fewer than 60,000 MNIST rows they are tiled;
* the loss is read with ``loss.item()`` every batch, as in the notebook, but never printed or
  logged; no per-epoch evaluation, no sample images, no checkpoint;
* CPU only, on the thread pools ``import coursekit`` sets (``COURSEKIT_THREADS``), like every
  row of the benchmark; seeded through ``coursekit.seed_everything(0)``;
* sizes, batch and epoch length come from the benchmark (784-500, batch 100, 60,000 rows), the
  same as the coursekit rows it is compared with.

Only CD-1 is re-implemented: the benchmark compares its persistent (PCD-1) rows with this CD-1
peer too. PCD does one GEMM per batch more than CD (the chain's own ``p(h|x)``), so a PCD row
does the peer's six GEMMs per batch and a CD row five.
"""

from __future__ import annotations

import time
from typing import Any

LABEL = "week-12 peer (torch autograd)"
RULE = "CD-1 (autograd on F(x) - F(x_1))"
#: The peer's GEMMs per batch, in terms of the benchmark's PCD shapes (the same six products).
GEMMS_LIKE = "pcd"


def make_peer(n_visible: int, n_hidden: int) -> tuple[Any, Any]:
    """The peer's model (``W``, ``a``, ``b``) and its optimizer, SGD(0.1, 0.9, wd 1e-4)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class PeerRBM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.W = nn.Parameter(torch.randn(n_visible, n_hidden) * 0.01)
            self.a = nn.Parameter(torch.zeros(n_visible))
            self.b = nn.Parameter(torch.zeros(n_hidden))

        def free_energy(self, x: torch.Tensor) -> torch.Tensor:  # [n, n_v] -> [n]
            return -(x @ self.a) - F.softplus(x @ self.W + self.b).sum(dim=1)

        def gibbs(self, x: torch.Tensor) -> torch.Tensor:  # one step x -> h -> x
            h = torch.bernoulli(torch.sigmoid(x @ self.W + self.b))
            return torch.bernoulli(torch.sigmoid(h @ self.W.T + self.a))

    model = PeerRBM()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    return model, optimizer


def peer_epoch(model: Any, optimizer: Any, data: Any, batch_size: int) -> float:
    """One epoch of the peer on ``data`` (a binary tensor), in ``randperm`` order; reads
    ``loss.item()`` every batch, as the notebook does. Returns the last loss."""
    import torch

    order = torch.randperm(len(data))
    loss_value = 0.0
    for start in range(0, len(data), batch_size):
        x = data[order[start : start + batch_size]]
        x_model = model.gibbs(x).detach()
        loss = model.free_energy(x).mean() - model.free_energy(x_model).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_value = loss.item()
    return loss_value


def runner(n: int, visible: int, hidden: int, batch: int):
    """The series worker (see ``series.py``): ``run()`` times one whole epoch of the peer."""
    import coursekit as ck  # first: it sets the thread pools, as for every row

    ck.seed_everything(0)
    import torch

    ck.threads.apply()
    from rbm import training_data

    data, origin = training_data(n, visible)
    tensor = torch.from_numpy(data)  # pre-binarised, in one tensor
    model, optimizer = make_peer(visible, hidden)

    def run() -> tuple[float, dict]:
        start = time.perf_counter()
        loss = peer_epoch(model, optimizer, tensor, batch)
        return time.perf_counter() - start, {"loss": loss}

    info = {
        "data": origin,
        "threads": {"torch": ck.threads.effective("torch").describe()},
        "versions": {"torch": torch.__version__},
    }
    return run, info
