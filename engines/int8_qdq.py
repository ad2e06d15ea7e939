"""Int8 (QDQ) models of a VDSR ONNX export, and the cached one ``auto`` builds on first use.

ONNX Runtime's static quantiser writes a QDQ model (QuantizeLinear/DequantizeLinear around int8
weights and u8 activations) that both ONNX Runtime and OpenVINO run with int8 kernels.
Calibration uses T91 luma patches degraded exactly as at inference (:mod:`engines.calibration`).
Which layers stay fp32 matters more than the calibration method: 8-bit activations on the
residual path (the image itself and the predicted residual) and on the first convolutions'
outputs cost the most PSNR, so the first ``keep_first`` convolutions, the last one and the
residual Add stay fp32. Whether a model is good enough is not decided here: ``auto`` gates it
against PyTorch fp32 on Set5 (:mod:`engines.quality_gate`), and so does ``export/to_int8.py``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from engines.calibration import calibration_patches, shipped_patches
from engines.onnx_cache import onnx_for
from engines.onnx_export import save_onnx
from vdsr.cache import cache_dir, file_sha256
from vdsr.checkpoint import read_onnx_metadata
from vdsr.data import data_dir
from vdsr.engine import EngineUnavailableError

__all__ = ["CALIBRATION_METHODS", "INT8_DTYPE", "Int8Recipe", "fp32_nodes", "int8_for", "quantize_qdq"]

log = logging.getLogger(__name__)

CALIBRATION_METHODS = ("minmax", "percentile", "entropy")
INT8_DTYPE = "int8-qdq"  # the ``vdsr.dtype`` metadata of a QDQ model; engines report it as precision int8


@dataclass(frozen=True)
class Int8Recipe:
    """How an int8 model is made: layers kept in fp32, calibration method and calibration patches."""

    keep_first: int = 3
    method: str = "minmax"
    patches: int = 64
    size: int = 96
    seed: int = 0

    def tag(self) -> str:
        """The recipe in a file name or cache key."""
        return f"keep{self.keep_first}-{self.method}-{self.patches}x{self.size}-seed{self.seed}"


def fp32_nodes(proto: onnx.ModelProto, keep_first: int) -> list[str]:
    """Names of the nodes to leave unquantised: the first ``keep_first`` Convs, the last Conv, every Add."""
    convs = [n.name for n in proto.graph.node if n.op_type == "Conv"]
    adds = [n.name for n in proto.graph.node if n.op_type == "Add"]
    return list(dict.fromkeys([*convs[:keep_first], convs[-1], *adds]))


def quantize_static_qdq(
    fp32: Path,
    out: Path,
    input_name: str,
    patches: Sequence[np.ndarray],
    *,
    exclude: Sequence[str] = (),
    method: str = "minmax",
) -> Path:
    """ONNX Runtime's static QDQ quantisation with this project's settings (per-channel int8 weights,
    uint8 activations), calibrated on ``patches``; the nodes in ``exclude`` stay fp32."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    if method not in CALIBRATION_METHODS:
        raise ValueError(f"calibration method must be one of {CALIBRATION_METHODS}, got {method!r}")
    calibrate = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }[method]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter([{input_name: p} for p in patches])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    quantize_static(
        str(fp32),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=list(exclude),
        calibrate_method=calibrate,
    )
    return out


def quantize_qdq(
    fp32: Path, out: Path, patches: Sequence[np.ndarray], *, keep_first: int = 3, method: str = "minmax"
) -> Path:
    """Write the QDQ int8 model of ``fp32`` to ``out``, calibrated on ``patches``; metadata carried over."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared))  # shape inference and graph clean-up, as ORT recommends
        proto = onnx.load(str(prepared))
        excluded = fp32_nodes(proto, keep_first)
        quantize_static_qdq(prepared, out, proto.graph.input[0].name, patches, exclude=excluded, method=method)
    quantized = onnx.load(str(out))
    settings = {"keep_fp32": excluded, "calibration": method, "patches": len(patches)}
    meta = {k: v for k, v in read_onnx_metadata(proto).items() if k.startswith("vdsr.")}
    onnx.helper.set_model_props(quantized, {**meta, "vdsr.dtype": INT8_DTYPE, "vdsr.int8": json.dumps(settings)})
    save_onnx(quantized, out)
    return out


def int8_for(model: str | Path, recipe: Int8Recipe | None = None, data_root: Path | None = None) -> Path:
    """The int8 model of a checkpoint or fp32 ONNX export: built once per model content and recipe, then cached.

    An int8 model is returned as it is. The cache holds ``int8/<name>-<sha256[:16] of the fp32
    export>-<recipe>.onnx`` under :func:`engines.onnx_cache.cache_dir`.

    Raises:
        EngineUnavailableError: onnxruntime (the quantiser) is missing, or a recipe other than the
            shipped patches' finds no T91 under ``data_root`` (default :func:`vdsr.data.data_dir`).
    """
    recipe = recipe or Int8Recipe()
    fp32 = onnx_for(model, "int8")
    metadata = read_onnx_metadata(fp32)
    if metadata.get("vdsr.dtype") == INT8_DTYPE:
        return fp32
    name = metadata.get("vdsr.name", fp32.stem)
    out = cache_dir() / "int8" / f"{name}-{file_sha256(fp32)[:16]}-{recipe.tag()}.onnx"
    if out.is_file():
        return out
    try:
        import onnxruntime  # noqa: F401  (the quantiser)
    except ImportError:
        raise EngineUnavailableError("int8: building the model needs onnxruntime (pip install onnxruntime)") from None
    patches = shipped_patches(recipe.patches, recipe.size, recipe.seed)  # the same as T91's, without the data
    if patches is None:
        train = (data_root or data_dir()) / "T91"
        try:
            patches = calibration_patches(train, count=recipe.patches, size=recipe.size, seed=recipe.seed)
        except (FileNotFoundError, ValueError) as exc:
            raise EngineUnavailableError(f"int8: cannot calibrate: {exc}") from None
    log.info("building the int8 model of %s (%s, once per model)", fp32.name, recipe.tag())
    out.parent.mkdir(parents=True, exist_ok=True)
    # per process and thread (the app builds engines from request threads): no two builds share a file
    building = out.with_name(f"{out.stem}.{os.getpid()}-{threading.get_ident()}.building.onnx")
    quantize_qdq(fp32, building, patches, keep_first=recipe.keep_first, method=recipe.method)
    building.replace(out)
    return out
