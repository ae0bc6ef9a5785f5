"""Where a torch model lives: the device of its parameters, and its random generator there.

``model.to("cuda")`` moves a module's parameters but not a ``torch.Generator`` it holds; drawing
from a CPU generator for a GPU model would draw on the host and copy every batch over. The
model's generator therefore follows it: the first draw after a move seeds a new generator on
the new device from the old one (reproducible per device, another stream than on the CPU).
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["OnDevice"]


class OnDevice:
    """For an ``nn.Module`` that keeps its random generator in ``self._gen``."""

    _gen: torch.Generator
    parameters: Any

    @property
    def device(self) -> torch.device:
        """Where the parameters are (``.to(device)`` moves them; data and draws follow)."""
        return next(self.parameters()).device

    def _rng(self) -> torch.Generator:
        """The model's generator, on the model's device."""
        if self._gen.device != self.device:  # moved with .to(device): follow with a new stream
            seed = int(torch.randint(0, 2**62, (1,), generator=self._gen))
            self._gen = torch.Generator(device=self.device).manual_seed(seed)
        return self._gen
