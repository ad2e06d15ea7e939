"""How well a JPEG history is found in lossless files: ``python -m training.jpeg_history_study``.

:func:`vdsr.input_kind.jpeg_history_quality` decides whether a PNG (or BMP, TIFF, lossless WebP) was
a JPEG before, and at what quality. Its threshold was set on T91 and Set5, halved (bicubic) so that
the JPEG history some of T91's own files carry is gone; the frames of the four test clips (every 15th)
check it afterwards. Each picture is scored as it is, and after one round trip through each history
below; a row counts the pictures found to have been a JPEG, and how many of those at the right quality
(libjpeg's tables at neighbouring qualities can differ in a few steps only: 50 and 51 do).
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from vdsr.data import data_dir, load_rgb_folder
from vdsr.degrade import degrade
from vdsr.input_kind import jpeg_history_quality

__all__ = ["HISTORIES", "halve", "main", "study"]


def _jpeg(quality: int, **options: int) -> Callable[[Image.Image], Image.Image]:
    def save(im: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality, **options)
        with Image.open(buf) as out:
            return out.convert(im.mode)

    return save


def _spec(spec: str) -> Callable[[Image.Image], Image.Image]:
    return lambda im: Image.fromarray(degrade(np.asarray(im), spec))


# (name, what it does to a picture, the JPEG quality it leaves, if any)
HISTORIES: list[tuple[str, Callable[[Image.Image], Image.Image], int | None]] = [
    ("none", lambda im: im, None),
    *[(f"JPEG {q}", _jpeg(q), q) for q in (30, 50, 70, 80, 88, 90, 92, 95)],
    ("JPEG 85, no chroma subsampling", _jpeg(85, subsampling=0), 85),
    ("JPEG 75, gray", lambda im: _jpeg(75)(im.convert("L")), 75),
    ("JPEG 75, then 3 px cropped off the grid", lambda im: _jpeg(75)(im).crop((3, 3, *im.size)), None),
    ("JPEG 75, then resized x2", lambda im: _jpeg(75)(im).resize((im.width * 2, im.height * 2)), None),
    ("H.264 CRF 23 (one frame)", _spec("h264:23"), None),
    ("Gaussian noise 5", _spec("noise:5"), None),
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
    for name, history, quality in HISTORIES:
        found = [jpeg_history_quality(history(Image.fromarray(rgb))) for _, rgb in pictures]
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
        known = any(q for label, _, q in HISTORIES if label == name)
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
