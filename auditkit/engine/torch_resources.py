"""Resource readings for any engine that runs a PyTorch module (``ResourceModel``).

Engines of every task mix ``TorchResources`` in and set ``self.model`` (the module) and
``self.bytes_on_disk``; the readings are the same functions the language-model engine uses,
imported when first read (this module imports neither torch nor transformers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditkit.engine.base import DeviceMemory, Footprint
from auditkit.engine.timing import Clock

if TYPE_CHECKING:
    import torch


class TorchResources:
    """``clock``, ``footprint``, ``reset_peak_memory``, ``peak_memory``, ``energy_joules``."""

    model: Any
    bytes_on_disk: int | None = None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def clock(self) -> Clock:
        from auditkit.engine import hf_perf

        return hf_perf.device_clock(self.device)

    def footprint(self) -> Footprint:
        from auditkit.engine import hf_perf

        return hf_perf.model_footprint(self.model, self.bytes_on_disk)

    def reset_peak_memory(self) -> None:
        from auditkit.engine import hf_perf

        hf_perf.reset_peak_memory(self.device)

    def peak_memory(self) -> DeviceMemory:
        from auditkit.engine import hf_perf

        return hf_perf.peak_memory(self.device)

    def energy_joules(self) -> float | None:
        from auditkit.engine import hf_perf

        return hf_perf.energy_joules(self.device)
