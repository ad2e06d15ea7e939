"""Outputs appear whole or not at all: each is written to a hidden temporary beside it and renamed into
place when complete, with the mode any other tool's output has (0666 less the umask).

An interrupted or failed write therefore never leaves a file under the output's name, and an old
file of that name stays as it was.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["same_file", "written_whole"]


def _temp_beside(dst: Path) -> Path:
    """A new, unique, empty hidden file beside ``dst`` (same suffix), so concurrent runs never collide.

    The suffix is kept because PIL, OpenCV and FFmpeg choose the format by it. Created with mode
    0666 so the umask decides, as for any other new file (``mkstemp`` gives 0600, which would leave
    the renamed output unreadable to other users and web servers).
    """
    for _ in range(100):
        path = dst.parent / f".{dst.stem}.partial-{secrets.token_hex(4)}{dst.suffix}"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(dst.parent))


@contextmanager
def written_whole(dst: Path) -> Iterator[Path]:
    """A temporary path to write; renamed to ``dst`` when the block completes, removed when it fails.

    Raises:
        OSError: the temporary cannot be created or renamed (a missing folder, no permission).
    """
    hidden = _temp_beside(dst)
    try:
        yield hidden
        os.replace(hidden, dst)
    except BaseException:
        hidden.unlink(missing_ok=True)
        raise


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` both exist and are one file (through links and relative paths alike)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
