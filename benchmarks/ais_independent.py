"""An independent check of the week-1 labs' AIS: log Z of their trained RBMs by code written
apart from ``coursekit.reference.ais`` (its own loop, random numbers and base model: the
Laplace-smoothed pixel rates of the training digits), with Salakhutdinov and Murray's (2008)
14,500-interval schedule, float64, 100 chains.

    python benchmarks/ais_independent.py notebooks/week1_rbm/checkpoints/rbm_pytorch.npz \
        notebooks/week1_rbm/checkpoints/rbm_keras.npz

The checkpoints are the ones the labs save (``rbm.save``) after a full-mode run. Compare the
printed log Z with the range the lab's AIS report printed: the range must contain it.
About a minute per model and seed on two cores.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np


def sm2008_betas() -> np.ndarray:
    """0 -> 0.5 in steps of 1e-3, 0.5 -> 0.9 in 1e-4, 0.9 -> 1 in 1e-5: 14,501 betas."""
    betas = np.concatenate(
        [np.arange(500) * 1e-3, 0.5 + np.arange(4000) * 1e-4, np.linspace(0.9, 1.0, 10001)]
    )
    assert betas.size == 14501 and betas[-1] == 1.0
    return betas


def independent_log_z(W, a, b, x_train, chains: int = 100, seed: int = 1) -> float:
    """log Z of the binary RBM (W [n_v, n_h], a [n_v], b [n_h]) by AIS from the base-rate model."""
    import torch

    g = torch.Generator().manual_seed(seed)
    W, a, b = (torch.as_tensor(np.asarray(t), dtype=torch.float64) for t in (W, a, b))
    xt = torch.as_tensor(np.asarray(x_train), dtype=torch.float64)
    p = (xt.sum(0) + 1.0) / (xt.shape[0] + 2.0)
    a0 = torch.log(p) - torch.log1p(-p)
    n_v, n_h = W.shape
    log_z0 = torch.nn.functional.softplus(a0).sum() + n_h * math.log(2.0)
    softplus = torch.nn.functional.softplus

    def log_p(x, beta):  # log p*_beta(x) with the hidden units summed out
        return (1 - beta) * (x @ a0) + beta * (x @ a) + softplus(beta * (x @ W + b)).sum(1)

    x = (torch.rand(chains, n_v, generator=g, dtype=torch.float64) < torch.sigmoid(a0)).double()
    log_w = torch.zeros(chains, dtype=torch.float64)
    betas = sm2008_betas()
    for k in range(1, betas.size):
        beta, prev = float(betas[k]), float(betas[k - 1])
        log_w += log_p(x, beta) - log_p(x, prev)
        if k < betas.size - 1:
            u = torch.rand(chains, n_h, generator=g, dtype=torch.float64)
            h = (u < torch.sigmoid(beta * (x @ W + b))).double()
            u = torch.rand(chains, n_v, generator=g, dtype=torch.float64)
            x = (u < torch.sigmoid((1 - beta) * a0 + beta * (a + h @ W.T))).double()
    return float(log_z0 + torch.logsumexp(log_w, 0) - math.log(chains))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="RBM .npz files saved by rbm.save")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)

    import coursekit as ck

    images, _ = ck.data.load_mnist("train")
    x_train = ck.data.binarize(ck.data.flatten(ck.data.to_float(images)))
    for path in args.checkpoints:
        with np.load(path) as z:
            W, a, b = z["W"], z["a"], z["b"]
        for seed in args.seeds:
            t = time.perf_counter()
            log_z = independent_log_z(W, a, b, x_train, seed=seed)
            print(f"{path}: seed {seed}: log Z = {log_z:.3f} "
                  f"({time.perf_counter() - t:.0f} s)", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
