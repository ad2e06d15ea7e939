"""Compare mode: take an image as ground truth and score what bicubic and VDSR recover from its downscale.

The ground truth and the low-resolution input come from :func:`vdsr.degrade.protocol_pair` and the
scores from :func:`vdsr.metrics.psnr` / :func:`vdsr.metrics.ssim`, as :mod:`vdsr.evaluate` scores the
benchmarks (BT.601 Y, ``scale`` pixels shaved from each border), so the app's numbers match the tables.
A damage (JPEG or H.264 at a few settings) can be applied to the low-resolution copy, as
``evaluate --degradation`` does, to see what each model recovers from compressed input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from demo.errors import user_error
from vdsr.degrade import protocol_pair
from vdsr.input_kind import InputKind
from vdsr.metrics import psnr, ssim
from vdsr.pipeline import InputError, Upscaler, from_float, to_float

__all__ = ["DAMAGE_CHOICES", "METRIC_HEADERS", "Comparison", "compare", "damage_kind", "damage_label", "protocol_input"]

METRIC_HEADERS = ["method", "PSNR (dB)", "SSIM"]
MIN_INPUT_SIDE = 8  # pixels of the low-resolution copy; smaller leaves nothing to score once the border is shaved
# What compare mode can do to the low-resolution copy before restoring it: vdsr.degrade specs, as a menu.
DAMAGE_CHOICES: list[tuple[str, str]] = [
    ("clean (the benchmark protocol)", "clean"),
    *((f"JPEG quality {q}", f"jpeg:{q}") for q in (90, 70, 50, 30)),
    *((f"H.264 CRF {crf}", f"h264:{crf}") for crf in (18, 23, 28, 33)),
]


def damage_label(spec: str) -> str:
    """``jpeg:50`` -> ``JPEG quality 50``; an unknown spec is refused with the list of offered ones."""
    for label, value in DAMAGE_CHOICES:
        if value == spec:
            return label.split(" (")[0]
    raise user_error(f"Damage must be one of {', '.join(v for _, v in DAMAGE_CHOICES)}; got {spec!r}.")


def damage_kind(spec: str) -> InputKind:
    """The input a damage makes, for the automatic model choice: a JPEG of that quality, or video."""
    damage_label(spec)
    kind, _, value = spec.partition(":")
    if kind == "jpeg":
        return InputKind("lossy", int(value))
    return InputKind("video" if kind == "h264" else "lossless")


@dataclass(frozen=True)
class Comparison:
    """One compare-mode result: the images to show (uint8 ground truth, bicubic, VDSR) and their scores."""

    ground_truth: np.ndarray
    bicubic: np.ndarray
    upscaled: np.ndarray
    rows: list[list[Any]]
    scale: float  # the exact scale used, which a free factor may round (see protocol_pair)
    input_size: tuple[int, int]  # (height, width) of the low-resolution copy the methods restored
    damage: str = "clean"

    def table(self) -> dict[str, Any]:
        """The scores as a Gradio table value."""
        return {"headers": METRIC_HEADERS, "data": self.rows}

    def caption(self) -> str:
        """What the scores were computed for: scale, sizes and damage, so a table never stands for other settings."""
        h, w = self.ground_truth.shape[:2]
        lh, lw = self.input_size
        shrunk = f"downscaled to {lw}x{lh}" if (lh, lw) != (h, w) else "kept at its size"
        return (
            f"x{self.scale:g}: ground truth {w}x{h} {shrunk}, damage: {damage_label(self.damage)}, "
            f"restored to {w}x{h}. PSNR and SSIM on luma (Y), {math.ceil(self.scale)} px border left out."
        )


def _colour(img: np.ndarray) -> np.ndarray:
    """(H, W[, C]) -> (H, W) gray or (H, W, 3) RGB: the scores compare colour, not transparency."""
    if img.ndim == 2:
        return img
    return img[..., 0] if img.shape[2] in (1, 2) else img[..., :3]


def protocol_input(img: np.ndarray, scale: float, damage: str = "clean") -> tuple[np.ndarray, np.ndarray, float]:
    """Ground truth -> (cropped ground truth float in [0, 1], its uint8 damaged low-resolution copy, exact scale)."""
    damage_label(damage)
    hr, lr, exact = protocol_pair(_colour(img), scale, damage)
    if min(lr.shape[:2]) < MIN_INPUT_SIDE:
        raise user_error(
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


def compare(img: np.ndarray, scale: float, upscaler: Upscaler, damage: str = "clean") -> Comparison:
    """Downscale ``img`` by the protocol, apply ``damage``, restore it with bicubic and ``upscaler``, score both."""
    hr, lr, exact = protocol_input(img, scale, damage)
    try:
        bicubic, upscaled = upscaler.upscale_pair(lr, exact)
    except InputError as exc:
        raise user_error(f"{exc}.") from None
    rows = _rows(hr, bicubic, upscaled, exact)
    gt = from_float(hr, np.dtype(np.uint8))
    return Comparison(gt, bicubic, upscaled, rows, exact, (lr.shape[0], lr.shape[1]), damage)
