"""The inference-engine interface and the registry every backend joins.

An engine maps float32 arrays of shape (N, 1, H, W), luma in [0, 1], to arrays
of the same shape. Backends live in the top-level ``engines`` package and
register themselves in :data:`ENGINES`; the core only depends on this protocol.
Every engine says which backend (``name``) and which precision (``precision``)
it runs, so a log line or the app can show what produced a result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from vdsr.registry import Registry

__all__ = ["ENGINES", "Engine", "EngineUnavailableError", "describe_engine"]


class EngineUnavailableError(RuntimeError):
    """The requested backend cannot run here (runtime not installed, no GPU, ...)."""


@runtime_checkable
class Engine(Protocol):
    """Runs the VDSR network on batches of luma planes."""

    name: ClassVar[str]
    precision: str  # what the network runs in: fp32, bf16, fp16, int8 or int8+bf16 (int8, the rest in bf16)

    def __init__(self, model: str | Path, options: Any = None) -> None:
        """Build the backend for a model file, with its own frozen ``<Name>Options`` (default if None)."""
        ...

    @classmethod
    def uses_gpu(cls) -> bool:
        """Whether this backend, with default options, would run on a GPU here (checked without building it)."""
        ...

    def __call__(self, y: np.ndarray) -> np.ndarray:
        """Refine luma: float32 (N, 1, H, W) in [0, 1] -> float32 (N, 1, H, W)."""
        ...

    def close(self) -> None:
        """Release runtime resources."""
        ...


def describe_engine(engine: Engine) -> str:
    """``openvino int8``: the backend and precision of an engine, for logs and the app."""
    return f"{engine.name} {engine.precision}"


ENGINES: Registry[type[Engine]] = Registry("engine")
