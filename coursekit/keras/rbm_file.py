"""A Keras RBM's state as NumPy arrays: its saved file, and the model's part of ``fit``'s
checkpoints (:mod:`coursekit.common.rbm_fit`).

Mixed into :class:`coursekit.keras.RBM`. The state is everything the next update depends on:
``W`` [n_v, n_h], ``a`` [n_v], ``b`` [n_h], the velocities ``vW``, ``va``, ``vb`` (the momentum
rule's memory), the persistent chains [m, n_v] (PCD, once drawn) and the three generators'
states: the host NumPy generator (shuffling, monitored rows, PLL bits), the
``keras.random.SeedGenerator`` (the Bernoulli draws on tensorflow) and the
:class:`~coursekit.common.uniforms.UniformStream` (the Bernoulli draws on other backends). A
file adds the hyperparameters (one JSON string) and a format tag.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from keras import ops

from coursekit.checks import to_numpy
from coursekit.common import rbm as common
from coursekit.io import write_npz

__all__ = ["FILE_FORMAT", "KerasRBMFile"]

#: Tag stored in every saved file, checked by ``RBM.load``.
FILE_FORMAT = "coursekit.keras.RBM/1"


class KerasRBMFile:
    """``save``, ``load`` and the state as arrays, for :class:`coursekit.keras.RBM` (needs its
    variables, ``_chains``, ``_rng``, ``_seed_gen``, ``_stream``, ``set_weights`` and the
    ``persistent_chains`` setter)."""

    def _state(self: Any) -> dict[str, np.ndarray]:
        """The weights, velocities, chains (if drawn) and generators' states, by name."""
        arrays = {name: to_numpy(getattr(self, f"_{name}")) for name in ("W", "a", "b", "vW",
                                                                         "va", "vb")}  # fmt: skip
        arrays["rng_state"] = np.array(json.dumps(self._rng.bit_generator.state))
        arrays["seed_state"] = to_numpy(self._seed_gen.state).astype(np.int64)
        arrays["uniform_state"] = np.array(self._stream.state)
        if self._chains is not None:
            arrays["persistent_chains"] = to_numpy(self._chains)
        return arrays

    def _set_state(self: Any, arrays: Mapping[str, np.ndarray]) -> None:
        """Put back what :meth:`_state` gave (shapes checked)."""
        self.set_weights(W=arrays["W"], a=arrays["a"], b=arrays["b"])
        for name in ("vW", "va", "vb"):
            velocity = getattr(self, f"_{name}")
            velocity.assign(np.asarray(arrays[name], np.float32).reshape(velocity.shape))
        if "persistent_chains" in arrays:
            self.persistent_chains = arrays["persistent_chains"]
        self._rng.bit_generator.state = json.loads(str(arrays["rng_state"]))
        seed_state = ops.convert_to_tensor(arrays["seed_state"], self._seed_gen.state.dtype)
        self._seed_gen.state.assign(seed_state)
        if "uniform_state" in arrays:
            self._stream.state = str(arrays["uniform_state"])

    def save(self: Any, path: str | os.PathLike[str]) -> Path:
        """Write weights, velocities, hyperparameters (one JSON string), the generators' states
        and the chains to exactly ``path`` (.npz), atomically; returns the path."""
        hyper = {name: getattr(self, f"_{name}") for name in common.HYPERPARAMETERS}
        hyper |= {"eta": self.eta, "momentum": self.momentum, "weight_decay": self.weight_decay}
        arrays = {"format": np.array(FILE_FORMAT), "hyper": np.array(json.dumps(hyper))}
        return write_npz(path, {**arrays, **self._state()}, "RBM")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Any:
        """Restore an RBM written by :meth:`save`. Raises ``FileNotFoundError`` or
        ``ValueError`` (not such a file), naming the file and what was expected."""

        def restore(stored: dict[str, np.ndarray]) -> Any:
            rbm = cls(**common.saved_hyperparameters(stored))
            rbm._set_state(stored)
            return rbm

        return common.load_rbm_file(path, FILE_FORMAT, "coursekit.keras.RBM.save", restore)
