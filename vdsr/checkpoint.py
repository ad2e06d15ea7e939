"""Safetensors checkpoints that carry their own model config and provenance.

A checkpoint is a ``.safetensors`` file whose string metadata holds:
``format`` (always ``vdsr-checkpoint/1``), ``config`` (ModelConfig as JSON),
``scales`` (JSON list), and optional ``training`` / ``evaluation`` JSON.
Loading never unpickles anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from vdsr.config import ModelConfig
from vdsr.files import written_whole
from vdsr.models import VDSR, build_model

if TYPE_CHECKING:
    import onnx

__all__ = [
    "CheckpointError",
    "CheckpointInfo",
    "load_checkpoint",
    "read_checkpoint_info",
    "read_model_config",
    "read_onnx_metadata",
    "save_checkpoint",
]

FORMAT = "vdsr-checkpoint/1"


class CheckpointError(ValueError):
    """A file is missing, is not a VDSR checkpoint, or does not match its config."""


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint says about itself."""

    path: Path
    config: ModelConfig
    scales: tuple[float, ...]
    training: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(
    path: str | Path,
    model: VDSR,
    *,
    scales: tuple[float, ...] | list[float],
    training: dict[str, Any] | None = None,
    evaluation: dict[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights and provenance to a safetensors file (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "format": FORMAT,
        "config": model.config.to_json(),
        "scales": json.dumps([float(s) for s in scales]),
        "training": json.dumps(training or {}, sort_keys=True),
        "evaluation": json.dumps(evaluation or {}, sort_keys=True),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with written_whole(path) as tmp:  # a unique temporary: two processes may write one blend at once
        tmp.write_bytes(save(tensors, metadata=metadata))  # not save_file, whose files get mode 0600
    return path


def read_checkpoint_info(path: str | Path) -> CheckpointInfo:
    """Read only the metadata of a checkpoint (cheap: no tensors are loaded)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not a VDSR checkpoint (no '{FORMAT}' metadata)")
    try:
        return CheckpointInfo(
            path=path,
            config=ModelConfig.from_json(meta["config"]),
            scales=tuple(json.loads(meta.get("scales", "[]"))),
            training=json.loads(meta.get("training", "{}")),
            evaluation=json.loads(meta.get("evaluation", "{}")),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} has malformed checkpoint metadata: {exc}") from None


def read_onnx_metadata(model: onnx.ModelProto | str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX model or file as a dict: where a VDSR export keeps its provenance.

    The one reader of ONNX metadata, here in the core because :func:`read_model_config` needs it;
    export, the fp16 pass, the TensorRT sidecar and the ONNX engines all use it.

    Raises:
        CheckpointError: the file is missing or is not a readable ONNX file.
    """
    import onnx

    if not isinstance(model, onnx.ModelProto):
        path = Path(model)
        if not path.is_file():
            raise CheckpointError(f"model not found: {path}")
        try:
            model = onnx.load(str(path), load_external_data=False)
        except Exception as exc:  # noqa: BLE001 - protobuf raises its own untyped errors for a bad file
            raise CheckpointError(f"{path} is not a readable ONNX file ({type(exc).__name__})") from None
    return {p.key: p.value for p in model.metadata_props}


def read_model_config(path: str | Path) -> ModelConfig:
    """The ModelConfig of a checkpoint, or of a VDSR ONNX export (its ``vdsr.config`` metadata)."""
    path = Path(path)
    if path.suffix != ".onnx":
        return read_checkpoint_info(path).config
    meta = read_onnx_metadata(path)
    if "vdsr.config" not in meta:
        raise CheckpointError(f"{path} is an ONNX file but not a VDSR export (no 'vdsr.config' metadata)")
    try:
        return ModelConfig.from_json(meta["vdsr.config"])
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} has malformed vdsr.config metadata: {exc}") from None


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[VDSR, CheckpointInfo]:
    """Rebuild the model a checkpoint describes and load its weights (eval mode)."""
    info = read_checkpoint_info(path)
    model = build_model(info.config)
    with safe_open(str(info.path), framework="pt", device=str(map_location)) as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a Mapping
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise CheckpointError(
            f"{path}: weights do not match its config {info.config.name}: {' '.join(first[:3])}"
        ) from None
    return model.eval(), info
