"""RGB <-> YCbCr, ITU-R BT.601 studio swing, as MATLAB's rgb2ycbcr / ycbcr2rgb.

All arrays are float, channels last, with values scaled to [0, 1]:
Y lies in [16/255, 235/255], Cb and Cr in [16/255, 240/255].
"""

from __future__ import annotations

import numpy as np

__all__ = ["rgb_to_ycbcr", "rgb_to_y", "ycbcr_to_rgb"]

# Rows give Y, Cb, Cr from R, G, B in [0, 1]; results in [0, 255].
_RGB_TO_YCBCR = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ]
)
_OFFSET = np.array([16.0, 128.0, 128.0])
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)


def _float_type(arr: np.ndarray) -> type:
    return arr.dtype.type if arr.dtype.kind == "f" else np.float64


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """Convert (..., 3) RGB in [0, 1] to (..., 3) YCbCr in [0, 1], computed in the input's float type."""
    ftype = _float_type(rgb)
    out: np.ndarray = rgb.astype(ftype, copy=False) @ (_RGB_TO_YCBCR.T / 255.0).astype(ftype)
    out += (_OFFSET / 255.0).astype(ftype)
    return out


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """Luma only: (..., 3) RGB in [0, 1] -> (...) Y in [0, 1]."""
    return rgb_to_ycbcr(rgb)[..., 0]


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`; the result is not clipped."""
    ftype = _float_type(ycbcr)
    out: np.ndarray = (ycbcr.astype(ftype, copy=False) - (_OFFSET / 255.0).astype(ftype)) @ (
        _YCBCR_TO_RGB.T * 255.0
    ).astype(ftype)
    return out
