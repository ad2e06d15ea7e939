"""Score checkpoints on held-out video frames: ``python -m training.holdout A.safetensors B.safetensors``.

Set5 is the set the target is measured on, so choosing between training runs by it would tune on
the test set. These six frames of two shared test videos are the only images in the data folder
that no training or choice touches: each is taken as ground truth and scored in the same protocol
as Set5 (bicubic-downscaled input, PSNR on BT.601 Y, ``scale`` pixels shaved), with torch in fp32.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engines import load_upscaler
from vdsr.data import HOLDOUT_FRAMES, data_dir, holdout_frames
from vdsr.evaluate import Score, evaluate
from vdsr.pipeline import Upscaler

__all__ = ["HOLDOUT_FRAMES", "holdout_frames", "holdout_scores", "main"]


def holdout_scores(models: Sequence[str], root: Path, scales: Sequence[int] = (2, 3, 4)) -> list[Score]:
    """PSNR of bicubic and of each model (shipped name or checkpoint path) on the held-out frames."""
    methods = {"bicubic": Upscaler(None)} | {model: load_upscaler(model, "torch") for model in models}
    return evaluate(methods, holdout_frames(root), scales, with_ssim=False)


def format_psnr_table(scores: Sequence[Score], *, per_frame: bool = False) -> str:
    """Markdown: one row per method with PSNR per scale and their mean; then, if asked, one per frame."""
    scales = sorted({s.scale for s in scores})
    by_key = {(s.method, s.scale): s for s in scores}
    methods = list(dict.fromkeys(s.method for s in scores))
    lines = ["| method | " + " | ".join(f"x{s}" for s in scales) + " | mean |", "|" + "---|" * (len(scales) + 2)]
    for method in methods:
        values = [by_key[method, s].psnr for s in scales]
        lines.append(f"| {method} | " + " | ".join(f"{v:.4f}" for v in values) + f" | {np.mean(values):.4f} |")
    if per_frame:
        frames = list(scores[0].per_image)
        lines += ["", "| method | scale | " + " | ".join(frames) + " |", "|" + "---|" * (len(frames) + 2)]
        for method in methods:
            for scale in scales:
                values = by_key[method, scale].per_image
                lines.append(f"| {method} | x{scale} | " + " | ".join(f"{values[f][0]:.3f}" for f in frames) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.holdout", description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", help="shipped model names or checkpoint paths")
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--data-dir", help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    p.add_argument("--per-frame", action="store_true", help="also list each frame's PSNR")
    args = p.parse_args(argv)
    scores = holdout_scores(args.models, data_dir(args.data_dir), args.scales)
    frames = sum(len(v) for v in HOLDOUT_FRAMES.values())
    print(f"held-out video frames ({frames}): PSNR dB on Y (BT.601), scale px shaved from each border")  # noqa: T201
    print(format_psnr_table(scores, per_frame=args.per_frame))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
