"""Models on real codec damage with a true reference: ``python -m training.real_damage``.

Every other measurement damages its inputs synthetically (:mod:`vdsr.degrade`). The shared data
holds one pair that was damaged by a real encoder: ``carphone_distorted.mp4`` is
``carphone_pristine.mp4`` (about 1.5 bits per pixel) after heavy H.264 compression, frame for frame
at the same size, with the artifacts of predicted frames that a single-frame round trip never makes.
So it is scored at x1, the command line's ``--scale 1`` clean-up: each distorted frame is upscaled
at factor 1 and compared with its pristine frame (PSNR and SSIM on BT.601 Y, one pixel shaved; torch
fp32). The input itself is the baseline. Neither clip is used by any training run or choice between
runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engines import load_upscaler
from vdsr.data import data_dir
from vdsr.metrics import psnr, ssim
from vdsr.pipeline import Upscaler, to_float

__all__ = ["DISTORTED", "PRISTINE", "PairScore", "main", "score_pair"]

DISTORTED = "carphone_distorted.mp4"
PRISTINE = "carphone_pristine.mp4"


@dataclass(frozen=True)
class PairScore:
    """Mean PSNR and SSIM of one method over the scored frames."""

    method: str
    psnr: float
    ssim: float


def _frames(path: Path, step: int) -> list[np.ndarray]:
    """Every ``step``-th frame, converted to RGB as the video upscaler converts it."""
    from vdsr.video import probe_video, read_frames

    return [rgb for _, rgb in read_frames(path, range(0, probe_video(path).frames, step))]


def score_pair(models: Sequence[str], root: Path, *, step: int = 6) -> list[PairScore]:
    """The input and each model (shipped name or checkpoint) on every ``step``-th frame of the pair."""
    distorted = _frames(root / "video" / DISTORTED, step)
    pristine = _frames(root / "video" / PRISTINE, step)
    if len(distorted) != len(pristine) or distorted[0].shape != pristine[0].shape:
        raise ValueError(f"{DISTORTED} and {PRISTINE} differ in frame count or size")
    truth = [to_float(p) for p in pristine]
    methods: dict[str, Upscaler | None] = {"input": None} | {m: load_upscaler(m, "torch") for m in models}
    scores = []
    for name, upscaler in methods.items():
        outs = [to_float(d if upscaler is None else upscaler.upscale(d, 1.0)) for d in distorted]
        scores.append(
            PairScore(
                name,
                float(np.mean([psnr(o, t, crop_border=1) for o, t in zip(outs, truth, strict=True)])),
                float(np.mean([ssim(o, t, crop_border=1) for o, t in zip(outs, truth, strict=True)])),
            )
        )
    return scores


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.real_damage", description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["vdsr-20", "vdsr-20-real"], help="shipped names or checkpoints")
    p.add_argument("--step", type=int, default=6, help="score every STEP-th frame (default 6: 20 of 120)")
    p.add_argument("--data-dir", help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    args = p.parse_args(argv)
    scores = score_pair(args.models, data_dir(args.data_dir), step=args.step)
    base = scores[0].psnr
    print(f"{DISTORTED} against {PRISTINE}, x1, every {args.step}th frame: Y PSNR dB (gain over the input), SSIM")  # noqa: T201
    print("| method | PSNR | SSIM |\n|---|---|---|")  # noqa: T201
    for s in scores:
        print(f"| {s.method} | {s.psnr:.2f} ({s.psnr - base:+.2f}) | {s.ssim:.4f} |")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
