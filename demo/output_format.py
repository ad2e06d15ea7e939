"""The file a result is saved as: lossless PNG, or JPEG / WebP at a chosen quality.

PNG keeps everything the upscaler returns (16-bit, alpha). JPEG and WebP are 8-bit, so 16-bit
results are rounded to 8 bits for them; JPEG has no transparency, so a result with alpha is
refused for JPEG with a plain reason rather than silently flattened.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from demo.errors import request_error, user_error
from vdsr.animation import upscale_animation
from vdsr.imageio import ImageMeta, ImageReadError, ImageWriteError, write_image
from vdsr.pipeline import from_float, to_float

__all__ = ["FORMAT_CHOICES", "check_format", "save_animation", "save_result"]

FORMAT_CHOICES = [("PNG (lossless)", "png"), ("JPEG", "jpeg"), ("WebP", "webp")]
_SUFFIX = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


def check_format(fmt: str | None, quality: float | None) -> tuple[str, int]:
    """(format, quality 1-100) from the request; anything else is refused in one line."""
    fmt = (fmt or "png").lower()
    if fmt not in _SUFFIX:
        raise user_error(f"Format must be one of {', '.join(_SUFFIX)}; got {fmt!r}.")
    value = 90.0 if quality is None else float(quality)
    if not math.isfinite(value) or not 1 <= value <= 100 or value != int(value):
        raise user_error(f"Quality must be a whole number from 1 to 100; got {quality!r}.")
    return fmt, int(value)


def _has_alpha(img: np.ndarray) -> bool:
    return img.ndim == 3 and img.shape[2] in (2, 4)


def save_result(
    folder: Path, stem: str, img: np.ndarray, fmt: str, quality: int, meta: ImageMeta | None = None
) -> Path:
    """Write ``img`` as ``<stem>.<ext>`` in ``folder`` in the checked format and quality, with the upload's ``meta``."""
    if fmt == "png":
        return write_image(folder / f"{stem}.png", img, meta=meta)
    if fmt == "jpeg" and _has_alpha(img):
        raise user_error("JPEG cannot store transparency, and this image has some; choose PNG or WebP.")
    if img.dtype != np.uint8:
        img = from_float(to_float(img), np.dtype(np.uint8))
    return write_image(folder / f"{stem}{_SUFFIX[fmt]}", img, quality=quality, meta=meta)


def save_animation(
    src: str, folder: Path, stem: str, upscale: Callable[[np.ndarray], np.ndarray], fmt: str, quality: int
) -> Path:
    """Every frame of the animated upload ``src`` through ``upscale``, as ``<stem>.png`` (animated PNG)
    or ``<stem>.webp``; JPEG holds one frame, so the caller offers only those two."""
    try:
        return upscale_animation(src, folder / f"{stem}{_SUFFIX[fmt]}", upscale, quality=quality)
    except (ImageReadError, ImageWriteError) as exc:
        raise request_error("Cannot upscale this animation", exc, src) from None
