"""Upscale every image in a folder (photos, or a video's extracted frames) under the same names;
an animated image has every frame upscaled.

A format this cannot write (HEIC, AVIF) gives a PNG of the same stem: lossless, so nothing is lost twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from vdsr.animation import frame_count, upscale_animation
from vdsr.data import IMAGE_SUFFIXES
from vdsr.files import same_file
from vdsr.imageio import WRITE_SUFFIXES, read_image, read_meta, write_image
from vdsr.pipeline import Upscaler
from vdsr.video.formats import VIDEO_SUFFIXES

__all__ = ["FolderResult", "upscale_folder"]


@dataclass(frozen=True)
class FolderResult:
    """``written`` paths in name order; ``failed`` maps a file name to the one-line reason; ``videos``
    names the video files left out."""

    written: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    videos: list[str] = field(default_factory=list)  # video files in the folder, not upscaled here


def upscale_folder(
    src_dir: str | Path,
    dst_dir: str | Path,
    upscaler: Upscaler | Callable[[Path], Upscaler],
    scale: float,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> FolderResult:
    """Upscale each image file in ``src_dir`` (not subfolders) into ``dst_dir``, same file names.

    ``upscaler`` serves every image, or (a function) is chosen per image.

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
    paths = sorted(p for p in src_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"{src_dir}: no images ({', '.join(IMAGE_SUFFIXES)})")
    if dst_dir.exists() and not dst_dir.is_dir():
        raise ValueError(f"{dst_dir}: is a file; the output of a folder is a folder")
    dst_dir.mkdir(parents=True, exist_ok=True)
    result = FolderResult(videos=sorted(p.name for p in src_dir.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES))
    names = {p.name for p in paths}
    for done, path in enumerate(paths, 1):
        dst = dst_dir / _output_name(path, names)
        chosen = upscaler if isinstance(upscaler, Upscaler) else upscaler(path)
        try:
            if frame_count(path) > 1:
                result.written.append(upscale_animation(path, dst, partial(chosen.upscale, scale=scale)))
            else:
                result.written.append(write_image(dst, chosen.upscale(read_image(path), scale), meta=read_meta(path)))
        except ValueError as exc:  # ImageReadError, ImageWriteError, InputError: one line each
            result.failed[path.name] = str(exc)
        if progress is not None:
            progress(done, len(paths))
    return result


def _output_name(path: Path, names: set[str]) -> str:
    """``path``'s name, or for a format that cannot be written, its stem as PNG (its whole name plus
    ``.png`` where another input already has that name)."""
    if path.suffix.lower() in WRITE_SUFFIXES:
        return path.name
    png = f"{path.stem}.png"
    return png if png not in names else f"{path.name}.png"
