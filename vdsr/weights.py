"""Shipped weights: resolve ``--model`` to a file, and pick the model that suits an input.

Two models ship. ``vdsr-20`` is trained on clean bicubic downscales (the paper's protocol) and is
best on lossless images; ``vdsr-20-real`` is also trained on JPEG, H.264 and MPEG-2 damage and is
best on compressed input, which every video and every JPEG is (docs/real-world.md has the figures).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from PIL import Image

from vdsr.checkpoint import CheckpointError
from vdsr.video.formats import VIDEO_SUFFIXES

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_DESCRIPTIONS",
    "REAL_MODEL",
    "WEIGHTS_DIR",
    "InputKind",
    "input_kind",
    "pick_model",
    "resolve_model",
    "shipped_models",
]


def _weights_dir() -> Path:
    """``weights/`` of a checkout, else where a wheel installs them (``<prefix>/share/vdsr-toolkit/weights``)."""
    checkout = Path(__file__).resolve().parent.parent / "weights"
    installed = Path(sys.prefix) / "share" / "vdsr-toolkit" / "weights"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


WEIGHTS_DIR = _weights_dir()
DEFAULT_MODEL = "vdsr-20"
REAL_MODEL = "vdsr-20-real"
MODEL_DESCRIPTIONS = {
    DEFAULT_MODEL: "for clean images: PNG, TIFF, BMP, lossless WebP (the paper's protocol)",
    REAL_MODEL: "for compressed video and JPEG photos",
}

InputKind = Literal["video", "lossy", "lossless"]
# The model that scores best on each kind of input (docs/real-world.md), and why, in a user's words.
_BEST_FOR: dict[str, tuple[str, str]] = {
    "video": (REAL_MODEL, "video is always lossy-compressed"),
    "lossy": (REAL_MODEL, "the image is lossy-compressed (JPEG or lossy WebP)"),
    "lossless": (DEFAULT_MODEL, "the image is stored losslessly"),
}


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


def _webp_is_lossy(path: Path) -> bool:
    """A WebP file is lossy when it holds a ``VP8 `` bitstream; ``VP8L`` is lossless (RIFF chunk ids)."""
    data = path.read_bytes()[: 1 << 16]
    return b"VP8 " in data[12:] and b"VP8L" not in data[12:]


def input_kind(path: str | Path) -> InputKind:
    """What a file is, as far as the choice of model goes: judged by its content, not only its name."""
    path = Path(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return "video"
    try:
        with Image.open(path) as im:
            fmt = im.format
    except OSError:
        return "lossless"  # not an image PIL knows; reading it will report the real problem
    if fmt in ("JPEG", "MPO"):
        return "lossy"
    if fmt == "WEBP":
        return "lossy" if _webp_is_lossy(path) else "lossless"
    return "lossless"


def pick_model(kind: InputKind) -> tuple[str, str]:
    """(model name, reason) for an input of this kind; the clean model when the other is not installed."""
    name, reason = _BEST_FOR[kind]
    if name not in shipped_models():
        return DEFAULT_MODEL, f"{reason}, but {name} is not installed"
    return name, reason
