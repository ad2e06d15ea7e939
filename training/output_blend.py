"""Blending two models' outputs, not their weights: ``python -m training.output_blend``.

A weight blend (:mod:`vdsr.blend`) works only between a model and its own fine-tune, which share a
basin; a real-world model trained from scratch does not share ``vdsr-20``'s, and its weight blend
scores bicubic. Averaging the two networks' refined luma works for any pair, for two network passes.
This study scores such averages against the weight blend the product uses for lightly compressed
JPEG (``vdsr-20-real@0.75``), in the usual protocol (torch fp32, PSNR on BT.601 Y, ``scale`` px
shaved), so the case for building it into the engines rests on numbers anyone can rerun.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engines import load_upscaler
from vdsr.blend import format_strength
from vdsr.data import data_dir, load_set
from vdsr.evaluate import Score, evaluate, format_degradation_table
from vdsr.pipeline import Upscaler

__all__ = ["main", "output_blend", "study"]


def output_blend(clean: Upscaler, real: Upscaler, share: float) -> Upscaler:
    """An Upscaler whose network output is ``(1 - share) * clean + share * real``, both tiled alike."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    if clean.refine is None or real.refine is None:
        raise ValueError("an output blend needs two networks")
    a, b = clean.refine, real.refine

    def refine(y: np.ndarray) -> np.ndarray:
        return (1.0 - share) * a(y) + share * b(y)

    return Upscaler(refine, receptive_radius=max(clean.halo, real.halo), limits=clean.limits)


def study(
    clean: str,
    real: str,
    shares: Sequence[float],
    sets: Sequence[str],
    degradations: Sequence[str],
    root: Path,
    scales: Sequence[int] = (2, 3, 4),
    weight_blends: Sequence[str] = ("vdsr-20-real@0.75",),
) -> dict[str, list[Score]]:
    """Set -> scores of bicubic, the weight blends, ``real`` alone and each output blend of ``clean`` and ``real``."""
    a, b = load_upscaler(clean, "torch"), load_upscaler(real, "torch")
    methods: dict[str, Upscaler] = {"bicubic": Upscaler(None)}
    methods |= {name: load_upscaler(name, "torch") for name in weight_blends}
    methods[real] = b
    methods |= {f"outputs@{format_strength(s)}": output_blend(a, b, s) for s in shares}
    out: dict[str, list[Score]] = {}
    for name in sets:
        images = load_set(name, root)
        out[name] = [
            score
            for spec in degradations
            for score in evaluate(methods, images, scales, with_ssim=False, degradation=spec)
        ]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.output_blend", description=__doc__.splitlines()[0])
    p.add_argument("--clean", default="vdsr-20", help="the model kept at share 0")
    p.add_argument("--real", default="runs/real-scratch/last.safetensors", help="the model at share 1")
    p.add_argument("--shares", type=float, nargs="+", default=[0.5, 0.75])
    p.add_argument("--sets", nargs="+", default=["Set5", "holdout"])
    p.add_argument("--degradation", nargs="+", default=["jpeg:88", "jpeg:90", "jpeg:95"], metavar="SPEC")
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--weight-blends", nargs="*", default=["vdsr-20-real@0.75"], help="shipped blends to compare")
    p.add_argument("--data-dir", help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    args = p.parse_args(argv)
    results = study(
        args.clean,
        args.real,
        args.shares,
        args.sets,
        args.degradation,
        data_dir(args.data_dir),
        args.scales,
        args.weight_blends,
    )
    for name, scores in results.items():
        for scale in args.scales:
            print(f"\n{name}, x{scale}: PSNR dB on Y (gain over bicubic)")  # noqa: T201
            print(format_degradation_table(scores, scale))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
