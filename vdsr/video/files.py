"""Video outputs appear whole or not at all (:mod:`vdsr.files`), and every failure while writing one
is a VideoError that names the file the user asked for, never the temporary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av

from vdsr import files
from vdsr.video.errors import VideoError, first_line

__all__ = ["writing", "written_whole"]


def _cannot_write(dst: Path, reason: str) -> VideoError:
    return VideoError(f"{dst}: cannot write ({reason})")


@contextmanager
def writing(dst: Path, hidden: Path) -> Iterator[None]:
    """Turn a failure to write ``hidden`` (a full disk, a muxer that refuses) into a VideoError naming ``dst``."""
    try:
        yield
    except (av.FFmpegError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or first_line(exc)
        about = getattr(exc, "filename", None)
        if about is not None and Path(about) != hidden:
            raise VideoError(f"{about}: {reason}") from None  # another file (the source): named as it is
        raise _cannot_write(dst, reason) from None


@contextmanager
def written_whole(dst: Path) -> Iterator[Path]:
    """:func:`vdsr.files.written_whole` with every failure a VideoError that names ``dst``."""
    try:
        with files.written_whole(dst) as hidden, writing(dst, hidden):
            yield hidden
    except OSError as exc:  # creating the temporary or renaming it; ``writing`` maps the rest
        raise _cannot_write(dst, exc.strerror or first_line(exc)) from None
