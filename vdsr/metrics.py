"""PSNR and SSIM in the standard super-resolution protocol.

Both take images as float arrays in [0, 1], (H, W) luma or (H, W, 3) RGB.
RGB inputs are converted to BT.601 Y first (``y_only=True``), values are
compared on the [0, 255] scale, and ``crop_border`` pixels are shaved from
every side (by convention, the scale factor).
"""

from __future__ import annotations

import math

import numpy as np
from skimage.metrics import structural_similarity

from vdsr.color import rgb_to_y

__all__ = ["psnr", "ssim"]


def _prepare(sr: np.ndarray, hr: np.ndarray, crop_border: int, y_only: bool) -> tuple[np.ndarray, np.ndarray]:
    if sr.shape != hr.shape:
        raise ValueError(f"shape mismatch: sr {sr.shape} vs hr {hr.shape}")
    if crop_border < 0:
        raise ValueError("crop_border must be >= 0")
    sr64, hr64 = sr.astype(np.float64), hr.astype(np.float64)
    if y_only and sr64.ndim == 3:
        sr64, hr64 = rgb_to_y(sr64), rgb_to_y(hr64)
    if crop_border:
        sr64 = sr64[crop_border:-crop_border, crop_border:-crop_border]
        hr64 = hr64[crop_border:-crop_border, crop_border:-crop_border]
    if sr64.size == 0:
        raise ValueError("image is empty after cropping the border")
    return sr64 * 255.0, hr64 * 255.0


def psnr(sr: np.ndarray, hr: np.ndarray, *, crop_border: int, y_only: bool = True) -> float:
    """Peak signal-to-noise ratio in dB (peak 255); ``inf`` for identical images."""
    a, b = _prepare(sr, hr, crop_border, y_only)
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def ssim(sr: np.ndarray, hr: np.ndarray, *, crop_border: int, y_only: bool = True) -> float:
    """SSIM with the Gaussian window of Wang et al. (sigma 1.5), on the [0, 255] scale."""
    a, b = _prepare(sr, hr, crop_border, y_only)
    return float(
        structural_similarity(
            a,
            b,
            data_range=255.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            channel_axis=-1 if a.ndim == 3 else None,
        )
    )
