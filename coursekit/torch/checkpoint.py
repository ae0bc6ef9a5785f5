"""A torch model's training state as NumPy arrays, for :mod:`coursekit.checkpoint`, and back.

The state is what a resumed run needs to take exactly the updates an uninterrupted one takes:
every module's parameters and buffers (batch-norm statistics included), every optimiser's
state (Adam's moments and step counts), and the random-number generators' states (the
model's own ``torch.Generator`` and torch's global one, which ``nn.Dropout`` draws from).
Arrays are named ``<prefix>/<name>`` so that one file holds several modules and optimisers;
:func:`coursekit.checkpoint.loop_checkpoints` writes and reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["TrainingState"]


def _match_layouts(opt: torch.optim.Optimizer) -> None:
    """Give each restored moment its parameter's memory layout (channels-last kernels): a
    fused update reads the two tensors element by element in memory order."""
    for group in opt.param_groups:
        for param in group["params"]:
            slots = opt.state.get(param, {})
            for key, value in slots.items():
                if torch.is_tensor(value) and value.shape == param.shape:
                    slots[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


class TrainingState:
    """The named modules, optimisers and generators of one model, saved and restored together.

    ``modules``/``optimizers``/``generators``: name -> object; ``counters``: name -> (get, set)
    for plain integers such as the model's update count.
    """

    def __init__(self, *, modules: Mapping[str, nn.Module],
                 optimizers: Mapping[str, torch.optim.Optimizer],
                 generators: Mapping[str, torch.Generator],
                 counters: Mapping[str, tuple[Any, Any]]) -> None:
        self.modules, self.optimizers = dict(modules), dict(optimizers)
        self.generators, self.counters = dict(generators), dict(counters)

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as arrays (copies)."""
        out: dict[str, np.ndarray] = {}
        for name, module in self.modules.items():
            for key, value in module.state_dict().items():
                out[f"{name}/{key}"] = value.detach().cpu().numpy().copy()
        for name, opt in self.optimizers.items():
            state = opt.state_dict()
            for index, slots in state["state"].items():
                for key, value in slots.items():
                    out[f"{name}/{index}/{key}"] = torch.as_tensor(value).cpu().numpy().copy()
            out[f"{name}/groups"] = np.array(json.dumps(state["param_groups"]))
        for name, gen in self.generators.items():
            out[f"rng/{name}"] = gen.get_state().numpy().copy()
        out["rng/torch"] = torch.get_rng_state().numpy().copy()
        for name, (get, _) in self.counters.items():
            out[f"count/{name}"] = np.array(int(get()))
        return out

    def restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Put back what :meth:`arrays` saved (in place, keeping each tensor's memory layout)."""
        with torch.no_grad():
            for name, module in self.modules.items():
                for key, value in module.state_dict().items():
                    saved = np.asarray(arrays[f"{name}/{key}"])
                    if saved.shape != tuple(value.shape):
                        raise ValueError(
                            f"the checkpoint's {name}/{key} has shape {saved.shape}, this "
                            f"model's {tuple(value.shape)}: it is of another network")
                    value.copy_(torch.from_numpy(saved))
        for name, opt in self.optimizers.items():
            state = opt.state_dict()
            groups = json.loads(str(arrays[f"{name}/groups"]))
            slots: dict[int, dict[str, torch.Tensor]] = {}
            prefix = f"{name}/"
            for key, value in arrays.items():
                parts = key[len(prefix):].split("/") if key.startswith(prefix) else []
                if len(parts) == 2 and parts[0].isdigit():
                    slots.setdefault(int(parts[0]), {})[parts[1]] = torch.from_numpy(
                        np.array(value))
            state["state"], state["param_groups"] = slots, groups
            opt.load_state_dict(state)
            _match_layouts(opt)
        for name, gen in self.generators.items():
            gen.set_state(torch.from_numpy(np.array(arrays[f"rng/{name}"])))
        torch.set_rng_state(torch.from_numpy(np.array(arrays["rng/torch"])))
        for name, (_, put) in self.counters.items():
            put(int(arrays[f"count/{name}"]))
