"""Files appear whole or not at all: each is written to a hidden temporary beside it and renamed into
place when complete, with the mode any other tool's output has (0666 less the umask).

Failures while writing name the file the user asked for, never the temporary.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av

from vdsr.video.errors import VideoError, first_line

__all__ = ["replace_atomically", "temp_beside", "writing", "written_whole"]


def temp_beside(dst: Path) -> Path:
    """A new, unique, empty hidden file beside ``dst`` (same suffix), so concurrent runs never collide.

    Created with mode 0666 so the umask decides, as for any other new file (``mkstemp`` gives 0600,
    which would leave the renamed output unreadable to other users and web servers).
    """
    for _ in range(100):
        path = dst.parent / f".{dst.stem}.partial-{secrets.token_hex(4)}{dst.suffix}"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise VideoError(f"{dst}: cannot write ({exc.strerror or first_line(exc)})") from None
        os.close(fd)
        return path
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(dst.parent))


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
        raise VideoError(f"{dst}: cannot write ({reason})") from None


@contextmanager
def written_whole(dst: Path) -> Iterator[Path]:
    """A temporary path to write; renamed to ``dst`` when the block completes, removed when it fails.

    An interrupted or failed write therefore never leaves a file under ``dst``'s name, and an old
    ``dst`` stays as it was.
    """
    hidden = temp_beside(dst)
    try:
        with writing(dst, hidden):
            yield hidden
        replace_atomically(hidden, dst)
    except BaseException:
        hidden.unlink(missing_ok=True)
        raise


def replace_atomically(hidden: Path, dst: Path) -> None:
    """Rename ``hidden`` to ``dst`` in one step (both in the same folder)."""
    try:
        os.replace(hidden, dst)
    except OSError as exc:
        raise VideoError(f"{dst}: cannot write ({exc.strerror or first_line(exc)})") from None
