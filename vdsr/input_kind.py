"""What an input is, as far as the choice of model goes: how it was compressed, judged by content, not name.

A JPEG says its quality in its quantisation tables. A PNG or BMP saved from a JPEG (a converted photo,
an export, a saved copy) says nothing, yet carries JPEG's damage: :func:`jpeg_history_quality` finds it
in the pixels, so such a file gets the model for its damage rather than the one for clean images. The
same test finds a JPEG saved again at a higher quality than it was first (an edited or re-shared photo),
whose tables understate its damage.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from scipy.fft import dctn

import vdsr.imageio  # noqa: F401 - registers the HEIC reader with PIL
from vdsr.video.formats import VIDEO_SUFFIXES

__all__ = ["Compression", "InputKind", "input_kind", "jpeg_history_quality", "jpeg_quality"]

Compression = Literal["video", "lossy", "lossless"]


@dataclass(frozen=True)
class InputKind:
    """How an input is stored, a JPEG's quality, and the format a former JPEG was saved again in."""

    compression: Compression
    jpeg_quality: int | None = None
    resaved_as: str | None = None


# libjpeg's luminance quantisation table at quality 50 (ITU-T T.81, Annex K); every IJG quality scales it.
_IJG_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


@cache
def _ijg_luma_sum(quality: int) -> int:
    """Sum of the baseline luminance table libjpeg writes at ``quality`` (jpeg_quality_scaling)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return sum(min(max((q * scale + 50) // 100, 1), 255) for q in _IJG_LUMA)


def jpeg_quality(im: Image.Image) -> int | None:
    """The quality (1-100) a JPEG was saved at: the IJG quality whose luminance table sums nearest to its own.

    Exact for libjpeg's tables (PIL, most software); the nearest equivalent for a camera's own
    tables. None when the image carries no quantisation tables (not a JPEG).
    """
    tables = getattr(im, "quantization", None)
    if not tables:
        return None
    luma = sum(tables[min(tables)])
    return min(range(100, 0, -1), key=lambda q: abs(_ijg_luma_sum(q) - luma))


# The recompression test of jpeg_history_quality, set on T91 and Set5 (halved): no picture without a JPEG
# history reached a dip of 1.3 (photographs 1.0, a synthetic ramp 1.26), every JPEG of quality 30 to 95 reached
# 1.6. Checked afterwards on frames of the four test clips (docs/real-world.md, training/jpeg_history_study.py).
_HISTORY_QUALITIES = range(10, 101)  # the qualities tried; a dip is looked for up to the last but _HISTORY_WINDOW
_HISTORY_WINDOW = 5  # a dip at quality q: the change at q against the largest at q+1 to q+5
_HISTORY_MIN_DIP = 1.5
_HISTORY_FLOOR = 0.05  # added to the change at q, about rounding's: near-zero changes make no dip
_HISTORY_CROP = 512  # the test looks at the centre, this many pixels square at most
_HISTORY_TRIM = 0.9  # the worst-changed tenth of the 8x8 blocks is dropped: saturated colours clip there
_HISTORY_MIN_DETAIL = 20.0  # mean luma variance in the 8x8 blocks; 50 and up for every photo and frame studied


def _luma(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("L"), dtype=np.float32)


def _resaved_luma(im: Image.Image, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    with Image.open(buf) as out:
        return _luma(out)


def _blocks(plane: np.ndarray) -> np.ndarray:
    """The plane's whole 8x8 blocks from its top left corner, shape (rows, columns, 8, 8)."""
    h, w = plane.shape[0] // 8 * 8, plane.shape[1] // 8 * 8
    return plane[:h, :w].reshape(h // 8, 8, w // 8, 8).swapaxes(1, 2)


def _block_detail(plane: np.ndarray) -> np.ndarray:
    """Each 8x8 block's mean square about its own mean: its detail, or its change when ``plane`` is a difference
    (a level shift, which flat areas show at any quality, does not count)."""
    blocks = _blocks(plane)
    return ((blocks - blocks.mean(axis=(2, 3), keepdims=True)) ** 2).mean(axis=(2, 3)).ravel()


def _change(resaved: np.ndarray, luma: np.ndarray) -> float:
    """The blocks' mean change, the most-changed tenth left out."""
    change = np.sort(_block_detail(resaved - luma))
    return float(change[: max(1, int(_HISTORY_TRIM * change.size))].mean())


def _grid_origin(luma: np.ndarray) -> tuple[int, int]:
    """Where a former JPEG's 8x8 blocks start, (x, y) in 0 to 7: the shift at which most of the blocks' AC
    coefficients are zero, as quantisation leaves them. Arbitrary for a picture that was never a JPEG."""

    def zeros(x: int, y: int) -> float:
        ac = np.abs(dctn(_blocks(luma[y:, x:]), axes=(2, 3), norm="ortho")).reshape(-1, 64)[:, 1:]  # JPEG's DCT
        return float((ac < 0.5).mean())

    return max(((x, y) for y in range(8) for x in range(8)), key=lambda xy: zeros(*xy))


def jpeg_history_quality(im: Image.Image, below: int | None = None) -> int | None:
    """The quality a picture was saved at as a JPEG before it was stored another way, or None if it shows none.

    Saving a decoded JPEG again at its own quality changes almost nothing, since its DCT coefficients already
    sit on that quality's quantisation steps, while saving it at a slightly higher quality moves them: the
    change dips at the old quality (the 'JPEG ghost', Farid 2009). A picture that was never a JPEG changes
    less the higher the quality, with no dip. The test runs on the JPEG's 8x8 grid, found again if the picture
    was cropped; it needs libjpeg's tables and a picture not resized since; about 0.3 s.

    ``below`` looks only under a quality: a JPEG's own, for an earlier, lower one it was saved from. The finer
    steps of the later save keep the earlier coarse ones, so the ghost survives; a quality sharing steps with
    the earlier one (63 for 30) can be found in its place.
    """
    if im.mode not in ("RGB", "RGBA", "L"):
        return None  # palettes, 16-bit and float pictures are not what a JPEG decodes to
    width, height = im.size
    w, h = min(width, _HISTORY_CROP) // 8 * 8, min(height, _HISTORY_CROP) // 8 * 8
    if min(w, h) < 40:
        return None  # too few blocks to tell
    left, top = (width - w) // 32 * 16, (height - h) // 32 * 16  # the centre, on the 16-pixel grid of 4:2:0
    im = im.crop((left, top, left + w, top + h)).convert("L" if im.mode == "L" else "RGB")
    luma = _luma(im)
    x, y = _grid_origin(luma)
    w, h = (w - x) // 8 * 8, (h - y) // 8 * 8
    im, luma = im.crop((x, y, x + w, y + h)), luma[y : y + h, x : x + w]
    if _block_detail(luma).mean() < _HISTORY_MIN_DETAIL:
        return None  # too smooth to tell: a ramp's few coefficients can land on some quality's steps by chance
    tried = [q for q in _HISTORY_QUALITIES if below is None or q < below]
    change = {q: _change(_resaved_luma(im, q), luma) for q in tried}
    dips = {
        q: max(change[q + k] for k in range(1, _HISTORY_WINDOW + 1)) / (change[q] + _HISTORY_FLOOR)
        for q in tried[:-_HISTORY_WINDOW]
    }
    if not dips:
        return None
    quality = max(dips, key=dips.__getitem__)  # below the old quality the change is uneven, but dips less
    return quality if dips[quality] >= _HISTORY_MIN_DIP else None


def _webp_is_lossy(path: Path) -> bool:
    """A WebP file is lossy when it holds a ``VP8 `` bitstream; ``VP8L`` is lossless (RIFF chunk ids)."""
    data = path.read_bytes()[: 1 << 16]
    return b"VP8 " in data[12:] and b"VP8L" not in data[12:]


def input_kind(path: str | Path) -> InputKind:
    """What a file is, as far as the choice of model goes: judged by its content, not only its name."""
    path = Path(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return InputKind("video")
    try:
        with Image.open(path) as im:
            fmt = im.format or ""
            if fmt in ("JPEG", "MPO"):
                saved_at = jpeg_quality(im)
                earlier = jpeg_history_quality(im, below=saved_at) if saved_at else None  # damage the tables hide
                if earlier is None:
                    return InputKind("lossy", saved_at)
                return InputKind("lossy", earlier, resaved_as="JPEG")
            if fmt == "WEBP" and _webp_is_lossy(path):
                return InputKind("lossy")
            if fmt in ("HEIF", "AVIF"):  # phone and web photos: video codecs' intra frames, lossy in practice
                return InputKind("lossy")
            former = jpeg_history_quality(im)
    except (OSError, SyntaxError, ValueError):
        return InputKind("lossless")  # not an image PIL can read; reading it will report the real problem
    return InputKind("lossless") if former is None else InputKind("lossy", former, resaved_as=fmt)
