"""Check an upscale request before any file is opened, so bad arguments fail fast with a one-line message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vdsr.files import same_file
from vdsr.video.errors import VideoError
from vdsr.video.formats import OUTPUT_FORMATS, OUTPUT_SUFFIXES, X264_PRESETS
from vdsr.video.probe import VideoInfo

__all__ = ["Trim", "check_request"]


@dataclass(frozen=True)
class Trim:
    """The part of the source to process.

    Attributes:
        start: seconds to skip first (None: from the first frame).
        duration: seconds of video to process from ``start`` (None: to the end).
        max_frames: stop after this many frames (None: no limit).
    """

    start: float | None = None
    duration: float | None = None
    max_frames: int | None = None

    @property
    def active(self) -> bool:
        """True when any limit is set; a whole-file run keeps every audio packet."""
        return self.start is not None or self.duration is not None or self.max_frames is not None

    def expected_frames(self, info: VideoInfo) -> int:
        """Frames this trim should yield from ``info`` (an estimate for progress; at least 1)."""
        total = info.frames
        if self.start:
            total -= round(self.start * info.fps)
        if self.duration is not None:
            total = min(total, max(1, round(self.duration * info.fps)))
        if self.max_frames is not None:
            total = min(total, self.max_frames)
        return max(total, 1)


def check_request(src: Path, dst: Path, scale: float, crf: int, preset: str, trim: Trim) -> str:
    """Validate the arguments of :func:`~vdsr.video.upscale_video`; returns the output container format."""
    fmt = OUTPUT_FORMATS.get(dst.suffix.lower())
    if fmt is None:
        raise VideoError(
            f"{dst}: unsupported output container {dst.suffix or '(none)'}; use " + ", ".join(OUTPUT_SUFFIXES)
        )
    if same_file(src, dst):
        raise VideoError(f"{dst}: output would overwrite the input")
    if not 0 <= crf <= 51:
        raise VideoError(f"crf must be 0-51 (lower is better quality), got {crf}")
    if preset not in X264_PRESETS:
        raise VideoError(f"preset must be one of {', '.join(X264_PRESETS)}; got {preset!r}")
    if not np.isfinite(scale) or scale < 1:
        raise VideoError(f"scale must be a number >= 1, got {scale}")
    start, duration, max_frames = trim.start, trim.duration, trim.max_frames
    if start is not None and not (np.isfinite(start) and start >= 0):
        raise VideoError(f"start must be >= 0 seconds, got {start}")
    if duration is not None and not (np.isfinite(duration) and duration > 0):
        raise VideoError(f"duration must be > 0 seconds, got {duration}")
    if max_frames is not None and max_frames < 1:
        raise VideoError(f"max_frames must be >= 1, got {max_frames}")
    return fmt
