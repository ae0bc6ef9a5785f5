"""A torch VAE's file: its architecture, weights and update count in one ``.npz`` (atomic).

Mixed into :class:`coursekit.torch.VAE`; ``VAE.load(path)`` (from
:class:`coursekit.common.vae.VAEFile`) builds the model a file describes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coursekit.common.vae import VAEFile, check_config
from coursekit.io import read_npz, write_npz

__all__ = ["FILE_FORMAT", "TorchVAEFile"]

#: Tag stored in saved files.
FILE_FORMAT = "coursekit.torch.VAE/1"


class TorchVAEFile(VAEFile):
    """``save`` and loading for the torch VAE (needs ``config``, ``learning_rate``,
    ``updates``, ``state_dict`` and ``load_state_dict``)."""

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the architecture, weights and update count to ``path`` (.npz), atomically."""
        arrays = {"format": np.array(FILE_FORMAT), "updates": np.array(self.updates)}
        for key, value in self.config.items():
            arrays[f"config/{key}"] = np.array(value)
        arrays["config/learning_rate"] = np.array(self.learning_rate)
        for name, tensor in self.state_dict().items():
            arrays[f"weights/{name}"] = tensor.detach().cpu().numpy()
        return write_npz(path, arrays, "VAE")

    @staticmethod
    def _read(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
        return read_npz(path, "VAE", file_format=FILE_FORMAT, writer="coursekit.torch.VAE.save")

    @classmethod
    def _saved_config(cls, path: str | os.PathLike[str]) -> dict[str, Any]:
        z = cls._read(path)
        return {k.split("/", 1)[1]: z[k].item() for k in z if k.startswith("config/")}

    def _load_into(self, path: str | os.PathLike[str]) -> Any:
        """This model, with the weights of the file at ``path`` (same architecture only)."""
        check_config(self._saved_config(path), self.config, path)
        z = self._read(path)
        state = {k.split("/", 1)[1]: torch.from_numpy(v) for k, v in z.items()
                 if k.startswith("weights/")}  # fmt: skip
        missing = sorted(set(self.state_dict()) - set(state))
        if missing:
            raise ValueError(f"{path} lacks the weights {missing} of the VAE its config "
                             "describes: the file is damaged")
        self.load_state_dict(state)
        self.updates = int(z["updates"])
        return self
