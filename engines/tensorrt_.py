"""TensorRT backend: a serialized engine run through the TensorRT 10 name-based API.

Accepts a ``.engine``/``.plan`` file (from ``export/to_trt.py``), or an ONNX export
or checkpoint, which is built once into ``$VDSR_CACHE_DIR/tensorrt`` (keyed by
the ONNX file, TensorRT version, GPU and profile). Device buffers are PyTorch
CUDA tensors, so this needs a CUDA build of PyTorch alongside ``tensorrt``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engines.contract import EngineFileError, check_input, check_io, require_file
from engines.onnx_cache import onnx_for
from engines.trt_build import build_engine
from engines.trt_profile import DEFAULT_PROFILE, ShapeProfile
from engines.trt_runtime import require_tensorrt
from engines.trt_sidecar import read_sidecar
from vdsr.cache import cache_dir

__all__ = ["TensorRTEngine", "TensorRTOptions"]

_ENGINE_SUFFIXES = (".engine", ".plan", ".trt")


@dataclass(frozen=True)
class TensorRTOptions:
    """Attributes:
    device_id: the GPU to run on.
    fp16: build fp16 engines (only used when building from ONNX or a checkpoint).
    profile: min/opt/max input shapes for engines built here.
    """

    device_id: int = 0
    fp16: bool = True
    profile: ShapeProfile = DEFAULT_PROFILE


class TensorRTEngine:
    """Runs a TensorRT engine on one CUDA stream; inputs outside its profile are rejected."""

    name: ClassVar[str] = "tensorrt"

    @classmethod
    def uses_gpu(cls) -> bool:
        return True

    def __init__(self, model: str | Path, options: TensorRTOptions | None = None) -> None:
        self.options = options or TensorRTOptions()
        trt = require_tensorrt()  # EngineUnavailableError with one line when absent
        import torch

        self._torch = torch
        self.device = torch.device("cuda", self.options.device_id)
        path = require_file(self.name, model)
        self.path: Path = path if path.suffix in _ENGINE_SUFFIXES else self._build_cached(trt, path)
        sidecar = read_sidecar(self.path) or {}
        self.precision: str = str(sidecar.get("precision", "fp16"))
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        with torch.cuda.device(self.device):
            self.engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
            if self.engine is None:
                raise EngineFileError(
                    f"{self.name}: cannot load {self.path.name}: not an engine for TensorRT {trt.__version__} "
                    "on this GPU; rebuild it with export/to_trt.py"
                )
            names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
            modes = {n: self.engine.get_tensor_mode(n) for n in names}
            inputs = [(n, list(self.engine.get_tensor_shape(n))) for n in names if modes[n] == trt.TensorIOMode.INPUT]
            outputs = [(n, list(self.engine.get_tensor_shape(n))) for n in names if modes[n] != trt.TensorIOMode.INPUT]
            self.input_name, self.output_name = check_io(
                self.name, self.path, inputs, outputs, expected_input=sidecar.get("input")
            )
            self.input_shape: tuple[Any, ...] = tuple(inputs[0][1])
            low, _, high = self.engine.get_tensor_profile_shape(self.input_name, 0)
            self.profile_min: tuple[int, ...] = tuple(low)
            self.profile_max: tuple[int, ...] = tuple(high)
            self._in_dtype = _torch_dtype(torch, trt.nptype(self.engine.get_tensor_dtype(self.input_name)))
            self._out_dtype = _torch_dtype(torch, trt.nptype(self.engine.get_tensor_dtype(self.output_name)))
            self.context = self.engine.create_execution_context()
            self.stream = torch.cuda.Stream(self.device)
        self._lock = threading.Lock()  # one execution context: one call at a time

    def _build_cached(self, trt: Any, path: Path) -> Path:
        onnx_path = onnx_for(path, self.name)
        gpu = re.sub(r"[^A-Za-z0-9]+", "-", self._torch.cuda.get_device_name(self.options.device_id)).strip("-")
        precision = "fp16" if self.options.fp16 else "fp32"
        folder = cache_dir() / "tensorrt"
        out = folder / f"{onnx_path.stem}-{precision}-trt{trt.__version__}-{gpu}-{self.options.profile.tag()}.engine"
        if not out.is_file():
            build_engine(
                onnx_path,
                out,
                self.options.profile,
                fp16=self.options.fp16,
                timing_cache=folder / f"timing-trt{trt.__version__}-{gpu}.cache",
                device_id=self.options.device_id,
            )
        return out

    def __call__(self, y: np.ndarray) -> np.ndarray:
        torch = self._torch
        x = check_input(self.name, y, self.input_shape, low=self.profile_min, high=self.profile_max)
        with self._lock, torch.cuda.device(self.device), torch.cuda.stream(self.stream):
            inp = torch.from_numpy(x).to(self.device, dtype=self._in_dtype, non_blocking=False).contiguous()
            if not self.context.set_input_shape(self.input_name, tuple(x.shape)):
                raise EngineFileError(f"{self.name}: engine rejected input shape {tuple(x.shape)}")
            out = torch.empty(
                tuple(self.context.get_tensor_shape(self.output_name)), dtype=self._out_dtype, device=self.device
            )
            self.context.set_tensor_address(self.input_name, inp.data_ptr())
            self.context.set_tensor_address(self.output_name, out.data_ptr())
            if not self.context.execute_async_v3(self.stream.cuda_stream):
                raise RuntimeError(f"{self.name}: execute_async_v3 failed for shape {tuple(x.shape)}")
            result = out.float()
            self.stream.synchronize()
            return result.cpu().numpy()

    def close(self) -> None:
        self.context = None
        self.engine = None


def _torch_dtype(torch: Any, np_dtype: Any) -> Any:
    return {np.float32: torch.float32, np.float16: torch.float16}.get(np.dtype(np_dtype).type, torch.float32)
