"""Images of several frames (animated GIF, PNG and WebP; multi-page TIFF): every frame upscaled, the
timing and looping kept.

Pillow composes each frame onto the canvas as a viewer shows it (GIF disposal, APNG blending), so
each frame read is a whole picture and is written whole. The upscaled frames are held in memory until
the file is encoded (GIF needs them all to build its palettes), so their total size is limited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageSequence

from vdsr.files import written_whole
from vdsr.imageio import ImageReadError, ImageWriteError, pixels_of

__all__ = ["ANIMATED_SUFFIXES", "MAX_ANIMATION_PIXELS", "check_animation_output", "frame_count", "upscale_animation"]

ANIMATED_SUFFIXES = {".gif": "GIF", ".png": "PNG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
"""Output suffixes whose format holds several frames, and Pillow's name for it."""

MAX_ANIMATION_PIXELS = 400_000_000
"""Output pixels over all frames (1.6 GB as RGBA), held until the file is written."""


@dataclass(frozen=True)
class _Frame:
    pixels: np.ndarray
    duration: int  # milliseconds shown; 0 for TIFF pages


_MOVING_FORMATS = {"GIF", "PNG", "WEBP", "TIFF"}
"""Pillow formats whose frames are all pictures to show. A JPEG's second picture (MPO) is another view
or a depth map, and a HEIC's are thumbnails or depth: those files are stills."""


def frame_count(path: str | Path) -> int:
    """How many frames or pages an image file holds; 1 for a still or a file PIL cannot open."""
    try:
        with Image.open(path) as im:
            return int(getattr(im, "n_frames", 1)) if im.format in _MOVING_FORMATS else 1
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):  # reading reports the problem
        return 1


def check_animation_output(path: str | Path, frames: int, height: int, width: int) -> None:
    """Raise ImageWriteError if ``path``'s format cannot hold ``frames`` frames of ``width`` x ``height``,
    or they are too large to hold; a caller checks before any work."""
    path = Path(path)
    if path.suffix.lower() not in ANIMATED_SUFFIXES:
        raise ImageWriteError(f"{path}: cannot hold {frames} frames; write .gif, .webp or .png (animated) or .tif")
    total = frames * height * width
    if total > MAX_ANIMATION_PIXELS:
        raise ImageWriteError(
            f"{path}: {frames} frames of {width}x{height} are {total / 1e6:.0f} megapixels in all, over the "
            f"limit of {MAX_ANIMATION_PIXELS / 1e6:.0f}; use a smaller scale"
        )


def _frames(
    path: Path,
    dst: Path,
    upscale: Callable[[np.ndarray], np.ndarray],
    progress: Callable[[int, int], None] | None,
) -> tuple[list[_Frame], int | None]:
    """Each frame of ``path`` upscaled, with its duration; the loop count (None: the file has none).
    A 16-bit frame bound for a format other than TIFF is refused before it is upscaled."""
    frames: list[_Frame] = []
    try:
        with Image.open(path) as im:
            loop = im.info.get("loop")
            count = int(getattr(im, "n_frames", 1))
            for done, frame in enumerate(ImageSequence.Iterator(im), 1):
                frame.load()
                pixels = pixels_of(frame)
                if pixels.dtype == np.uint16 and ANIMATED_SUFFIXES[dst.suffix.lower()] != "TIFF":
                    raise ImageWriteError(f"{dst}: 16-bit frames need .tif")
                frames.append(_Frame(upscale(pixels), int(frame.info.get("duration", 0) or 0)))
                if progress is not None:
                    progress(done, count)
    except (OSError, SyntaxError) as exc:
        raise ImageReadError(f"{path}: damaged or truncated image ({exc})") from None
    return frames, loop


def _as_pictures(frames: list[_Frame]) -> list[Image.Image]:
    """The frames as PIL images of one mode: RGBA if any has alpha, else RGB (gray is widened too:
    GIF and WebP hold colour)."""
    alpha = any(f.pixels.ndim == 3 and f.pixels.shape[2] in (2, 4) for f in frames)
    mode = "RGBA" if alpha else "RGB"
    return [Image.fromarray(f.pixels).convert(mode) for f in frames]


def upscale_animation(
    src: str | Path,
    dst: str | Path,
    upscale: Callable[[np.ndarray], np.ndarray],
    *,
    quality: int = 95,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write every frame of ``src`` passed through ``upscale`` to ``dst``, with the source's frame
    durations and loop count; the format follows ``dst``'s suffix (see :data:`ANIMATED_SUFFIXES`),
    WebP at ``quality``.

    Raises:
        ImageReadError: ``src`` is damaged.
        ImageWriteError: ``dst`` cannot hold the frames or cannot be written (one line).
    """
    src, dst = Path(src), Path(dst)
    fmt = ANIMATED_SUFFIXES.get(dst.suffix.lower())
    if fmt is None:
        check_animation_output(dst, frame_count(src), 1, 1)  # raises: names the formats that hold frames
    frames, loop = _frames(src, dst, upscale, progress)
    pictures = _as_pictures(frames) if fmt != "TIFF" else [Image.fromarray(f.pixels) for f in frames]
    options: dict[str, Any] = {"save_all": True, "append_images": pictures[1:], "format": fmt}
    if fmt != "TIFF":
        options["duration"] = [f.duration for f in frames]
        if loop is not None:
            options["loop"] = loop
    if fmt == "GIF":
        options["disposal"] = 2  # each frame is whole: clear it before the next, or its transparent parts show the last
    elif fmt == "PNG":
        options["blend"] = 0  # APNG: each frame replaces the last rather than being drawn over it
    elif fmt == "WEBP":
        options["quality"] = quality
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(dst) as hidden:
            pictures[0].save(hidden, **options)
    except OSError as exc:
        raise ImageWriteError(f"{dst}: cannot write ({exc.strerror or exc})") from None
    return dst
