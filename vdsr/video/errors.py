"""The one error the video package raises; no PyAV here, so catching it costs nothing."""

from __future__ import annotations

__all__ = ["VideoError", "first_line"]


class VideoError(ValueError):
    """A video is missing, unreadable, unsupported or too large; the message is one line."""


def first_line(exc: BaseException) -> str:
    """The first line of an FFmpeg or OS error, so a VideoError message stays one line."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
