"""A torch RBM's state as NumPy arrays: its saved file, and the model's part of ``fit``'s
checkpoints (:mod:`coursekit.common.rbm_fit`).

Mixed into :class:`coursekit.torch.RBM`. The state is everything the next update depends on:
``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h], the velocities ``vW``, ``va``, ``vb`` (the momentum
rule's memory), the persistent chains [m, n_v] (PCD, once drawn) and the generators' states
(the RBM's ``torch.Generator``, which shuffles and draws on a GPU, and its
:class:`~coursekit.common.uniforms.UniformStream`, the Bernoulli draws on the CPU). A file adds
the hyperparameters and a format tag.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coursekit.checks import to_numpy
from coursekit.common import rbm as common
from coursekit.io import write_npz

__all__ = ["FILE_FORMAT", "TorchRBMFile"]

#: Tag stored in saved files.
FILE_FORMAT = "coursekit.torch.RBM/1"


class TorchRBMFile:
    """``save``, ``load`` and the state as arrays, for :class:`coursekit.torch.RBM` (needs its
    parameters, velocities, ``chains``, ``_gen``, ``_rng()``, ``_stream``, ``set_weights``)."""

    def _state(self: Any) -> dict[str, np.ndarray]:
        """The weights, velocities, chains (if drawn) and generators' states, by name."""
        arrays = {name: to_numpy(getattr(self, name)) for name in ("W", "a", "b", "vW", "va", "vb")}
        if self.chains is not None:
            arrays["persistent_chains"] = to_numpy(self.chains)
        arrays["rng_state"] = self._gen.get_state().numpy()  # a CPU byte tensor on any device
        arrays["uniform_state"] = np.array(self._stream.state)
        return arrays

    def _set_state(self: Any, arrays: Mapping[str, np.ndarray]) -> None:
        """Put back what :meth:`_state` gave (shapes checked; on the parameters' device)."""
        self.set_weights(W=arrays["W"], a=arrays["a"], b=arrays["b"])
        for name in ("vW", "va", "vb"):
            velocity = getattr(self, name)
            velocity.copy_(torch.from_numpy(np.array(arrays[name])).reshape(velocity.shape))
        if "persistent_chains" in arrays:
            self.persistent_chains = arrays["persistent_chains"]
        if "rng_state" in arrays:
            self._rng().set_state(torch.from_numpy(np.array(arrays["rng_state"])))
        if "uniform_state" in arrays:
            self._stream.state = str(arrays["uniform_state"])

    def save(self: Any, path: str | os.PathLike[str]) -> Path:
        """Write weights, velocities, chains, hyperparameters (one array each) and the
        generators' states to exactly ``path`` (.npz), atomically; returns the path."""
        arrays: dict[str, np.ndarray] = {"format": np.array(FILE_FORMAT), **self._state()}
        hyper = {name: getattr(self, name) for name in common.HYPERPARAMETERS}
        arrays |= common.hyperparameter_arrays(hyper)
        if self._gen.device.type != "cpu":  # a file loads on the CPU
            del arrays["rng_state"]
        return write_npz(path, arrays, "RBM")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Any:
        """Restore an RBM written by :meth:`save` (on the CPU; ``.to(device)`` moves it). Raises
        ``FileNotFoundError`` or ``ValueError`` (not such a file), naming the file."""

        def restore(z: dict[str, np.ndarray]) -> Any:
            rbm = cls(**common.saved_hyperparameters(z))
            rbm._set_state(z)
            return rbm

        return common.load_rbm_file(path, FILE_FORMAT, "coursekit.torch.RBM.save", restore)
