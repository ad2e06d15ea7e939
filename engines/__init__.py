"""Inference backends behind one interface (see :mod:`vdsr.engine`).

Each backend imports its runtime lazily, so importing this package never
requires onnxruntime, openvino or tensorrt. ``create_engine("auto", ...)``
takes the first backend that would run on a GPU here, in :data:`PREFERENCE`
order; on a machine without one it picks a (backend, precision) pair: the
fastest on this CPU among those that keep PyTorch fp32's Set5 PSNR within
0.05 dB (:mod:`engines.candidates`, :mod:`engines.quality_gate`,
:mod:`engines._fastest`), measured once and cached. A pair can also be named:
``openvino:int8``. Whatever is built, one log line says its backend and precision.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from engines._fastest import fastest_admitted
from engines.candidates import REFERENCE, Candidate, cpu_candidates
from engines.factory import load_upscaler
from engines.onnx_cache import CHECKPOINT_SUFFIXES
from engines.onnxruntime_ import OnnxRuntimeEngine
from engines.openvino_ import OpenVinoEngine
from engines.quality_gate import QualityGate
from engines.shipped import set5_images
from engines.tensorrt_ import TensorRTEngine
from engines.torch_ import TorchEngine
from vdsr.cache import file_sha256
from vdsr.engine import ENGINES, Engine, EngineUnavailableError, describe_engine

__all__ = [
    "ENGINES",
    "PREFERENCE",
    "build_engine",
    "create_engine",
    "describe_engine",
    "gpu_backends",
    "load_upscaler",
]

log = logging.getLogger(__name__)

# The one list of backends. On a GPU, ``auto`` takes the first that builds; on a CPU it measures pairs.
PREFERENCE: tuple[type[Engine], ...] = (TensorRTEngine, OpenVinoEngine, OnnxRuntimeEngine, TorchEngine)
for _engine in PREFERENCE:
    ENGINES.add(_engine.name, _engine)


def gpu_backends() -> list[type[Engine]]:
    """The backends that would run on a GPU here, in :data:`PREFERENCE` order: ``auto`` tries them first.

    On a GPU machine PyTorch on CUDA (fp16) beats any CPU backend, so it comes before
    the CPU backends even when TensorRT is missing.
    """
    return [cls for cls in PREFERENCE if cls.uses_gpu()]


@lru_cache(maxsize=8)
def create_engine(name: str, checkpoint: Path) -> Engine:
    """:func:`build_engine`, once per process and (name, model): what the CLI and the app run."""
    return build_engine(name, checkpoint)


def build_engine(name: str, checkpoint: Path) -> Engine:
    """A new engine ``name`` for a model file: ``auto``, a backend, or a ``backend:precision`` pair such
    as ``openvino:int8``. Logs the backend and precision it runs.

    Raises:
        EngineUnavailableError: the backend cannot run here; the message says why.
        KeyError: ``name`` is not a known backend.
        ValueError: ``name`` is not a known pair.
    """
    if name == "auto":
        engine = _auto(checkpoint)
    elif ":" in name:
        engine = Candidate.parse(name).build(checkpoint)
    else:
        engine = ENGINES.get(name)(checkpoint)
    log.info("engine %s: %s", name, describe_engine(engine))
    return engine


def _auto(checkpoint: Path) -> Engine:
    reasons: list[str] = []
    for cls in gpu_backends():
        try:
            return cls(checkpoint)
        except EngineUnavailableError as exc:
            reasons.append(f"{cls.name}: {exc}")
    picked = _fastest_on_cpu(Path(checkpoint), reasons)
    if picked is None:
        raise EngineUnavailableError("no engine can run here: " + "; ".join(reasons))
    return picked


def _admit_all(candidate: Candidate, engine: Engine) -> bool:
    return True


def _fastest_on_cpu(model: Path, reasons: list[str]) -> Engine | None:
    """The fastest pair inside the quality gate; for an ONNX export (no checkpoint to gate against)
    the fastest backend running it as it is; with no gate images at all, the fastest fp32 pair."""
    candidates = cpu_candidates(model)
    rule, admit = "as exported", _admit_all
    if model.suffix in CHECKPOINT_SUFFIXES:
        images = set5_images()
        if images is None:
            log.warning(
                "no Set5 to gate lower precisions with (nor the images shipped in engines/gate_images): "
                "only fp32 pairs are considered"
            )
            candidates = [c for c in candidates if c.precision == "fp32"]
            rule = "fp32 only"
        else:
            gate = QualityGate(model, images)
            rule = gate.rule

            def admit(candidate: Candidate, engine: Engine) -> bool:
                return candidate == REFERENCE or gate.check(candidate.label, engine).admitted

    picked = fastest_admitted(
        candidates, model, model_key=file_sha256(model)[:16], gate=rule, admit=admit, reasons=reasons
    )
    return picked[1] if picked else None
