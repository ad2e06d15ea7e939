"""Where the datasets live: ``--data-dir``, else ``$VDSR_DATA_DIR``, else ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["IMAGE_SUFFIXES", "data_dir", "load_rgb_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
_REPO_ROOT = Path(__file__).resolve().parent.parent


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
