"""Blend two checkpoints of one architecture: ``python -m training.interpolate A B --alpha 0.7 --out C``.

The shipped pair needs no file (``--model vdsr-20-real@0.7``); this writes the blend of any model and
its fine-tune, to score it (``vdsr.blend`` says why a blend works).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vdsr.blend import blend_checkpoints

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.interpolate", description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path, help="checkpoint at alpha 0 (e.g. the clean model)")
    p.add_argument("b", type=Path, help="checkpoint at alpha 1 (e.g. its fine-tune)")
    p.add_argument("--alpha", type=float, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    blend_checkpoints(args.a, args.b, args.alpha, args.out)
    print(f"wrote {args.out}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
