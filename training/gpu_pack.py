"""Pack what the GPU study reads into one folder that can travel: ``python -m training.gpu_pack .gpu``.

A GPU machine may have neither the data folder nor PyAV, and what travels to it is small. This writes
T91, Set5 and the six held-out video frames as lossless WebP into ``<dir>/data`` (about 10 MiB, pixel
for pixel what reading the originals or decoding the videos gives); ``python -m training.gpu_study
--data-dir <dir>/data`` then reads them from there. ``--wheel av-*.whl`` also unpacks PyAV (which the
real-world run's h264/mpeg2 damage needs) into ``<dir>/site.tar.xz``, about 25 MiB against the wheel's
36: on the GPU machine ``tar -xJf <dir>/site.tar.xz -C /tmp/site`` and put ``/tmp/site`` on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from vdsr.data import HOLDOUT_FRAMES, data_dir, holdout_frames, load_rgb_folder
from vdsr.imageio import write_image

__all__ = ["HOLDOUT_FOLDER", "SITE_ARCHIVE", "holdout_names", "load_holdout", "pack"]

HOLDOUT_FOLDER = "holdout-frames"
SITE_ARCHIVE = "site.tar.xz"
SETS = ("T91", "Set5")


def holdout_names() -> list[str]:
    """The held-out frames' names, ``video@index``, in the order :func:`vdsr.data.holdout_frames` gives them."""
    return [f"{Path(name).stem}@{i}" for name, indices in HOLDOUT_FRAMES.items() for i in indices]


def load_holdout(root: Path) -> list[tuple[str, np.ndarray]]:
    """The held-out frames: packed images under ``root`` if there are any, else decoded from ``root/video``."""
    folder = root / HOLDOUT_FOLDER
    if not folder.is_dir():
        return holdout_frames(root)
    frames = dict(load_rgb_folder(folder))
    if sorted(frames) != sorted(holdout_names()):
        raise FileNotFoundError(f"{folder} holds {sorted(frames)}, not the held-out frames {holdout_names()}")
    return [(name, frames[name]) for name in holdout_names()]


def _write_lossless(folder: Path, images: list[tuple[str, np.ndarray]]) -> None:
    for name, rgb in images:
        write_image(folder / f"{name}.webp", rgb, lossless=True)


def _site_archive(dest: Path, wheels: list[Path]) -> None:
    """Unpack the wheels (zip files laid out as site-packages) into one xz tarball, which packs tighter."""
    with tempfile.TemporaryDirectory() as tmp:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                zf.extractall(tmp)
        partial = dest.with_name(dest.name + ".partial")
        with tarfile.open(partial, "w:xz", preset=9) as tar:
            for path in sorted(Path(tmp).iterdir()):
                tar.add(path, arcname=path.name)
        partial.replace(dest)


def pack(dest: Path, root: Path, wheels: list[Path] | None = None) -> int:
    """Write the training and scoring sets and the held-out frames to ``dest/data``, and the wheels to
    ``dest/site.tar.xz``; returns the bytes written."""
    for name in SETS:
        _write_lossless(dest / "data" / name, load_rgb_folder(root / name))
    _write_lossless(dest / "data" / HOLDOUT_FOLDER, holdout_frames(root))
    if wheels:
        _site_archive(dest / SITE_ARCHIVE, wheels)
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.gpu_pack", description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path, help="the folder to pack into: <dir>/data and <dir>/site.tar.xz")
    p.add_argument("--data-dir", type=Path, help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    p.add_argument("--wheel", type=Path, action="append", default=[], help="a wheel to carry, e.g. PyAV's")
    args = p.parse_args(argv)
    missing = [str(w) for w in args.wheel if not w.is_file()]
    if missing:
        p.error(f"no such wheel: {', '.join(missing)}")
    size = pack(args.dir, data_dir(args.data_dir), args.wheel)
    print(f"packed {size / 2**20:.1f} MiB into {args.dir}; pass --data-dir {args.dir / 'data'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
