"""Blend two checkpoints of one architecture: ``python -m training.interpolate A B --alpha 0.7 --out C``.

A fine-tune and the weights it started from lie in one basin, so their weighted average trades one
model's skill for the other's smoothly (Wortsman et al., "Robust fine-tuning of zero-shot models",
2022). Here it sets how much of the clean model's sharpness the real-world model keeps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vdsr.checkpoint import load_checkpoint, save_checkpoint
from vdsr.models import VDSR

__all__ = ["interpolate", "main"]


def interpolate(a: VDSR, b: VDSR, alpha: float) -> VDSR:
    """``(1 - alpha) * a + alpha * b``, parameter by parameter, as a new network."""
    if a.config != b.config:
        raise ValueError(f"cannot blend {a.config.name} with {b.config.name}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    sb = b.state_dict()
    blended = {
        k: torch.lerp(v.float(), sb[k].float(), alpha).to(v.dtype) if v.is_floating_point() else sb[k]
        for k, v in a.state_dict().items()
    }
    out = VDSR(a.config)
    out.load_state_dict(blended)
    return out.eval()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.interpolate", description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path, help="checkpoint at alpha 0 (e.g. the clean model)")
    p.add_argument("b", type=Path, help="checkpoint at alpha 1 (e.g. its fine-tune)")
    p.add_argument("--alpha", type=float, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    a, _ = load_checkpoint(args.a)
    b, info_b = load_checkpoint(args.b)
    training = {"blend": {"a": str(args.a), "b": str(args.b), "alpha": args.alpha}, "b": info_b.training}
    save_checkpoint(args.out, interpolate(a, b, args.alpha), scales=info_b.scales, training=training)
    print(f"wrote {args.out}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
