"""Ship a checkpoint: ``python -m training.ship runs/x/last.safetensors weights/name.safetensors``.

Scores the checkpoint on Set5 in fp32 (clean, and under each ``--degradation``) and writes a copy
whose metadata records those figures, so `tests/test_weights.py` can re-measure what a shipped
model claims.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engines import load_upscaler
from vdsr.checkpoint import load_checkpoint, save_checkpoint
from vdsr.data import data_dir, load_rgb_folder
from vdsr.evaluate import evaluate

__all__ = ["main", "ship"]


def ship(
    src: Path, dst: Path, root: Path, degradations: Sequence[str] = (), scales: Sequence[int] = (2, 3, 4)
) -> dict[str, Any]:
    """Write ``src``'s weights to ``dst`` with Set5 figures in its metadata; returns the evaluation record."""
    model, info = load_checkpoint(src)
    images = load_rgb_folder(root / "Set5")
    upscaler = load_upscaler(model)
    clean = evaluate({"model": upscaler}, images, scales)
    evaluation: dict[str, Any] = {
        "set": "Set5",
        "psnr": {str(s.scale): round(s.psnr, 4) for s in clean},
        "ssim": {str(s.scale): round(s.ssim, 4) for s in clean},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "engine": "torch fp32 (the code of python -m vdsr evaluate)",
    }
    if degradations:
        evaluation["degraded_psnr"] = {
            spec: {
                str(s.scale): round(s.psnr, 4)
                for s in evaluate({"model": upscaler}, images, scales, with_ssim=False, degradation=spec)
            }
            for spec in degradations
        }
    save_checkpoint(dst, model, scales=info.scales, training=info.training, evaluation=evaluation)
    return evaluation


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.ship", description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path, help="checkpoint to ship")
    p.add_argument("dst", type=Path, help="where to write it, e.g. weights/vdsr-20-real.safetensors")
    p.add_argument("--degradation", nargs="*", default=[], metavar="SPEC", help="also record Set5 under these")
    p.add_argument("--data-dir", help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    args = p.parse_args(argv)
    evaluation = ship(args.src, args.dst, data_dir(args.data_dir), args.degradation)
    print(f"wrote {args.dst}: {evaluation}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
