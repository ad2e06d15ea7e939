"""Shipped weights: resolve ``--model`` (a shipped name or a checkpoint path) to a file."""

from __future__ import annotations

from pathlib import Path

from vdsr.checkpoint import CheckpointError

__all__ = ["DEFAULT_MODEL", "WEIGHTS_DIR", "resolve_model", "shipped_models"]

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_MODEL = "vdsr-20"


def shipped_models() -> list[str]:
    """Names of the checkpoints in ``weights/``, default first."""
    names = sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors"))
    return sorted(names, key=lambda n: n != DEFAULT_MODEL)


def resolve_model(name_or_path: str | Path | None = None) -> Path:
    """A shipped model name (``vdsr-20``) or a path to a checkpoint file -> the file's path."""
    value = str(name_or_path or DEFAULT_MODEL)
    path = Path(value)
    if path.suffix == ".safetensors" or path.exists():
        if not path.is_file():
            raise CheckpointError(f"checkpoint not found: {path}")
        return path
    shipped = WEIGHTS_DIR / f"{value}.safetensors"
    if shipped.is_file():
        return shipped
    known = ", ".join(shipped_models()) or "none shipped"
    raise CheckpointError(f"unknown model {value!r}: not a file, and not a shipped model ({known})")
