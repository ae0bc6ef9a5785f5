"""Keras 3 code of the course.

Importing it imports Keras and its backend only (TensorFlow or torch, never both), applies the
thread setting (:mod:`coursekit.threads`) to that backend and re-applies
``coursekit.seed_everything``'s seed.
"""

from coursekit.config import quiet_native_stderr  # sets KERAS_BACKEND before keras is imported

with quiet_native_stderr():  # TensorFlow's C++ start-up noise
    import keras  # noqa: F401

from coursekit import threads  # noqa: E402
from coursekit.checks import TrainingDiverged  # noqa: E402
from coursekit.config import reapply_seed  # noqa: E402
from coursekit.keras.data import make_dataset  # noqa: E402
from coursekit.keras.ebm import EBM, cnn_energy, mlp_energy  # noqa: E402
from coursekit.keras.gan import DCGAN  # noqa: E402
from coursekit.keras.langevin import langevin, target_log_prob  # noqa: E402
from coursekit.keras.rbm import RBM  # noqa: E402
from coursekit.keras.vae import VAE  # noqa: E402

threads.apply(strict=False)
reapply_seed("keras")

__all__ = [
    "DCGAN",
    "EBM",
    "RBM",
    "TrainingDiverged",
    "VAE",
    "cnn_energy",
    "langevin",
    "make_dataset",
    "mlp_energy",
    "target_log_prob",
]
