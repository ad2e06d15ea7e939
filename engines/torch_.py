"""PyTorch backend: CPU fp32 / bf16 autocast, CUDA fp16 autocast."""

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
    """``device``: ``cpu`` or ``cuda[:N]``; ``precision``: fp32, bf16 or fp16 (autocast)."""

    device: str = "cpu"
    precision: str = "fp32"


class TorchEngine:
    """Eager PyTorch in channels-last layout (faster for convolutions on CPU and GPU)."""

    name: ClassVar[str] = "torch"

    def __init__(self, model: VDSR | str | Path, options: TorchOptions | None = None) -> None:
        self.options = options or TorchOptions()
        if self.options.precision not in _DTYPES:
            raise ValueError(f"precision must be one of {sorted(_DTYPES)}")
        if self.options.device.startswith("cuda") and not torch.cuda.is_available():
            raise EngineUnavailableError("torch: CUDA requested but this PyTorch build sees no GPU")
        if not isinstance(model, VDSR):
            model, _ = load_checkpoint(model)
        self.device = torch.device(self.options.device)
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        self.autocast_dtype = _DTYPES[self.options.precision]

    @torch.inference_mode()
    def __call__(self, y: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)).to(self.device)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None):
            out = self.model(x)
        return out.float().contiguous().cpu().numpy()

    def close(self) -> None:
        self.model = self.model.cpu()
