"""Benchmark evaluation in the standard SR protocol.

Ground truth is modcropped to a multiple of the scale, the input is its bicubic
downscale rounded to 8 bits, and PSNR/SSIM are measured on BT.601 Y with
``scale`` pixels shaved from every border.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vdsr.metrics import psnr, ssim
from vdsr.pipeline import Upscaler, from_float, to_float
from vdsr.resize import bicubic_degrade, modcrop

__all__ = ["PAPER_SET5", "Score", "evaluate", "format_table"]

# VDSR paper, Table 3 (Set5, PSNR dB): scale -> (bicubic, VDSR).
PAPER_SET5: dict[int, tuple[float, float]] = {2: (33.66, 37.53), 3: (30.39, 33.66), 4: (28.42, 31.35)}


@dataclass(frozen=True)
class Score:
    """Mean PSNR/SSIM of one method at one scale, with per-image values."""

    method: str
    scale: int
    psnr: float
    ssim: float
    per_image: dict[str, tuple[float, float]]


def evaluate(
    methods: Mapping[str, Upscaler],
    images: Sequence[tuple[str, np.ndarray]],
    scales: Sequence[int],
    *,
    with_ssim: bool = True,
) -> list[Score]:
    """Score every method at every scale on ``images`` ((name, HxWx3 uint8 RGB) pairs)."""
    scores = []
    for scale in scales:
        pairs = []
        for name, img in images:
            hr = modcrop(to_float(img), scale)
            lr = from_float(bicubic_degrade(hr, scale), np.dtype(np.uint8))
            pairs.append((name, hr, lr))
        for method, upscaler in methods.items():
            per_image = {}
            for name, hr, lr in pairs:
                sr = to_float(upscaler.upscale(lr, scale))
                per_image[name] = (
                    psnr(sr, hr, crop_border=scale),
                    ssim(sr, hr, crop_border=scale) if with_ssim else float("nan"),
                )
            values = np.array(list(per_image.values()))
            scores.append(Score(method, scale, float(values[:, 0].mean()), float(values[:, 1].mean()), per_image))
    return scores


def format_table(scores: Sequence[Score], *, paper: Mapping[int, tuple[float, float]] | None = None) -> str:
    """A Markdown table: one row per method, PSNR/SSIM per scale.

    ``paper`` (scale -> (bicubic, VDSR), e.g. :data:`PAPER_SET5`) adds the published figures as two
    more rows when it has every scale; pass it only for the set those figures were measured on.
    """
    scales = sorted({s.scale for s in scores})
    methods = list(dict.fromkeys(s.method for s in scores))
    by_key = {(s.method, s.scale): s for s in scores}
    head = "| method | " + " | ".join(f"x{s} PSNR / SSIM" for s in scales) + " |"
    lines = [head, "|" + "---|" * (len(scales) + 1)]
    for m in methods:
        cells = [f"{by_key[m, s].psnr:.2f} / {by_key[m, s].ssim:.4f}" if (m, s) in by_key else "" for s in scales]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    if paper is not None and all(s in paper for s in scales):
        for i, label in enumerate(("bicubic (paper)", "VDSR (paper)")):
            lines.append(f"| {label} | " + " | ".join(f"{paper[s][i]:.2f}" for s in scales) + " |")
    return "\n".join(lines)
