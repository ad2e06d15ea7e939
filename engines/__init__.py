"""Inference backends behind one interface (see :mod:`vdsr.engine`).

Each backend imports its runtime lazily, so importing this package never
requires onnxruntime, openvino or tensorrt. ``create_engine("auto", ...)``
takes the first backend that can run here from :func:`auto_order`: the
backends that would run on a GPU first, then the CPU ones, each group in
:data:`PREFERENCE` order.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from engines.onnxruntime_ import OnnxRuntimeEngine
from engines.openvino_ import OpenVinoEngine
from engines.tensorrt_ import TensorRTEngine
from engines.torch_ import TorchEngine
from vdsr.engine import ENGINES, Engine, EngineUnavailableError

__all__ = ["ENGINES", "PREFERENCE", "auto_order", "create_engine"]

log = logging.getLogger(__name__)

# The one list of backends, fastest first among those on the same kind of device
# (measured on CPU in docs/benchmarks.md: OpenVINO, then ONNX Runtime, then PyTorch eager).
PREFERENCE: tuple[type, ...] = (TensorRTEngine, OpenVinoEngine, OnnxRuntimeEngine, TorchEngine)
for _engine in PREFERENCE:
    ENGINES.add(_engine.name, _engine)


def auto_order() -> list[type]:
    """:data:`PREFERENCE` with the backends that would run on a GPU here moved to the front.

    On a GPU machine PyTorch on CUDA (fp16) beats any CPU backend, so a fixed order
    alone would leave the GPU idle when TensorRT is missing.
    """
    return sorted(PREFERENCE, key=lambda cls: not cls.uses_gpu())


@lru_cache(maxsize=8)
def create_engine(name: str, checkpoint: Path) -> Engine:
    """Build (once per process) the engine ``name`` (or ``auto``) for a checkpoint file.

    Raises:
        EngineUnavailableError: the backend cannot run here; the message says why.
        KeyError: ``name`` is not a known backend.
    """
    if name != "auto":
        return ENGINES.get(name)(checkpoint)
    reasons = []
    for cls in auto_order():
        try:
            engine = cls(checkpoint)
        except EngineUnavailableError as exc:
            reasons.append(f"{cls.name}: {exc}")
            continue
        log.info("engine auto -> %s", cls.name)
        return engine
    raise EngineUnavailableError("no engine can run here: " + "; ".join(reasons))
