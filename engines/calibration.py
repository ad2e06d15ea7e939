"""Calibration inputs for int8: T91 patches exactly as the network sees them at inference.

The calibrated ranges only fit real inputs if the patches are real inputs: a bicubic downscale
rounded to 8 bits (:func:`vdsr.degrade.low_resolution`), its luma bicubic-upscaled back.

The default recipe's patches also ship with the package (:data:`INT8_CALIBRATION`, 2 MB), so
``auto`` can build int8 where there is no data folder, as on a Hugging Face Space or after ``pip
install``; a test checks they equal T91's. After a change to how patches are made, write them again
with ``write_shipped_patches(Path("../shared/data/T91"), count=64, size=96, seed=0)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engines.shipped import INT8_CALIBRATION
from vdsr.color import rgb_to_y
from vdsr.data import load_rgb_folder
from vdsr.degrade import low_resolution, modcrop
from vdsr.pipeline import to_float
from vdsr.resize import imresize

__all__ = ["calibration_patches", "shipped_patches", "write_shipped_patches"]


def calibration_patches(
    train_dir: Path,
    *,
    count: int = 64,
    size: int = 96,
    seed: int = 0,
    scales: Sequence[int] = (2, 3, 4),
    degradation: str = "clean",
) -> list[np.ndarray]:
    """``count`` network inputs cropped from the images in ``train_dir`` (T91): float32 (1, 1, size, size) each.

    Each patch is what the network sees at inference, so the calibrated ranges fit real inputs: an image
    bicubic-downscaled by a scale (x2/x3/x4 mixed) and rounded to 8 bits (:func:`vdsr.degrade.low_resolution`),
    its luma bicubic-upscaled back. Images are drawn in proportion to their patch positions, as training
    draws them, and the same ``seed`` always gives the same patches. ``degradation`` (a spec of
    :mod:`vdsr.degrade`, e.g. ``jpeg:30-95``) damages the low-resolution images first, as a real-world
    model's inputs are.

    Raises:
        ValueError: no image is large enough for ``size`` pixel patches at some scale.
    """
    rng = np.random.default_rng(seed)
    images = [to_float(img) for _, img in load_rgb_folder(train_dir)]
    weights = {}
    for s in scales:
        positions = np.array([_positions(modcrop(img, s).shape[:2], size) for img in images], float)
        if positions.sum() == 0:
            raise ValueError(f"no image in {train_dir} is large enough for {size}px patches at x{s}")
        weights[s] = positions / positions.sum()
    inputs: dict[tuple[int, int], np.ndarray] = {}  # (image, scale) -> network input luma, made once
    patches = []
    for s in (int(s) for s in rng.choice(scales, size=count)):
        k = int(rng.choice(len(images), p=weights[s]))
        if (k, s) not in inputs:
            hr = modcrop(images[k], s)
            lr = to_float(low_resolution(hr, s, degradation, seed=[seed, k, s]))
            inputs[(k, s)] = imresize(rgb_to_y(lr), hr.shape[:2]).astype(np.float32)
        y = inputs[(k, s)]
        top, left = int(rng.integers(y.shape[0] - size + 1)), int(rng.integers(y.shape[1] - size + 1))
        patches.append(np.ascontiguousarray(y[top : top + size, left : left + size])[None, None])
    return patches


def _positions(shape: tuple[int, ...], size: int) -> int:
    """How many ``size`` x ``size`` patches fit in an image of ``shape`` (H, W)."""
    return max(0, shape[0] - size + 1) * max(0, shape[1] - size + 1)


def shipped_patches(count: int, size: int, seed: int) -> list[np.ndarray] | None:
    """The shipped patches if they are the ones ``calibration_patches(T91, count=, size=, seed=)`` gives, else None."""
    if not INT8_CALIBRATION.is_file():
        return None
    with np.load(INT8_CALIBRATION) as stored:
        if [int(stored[k]) for k in ("count", "size", "seed")] != [count, size, seed]:
            return None
        patches = stored["patches"]
    return [patches[i : i + 1] for i in range(len(patches))]


def write_shipped_patches(train_dir: Path, *, count: int, size: int, seed: int) -> Path:
    """Compute the patches from ``train_dir`` (T91) and store them as :data:`INT8_CALIBRATION`."""
    patches = np.concatenate(calibration_patches(train_dir, count=count, size=size, seed=seed))
    np.savez_compressed(INT8_CALIBRATION, patches=patches, count=count, size=size, seed=seed)
    return INT8_CALIBRATION
