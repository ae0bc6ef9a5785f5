"""PyTorch code of the course.

Importing it applies the thread setting (:mod:`coursekit.threads`) to torch and re-applies
``coursekit.seed_everything``'s seed.
"""

from coursekit import threads
from coursekit.config import reapply_seed
from coursekit.torch.data import make_loader
from coursekit.torch.ebm import EBM, CNNEnergy, MLPEnergy, TrainingDiverged
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
    "langevin",
    "make_loader",
    "target_log_prob",
]
