"""ONNX Runtime backend: CPU, plus the CUDA and TensorRT execution providers with onnxruntime-gpu."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engines.contract import EngineFileError, check_input, check_io
from engines.onnx_cache import onnx_for
from vdsr.cache import cache_dir
from vdsr.checkpoint import read_onnx_metadata
from vdsr.cpu import thread_budget
from vdsr.engine import EngineUnavailableError

__all__ = ["OnnxRuntimeEngine", "OnnxRuntimeOptions"]

# Fastest first; ``providers=None`` takes those of these that this onnxruntime build has.
_AUTO_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


@dataclass(frozen=True)
class OnnxRuntimeOptions:
    """Session settings.

    Attributes:
        providers: execution providers in priority order; ``None`` picks TensorRT, CUDA
            and CPU where this onnxruntime build offers them.
        device_id: GPU index for the CUDA and TensorRT providers.
        fp16: let the TensorRT provider use fp16 kernels (CPU and CUDA stay fp32).
        threads: intra-op threads; 0: ``OMP_NUM_THREADS`` where set, else onnxruntime's choice (one
            per physical core).
    """

    providers: tuple[str, ...] | None = None
    device_id: int = 0
    fp16: bool = False
    threads: int = 0


class OnnxRuntimeEngine:
    """Runs an ONNX export (or a checkpoint, exported once and cached) with ONNX Runtime."""

    name: ClassVar[str] = "onnxruntime"

    @classmethod
    def uses_gpu(cls) -> bool:
        try:
            import onnxruntime as ort
        except ImportError:
            return False
        return bool({"TensorrtExecutionProvider", "CUDAExecutionProvider"} & set(ort.get_available_providers()))

    def __init__(self, model: str | Path, options: OnnxRuntimeOptions | None = None) -> None:
        self.options = options or OnnxRuntimeOptions()
        try:
            import onnxruntime as ort
        except ImportError:
            raise EngineUnavailableError("onnxruntime is not installed (pip install onnxruntime)") from None
        available = ort.get_available_providers()
        wanted = self.options.providers or tuple(p for p in _AUTO_PROVIDERS if p in available)
        missing = [p for p in wanted if p not in available]
        if missing:
            raise EngineUnavailableError(
                f"onnxruntime {ort.__version__} lacks {', '.join(missing)} (has {', '.join(available)}); "
                "GPU providers need onnxruntime-gpu"
            )
        self.path: Path = onnx_for(model, self.name)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = self.options.threads or thread_budget()
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(self.path), opts, providers=[(p, self._provider_options(p)) for p in wanted]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineFileError(f"{self.name}: cannot load {self.path.name}: {first}") from None
        metadata = read_onnx_metadata(self.path)
        expected = metadata.get("vdsr.input")
        inputs = [(i.name, i.shape) for i in self.session.get_inputs()]
        outputs = [(o.name, o.shape) for o in self.session.get_outputs()]
        self.input_name, self.output_name = check_io(self.name, self.path, inputs, outputs, expected_input=expected)
        self.input_shape: tuple[object, ...] = tuple(inputs[0][1])
        self.providers: list[str] = self.session.get_providers()
        uses_trt_fp16 = self.options.fp16 and self.providers[0] == "TensorrtExecutionProvider"
        self.precision: str = "fp16" if uses_trt_fp16 else "fp32"
        if metadata.get("vdsr.dtype") == "int8-qdq":  # from export/to_int8.py: int8 kernels
            self.precision = "int8"

    def _provider_options(self, provider: str) -> dict[str, Any]:
        return _PROVIDER_OPTIONS.get(provider, _no_options)(self.options)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        x = check_input(self.name, y, self.input_shape)
        return self.session.run([self.output_name], {self.input_name: x})[0]

    def close(self) -> None:
        self.session = None  # type: ignore[assignment]


def _no_options(options: OnnxRuntimeOptions) -> dict[str, Any]:
    return {}


def _cuda_options(options: OnnxRuntimeOptions) -> dict[str, Any]:
    return {"device_id": options.device_id}


def _tensorrt_options(options: OnnxRuntimeOptions) -> dict[str, Any]:
    # Cache built engines and tactics next to the ONNX cache: the first run builds, later ones load.
    trt_cache = cache_dir() / "ort-tensorrt"
    trt_cache.mkdir(parents=True, exist_ok=True)
    return {
        "device_id": options.device_id,
        "trt_fp16_enable": options.fp16,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(trt_cache),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(trt_cache),
    }


_PROVIDER_OPTIONS = {"CUDAExecutionProvider": _cuda_options, "TensorrtExecutionProvider": _tensorrt_options}
