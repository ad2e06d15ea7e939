"""The upscaling pipeline: the one place that owns colour, alpha, bit depth and tiling.

RGB -> bicubic to the target size -> BT.601 luma Y -> the network refines Y
(tile by tile) -> recombine with the bicubic Cb/Cr -> RGB -> input dtype.
Grayscale images are refined directly as luma; alpha is upscaled bicubically.
Below x2 the network works at x2 and its result is resized down (:data:`NETWORK_MIN_SCALE`).
Peak memory for a 4000x3000 -> 8000x6000 upscale stays under 2.5 GB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vdsr.color import rgb_to_y
from vdsr.resize import imresize, scaled_size
from vdsr.tiling import run_tiled

__all__ = ["NETWORK_MIN_SCALE", "InputError", "Upscaler", "UpscaleLimits", "to_float", "from_float"]

NETWORK_MIN_SCALE = 2.0
"""The smallest scale the network is run at. VDSR learns x2, x3 and x4; below x2 bicubic leaves the
picture nearly sharp, the network sharpens it as if it were a x2 blur, and the result falls below
bicubic (Set5 at x1.5: 36.53 dB against bicubic's 36.82). Run at x2 and resized down, it keeps its
gain (40.54 dB), and at x1 it removes compression damage without resizing (JPEG 50: +1.2 dB)."""

_MAX_BY_DTYPE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


class InputError(ValueError):
    """The image cannot be upscaled as given (bad shape, dtype, size or scale)."""


@dataclass(frozen=True)
class UpscaleLimits:
    """Bounds that keep memory and run time predictable."""

    max_output_pixels: int = 200_000_000
    max_scale: float = 8.0
    # Each tile is read with the halo on every side, so small tiles repeat work: 512 cost a 480p frame at x2
    # (1708x960) 16 % more network time than one call, 1024 costs 2 %, and a tile of 1064x1064 (about 0.3 GB
    # per fp32 activation) still bounds the memory.
    tile: int = 1024


def to_float(img: np.ndarray) -> np.ndarray:
    """uint8/uint16/float image -> float32 in [0, 1]."""
    peak = _MAX_BY_DTYPE.get(img.dtype)
    if peak is not None:
        return img.astype(np.float32) / np.float32(peak)
    if img.dtype.kind == "f":
        return img.astype(np.float32, copy=False)
    raise InputError(f"unsupported pixel type {img.dtype}; expected uint8, uint16 or float")


def from_float(img: np.ndarray, dtype: np.dtype, *, inplace: bool = False) -> np.ndarray:
    """float in [0, 1] -> ``dtype`` (rounded and clipped for integer types).

    ``inplace=True`` reuses ``img`` (a float array the caller no longer needs) for the scratch work.
    """
    img = np.clip(img, 0.0, 1.0, out=img if inplace else None)
    peak = _MAX_BY_DTYPE.get(np.dtype(dtype))
    if peak is None:
        return img.astype(dtype, copy=False)
    img *= np.float32(peak)
    return np.rint(img, out=img).astype(dtype)


def _split_channels(img: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (colour, alpha): colour is (H, W) gray or (H, W, 3) RGB."""
    if img.ndim == 2:
        return img, None
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"unsupported image shape {img.shape}; expected H x W with 1-4 channels")
    channels = img.shape[2]
    if channels in (1, 2):
        return img[..., 0], (img[..., 1] if channels == 2 else None)
    return img[..., :3], (img[..., 3] if channels == 4 else None)


