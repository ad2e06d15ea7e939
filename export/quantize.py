"""Int8 (QDQ) quantisation of a VDSR ONNX export, kept only when Set5 quality holds.

ONNX Runtime's static quantiser writes a QDQ model (QuantizeLinear/DequantizeLinear
around int8 weights and u8 activations) that both ONNX Runtime and OpenVINO run
with int8 kernels. Calibration uses T91 luma patches degraded exactly as at
inference. Which layers stay fp32 matters more than the calibration method:
8-bit activations on the residual path (the image itself and the predicted
residual) and on the first convolutions' outputs cost the most PSNR, so the first
``keep_first`` convolutions, the last one and the residual Add stay fp32.

:func:`build_int8` measures the candidate against the fp32 export on Set5 at
every scale through the same engine and pipeline, and writes it only when every
scale is within ``tolerance`` dB.
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

from engines import ENGINES, load_upscaler
from engines.onnx_cache import onnx_for
from engines.onnx_export import save_onnx
from engines.timing import latency_seconds
from vdsr.checkpoint import read_onnx_metadata
from vdsr.color import rgb_to_y
from vdsr.data import load_rgb_folder
from vdsr.degrade import low_resolution, modcrop
from vdsr.evaluate import evaluate
from vdsr.pipeline import UpscaleLimits, to_float
from vdsr.resize import imresize

__all__ = ["CALIBRATION_METHODS", "QuantReport", "build_int8", "calibration_patches", "fp32_nodes", "quantize_qdq"]

CALIBRATION_METHODS = ("minmax", "percentile", "entropy")


@dataclass(frozen=True)
class QuantReport:
    """The fp32-vs-int8 comparison; ``path`` is None when the int8 model was refused."""

    path: Path | None
    engine: str
    tolerance: float
    psnr_fp32: dict[int, float]
    psnr_int8: dict[int, float]
    latency_fp32_s: float
    latency_int8_s: float

    @property
    def deltas(self) -> dict[int, float]:
        return {s: self.psnr_int8[s] - self.psnr_fp32[s] for s in self.psnr_fp32}

    @property
    def accepted(self) -> bool:
        return all(abs(d) <= self.tolerance for d in self.deltas.values())

    def table(self) -> str:
        rows = ["| scale | fp32 PSNR | int8 PSNR | difference |", "|---|---|---|---|"]
        rows += [
            f"| x{s} | {self.psnr_fp32[s]:.4f} | {self.psnr_int8[s]:.4f} | {d:+.4f} |" for s, d in self.deltas.items()
        ]
        speed = self.latency_fp32_s / self.latency_int8_s
        verdict = "kept" if self.accepted else "refused"
        return "\n".join(
            [
                *rows,
                "",
                f"{self.engine}, 256x256 tile: fp32 {self.latency_fp32_s * 1e3:.0f} ms, int8 "
                f"{self.latency_int8_s * 1e3:.0f} ms ({speed:.2f}x). Tolerance {self.tolerance} dB: {verdict}.",
            ]
        )


def calibration_patches(
    train_dir: Path, *, count: int = 64, size: int = 96, seed: int = 0, scales: Sequence[int] = (2, 3, 4)
) -> list[np.ndarray]:
    """``count`` network inputs cropped from the images in ``train_dir`` (T91): float32 (1, 1, size, size) each.

    Each patch is what the network sees at inference, so the calibrated ranges fit real inputs: an image
    bicubic-downscaled by a scale (x2/x3/x4 mixed) and rounded to 8 bits (:func:`vdsr.degrade.low_resolution`),
    its luma bicubic-upscaled back. Images are drawn in proportion to their patch positions, as training
    draws them, and the same ``seed`` always gives the same patches.

    Raises:
        ValueError: no image is large enough for ``size`` pixel patches at some scale.
    """
    rng = np.random.default_rng(seed)
    images = [to_float(img) for _, img in load_rgb_folder(train_dir)]
    weights = {}
    for s in scales:
        positions = np.array([_positions(modcrop(img, s).shape[:2], size) for img in images], float)
        if positions.sum() == 0:
            raise ValueError(f"no image in {train_dir} is large enough for {size}px patches at x{s}")
        weights[s] = positions / positions.sum()
    inputs: dict[tuple[int, int], np.ndarray] = {}  # (image, scale) -> network input luma, made once
    patches = []
    for s in (int(s) for s in rng.choice(scales, size=count)):
        k = int(rng.choice(len(images), p=weights[s]))
        if (k, s) not in inputs:
            hr = modcrop(images[k], s)
            lr = to_float(low_resolution(hr, s))
            inputs[(k, s)] = imresize(rgb_to_y(lr), hr.shape[:2]).astype(np.float32)
        y = inputs[(k, s)]
        top, left = int(rng.integers(y.shape[0] - size + 1)), int(rng.integers(y.shape[1] - size + 1))
        patches.append(np.ascontiguousarray(y[top : top + size, left : left + size])[None, None])
    return patches


def _positions(shape: tuple[int, ...], size: int) -> int:
    """How many ``size`` x ``size`` patches fit in an image of ``shape`` (H, W)."""
    return max(0, shape[0] - size + 1) * max(0, shape[1] - size + 1)


def fp32_nodes(proto: onnx.ModelProto, keep_first: int) -> list[str]:
    """Names of the nodes to leave unquantised: the first ``keep_first`` Convs, the last Conv, every Add."""
    convs = [n.name for n in proto.graph.node if n.op_type == "Conv"]
    adds = [n.name for n in proto.graph.node if n.op_type == "Add"]
    return list(dict.fromkeys([*convs[:keep_first], convs[-1], *adds]))


def quantize_qdq(
    fp32: Path, out: Path, patches: Sequence[np.ndarray], *, keep_first: int = 3, method: str = "minmax"
) -> Path:
    """Write the QDQ int8 model of ``fp32`` to ``out``, calibrated on ``patches``; metadata carried over."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if method not in CALIBRATION_METHODS:
        raise ValueError(f"calibration method must be one of {CALIBRATION_METHODS}, got {method!r}")
    calibrate = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }[method]
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared))  # shape inference and graph clean-up, as ORT recommends
        proto = onnx.load(str(prepared))
        input_name = proto.graph.input[0].name

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self._feeds = iter([{input_name: p} for p in patches])

            def get_next(self) -> dict[str, np.ndarray] | None:
                return next(self._feeds, None)

        excluded = fp32_nodes(proto, keep_first)
        quantize_static(
            str(prepared),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=calibrate,
        )
    quantized = onnx.load(str(out))
    settings = {"keep_fp32": excluded, "calibration": method, "patches": len(patches)}
    meta = {k: v for k, v in read_onnx_metadata(proto).items() if k.startswith("vdsr.")}
    onnx.helper.set_model_props(quantized, {**meta, "vdsr.dtype": "int8-qdq", "vdsr.int8": json.dumps(settings)})
    save_onnx(quantized, out)
    return out


