"""Where the datasets live: ``--data-dir``, else ``$VDSR_DATA_DIR``, else ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["HOLDOUT_FRAMES", "IMAGE_SUFFIXES", "data_dir", "holdout_frames", "load_rgb_folder", "load_set"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".heic", ".heif", ".avif", ".bmp", ".webp", ".gif", ".tif", ".tiff")
_REPO_ROOT = Path(__file__).resolve().parent.parent

# Held-out video frames: video file under <data>/video -> frame indices. No training run and no choice
# between runs looks at them, so they judge models on footage of the kind users bring.
HOLDOUT_FRAMES: dict[str, tuple[int, ...]] = {"bikes.mp4": (20, 120, 220), "bigbuckbunny.mp4": (10, 70, 125)}
HOLDOUT = "holdout"


def data_dir(override: str | Path | None = None) -> Path:
    """Resolve the data directory; never downloads anything."""
    if override is not None:
        return Path(override)
    env = os.environ.get("VDSR_DATA_DIR")
    return Path(env) if env else _REPO_ROOT.parent / "shared" / "data"


def load_rgb_folder(folder: str | Path) -> list[tuple[str, np.ndarray]]:
    """Every image in ``folder`` (sorted by name) as (stem, HxWx3 uint8 RGB)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder} (set --data-dir or VDSR_DATA_DIR)")
    images = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            with Image.open(path) as im:
                images.append((path.stem, np.asarray(im.convert("RGB"))))
    if not images:
        raise FileNotFoundError(f"no images in {folder}")
    return images


def holdout_frames(root: Path) -> list[tuple[str, np.ndarray]]:
    """The held-out frames as (``video@index``, HxWx3 uint8 RGB) pairs."""
    from vdsr.video import read_frames  # PyAV only when frames are asked for

    return [
        (f"{Path(name).stem}@{i}", rgb)
        for name, indices in HOLDOUT_FRAMES.items()
        for i, rgb in read_frames(root / "video" / name, indices)
    ]


def load_set(name: str, root: Path) -> list[tuple[str, np.ndarray]]:
    """A scoring set by name: ``holdout`` (the held-out video frames), a folder under ``root`` (``Set5``)
    or any folder path."""
    if name == HOLDOUT:
        return holdout_frames(root)
    folder = Path(name)
    return load_rgb_folder(folder if folder.is_dir() else root / name)
