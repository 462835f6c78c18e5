"""The suite's execution settings (``executor``, ``isolation``, ``ray``), kept beside the executors
so that the suite model only names them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ExecutorKind = Literal["local", "ray"]
Isolation = Literal["process", "none"]


class RaySpec(BaseModel):
    """Where and how ``executor: ray`` runs each model's task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str | None = Field(
        None,
        description="Address of a running Ray cluster ('auto', 'ray://head:10001', ...). "
        "Default: start a local Ray instance on this machine.",
    )
    num_gpus_per_model: float | None = Field(
        None,
        ge=0,
        description="GPUs each model's task asks for (fractions share a GPU). Default: 1 when the "
        "cluster has GPUs and the suite's device is not cpu, else 0.",
    )
    num_cpus_per_model: float = Field(1, gt=0, description="CPUs each model's task asks for.")
