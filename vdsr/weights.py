"""Shipped weights: resolve ``--model`` to a file, and pick the model that suits an input.

Two models ship. ``vdsr-20`` is trained on clean bicubic downscales (the paper's protocol) and is
best on lossless images and on JPEGs saved at quality 96 or above; ``vdsr-20-real`` is also trained
on JPEG, H.264 and MPEG-2 damage and is best on the rest of compressed input: every video, JPEGs
below quality 88 (and PNGs made from them, :mod:`vdsr.input_kind`), HEIC, AVIF and lossy WebP.
Between them, a blend of the two (``vdsr-20-real@0.75``, :mod:`vdsr.blend`) suits lightly
compressed JPEGs, as phones write them (docs/real-world.md has the figures).
"""

from __future__ import annotations

import sys
from pathlib import Path

from vdsr.blend import SEPARATOR, blend_checkpoints, format_strength, split_strength
from vdsr.cache import cache_dir, file_sha256
from vdsr.checkpoint import CheckpointError
from vdsr.input_kind import InputKind

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_DESCRIPTIONS",
    "JPEG_STRENGTHS",
    "REAL_MODEL",
    "WEIGHTS_DIR",
    "blend_name",
    "offered_models",
    "pick_model",
    "real_strength",
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
# The strength of vdsr-20-real (its share of the blend with vdsr-20, vdsr.blend) for a JPEG of at least
# this quality, highest first; below the last, full strength. Chosen on Set5 at x2/x3/x4 (docs/real-world.md):
# from quality 88 to 95 the 0.75 blend scores above both models at x3 and x4, and at x2 from 90 (by 0.10 dB
# at 90 and 0.22 at 93; 0.01 below vdsr-20-real at 88); from 96 vdsr-20 leads it at x3 and x4.
# Other strengths would gain at most 0.07 dB more (0.5 at 94 to 96, 0.25 at 96 to 98), each for one more
# engine to build and gate.
JPEG_STRENGTHS: tuple[tuple[int, float], ...] = ((96, 0.0), (88, 0.75))


def blend_name(strength: float) -> str:
    """``vdsr-20-real`` at a strength below 1: ``vdsr-20-real@0.75``."""
    return f"{REAL_MODEL}{SEPARATOR}{format_strength(strength)}"


def _blend_descriptions() -> dict[str, str]:
    """What each blend the automatic choice uses is for, from :data:`JPEG_STRENGTHS`."""
    out = {}
    for i, (low, strength) in reversed(list(enumerate(JPEG_STRENGTHS))):  # strongest first
        if 0 < strength < 1:
            high = JPEG_STRENGTHS[i - 1][0] - 1 if i else 100
            use = f"for JPEGs of quality {low} to {high}"
            out[blend_name(strength)] = f"{strength:.0%} clean-up, more detail kept: {use}"
    return out


MODEL_DESCRIPTIONS = {
    DEFAULT_MODEL: f"for clean images: PNG, TIFF, BMP, lossless WebP, JPEG at quality {JPEG_STRENGTHS[0][0]}+ "
    "(the paper's protocol)",
    REAL_MODEL: "for compressed video and JPEG photos",
    **_blend_descriptions(),
}


def shipped_models() -> list[str]:
    """Names of the checkpoints in ``weights/``, default first."""
    names = sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors"))
    return sorted(names, key=lambda n: n != DEFAULT_MODEL)


def _real_at(strength: float) -> Path:
    """The checkpoint of ``vdsr-20-real@strength``: a shipped file at 0 and 1, else a blend made once and cached
    under the two files' contents, so new weights never meet an old blend."""
    if strength in (0.0, 1.0):
        return resolve_model(REAL_MODEL if strength else DEFAULT_MODEL)
    clean, real = resolve_model(DEFAULT_MODEL), resolve_model(REAL_MODEL)
    folder = cache_dir() / "blends" / f"{file_sha256(clean)[:12]}-{file_sha256(real)[:12]}"
    path = folder / f"{REAL_MODEL}{SEPARATOR}{format_strength(strength)}.safetensors"
    return path if path.is_file() else blend_checkpoints(clean, real, strength, path)


def offered_models() -> list[str]:
    """What a user can choose by name: the shipped models, default first, then the blends the automatic
    choice uses, when both models they blend are installed."""
    names = shipped_models()
    blends = [n for n in MODEL_DESCRIPTIONS if SEPARATOR in n] if REAL_MODEL in names else []
    return [*names, *blends] if DEFAULT_MODEL in names else names


def resolve_model(name_or_path: str | Path | None = None) -> Path:
    """A shipped model name (``vdsr-20``), ``vdsr-20-real`` at a strength (``vdsr-20-real@0.75``) or a path to a
    checkpoint file -> the file's path."""
    value = str(name_or_path or DEFAULT_MODEL)
    path = Path(value)
    strength = None if path.suffix == ".safetensors" or path.exists() else split_strength(value)
    if strength is not None:
        if strength[0] != REAL_MODEL:
            raise CheckpointError(f"only {REAL_MODEL} takes a strength ({REAL_MODEL}@0.75), not {strength[0]}")
        return _real_at(strength[1])
    if path.suffix == ".safetensors" or path.exists():
        if not path.is_file():
            raise CheckpointError(f"checkpoint not found: {path}")
        return path
    shipped = WEIGHTS_DIR / f"{value}.safetensors"
    if shipped.is_file():
        return shipped
    known = ", ".join(shipped_models()) or "none shipped"
    raise CheckpointError(f"unknown model {value!r}: not a file, and not a shipped model ({known})")


def real_strength(kind: InputKind) -> float:
    """How much of vdsr-20-real suits this input: 1 for video and unknown lossy damage, 0 for lossless."""
    if kind.compression == "lossless":
        return 0.0
    if kind.jpeg_quality is None:
        return 1.0
    return next((strength for quality, strength in JPEG_STRENGTHS if kind.jpeg_quality >= quality), 1.0)


def _why(kind: InputKind, strength: float) -> str:
    """The reason for a pick, in a user's words."""
    if kind.compression == "video":
        return "video is always lossy-compressed"
    if kind.compression == "lossless":
        return "the image is stored losslessly"
    if kind.jpeg_quality is None:
        return "the image is lossy-compressed (HEIC, AVIF or lossy WebP)"
    how = "nearly lossless" if strength == 0 else "lightly compressed" if strength < 1 else "lossy-compressed"
    what = f"a {kind.resaved_as} made from a JPEG" if kind.resaved_as else "a JPEG"
    return f"the image is {what} of quality {kind.jpeg_quality}, {how}"


def pick_model(kind: InputKind) -> tuple[str, str]:
    """(model name, reason) for an input of this kind; the clean model when the other is not installed."""
    strength = real_strength(kind)
    reason = _why(kind, strength)
    if strength == 0:
        return DEFAULT_MODEL, reason
    if REAL_MODEL not in shipped_models():
        return DEFAULT_MODEL, f"{reason}, but {REAL_MODEL} is not installed"
    return (REAL_MODEL if strength == 1 else blend_name(strength)), reason
