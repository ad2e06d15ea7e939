"""Upscale every image in a folder (photos, or a video's extracted frames) under the same names;
an animated image has every frame upscaled.

A format this cannot write (HEIC, AVIF) gives a PNG of the same stem: lossless, so nothing is lost twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from vdsr.animation import frame_count, upscale_animation
from vdsr.data import IMAGE_SUFFIXES
from vdsr.files import same_file
from vdsr.imageio import WRITE_SUFFIXES, read_image, read_meta, write_image
from vdsr.pipeline import Upscaler
from vdsr.video.formats import VIDEO_SUFFIXES

__all__ = ["FolderResult", "upscale_folder", "upscale_image_file"]


@dataclass(frozen=True)
class FolderResult:
    """``written`` paths in name order; ``failed`` maps a file name to the one-line reason; ``videos``
    names the video files left out."""

    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    videos: list[str] = field(default_factory=list)  # video files in the folder, not upscaled here


def upscale_image_file(
    src: Path,
    dst: Path,
    upscaler: Upscaler,
    scale: float,
    *,
    pixels: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """One image file into another: a still with its colour profile and EXIF, or an animation frame by
    frame with its timing (``progress(done, total)`` after each frame). ``pixels``: the still as
    :func:`~vdsr.imageio.read_image` gave it, where the caller has read it already."""
    if frame_count(src) > 1:
        return upscale_animation(src, dst, partial(upscaler.upscale, scale=scale), progress=progress)
    still = read_image(src) if pixels is None else pixels
    return write_image(dst, upscaler.upscale(still, scale), meta=read_meta(src))


def upscale_folder(
    src_dir: str | Path,
    dst_dir: str | Path,
    upscaler: Upscaler | Callable[[Path], Upscaler],
    scale: float,
    *,
    recursive: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> FolderResult:
    """Upscale each image file in ``src_dir`` into ``dst_dir``, same file names; with ``recursive``,
    those in its subfolders too (a phone's or camera's dump), into the same subfolders of ``dst_dir``.

    ``upscaler`` serves every image, or (a function) is chosen per image. ``failed`` and ``videos``
    name files by their path under ``src_dir``.

    A bad file is recorded in ``failed`` and the run carries on. Each output is
    written whole or not at all, so an interrupted run leaves only whole images.

    Raises:
        FileNotFoundError: ``src_dir`` is missing or holds no images.
        ValueError: ``dst_dir`` is ``src_dir`` (it would overwrite the originals) or a file.
    """
    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    if not src_dir.is_dir():
        raise FileNotFoundError(f"{src_dir}: no such folder")
    if same_file(src_dir, dst_dir):
        raise ValueError(f"{dst_dir}: the output folder must differ from the input folder")
    files = _files(src_dir, dst_dir, recursive)
    paths = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not paths:
        raise FileNotFoundError(f"{src_dir}: no images ({', '.join(IMAGE_SUFFIXES)})")
    if dst_dir.exists() and not dst_dir.is_dir():
        raise ValueError(f"{dst_dir}: is a file; the output of a folder is a folder")
    dst_dir.mkdir(parents=True, exist_ok=True)
    videos = [p.relative_to(src_dir).as_posix() for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    result = FolderResult(videos=videos)
    names: dict[Path, set[str]] = {}
    for path in paths:
        names.setdefault(path.parent, set()).add(path.name)
    for done, path in enumerate(paths, 1):
        dst = dst_dir / path.parent.relative_to(src_dir) / _output_name(path, names[path.parent])
        chosen = upscaler if isinstance(upscaler, Upscaler) else upscaler(path)
        try:
            result.written.append(upscale_image_file(path, dst, chosen, scale))
        except ValueError as exc:  # ImageReadError, ImageWriteError, InputError: one line each
            result.failed[path.relative_to(src_dir).as_posix()] = str(exc)
        if progress is not None:
            progress(done, len(paths))
    return result


def _files(src_dir: Path, dst_dir: Path, recursive: bool) -> list[Path]:
    """The folder's files in name order; with ``recursive``, each subfolder's after, but never the
    output folder's (it may lie inside) nor hidden ones (a viewer's thumbnails)."""
    if not recursive:
        return sorted(p for p in src_dir.iterdir() if p.is_file())
    output = dst_dir.resolve()
    found: list[Path] = []
    for folder, subfolders, files in os.walk(src_dir):
        here = Path(folder)
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and (here / d).resolve() != output)
        found += [here / name for name in sorted(files)]
    return found


def _output_name(path: Path, names: set[str]) -> str:
    """``path``'s name, or for a format that cannot be written, its stem as PNG (its whole name plus
    ``.png`` where another input already has that name)."""
    if path.suffix.lower() in WRITE_SUFFIXES:
        return path.name
    png = f"{path.stem}.png"
    return png if png not in names else f"{path.name}.png"
