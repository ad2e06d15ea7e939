"""Colour tags and YUV <-> RGB conversion, so frames keep their colours through the network.

Each frame is converted YUV -> RGB with the source's own matrix and range (BT.601 / BT.709 /
BT.2020 / SMPTE 240M, limited or full). Untagged sources follow the usual player convention:
BT.709 from 1280x720 up, BT.601 below. Output is limited-range yuv420p in the matrix the same
rule picks for the *output* size, so players that ignore tags still show the right colours.
"""

from __future__ import annotations

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

__all__ = [
    "AVCOL_SPC_BY_NAME",
    "AVCOL_UNSPECIFIED",
    "HDR_TRANSFERS",
    "frame_colour",
    "size_rule",
    "to_rgb",
    "to_yuv",
    "transfer_name",
]

# AVColorSpace (frame tag) -> (name, swscale matrix).
_MATRICES = {
    1: ("bt709", Colorspace.ITU709),
    4: ("fcc", Colorspace.FCC),
    5: ("bt601", Colorspace.ITU601),  # BT470BG
    6: ("bt601", Colorspace.ITU601),  # SMPTE170M
    7: ("smpte240m", Colorspace.SMPTE240M),
    9: ("bt2020", Colorspace.BT2020),
    10: ("bt2020", Colorspace.BT2020),
}
_SWS_BY_NAME = {name: sws for name, sws in _MATRICES.values()}
# AVColorTransferCharacteristic (frame tag) -> name.
_TRANSFERS = {
    1: "bt709",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    13: "srgb",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    18: "arib-std-b67",
}
_AVCOL_RANGE_JPEG = 2
# Exact rounding and full-resolution chroma: flat colours come back within one level.
_SWS_FLAGS = (
    Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT | Interpolation.FULL_CHR_H_INP
)

AVCOL_SPC_BY_NAME = {"bt709": 1, "bt601": 6}
"""Output matrix name -> the AVColorSpace tag written on the stream."""

AVCOL_UNSPECIFIED = 2
"""The tag value FFmpeg uses for "not tagged" (primaries, transfer)."""

HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}
"""PQ and HLG: frames are still processed as 8-bit, so these earn a warning."""


def size_rule(width: int, height: int) -> str:
    """The matrix players assume for untagged video: BT.709 from 720p up, else BT.601."""
    return "bt709" if width >= 1280 or height >= 720 else "bt601"


def frame_colour(frame: av.VideoFrame, width: int, height: int) -> tuple[str, str, bool]:
    """(matrix name, range name, guessed) for a decoded frame."""
    tagged = _MATRICES.get(int(frame.colorspace))
    matrix, guessed = (tagged[0], False) if tagged else (size_rule(width, height), True)
    full = int(frame.color_range) == _AVCOL_RANGE_JPEG or frame.format.name.startswith("yuvj")
    return matrix, ("full" if full else "limited"), guessed


def transfer_name(frame: av.VideoFrame) -> str:
    """The frame's transfer tag by name, e.g. ``bt709`` or ``smpte2084``; ``unknown`` when not listed."""
    return _TRANSFERS.get(int(frame.color_trc), "unknown")


def to_rgb(frame: av.VideoFrame, matrix: str, full_range: bool, width: int, height: int) -> np.ndarray:
    """Decoded frame -> (height, width, 3) uint8 RGB, using the source's matrix and range."""
    return frame.to_ndarray(
        format="rgb24",
        width=width,
        height=height,
        src_colorspace=_SWS_BY_NAME[matrix],
        src_color_range=ColorRange.JPEG if full_range else ColorRange.MPEG,
        dst_color_range=ColorRange.JPEG,
        interpolation=_SWS_FLAGS,
    )


def to_yuv(rgb: np.ndarray, matrix: str) -> av.VideoFrame:
    """(H, W, 3) uint8 RGB -> limited-range yuv420p frame in ``matrix`` (bt601 or bt709)."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(
        format="yuv420p",
        dst_colorspace=_SWS_BY_NAME[matrix],
        src_color_range=ColorRange.JPEG,
        dst_color_range=ColorRange.MPEG,
        interpolation=_SWS_FLAGS,
    )