def build_int8(
    checkpoint: Path,
    out: Path,
    data_root: Path,
    *,
    engine: str = "openvino",
    tolerance: float = 0.05,
    keep_first: int = 3,
    method: str = "minmax",
    patches: int = 64,
    scales: Sequence[int] = (2, 3, 4),
) -> QuantReport:
    """Quantise ``checkpoint``, compare it with fp32 on Set5 through ``engine``, and write ``out`` only if it holds."""
    fp32 = onnx_for(checkpoint, "int8")
    images = load_rgb_folder(data_root / "Set5")
    tile = np.ascontiguousarray(np.random.default_rng(0).random((1, 1, 256, 256), dtype=np.float32))
    with tempfile.TemporaryDirectory() as tmp:
        candidate = quantize_qdq(
            fp32,
            Path(tmp) / "int8.onnx",
            calibration_patches(data_root / "T91", count=patches),
            keep_first=keep_first,
            method=method,
        )
        psnr: dict[str, dict[int, float]] = {}
        latency: dict[str, float] = {}
        for label, path in (("fp32", fp32), ("int8", candidate)):
            runner = ENGINES.get(engine)(path)
            upscaler = load_upscaler(checkpoint, runner, limits=UpscaleLimits(tile=1024))
            psnr[label] = {s.scale: s.psnr for s in evaluate({label: upscaler}, images, scales, with_ssim=False)}
            latency[label] = latency_seconds(runner, tile)
            runner.close()
        report = QuantReport(
            path=None,
            engine=engine,
            tolerance=tolerance,
            psnr_fp32=psnr["fp32"],
            psnr_int8=psnr["int8"],
            latency_fp32_s=latency["fp32"],
            latency_int8_s=latency["int8"],
        )
        if not report.accepted:
            return report
        proto = onnx.load(str(candidate))
        onnx.helper.set_model_props(
            proto,
            {
                **read_onnx_metadata(proto),
                "vdsr.int8_set5": json.dumps({str(s): round(d, 4) for s, d in report.deltas.items()}),
            },
        )
        save_onnx(proto, out)
    return dataclasses.replace(report, path=out)
