"""PyTorch code of the course: one module per model family, the twins of :mod:`coursekit.keras`.

Importing it applies the thread setting (:mod:`coursekit.threads`) to torch and re-applies
``coursekit.seed_everything``'s seed.
"""

import torch

from coursekit import threads
from coursekit.checks import TrainingDiverged
from coursekit.config import reapply_seed
from coursekit.torch.data import make_loader
from coursekit.torch.ebm import EBM, CNNEnergy, MLPEnergy
from coursekit.torch.gan import DCGAN
from coursekit.torch.langevin import langevin, target_log_prob
from coursekit.torch.rbm import RBM
from coursekit.torch.vae import VAE

threads.apply(("torch",), strict=False)
reapply_seed("torch")

__all__ = [
    "DCGAN",
    "EBM",
    "RBM",
    "CNNEnergy",
    "MLPEnergy",
    "TrainingDiverged",
    "VAE",
    "device",
    "langevin",
    "make_loader",
    "target_log_prob",
]


def device(verbose: bool = False) -> str:
    """The best torch device here: ``"cuda"``, ``"mps"`` (Apple silicon) or ``"cpu"``.

    With ``verbose=True`` it prints what it chose.
    """
    name, detail = "cpu", "no GPU found; training runs on the CPU"
    if torch.cuda.is_available():
        name, detail = "cuda", torch.cuda.get_device_name(0)
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        name, detail = "mps", "Apple Metal (MPS)"
    if verbose:
        print(f"device: {name} ({detail})")
    return name
