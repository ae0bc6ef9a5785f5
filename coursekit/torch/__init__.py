"""PyTorch code of the course. Importing it re-applies ``coursekit.seed_everything``'s seed."""

from coursekit.config import reapply_seed
from coursekit.torch.data import make_loader
from coursekit.torch.rbm import RBM
from coursekit.torch.vae import VAE

reapply_seed("torch")

__all__ = ["RBM", "VAE", "make_loader"]
