"""The job folder beside the output (``OUT.parts/``): finished parts and the manifest they were made from.

The manifest names the source (size, modification time, a hash of its first and last MB), the
model, every setting that changes the pixels or the stream, the segment boundaries, and which
segments are done. A run that finds the folder continues it only when all of these match, so parts
of two different jobs never mix; anything else is refused in one line that names the difference.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vdsr.video.errors import VideoError, first_line
from vdsr.video.files import written_whole
from vdsr.video.part import PART_FORMAT
from vdsr.video.segments import Segment

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["Job", "discard_job", "job_folder", "open_job", "source_identity"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
VERSION = 1
_HASHED_BYTES = 1 << 20
_OURS = re.compile(rf"^(manifest\.json|part-\d+\.{PART_FORMAT}|\..+\.partial-[0-9a-f]+\.(json|{PART_FORMAT}))$")
_RESTART = "--restart discards it"


def job_folder(dst: Path) -> Path:
    """Where the parts of ``dst`` are kept until they are joined: ``dst`` with ``.parts`` added."""
    return dst.with_name(dst.name + ".parts")


def source_identity(path: Path) -> dict[str, Any]:
    """Size, modification time and a SHA-256 of the first and last MB: cheap even for hours of video."""
    stat = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as f:
        digest.update(f.read(_HASHED_BYTES))
        if stat.st_size > _HASHED_BYTES:
            f.seek(max(_HASHED_BYTES, stat.st_size - _HASHED_BYTES))
            digest.update(f.read(_HASHED_BYTES))
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256_first_last_mb": digest.hexdigest()}


@dataclass
class Job:
    """An open job folder: the planned segments and the frames of each finished one.

    Holds the folder's lock until :meth:`close` (use it as a context manager), so a second run of
    the same command waits its turn instead of writing the same parts.
    """

    folder: Path
    manifest: dict[str, Any]
    segments: list[Segment]
    done: dict[int, int] = field(default_factory=dict)  # segment number -> frames written
    lock: int | None = None  # descriptor holding the folder's lock

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the folder's lock (a crash releases it too)."""
        _unlock(self.lock)
        self.lock = None

    def part(self, number: int) -> Path:
        return self.folder / f"part-{number:05d}.{PART_FORMAT}"

    def todo(self) -> list[Segment]:
        return [s for s in self.segments if s.number not in self.done]

    def frames_done(self) -> int:
        return sum(self.done.values())

    def finish(self, segment: Segment, frames: int) -> None:
        """Record a segment whose part is complete under its own name."""
        self.done[segment.number] = frames
        self._save()

    def remove(self) -> None:
        """Delete the folder after the join (only files a job writes; anything else stays and is named)."""
        _clear(self.folder)

    def _save(self) -> None:
        self.manifest["done"] = {str(n): frames for n, frames in sorted(self.done.items())}
        _write_json(self.folder / MANIFEST, self.manifest)


def open_job(dst: Path, identity: dict[str, Any], segments: list[Segment], *, restart: bool) -> Job:
    """Continue the job for ``dst`` when its folder matches ``identity`` and ``segments``, else start one.

    Args:
        identity: ``{"source": ..., "model": ..., "settings": ...}``, plain JSON values.
        restart: discard an existing job folder first.

    Raises:
        VideoError: the folder holds a job that does not match, or files no job writes.
    """
    folder = job_folder(dst)
    manifest = {"version": VERSION, **identity, "segments": [s.to_json() for s in segments], "done": {}}
    manifest = json.loads(json.dumps(manifest))  # compared with what a manifest reads back as (lists, not tuples)
    lock = _lock(folder) if (folder / MANIFEST).is_file() else None
    try:
        if restart and folder.exists():
            _clear(folder)
            _unlock(lock)
            lock = None
            log.info("%s: discarded the unfinished job", folder)
        if not (folder / MANIFEST).is_file():
            if folder.exists() and any(folder.iterdir()):
                raise VideoError(f"{folder}: exists and is not a job folder (no {MANIFEST}); move it away")
            try:
                folder.mkdir(exist_ok=True)
            except OSError as exc:
                raise VideoError(f"{folder}: cannot create ({exc.strerror or first_line(exc)})") from None
            lock = _lock(folder)
            _write_json(folder / MANIFEST, manifest)
            return Job(folder, manifest, segments, lock=lock)
        old = _read_json(folder / MANIFEST)
        reason = _mismatch(old, manifest)
        if reason:
            raise VideoError(f"{folder} holds an unfinished job that does not match this one: {reason}; {_RESTART}")
        for stale in folder.glob(".*.partial-*"):  # a part or manifest cut off by a kill
            stale.unlink(missing_ok=True)
    except BaseException:
        _unlock(lock)
        raise
    done = old.get("done", {})
    job = Job(folder, old, segments, lock=lock)
    job.done = {int(n): int(frames) for n, frames in done.items() if job.part(int(n)).is_file()}
    return job


def discard_job(dst: Path, *, restart: bool) -> None:
    """For a one-pass request: remove a job folder left for ``dst`` when restarting, else refuse it.

    A one-pass request never matches a job of several segments, and a finished one would otherwise
    sit beside its output.
    """
    folder = job_folder(dst)
    if not folder.exists():
        return
    if not restart:
        raise VideoError(f"{folder} holds an unfinished job that does not match this one (one pass); {_RESTART}")
    lock = _lock(folder) if (folder / MANIFEST).is_file() else None
    try:
        _clear(folder)
    finally:
        _unlock(lock)
    log.info("%s: discarded the unfinished job", folder)


def _mismatch(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """What differs between a recorded job and this one, in words; None when they match."""
    if old.get("version") != VERSION:
        return f"it was written in manifest version {old.get('version')}, this is {VERSION}"
    for key, value in new["source"].items():
        if old.get("source", {}).get(key) != value:
            return f"the source changed ({key.replace('_', ' ')})"
    for part in ("model", "settings"):
        was, now = old.get(part, {}), new[part]
        for key in sorted(set(was) | set(now)):
            if was.get(key) != now.get(key):
                return f"{part} {key} was {was.get(key)!r}, now {now.get(key)!r}"
    if old.get("segments") != new["segments"]:
        return "the segment boundaries differ"
    return None


def _lock(folder: Path) -> int | None:
    """Take the folder's advisory lock, or refuse: another run is working on this job right now."""
    if fcntl is None:  # not on this platform: concurrent runs are the user's to avoid
        return None
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise VideoError(f"{folder}: another run is working on this job; wait for it to finish") from None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise VideoError(f"{path}: unreadable ({first_line(exc)}); {_RESTART}") from None
    if not isinstance(data, dict):
        raise VideoError(f"{path}: not a job manifest; {_RESTART}")
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` in one step, so a kill or a full disk leaves the old manifest or the new one.

    A failure is a VideoError naming ``path`` (:func:`vdsr.video.files.written_whole`)."""
    with written_whole(path) as hidden, hidden.open("w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())


def _clear(folder: Path) -> None:
    """Remove the files a job writes, then the folder; refuse to touch anything else."""
    others = [p.name for p in folder.iterdir() if not (p.is_file() and _OURS.match(p.name))]
    if others:
        raise VideoError(f"{folder}: holds files no job writes ({', '.join(sorted(others)[:3])}); move them away")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
