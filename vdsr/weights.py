"""Shipped weights: resolve ``--model`` to a file, and pick the model that suits an input.

Two models ship. ``vdsr-20`` is trained on clean bicubic downscales (the paper's protocol) and is
best on lossless images and on JPEGs saved at quality 93 or above; ``vdsr-20-real`` is also trained
on JPEG, H.264 and MPEG-2 damage and is best on the rest of compressed input: every video, JPEGs
below quality 93, HEIC, AVIF and lossy WebP (docs/real-world.md has the figures).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Literal

from PIL import Image

import vdsr.imageio  # noqa: F401 - registers the HEIC reader with PIL, for input_kind
from vdsr.checkpoint import CheckpointError
from vdsr.video.formats import VIDEO_SUFFIXES

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_DESCRIPTIONS",
    "NEAR_LOSSLESS_JPEG",
    "REAL_MODEL",
    "WEIGHTS_DIR",
    "InputKind",
    "input_kind",
    "jpeg_quality",
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
    DEFAULT_MODEL: "for clean images: PNG, TIFF, BMP, lossless WebP, JPEG at quality 93+ (the paper's protocol)",
    REAL_MODEL: "for compressed video and JPEG photos",
}

# From this JPEG quality up, vdsr-20 beats vdsr-20-real (Set5 at x2/x3/x4: within 0.05 dB at 93, ahead
# at x3 and x4, and ahead at every scale from 94; the held-out frames agree from 93).
NEAR_LOSSLESS_JPEG = 93

InputKind = Literal["video", "lossy", "near-lossless", "lossless"]
# The model that scores best on each kind of input (docs/real-world.md), and why, in a user's words.
_BEST_FOR: dict[str, tuple[str, str]] = {
    "video": (REAL_MODEL, "video is always lossy-compressed"),
    "lossy": (REAL_MODEL, "the image is lossy-compressed (JPEG, HEIC, AVIF or lossy WebP)"),
    "near-lossless": (DEFAULT_MODEL, f"the image is a JPEG of quality {NEAR_LOSSLESS_JPEG} or more, nearly lossless"),
    "lossless": (DEFAULT_MODEL, "the image is stored losslessly"),
}

# libjpeg's luminance quantisation table at quality 50 (ITU-T T.81, Annex K); every IJG quality scales it.
_IJG_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


@cache
def _ijg_luma_sum(quality: int) -> int:
    """Sum of the baseline luminance table libjpeg writes at ``quality`` (jpeg_quality_scaling)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return sum(min(max((q * scale + 50) // 100, 1), 255) for q in _IJG_LUMA)


def jpeg_quality(im: Image.Image) -> int | None:
    """The quality (1-100) a JPEG was saved at: the IJG quality whose luminance table sums nearest to its own.

    Exact for libjpeg's tables (PIL, most software); the nearest equivalent for a camera's own
    tables. None when the image carries no quantisation tables (not a JPEG).
    """
    tables = getattr(im, "quantization", None)
    if not tables:
        return None
    luma = sum(tables[min(tables)])
    return min(range(100, 0, -1), key=lambda q: abs(_ijg_luma_sum(q) - luma))


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
            fmt, quality = im.format, jpeg_quality(im)
    except OSError:
        return "lossless"  # not an image PIL knows; reading it will report the real problem
    if fmt in ("JPEG", "MPO"):
        return "near-lossless" if quality is not None and quality >= NEAR_LOSSLESS_JPEG else "lossy"
    if fmt == "WEBP":
        return "lossy" if _webp_is_lossy(path) else "lossless"
    if fmt in ("HEIF", "AVIF"):  # phone and web photos: video codecs' intra frames, lossy in practice
        return "lossy"
    return "lossless"


def pick_model(kind: InputKind) -> tuple[str, str]:
    """(model name, reason) for an input of this kind; the clean model when the other is not installed."""
    name, reason = _BEST_FOR[kind]
    if name not in shipped_models():
        return DEFAULT_MODEL, f"{reason}, but {name} is not installed"
    return name, reason
