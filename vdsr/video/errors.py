"""The one error the video package raises; no PyAV here, so catching it costs nothing."""

from __future__ import annotations

import re

__all__ = ["RAY_MISSING", "VideoError", "first_line"]

RAY_MISSING = "Ray is not installed; pip install ray to send segments to a Ray cluster"
"""What ``--ray`` says where Ray is missing (Ray is optional)."""


class VideoError(ValueError):
    """A video is missing, unreadable, unsupported or too large; the message is one line."""


_ERRNO = re.compile(r"^\[Errno -?\d+\] ")
_FILE_NAMED = re.compile(r": '[^']*'(?=;|$)")


def first_line(exc: BaseException) -> str:
    """The first line of an FFmpeg or OS error, so a VideoError message stays one line; without its
    error number and the file name the message already starts with."""
    text = str(exc).strip().splitlines()
    return _FILE_NAMED.sub("", _ERRNO.sub("", text[0]), count=1) if text else type(exc).__name__
