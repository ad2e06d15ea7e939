"""A BatchNorm VDSR, once folded as every engine runs it, costs what plain VDSR of its depth costs.

Engines run a checkpoint through its ONNX export, which folds each BatchNorm into the convolution
before it (:func:`engines.onnx_export.fold_batchnorm`). The check counts convolution weights, the
multiply-accumulates per output pixel that the benchmark reports (:func:`benchmarks.workloads.conv_weights`),
and verifies that the folded ONNX graph gives the unfolded model's output.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
from torch import nn

from benchmarks.workloads import conv_weights
from engines.onnx_export import fold_batchnorm, reference_luma, to_onnx_model, verify_onnx
from vdsr.config import ModelConfig
from vdsr.models import VDSR, build_model

__all__ = ["FoldedCost", "folded_cost"]


@dataclass(frozen=True)
class FoldedCost:
    """Convolution weights of the folded model and of plain VDSR at the same repeats and width."""

    name: str
    conv_weights: int
    plain_conv_weights: int
    bn_folded: int
    batchnorm_left: int
    onnx_max_abs_diff: float | None  # None: onnxruntime is not installed, the ONNX check did not run

    @property
    def equal(self) -> bool:
        return self.conv_weights == self.plain_conv_weights and self.batchnorm_left == 0

    def text(self) -> str:
        same = "equal to" if self.equal else "NOT equal to"
        onnx = (
            "ONNX check not run (onnxruntime missing)"
            if self.onnx_max_abs_diff is None
            else f"folded ONNX matches PyTorch to {self.onnx_max_abs_diff:.2g} (max abs)"
        )
        return (
            f"Inference cost: {self.name} with {self.bn_folded} BatchNorm layers folded has "
            f"{self.conv_weights:,} convolution weights per output pixel, {same} plain VDSR's "
            f"{self.plain_conv_weights:,} at the same depth; {onnx}."
        )


def folded_cost(model: VDSR, *, check_onnx: bool = True, check_image: np.ndarray | None = None) -> FoldedCost:
    """Fold ``model``'s BatchNorm, count what it costs, and (with onnxruntime) check its ONNX export.

    ``check_image`` is float32 (1, 1, H, W) luma in [0, 1]; default :func:`engines.onnx_export.reference_luma`.
    """
    folded, count = fold_batchnorm(model)
    cfg = model.config
    plain = build_model(ModelConfig("plain", cfg.repeats, cfg.channels))
    diff = None
    if check_onnx and importlib.util.find_spec("onnxruntime") is not None:
        proto, _ = to_onnx_model(model)
        y = reference_luma()[0] if check_image is None else np.ascontiguousarray(check_image, dtype=np.float32)
        diff = verify_onnx(proto, model, y)
    return FoldedCost(
        name=cfg.name,
        conv_weights=conv_weights(folded),
        plain_conv_weights=conv_weights(plain),
        bn_folded=count,
        batchnorm_left=sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in folded.modules()),
        onnx_max_abs_diff=diff,
    )
