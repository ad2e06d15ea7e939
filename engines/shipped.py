"""What the package ships so that ``auto`` works without the data folder (a Hugging Face Space, ``pip install``).

The quality gate needs Set5 and int8 needs T91 calibration patches; without them ``auto`` could only
run fp32. Both are small enough to install with the engines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vdsr.data import data_dir, load_rgb_folder

__all__ = ["GATE_IMAGES", "INT8_CALIBRATION", "set5_images"]

_HERE = Path(__file__).resolve().parent

GATE_IMAGES = _HERE / "gate_images"
"""Three Set5 images (bird, butterfly, head), also the app's examples. On both shipped models every
lower-precision pair got the same verdict from the quality gate on these three as on all five."""

INT8_CALIBRATION = _HERE / "int8_calibration.npz"
"""The default int8 recipe's 64 calibration patches, equal to what T91 gives (:mod:`engines.calibration`)."""


def set5_images(data_root: Path | None = None) -> list[tuple[str, np.ndarray]] | None:
    """Set5 from ``data_root`` (default :func:`vdsr.data.data_dir`), else :data:`GATE_IMAGES`; None if neither."""
    for folder in ((data_root or data_dir()) / "Set5", GATE_IMAGES):
        try:
            return load_rgb_folder(folder)
        except FileNotFoundError:
            continue
    return None
