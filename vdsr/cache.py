"""Where derived files live (ONNX exports, int8 models, blends, the engine picks), and how they are keyed.

Everything under ``$VDSR_CACHE_DIR`` (default ``~/.cache/vdsr``) can be rebuilt from the shipped files,
and every entry is named by the content it was made from, so a changed model never reuses a stale one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["cache_dir", "file_sha256"]


def cache_dir() -> Path:
    """``$VDSR_CACHE_DIR`` or ``~/.cache/vdsr`` (not created here)."""
    env = os.environ.get("VDSR_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vdsr"


def file_sha256(path: str | Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks: cache keys and reports name a model by its content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
