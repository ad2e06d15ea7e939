"""Pack what the GPU study reads into one folder that can travel: ``python -m training.gpu_pack .gpu``.

A GPU machine may have neither the data folder nor PyAV, which decodes the held-out video frames.
This copies T91 and Set5 and writes the six held-out frames as lossless PNG into ``<dir>/data``
(about 20 MiB); ``python -m training.gpu_study --data-dir <dir>/data`` then reads the frames from
there, pixel for pixel what decoding the videos gives.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from vdsr.data import HOLDOUT_FRAMES, data_dir, holdout_frames, load_rgb_folder
from vdsr.imageio import write_image

__all__ = ["HOLDOUT_FOLDER", "holdout_names", "load_holdout", "main", "pack"]

HOLDOUT_FOLDER = "holdout-frames"
SETS = ("T91", "Set5")


def holdout_names() -> list[str]:
    """The held-out frames' names, ``video@index``, in the order :func:`vdsr.data.holdout_frames` gives them."""
    return [f"{Path(name).stem}@{i}" for name, indices in HOLDOUT_FRAMES.items() for i in indices]


def load_holdout(root: Path) -> list[tuple[str, np.ndarray]]:
    """The held-out frames: packed PNGs under ``root`` if there are any, else decoded from ``root/video``."""
    folder = root / HOLDOUT_FOLDER
    if not folder.is_dir():
        return holdout_frames(root)
    frames = dict(load_rgb_folder(folder))
    if sorted(frames) != sorted(holdout_names()):
        raise FileNotFoundError(f"{folder} holds {sorted(frames)}, not the held-out frames {holdout_names()}")
    return [(name, frames[name]) for name in holdout_names()]


def pack(dest: Path, root: Path) -> int:
    """Copy the training and scoring sets and write the held-out frames under ``dest``; returns its bytes."""
    for name in SETS:
        shutil.copytree(root / name, dest / name, dirs_exist_ok=True)
    for name, rgb in holdout_frames(root):
        write_image(dest / HOLDOUT_FOLDER / f"{name}.png", rgb)
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.gpu_pack", description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path, help="the folder to pack into; the data go to <dir>/data")
    p.add_argument("--data-dir", type=Path, help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    args = p.parse_args(argv)
    size = pack(args.dir / "data", data_dir(args.data_dir))
    print(f"packed {size / 2**20:.1f} MiB into {args.dir / 'data'}; pass --data-dir {args.dir / 'data'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
