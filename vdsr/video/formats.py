"""Which files count as video, which containers can be written, and how large frames may be.

Plain data without PyAV, so a caller can decide whether a path is a video before paying for the import.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_PRESET",
    "DEINTERLACE_MODES",
    "MAX_OUTPUT_PIXELS",
    "MAX_VIDEO_PIXELS",
    "OUTPUT_FORMATS",
    "OUTPUT_SUFFIXES",
    "VIDEO_SUFFIXES",
    "X264_PRESETS",
]

VIDEO_SUFFIXES = (
    ".mp4",
    ".m4v",
    ".mkv",
    ".mov",
    ".avi",
    ".webm",
    ".mpg",
    ".mpeg",
    ".m2v",
    ".vob",
    ".ts",
    ".mts",
    ".m2ts",
    ".dv",
    ".wmv",
    ".flv",
    ".3gp",
    ".ogv",
)
"""Input suffixes the CLI treats as video (PyAV reads more; the content decides)."""

OUTPUT_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")
"""Containers that hold H.264 and keep timestamps exactly."""

OUTPUT_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
"""Output suffix -> FFmpeg muxer name."""

DEFAULT_PRESET = "medium"
"""x264's own default speed preset."""

DEINTERLACE_MODES = ("auto", "on", "off")
"""``auto``: deinterlace what the file says is interlaced; ``on``: every frame; ``off``: never."""

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")

MAX_VIDEO_PIXELS = 4096 * 2160
"""Largest input frame (DCI 4K)."""

MAX_OUTPUT_PIXELS = 8192 * 4320
"""Largest output frame: H.264 level 6.2's limit (8K UHD)."""
