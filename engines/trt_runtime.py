"""Whether TensorRT can run here, and what it runs on: the import, the GPU, the typing mode.

Every TensorRT entry point (the backend, the builder, ``export/to_trt.py``) asks
:func:`require_tensorrt` first, so a machine without TensorRT or a GPU gets one line saying what is missing.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from vdsr.engine import EngineUnavailableError

__all__ = ["TENSORRT_NEEDS", "TensorRTUnavailableError", "gpu_description", "require_tensorrt", "uses_strong_typing"]

TENSORRT_NEEDS = (
    "TensorRT 10 or 11 (the tensorrt Python package: pip install -r requirements-gpu.txt), "
    "an NVIDIA GPU and a CUDA build of PyTorch"
)


class TensorRTUnavailableError(EngineUnavailableError):
    """TensorRT, a GPU or CUDA is missing here."""


def require_tensorrt() -> ModuleType:
    """Import tensorrt and check for a CUDA GPU.

    Raises:
        TensorRTUnavailableError: one line saying what is missing.
    """
    try:
        import tensorrt as trt
    except ImportError:
        raise TensorRTUnavailableError(f"tensorrt is not installed; this needs {TENSORRT_NEEDS}") from None
    import torch

    if not torch.cuda.is_available():
        raise TensorRTUnavailableError(f"no CUDA GPU is visible to PyTorch; this needs {TENSORRT_NEEDS}")
    return trt


def uses_strong_typing(trt: ModuleType) -> bool:
    """TensorRT 11 has no FP16 builder flag: precision must come from the (fp16) ONNX."""
    return not hasattr(trt.BuilderFlag, "FP16")


def gpu_description(device_id: int = 0) -> dict[str, Any]:
    """Name, compute capability and memory of a CUDA GPU (via PyTorch)."""
    import torch

    props = torch.cuda.get_device_properties(device_id)
    return {
        "name": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "memory_gib": round(props.total_memory / 2**30, 1),
        "cuda": torch.version.cuda,
    }
