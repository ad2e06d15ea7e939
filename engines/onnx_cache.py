"""The ONNX file an ONNX-based backend runs: the file itself, or a cached export of a checkpoint.

Engines accept either a model file of their own format (``.onnx``, ``.xml``,
``.engine``) or a VDSR ``.safetensors`` checkpoint. A checkpoint is exported to
ONNX once and cached under ``$VDSR_CACHE_DIR`` (default ``~/.cache/vdsr``) as
``onnx/<model name>-<sha256[:16]>-op<opset>.onnx``, keyed by the checkpoint's
sha256, so a retrained checkpoint never reuses a stale export.
"""

from __future__ import annotations

import logging
from pathlib import Path

from engines.contract import EngineFileError, require_file
from vdsr.cache import cache_dir, file_sha256

__all__ = ["CHECKPOINT_SUFFIXES", "onnx_for"]

log = logging.getLogger(__name__)

CHECKPOINT_SUFFIXES = (".safetensors",)


def onnx_for(model: str | Path, engine: str) -> Path:
    """The ONNX file for ``model``: itself if it is ``.onnx``, else the cached export of the checkpoint.

    Raises:
        EngineFileError: the file does not exist or is of a kind this engine cannot load.
    """
    path = require_file(engine, model)
    if path.suffix == ".onnx":
        return path
    if path.suffix not in CHECKPOINT_SUFFIXES:
        raise EngineFileError(f"{engine}: cannot load {path.name}: expected .onnx or a .safetensors checkpoint")
    from engines.onnx_export import DEFAULT_OPSET, export_onnx  # heavy (torch.onnx): only when exporting
    from vdsr.checkpoint import read_checkpoint_info

    info = read_checkpoint_info(path)
    out = cache_dir() / "onnx" / f"{info.config.name}-{file_sha256(path)[:16]}-op{DEFAULT_OPSET}.onnx"
    if not out.is_file():
        log.info("exporting %s to %s (once per checkpoint)", path, out)
        export_onnx(path, out, opset=DEFAULT_OPSET)
    return out
