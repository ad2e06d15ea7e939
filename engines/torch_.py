"""PyTorch backend: CUDA fp16 autocast where a GPU is visible, CPU fp32 (or bf16 autocast) elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from vdsr.checkpoint import load_checkpoint
from vdsr.engine import EngineUnavailableError
from vdsr.models import VDSR

__all__ = ["TorchEngine", "TorchOptions"]

_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class TorchOptions:
    """Attributes:
    device: ``cpu``, ``cuda[:N]``, or ``auto``: the device of a model passed in, else
        CUDA when this PyTorch build sees a GPU, else the CPU.
    precision: ``fp32``, ``bf16`` or ``fp16`` (autocast; the first convolution and the
        residual add stay fp32 inside the model), or ``auto``: fp16 on CUDA, fp32 on CPU.
    """

    device: str = "auto"
    precision: str = "auto"


class TorchEngine:
    """Eager PyTorch in channels-last layout (faster for convolutions on CPU and GPU)."""

    name: ClassVar[str] = "torch"

    @classmethod
    def uses_gpu(cls) -> bool:
        return torch.cuda.is_available()

    def __init__(self, model: VDSR | str | Path, options: TorchOptions | None = None) -> None:
        self.options = options or TorchOptions()
        if self.options.precision not in (*_DTYPES, "auto"):
            raise ValueError(f"precision must be auto or one of {sorted(_DTYPES)}")
        if self.options.device.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailableError("torch: CUDA requested but this PyTorch build sees no GPU")
        if not isinstance(model, VDSR):
            if Path(model).suffix == ".onnx":
                raise EngineUnavailableError(
                    "torch: runs .safetensors checkpoints; an .onnx file needs onnxruntime or openvino"
                )
            model, _ = load_checkpoint(model)
        self.device = self._pick_device(model)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)  # type: ignore[call-overload]
        precision = self.options.precision
        if precision == "auto":
            precision = "fp16" if self.device.type == "cuda" else "fp32"
        self.precision: str = precision
        self.autocast_dtype = _DTYPES[precision]

    def _pick_device(self, model: VDSR) -> torch.device:
        if self.options.device != "auto":
            return torch.device(self.options.device)
        params = next(model.parameters(), None)
        if params is not None and params.device.type != "cpu":
            return params.device
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    @torch.inference_mode()
    def __call__(self, y: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)).to(self.device)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None):
            out = self.model(x)
        return out.float().contiguous().cpu().numpy()

    def close(self) -> None:
        self.model = self.model.cpu()
