"""The JSON sidecar beside a TensorRT engine (``<engine>.json``): how and from what it was built.

TensorRT version, GPU, shapes, precision and the model's ``vdsr.*`` metadata travel with the
engine file, so running it never needs the training config or the ONNX it came from.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from engines.trt_profile import ShapeProfile
from vdsr.checkpoint import read_onnx_metadata

__all__ = ["SIDECAR_FORMAT", "read_sidecar", "sidecar_path", "write_sidecar"]

SIDECAR_FORMAT = "vdsr-trt/1"


def sidecar_path(engine_path: str | Path) -> Path:
    """``model.engine`` -> ``model.engine.json``."""
    engine_path = Path(engine_path)
    return engine_path.with_name(engine_path.name + ".json")


def write_sidecar(
    engine_path: str | Path,
    *,
    tensorrt_version: str,
    gpu: dict[str, Any],
    profile: ShapeProfile,
    precision: str,
    strongly_typed: bool,
    onnx_path: str | Path,
    input_name: str,
    output_name: str,
) -> Path:
    """Write the JSON sidecar that describes an engine file; returns its path.

    Args:
        engine_path: the ``.engine`` file it describes (need not exist yet).
        tensorrt_version: ``tensorrt.__version__`` of the builder.
        gpu: :func:`engines.trt_runtime.gpu_description` of the GPU it was built on.
        profile: the optimisation profile.
        precision: ``fp16`` or ``fp32``.
        strongly_typed: built as a strongly typed network (TensorRT 11) or with FP16 flags (10).
        onnx_path: the ONNX it was built from; its ``vdsr.*`` metadata is copied.
        input_name, output_name: the engine's I/O tensor names.
    """
    onnx_path = Path(onnx_path)
    model_meta = {k.removeprefix("vdsr."): v for k, v in read_onnx_metadata(onnx_path).items() if k.startswith("vdsr.")}
    data = {
        "format": SIDECAR_FORMAT,
        "tensorrt": tensorrt_version,
        "gpu": gpu,
        "precision": precision,
        "strongly_typed": strongly_typed,
        "profile": profile.as_dict(),
        "input": input_name,
        "output": output_name,
        "onnx": onnx_path.name,
        "model": model_meta,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path = sidecar_path(engine_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def read_sidecar(engine_path: str | Path) -> dict[str, Any] | None:
    """The sidecar of an engine file, or None when there is none."""
    path = sidecar_path(engine_path)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("format") != SIDECAR_FORMAT:
        raise ValueError(f"{path} is not a VDSR TensorRT sidecar (format {data.get('format')!r})")
    return data
