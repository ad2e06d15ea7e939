"""TensorRT optimisation profiles: the min/opt/max input shapes an engine is built for.

Parsing and checking shapes needs no TensorRT, so a bad ``--max-shape`` is refused before any
export or build work, on any machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEFAULT_PROFILE", "ShapeProfile", "parse_shape"]


def parse_shape(text: str) -> tuple[int, int, int, int]:
    """``"1x1x256x256"`` (or ``"1,1,256,256"``) -> (N, C, H, W).

    Raises:
        ValueError: not four positive integers.
    """
    parts = [p for p in re.split(r"[x,\s]+", text.strip().lower()) if p]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"bad shape {text!r}: expected NxCxHxW, e.g. 1x1x552x552") from None
    if len(dims) != 4 or min(dims) < 1:
        raise ValueError(f"bad shape {text!r}: expected four positive integers NxCxHxW, e.g. 1x1x552x552")
    return dims  # type: ignore[return-value]


@dataclass(frozen=True)
class ShapeProfile:
    """One TensorRT optimisation profile for the (N, 1, H, W) input: min <= opt <= max per axis."""

    min: tuple[int, int, int, int]
    opt: tuple[int, int, int, int]
    max: tuple[int, int, int, int]

    def __post_init__(self) -> None:
        for label, shape in (("min", self.min), ("opt", self.opt), ("max", self.max)):
            if len(shape) != 4 or min(shape) < 1:
                raise ValueError(f"{label} shape {shape} must be four positive integers (N, 1, H, W)")
            if shape[1] != 1:
                raise ValueError(f"{label} shape {shape} must have 1 channel: VDSR refines luma only")
        if not all(a <= b <= c for a, b, c in zip(self.min, self.opt, self.max, strict=True)):
            raise ValueError(f"shapes must satisfy min <= opt <= max on every axis: {self.min}, {self.opt}, {self.max}")

    @classmethod
    def parse(cls, min_shape: str, opt_shape: str, max_shape: str) -> ShapeProfile:
        return cls(parse_shape(min_shape), parse_shape(opt_shape), parse_shape(max_shape))

    def as_dict(self) -> dict[str, list[int]]:
        return {"min": list(self.min), "opt": list(self.opt), "max": list(self.max)}

    def tag(self) -> str:
        """Short text for file names, e.g. ``1x1x32x32-1x1x552x552-4x1x1088x1920``."""
        return "-".join("x".join(str(d) for d in s) for s in (self.min, self.opt, self.max))


# opt, where TensorRT tunes its kernels, is a 512 tile plus the 20-pixel halo (not re-tuned for the pipeline's
# 1024 default tile, which needs a GPU to measure); the max covers a 1064 tile and a 1080p frame untiled.
DEFAULT_PROFILE = ShapeProfile(min=(1, 1, 32, 32), opt=(1, 1, 552, 552), max=(4, 1, 1088, 1920))
