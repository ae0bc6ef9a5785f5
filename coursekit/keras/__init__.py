"""Keras 3 code of the course. Importing it re-applies ``coursekit.seed_everything``'s seed."""

from coursekit._env import quiet_native_stderr  # sets KERAS_BACKEND before keras is imported

with quiet_native_stderr():  # TensorFlow's C++ start-up noise
    import keras  # noqa: F401

from coursekit.config import reapply_seed  # noqa: E402
from coursekit.keras.data import make_dataset  # noqa: E402
from coursekit.keras.ebm import EBM, TrainingDiverged, cnn_energy, mlp_energy  # noqa: E402
from coursekit.keras.langevin import langevin, target_log_prob  # noqa: E402
from coursekit.keras.rbm import RBM  # noqa: E402

reapply_seed("keras")

__all__ = [
    "EBM",
    "RBM",
    "TrainingDiverged",
    "cnn_energy",
    "langevin",
    "make_dataset",
    "mlp_energy",
    "target_log_prob",
]
