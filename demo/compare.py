"""Compare mode: take an image as ground truth and score what bicubic and VDSR recover from its downscale.

The ground truth and the low-resolution input come from :func:`vdsr.degrade.protocol_pair` and the
scores from :func:`vdsr.metrics.psnr` / :func:`vdsr.metrics.ssim`, as :mod:`vdsr.evaluate` scores the
benchmarks (BT.601 Y, ``scale`` pixels shaved from each border), so the app's numbers match the tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from vdsr.degrade import protocol_pair
from vdsr.metrics import psnr, ssim
from vdsr.pipeline import InputError, Upscaler, from_float, to_float

__all__ = ["METRIC_HEADERS", "Comparison", "compare", "protocol_input"]

METRIC_HEADERS = ["method", "PSNR (dB)", "SSIM"]
MIN_INPUT_SIDE = 8  # pixels of the low-resolution copy; smaller leaves nothing to score once the border is shaved


@dataclass(frozen=True)
class Comparison:
    """One compare-mode result: the images to show (uint8 ground truth, bicubic, VDSR) and their scores."""

    ground_truth: np.ndarray
    bicubic: np.ndarray
    upscaled: np.ndarray
    rows: list[list[Any]]
    scale: float  # the exact scale used, which a free factor may round (see protocol_pair)

    def table(self) -> dict[str, Any]:
        """The scores as a Gradio table value."""
        return {"headers": METRIC_HEADERS, "data": self.rows}


def _colour(img: np.ndarray) -> np.ndarray:
    """(H, W[, C]) -> (H, W) gray or (H, W, 3) RGB: the scores compare colour, not transparency."""
    if img.ndim == 2:
        return img
    return img[..., 0] if img.shape[2] in (1, 2) else img[..., :3]


def protocol_input(img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Ground truth -> (cropped ground truth float in [0, 1], its uint8 low-resolution copy, exact scale)."""
    hr, lr, exact = protocol_pair(_colour(img), scale)
    if min(lr.shape[:2]) < MIN_INPUT_SIDE:
        raise gr.Error(
            f"Image is too small for x{scale:g} compare mode: the low-resolution copy would be under "
            f"{MIN_INPUT_SIDE} px."
        )
    return hr, lr, exact


def _rows(hr: np.ndarray, bicubic: np.ndarray, upscaled: np.ndarray, scale: float) -> list[list[Any]]:
    """PSNR/SSIM rows for bicubic and VDSR, and VDSR's gain; a free factor shaves ``ceil(scale)`` pixels."""
    border = math.ceil(scale)
    b, s = to_float(bicubic), to_float(upscaled)
    b_psnr, s_psnr = psnr(b, hr, crop_border=border), psnr(s, hr, crop_border=border)
    b_ssim, s_ssim = ssim(b, hr, crop_border=border), ssim(s, hr, crop_border=border)
    return [
        ["bicubic", round(b_psnr, 2), round(b_ssim, 4)],
        ["VDSR", round(s_psnr, 2), round(s_ssim, 4)],
        ["gain", round(s_psnr - b_psnr, 2), round(s_ssim - b_ssim, 4)],
    ]


def compare(img: np.ndarray, scale: float, upscaler: Upscaler) -> Comparison:
    """Downscale ``img`` by the protocol, restore it with bicubic and ``upscaler`` (one resize), and score both."""
    hr, lr, exact = protocol_input(img, scale)
    try:
        bicubic, upscaled = upscaler.upscale_pair(lr, exact)
    except InputError as exc:
        raise gr.Error(f"{exc}.") from None
    return Comparison(from_float(hr, np.dtype(np.uint8)), bicubic, upscaled, _rows(hr, bicubic, upscaled, exact), exact)