class Upscaler:
    """Upscales images with a luma-refining network; stateless between calls.

    Args:
        refine: engine callable, float32 (N, 1, H, W) luma -> same shape; ``None``
            gives plain bicubic (the baseline).
        receptive_radius: pixels of context the network needs; the tile halo.
        limits: size bounds and tile size.
    """

    def __init__(
        self,
        refine: Callable[[np.ndarray], np.ndarray] | None,
        *,
        receptive_radius: int | None = None,
        limits: UpscaleLimits | None = None,
    ) -> None:
        if refine is not None and receptive_radius is None:
            raise ValueError("a network needs its receptive radius for the tile halo: use engines.load_upscaler")
        self.refine = refine
        self.halo = receptive_radius or 0
        self.limits = limits or UpscaleLimits()

    def check(self, height: int, width: int, scale: float) -> tuple[int, int]:
        """Validate a request and return the output (height, width)."""
        if not np.isfinite(scale) or scale < 1.0:
            raise InputError(f"scale must be a number >= 1, got {scale}")
        if scale > self.limits.max_scale:
            raise InputError(f"scale {scale} is above the limit of {self.limits.max_scale}")
        if height < 1 or width < 1:
            raise InputError("image is empty")
        out_h, out_w = scaled_size(height, width, scale)
        if out_h * out_w > self.limits.max_output_pixels:
            raise InputError(
                f"output of {out_w}x{out_h} would exceed the limit of "
                f"{self.limits.max_output_pixels / 1e6:.3g} megapixels; use a smaller scale or image"
            )
        return out_h, out_w

    def refine_luma(self, y: np.ndarray) -> np.ndarray:
        """Run the network on an (H, W) luma plane in [0, 1], tiled."""
        if self.refine is None:
            return y
        return run_tiled(self.refine, y, tile=self.limits.tile, halo=self.halo)

    def upscale(self, img: np.ndarray, scale: float) -> np.ndarray:
        """Upscale an (H, W[, C]) uint8/uint16/float image; returns the same dtype and channels.

        Only luma changes: with Cb and Cr fixed, a change dY of BT.601 luma moves
        R, G and B (or gray) alike by 255/219 * dY, so the refined image is the
        bicubic one plus that, computed in place to keep peak memory near three
        output-sized float planes per channel.
        """
        return self._upscale(img, scale, keep_bicubic=False)[1]

    def upscale_pair(self, img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """``(bicubic, upscaled)`` from one resize, for showing the baseline beside the result.

        ``bicubic`` is exactly ``Upscaler(None, limits=self.limits).upscale(img, scale)`` and the
        second image exactly ``self.upscale(img, scale)``; sharing the resize saves a second
        bicubic pass over the output, at the cost of one more output-sized image in memory.
        """
        bicubic, upscaled = self._upscale(img, scale, keep_bicubic=True)
        assert bicubic is not None
        return bicubic, upscaled

    def _upscale(self, img: np.ndarray, scale: float, *, keep_bicubic: bool) -> tuple[np.ndarray | None, np.ndarray]:
        """(the bicubic image if ``keep_bicubic``, else None; the refined image): see :meth:`upscale`."""
        colour, alpha = _split_channels(img)
        size = self.check(img.shape[0], img.shape[1], scale)
        work = size  # where the network runs
        if self.refine is not None and scale < NETWORK_MIN_SCALE:
            work = scaled_size(img.shape[0], img.shape[1], NETWORK_MIN_SCALE)
        up = imresize(to_float(colour), work)
        bicubic = None
        if keep_bicubic:  # a copy: ``up`` is refined in place
            bicubic = from_float(up if work == size else imresize(to_float(colour), size), img.dtype)
        if self.refine is not None:
            luma = rgb_to_y(up) if up.ndim == 3 else up * np.float32(219 / 255) + np.float32(16 / 255)
            delta = self.refine_luma(luma)
            delta -= luma
            delta *= np.float32(255 / 219)
            up += delta[..., None] if up.ndim == 3 else delta
        if work != size:
            up = imresize(np.clip(up, 0.0, 1.0, out=up), size)
        refined = from_float(up, img.dtype, inplace=True)
        alpha_up = None if alpha is None else from_float(imresize(to_float(alpha), size), img.dtype, inplace=True)
        return (
            None if bicubic is None else _join_planes(bicubic, alpha_up, img.ndim),
            _join_planes(refined, alpha_up, img.ndim),
        )


def _join_planes(colour: np.ndarray, alpha: np.ndarray | None, ndim: int) -> np.ndarray:
    """Colour (H, W[, 3]) and optional alpha (H, W) -> one image with the input's ``ndim``."""
    planes = [colour] if alpha is None else [colour, alpha]
    out = np.dstack(planes)  # (H, W, channels), gray included
    return out[..., 0] if ndim == 2 else out
