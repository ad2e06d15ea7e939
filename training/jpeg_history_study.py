"""How well a JPEG history is found in lossless files: ``python -m training.jpeg_history_study``.

:func:`vdsr.input_kind.jpeg_history_quality` decides whether a PNG (or BMP, TIFF, lossless WebP) was
a JPEG before, and at what quality. Its threshold was set on T91 and Set5, halved (bicubic) so that
the JPEG history some of T91's own files carry is gone; the frames of the four test clips (every 15th)
check it afterwards. Each picture is scored as it is, and after one round trip through each history
below; a row counts the pictures found to have been a JPEG, and how many of those at the right quality
(libjpeg's tables at neighbouring qualities can differ in a few steps only: 50 and 51 do). The last rows
are JPEG files, searched below their own quality for an earlier, lower one.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from vdsr.data import data_dir, load_rgb_folder
from vdsr.degrade import degrade
from vdsr.input_kind import jpeg_history_quality

__all__ = ["HISTORIES", "History", "halve", "main", "study"]


def _jpeg(quality: int, **options: int) -> Callable[[Image.Image], Image.Image]:
    def save(im: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality, **options)
        with Image.open(buf) as out:
            return out.convert(im.mode)

    return save


def _spec(spec: str) -> Callable[[Image.Image], Image.Image]:
    return lambda im: Image.fromarray(degrade(np.asarray(im), spec))


def _twice(first: int, then: int) -> Callable[[Image.Image], Image.Image]:
    return lambda im: _jpeg(then)(_jpeg(first)(im))


class History(NamedTuple):
    """What was done to a picture, the JPEG quality to find in it (None: none), and the file's own, if a JPEG."""

    name: str
    make: Callable[[Image.Image], Image.Image]
    quality: int | None
    saved_at: int | None = None


HISTORIES: list[History] = [
    History("none", lambda im: im, None),
    *[History(f"JPEG {q}", _jpeg(q), q) for q in (30, 50, 70, 80, 88, 90, 92, 95)],
    History("JPEG 85, no chroma subsampling", _jpeg(85, subsampling=0), 85),
    History("JPEG 75, gray", lambda im: _jpeg(75)(im.convert("L")), 75),
    History("JPEG 75, then 3 px cropped off the grid", lambda im: _jpeg(75)(im).crop((3, 3, *im.size)), 75),
    History("JPEG 92, then 5 px and 2 px cropped off", lambda im: _jpeg(92)(im).crop((5, 2, *im.size)), 92),
    History("JPEG 75, then resized x2", lambda im: _jpeg(75)(im).resize((im.width * 2, im.height * 2)), None),
    History("H.264 CRF 23 (one frame)", _spec("h264:23"), None),
    History("Gaussian noise 5", _spec("noise:5"), None),
    # JPEG files, searched below their own quality: re-saved at a higher quality, or saved once
    *[History(f"a JPEG {q} file, saved once", _jpeg(q), None, q) for q in (50, 75, 90, 95, 98)],
    *[
        History(f"a JPEG {then} file, JPEG {first} before", _twice(first, then), first, then)
        for first, then in ((30, 75), (50, 90), (50, 95), (70, 95), (85, 95), (60, 98))
    ],
]


def halve(rgb: np.ndarray) -> np.ndarray:
    """Half the size (bicubic): any 8x8 grid a picture carried from an earlier JPEG is gone."""
    return np.asarray(Image.fromarray(rgb).resize((rgb.shape[1] // 2, rgb.shape[0] // 2), Image.Resampling.BICUBIC))


def _clip_frames(root: Path, step: int = 15) -> Iterable[tuple[str, np.ndarray]]:
    from vdsr.video import probe_video, read_frames

    for clip in sorted((root / "video").glob("*.mp4")):
        yield from ((f"{clip.stem}@{i}", rgb) for i, rgb in read_frames(clip, range(0, probe_video(clip).frames, step)))


def study(pictures: list[tuple[str, np.ndarray]]) -> dict[str, dict[str, int]]:
    """Per history: pictures, how many were found to have been a JPEG, and how many at the right quality."""
    rows = {}
    for name, make, quality, saved_at in HISTORIES:
        found = [jpeg_history_quality(make(Image.fromarray(rgb)), below=saved_at) for _, rgb in pictures]
        rows[name] = {
            "pictures": len(found),
            "found": sum(q is not None for q in found),
            "right_quality": sum(q == quality for q in found) if quality else 0,
            "within_2": sum(q is not None and abs(q - quality) <= 2 for q in found) if quality else 0,
        }
    return rows


def _table(title: str, rows: dict[str, dict[str, int]]) -> str:
    lines = [title, "", "| history | found a JPEG | at its quality | within 2 of it |", "|---|---|---|---|"]
    for name, r in rows.items():
        n = r["pictures"]
        known = any(h.quality for h in HISTORIES if h.name == name)
        right = f"{r['right_quality']}/{n} | {r['within_2']}/{n}" if known else " | "
        lines.append(f"| {name} | {r['found']}/{n} | {right} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.jpeg_history_study", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="data folder (default: $VDSR_DATA_DIR or ../shared/data)")
    p.add_argument("--json", type=Path, help="also write the counts here")
    args = p.parse_args(argv)
    root = data_dir(args.data_dir)
    halved = [(name, halve(rgb)) for folder in ("T91", "Set5") for name, rgb in load_rgb_folder(root / folder)]
    results = {"T91 and Set5, halved": study(halved), "frames of the test clips": study(list(_clip_frames(root)))}
    print("\n\n".join(_table(title, rows) for title, rows in results.items()))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
