"""Benchmark evaluation in the standard SR protocol.

Ground truth is modcropped to a multiple of the scale, the input is its bicubic
downscale rounded to 8 bits (then, for real-world rows, degraded by a spec of
:mod:`vdsr.degrade`), and PSNR/SSIM are measured on BT.601 Y with ``scale``
pixels shaved from every border. A free factor p/q crops to a multiple of p
(:func:`~vdsr.degrade.protocol_pair`) and shaves ``ceil(scale)`` pixels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image

from vdsr.degrade import Degradation, parse_spec, protocol_pair
from vdsr.metrics import psnr, ssim
from vdsr.pipeline import to_float
from vdsr.resize import scaled_size

__all__ = ["PAPER_SET5", "Lanczos", "Method", "Score", "evaluate", "format_degradation_table", "format_table"]

# VDSR paper, Table 3 (Set5, PSNR dB): scale -> (bicubic, VDSR).
PAPER_SET5: dict[int, tuple[float, float]] = {2: (33.66, 37.53), 3: (30.39, 33.66), 4: (28.42, 31.35)}


class Method(Protocol):
    """Anything that upscales an image by a factor: an :class:`~vdsr.pipeline.Upscaler` or a plain resize."""

    def upscale(self, img: np.ndarray, scale: float) -> np.ndarray: ...


class Lanczos:
    """PIL's Lanczos resize of the whole 8-bit image: what a user would otherwise reach for."""

    def upscale(self, img: np.ndarray, scale: float) -> np.ndarray:
        h, w = scaled_size(img.shape[0], img.shape[1], scale)
        return np.asarray(Image.fromarray(img).resize((w, h), Image.Resampling.LANCZOS))


@dataclass(frozen=True)
class Score:
    """Mean PSNR/SSIM of one method at one scale and degradation, with per-image values."""

    method: str
    scale: float  # an int for the integer scales
    psnr: float
    ssim: float
    per_image: dict[str, tuple[float, float]]
    degradation: str = "clean"


def evaluate(
    methods: Mapping[str, Method],
    images: Sequence[tuple[str, np.ndarray]],
    scales: Sequence[float],
    *,
    with_ssim: bool = True,
    degradation: str | Degradation = "clean",
    seed: int = 0,
) -> list[Score]:
    """Score every method at every scale on ``images`` ((name, HxWx3 uint8 RGB) pairs).

    The inputs are degraded by ``degradation``; image ``i`` at scale ``s`` draws from seed ``(seed, i, s)``
    (``s`` in thousandths for a free factor).
    """
    spec = parse_spec(degradation)
    scores = []
    for scale in scales:
        border = math.ceil(scale)
        key = int(scale) if float(scale).is_integer() else round(scale * 1000)
        pairs = [(name, *protocol_pair(img, scale, spec, seed=[seed, i, key])) for i, (name, img) in enumerate(images)]
        for method, upscaler in methods.items():
            per_image = {}
            for name, hr, lr, exact in pairs:
                sr = to_float(upscaler.upscale(lr, exact))
                per_image[name] = (
                    psnr(sr, hr, crop_border=border),
                    ssim(sr, hr, crop_border=border) if with_ssim else float("nan"),
                )
            values = np.array(list(per_image.values()))
            scores.append(
                Score(method, scale, float(values[:, 0].mean()), float(values[:, 1].mean()), per_image, spec.spec)
            )
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
            lines.append(f"| {label} | " + " | ".join(f"{paper[int(s)][i]:.2f}" for s in scales) + " |")
    return "\n".join(lines)


def format_degradation_table(scores: Sequence[Score], scale: float) -> str:
    """A Markdown table at one scale: one row per degradation, one PSNR column per method, and each
    column's gain over the first method (bicubic) in brackets."""
    methods = list(dict.fromkeys(s.method for s in scores))
    specs = list(dict.fromkeys(s.degradation for s in scores))
    by_key = {(s.degradation, s.method): s.psnr for s in scores if s.scale == scale}
    lines = ["| input | " + " | ".join(methods) + " |", "|" + "---|" * (len(methods) + 1)]
    for spec in specs:
        base = by_key.get((spec, methods[0]))
        cells = []
        for m in methods:
            value = by_key.get((spec, m))
            gain = f" ({value - base:+.2f})" if value is not None and base is not None and m != methods[0] else ""
            cells.append("" if value is None else f"{value:.2f}{gain}")
        lines.append(f"| {spec} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
