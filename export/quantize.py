"""Build an int8 (QDQ) model of a checkpoint and keep it only if it holds PyTorch fp32's Set5 quality.

The quantiser itself (calibration, layers kept in fp32) lives in :mod:`engines.int8_qdq`, because
``auto`` builds the same model on first use. This module is the explicit path of
``export/to_int8.py``: it quantises with a chosen recipe, scores the candidate on Set5 at every
scale through one engine and the full pipeline, and compares it with **PyTorch fp32** through the
same pipeline, never with fp32 through the same engine: on a CPU with native bf16 OpenVINO ran both
sides partly in bf16, and a model losing 0.107 dB against PyTorch fp32 passed such a comparison.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from engines import ENGINES
from engines.calibration import calibration_patches
from engines.int8_qdq import CALIBRATION_METHODS, fp32_nodes, quantize_qdq
from engines.onnx_cache import onnx_for
from engines.onnx_export import save_onnx
from engines.quality_gate import GATE_DB, GateResult, reference_engine, set5_psnr
from engines.timing import latency_seconds
from vdsr.checkpoint import read_onnx_metadata
from vdsr.data import load_rgb_folder

__all__ = ["CALIBRATION_METHODS", "QuantReport", "build_int8", "calibration_patches", "fp32_nodes", "quantize_qdq"]


@dataclass(frozen=True)
class QuantReport:
    """The int8 candidate against PyTorch fp32 (quality) and against fp32 on its engine (speed).

    ``path`` is None when the int8 model was refused.
    """

    path: Path | None
    engine: str
    gate: GateResult
    latency_fp32_s: float
    latency_int8_s: float

    @property
    def tolerance(self) -> float:
        return self.gate.tolerance

    @property
    def deltas(self) -> dict[int, float]:
        """int8 PSNR minus PyTorch fp32 PSNR per scale (negative: a loss)."""
        return {s: -loss for s, loss in self.gate.losses.items()}

    @property
    def accepted(self) -> bool:
        return self.gate.admitted

    def table(self) -> str:
        rows = [f"| scale | torch fp32 PSNR | int8 PSNR ({self.engine}) | difference |", "|---|---|---|---|"]
        rows += [
            f"| x{s} | {self.gate.reference[s]:.4f} | {self.gate.candidate[s]:.4f} | {d:+.4f} |"
            for s, d in self.deltas.items()
        ]
        speed = self.latency_fp32_s / self.latency_int8_s
        verdict = "kept" if self.accepted else "refused"
        return "\n".join(
            [
                *rows,
                "",
                f"{self.engine}, 256x256 tile: fp32 {self.latency_fp32_s * 1e3:.0f} ms, int8 "
                f"{self.latency_int8_s * 1e3:.0f} ms ({speed:.2f}x). "
                f"Largest loss allowed against torch fp32: {self.tolerance} dB: {verdict}.",
            ]
        )


def build_int8(
    checkpoint: Path,
    out: Path,
    data_root: Path,
    *,
    engine: str = "openvino",
    tolerance: float = GATE_DB,
    keep_first: int = 3,
    method: str = "minmax",
    patches: int = 64,
    scales: Sequence[int] = (2, 3, 4),
    degradation: str = "clean",
) -> QuantReport:
    """Quantise ``checkpoint``, score it on Set5 through ``engine`` against PyTorch fp32, and write
    ``out`` only if no scale loses more than ``tolerance`` dB. ``degradation`` damages the calibration
    inputs (a :mod:`vdsr.degrade` spec: use the model's own training mix for a real-world model)."""
    fp32 = onnx_for(checkpoint, "int8")
    images = load_rgb_folder(data_root / "Set5")
    tile = np.ascontiguousarray(np.random.default_rng(0).random((1, 1, 256, 256), dtype=np.float32))
    reference = reference_engine(checkpoint)
    reference_psnr = set5_psnr(checkpoint, reference, images, scales)
    reference.close()
    with tempfile.TemporaryDirectory() as tmp:
        candidate = quantize_qdq(
            fp32,
            Path(tmp) / "int8.onnx",
            calibration_patches(data_root / "T91", count=patches, degradation=degradation),
            keep_first=keep_first,
            method=method,
        )
        int8 = ENGINES.get(engine)(candidate)
        int8_psnr = set5_psnr(checkpoint, int8, images, scales)
        int8_seconds = latency_seconds(int8, tile)
        int8.close()
        fp32_engine = ENGINES.get(engine)(fp32)  # for speed only: quality is compared with PyTorch fp32
        fp32_seconds = latency_seconds(fp32_engine, tile)
        fp32_engine.close()
        report = QuantReport(
            path=None,
            engine=engine,
            gate=GateResult(reference_psnr, int8_psnr, tolerance),
            latency_fp32_s=fp32_seconds,
            latency_int8_s=int8_seconds,
        )
        if not report.accepted:
            return report
        proto = onnx.load(str(candidate))
        onnx.helper.set_model_props(
            proto,
            {
                **read_onnx_metadata(proto),
                "vdsr.int8_set5": json.dumps({str(s): round(d, 4) for s, d in report.deltas.items()}),
                "vdsr.int8_reference": "torch fp32",
            },
        )
        save_onnx(proto, out)
    return dataclasses.replace(report, path=out)
