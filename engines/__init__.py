"""Inference backends behind one interface (see :mod:`vdsr.engine`).

Each backend imports its runtime lazily, so importing this package never
requires onnxruntime, openvino or tensorrt. ``create_engine("auto", ...)``
takes the first backend that would run on a GPU here, in :data:`PREFERENCE`
order; on a machine without one it measures the CPU backends and takes the
fastest (:mod:`engines._fastest`, cached per machine).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from engines._fastest import fastest_engine
from engines.factory import load_upscaler
from engines.onnxruntime_ import OnnxRuntimeEngine
from engines.openvino_ import OpenVinoEngine
from engines.tensorrt_ import TensorRTEngine
from engines.torch_ import TorchEngine
from vdsr.checkpoint import read_model_config
from vdsr.engine import ENGINES, Engine, EngineUnavailableError

__all__ = ["ENGINES", "PREFERENCE", "create_engine", "gpu_backends", "load_upscaler"]

log = logging.getLogger(__name__)

# The one list of backends. On a GPU, ``auto`` takes the first that builds; on a CPU it measures them all.
PREFERENCE: tuple[type, ...] = (TensorRTEngine, OpenVinoEngine, OnnxRuntimeEngine, TorchEngine)
for _engine in PREFERENCE:
    ENGINES.add(_engine.name, _engine)


def gpu_backends() -> list[type]:
    """The backends that would run on a GPU here, in :data:`PREFERENCE` order: ``auto`` tries them first.

    On a GPU machine PyTorch on CUDA (fp16) beats any CPU backend, so it comes before
    the CPU backends even when TensorRT is missing.
    """
    return [cls for cls in PREFERENCE if cls.uses_gpu()]


@lru_cache(maxsize=8)
def create_engine(name: str, checkpoint: Path) -> Engine:
    """Build (once per process) the engine ``name`` (or ``auto``) for a checkpoint file.

    Raises:
        EngineUnavailableError: the backend cannot run here; the message says why.
        KeyError: ``name`` is not a known backend.
    """
    if name != "auto":
        return ENGINES.get(name)(checkpoint)
    reasons: list[str] = []
    gpu = gpu_backends()
    for cls in gpu:
        try:
            engine = cls(checkpoint)
        except EngineUnavailableError as exc:
            reasons.append(f"{cls.name}: {exc}")
            continue
        log.info("engine auto -> %s", cls.name)
        return engine
    cpu = [cls for cls in PREFERENCE if cls not in gpu]
    engine = fastest_engine(cpu, checkpoint, model_key=read_model_config(checkpoint).to_json(), reasons=reasons)
    if engine is None:
        raise EngineUnavailableError("no engine can run here: " + "; ".join(reasons))
    log.info("engine auto -> %s", engine.name)
    return engine
