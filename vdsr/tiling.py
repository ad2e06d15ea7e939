"""Split an image into overlapping tiles and stitch the results back.

Every tile is read with a halo of at least the network's receptive radius, and
only its centre is kept, so the stitched result equals a whole-image run
(the convolutions zero-pad at the true image border in both cases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Tile", "plan_tiles", "run_tiled"]


@dataclass(frozen=True)
class Tile:
    """One tile: ``src`` is read from the input, ``dst`` is written to the output,
    and ``keep`` is the part of the tile's result that lands in ``dst``."""

    src: tuple[slice, slice]
    dst: tuple[slice, slice]
    keep: tuple[slice, slice]


def _spans(length: int, tile: int, halo: int) -> list[tuple[slice, slice, slice]]:
    spans = []
    for start in range(0, length, tile):
        stop = min(start + tile, length)
        lo, hi = max(0, start - halo), min(length, stop + halo)
        spans.append((slice(lo, hi), slice(start, stop), slice(start - lo, stop - lo)))
    return spans


def plan_tiles(height: int, width: int, tile: int, halo: int) -> list[Tile]:
    """Tiles covering an (height, width) image with ``tile``-sized cores and a ``halo`` margin."""
    if tile < 1 or halo < 0:
        raise ValueError("tile must be >= 1 and halo >= 0")
    return [
        Tile(src=(ys, xs), dst=(yd, xd), keep=(yk, xk))
        for ys, yd, yk in _spans(height, tile, halo)
        for xs, xd, xk in _spans(width, tile, halo)
    ]


def run_tiled(fn: Callable[[np.ndarray], np.ndarray], plane: np.ndarray, *, tile: int, halo: int) -> np.ndarray:
    """Apply ``fn`` (N x 1 x H x W float32 -> same shape) to an (H, W) plane tile by tile.

    Peak memory is bounded by one tile of ``(tile + 2 * halo)**2`` pixels plus the output.
    """
    h, w = plane.shape
    if h <= tile and w <= tile:
        return fn(plane[None, None].astype(np.float32, copy=False))[0, 0]
    out = np.empty((h, w), dtype=np.float32)
    for t in plan_tiles(h, w, tile, halo):
        patch = np.ascontiguousarray(plane[t.src], dtype=np.float32)[None, None]
        out[t.dst] = fn(patch)[0, 0][t.keep]
    return out
