"""Degradations: the one place that turns a ground truth into the low-resolution input a model sees.

The standard protocol (:func:`modcrop`, :func:`bicubic_degrade`) is what the paper's tables and
Set5 use. Real inputs are also lossy-compressed, so a degradation *spec* names what happens to the
8-bit low-resolution image after that:

- ``clean``: nothing (the standard protocol);
- ``jpeg:Q``: a JPEG round trip at quality Q (1-100) through PIL, 4:2:0 as cameras and browsers write;
- ``h264:CRF``: one frame through x264 (PyAV, preset medium, yuv420p) at a CRF (0-51);
- ``mpeg2:RATE``: one intra frame through FFmpeg's MPEG-2 encoder at the bits an I-frame gets in a
  720x480, 25 fps stream of RATE bits/s (``1500k``, ``4M``), scaled to the image's area;
- ``noise:SIGMA``: Gaussian noise of SIGMA 8-bit levels on each RGB channel;
- ``blur:SIGMA``: a Gaussian blur of SIGMA low-resolution pixels;
- chains joined by ``+``, applied left to right: ``blur:1.2+jpeg:60``.

Training writes a range instead of a value (``jpeg:30-95``, ``h264:18-35``); each use draws a value
from it. Every result is deterministic given the seed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, cast

import numpy as np
from PIL import Image

from vdsr.resize import imresize

if TYPE_CHECKING:
    import av

__all__ = [
    "Degradation",
    "DegradationError",
    "bicubic_degrade",
    "degrade",
    "h264_round_trip",
    "low_resolution",
    "modcrop",
    "parse_spec",
    "protocol_pair",
]

SPEC_FORMS = (
    "clean, jpeg:Q (1-100), h264:CRF (0-51), mpeg2:RATE (e.g. 1500k), noise:SIGMA, blur:SIGMA, "
    "chains such as blur:1.2+jpeg:60, and ranges such as jpeg:30-95"
)


class DegradationError(ValueError):
    """A degradation spec that cannot be parsed; the message names the valid forms."""


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop the bottom/right so height and width are multiples of ``scale``."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


def bicubic_degrade(hr: np.ndarray, scale: int) -> np.ndarray:
    """The standard low-resolution input: bicubic down by ``scale``, rounded to 8 bits.

    Args:
        hr: (H, W[, C]) float in [0, 1], already modcropped to a multiple of ``scale``.

    Returns:
        (H/scale, W/scale[, C]) float32 in [0, 1] holding exact 8-bit levels, as a
        real low-resolution image file would.
    """
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"{w}x{h} is not a multiple of the scale {scale}; modcrop first")
    lr = imresize(hr, (h // scale, w // scale))
    return np.clip(np.rint(lr * 255.0), 0, 255).astype(np.float32) / np.float32(255.0)


# --- the codecs and filters, each on an 8-bit (H, W, 3) RGB array -------------------------------------


def _jpeg(rgb: np.ndarray, quality: float, _rng: np.random.Generator) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=int(quality), subsampling=2)  # 2: 4:2:0
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def _even(rgb: np.ndarray) -> np.ndarray:
    """Edge-pad to even height and width, which yuv420p needs."""
    h, w = rgb.shape[:2]
    return np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") if h % 2 or w % 2 else rgb


def _codec_round_trip(rgb: np.ndarray, codec: str, decoder: str, options: dict[str, str]) -> tuple[np.ndarray, int]:
    """Encode one limited-range BT.601 yuv420p frame and decode it again: (RGB result, encoded bytes).

    Both conversions round exactly, as the video pipeline does: swscale's default fast path darkens
    a round trip by about one level, a shift a model would learn to undo on every input.
    """
    import av  # only the video degradations need PyAV

    from vdsr.video.colour import to_rgb, to_yuv  # the video pipeline's exact BT.601 conversion

    h, w = rgb.shape[:2]
    padded = _even(rgb)
    enc = cast("av.VideoCodecContext", av.CodecContext.create(codec, "w"))
    enc.width, enc.height, enc.pix_fmt = padded.shape[1], padded.shape[0], "yuv420p"
    enc.time_base, enc.framerate = Fraction(1, 25), Fraction(25)
    enc.options = {"threads": "1", **options}  # one thread: bit-exact results on every machine
    frame = to_yuv(padded, "bt601")
    packets = [*enc.encode(frame), *enc.encode(None)]
    dec = cast("av.VideoCodecContext", av.CodecContext.create(decoder, "r"))
    decoded = [f for p in packets for f in dec.decode(p)] + list(dec.decode(None))
    rgb_out = to_rgb(decoded[0], "bt601", False, padded.shape[1], padded.shape[0])
    return rgb_out[:h, :w], sum(p.size for p in packets)


def h264_round_trip(rgb: np.ndarray, crf: int) -> tuple[np.ndarray, int]:
    """One 8-bit RGB frame through x264 (preset medium, yuv420p) at ``crf``: (decoded RGB, encoded bytes)."""
    return _codec_round_trip(rgb, "libx264", "h264", {"crf": str(int(crf)), "preset": "medium"})


def _h264(rgb: np.ndarray, crf: float, _rng: np.random.Generator) -> np.ndarray:
    return h264_round_trip(rgb, int(crf))[0]


# An I-frame gets about three times a GOP's mean frame size in DVD and broadcast MPEG-2.
_MPEG2_REFERENCE = (720 * 480, 25.0, 3.0)  # pixels, frames/s, I-frame share


def _mpeg2(rgb: np.ndarray, rate: float, _rng: np.random.Generator) -> np.ndarray:
    """The finest quantiser (2-31) whose intra frame fits the bit budget of ``rate`` at 480p."""
    pixels, fps, i_share = _MPEG2_REFERENCE
    budget = rate / 8 / fps * i_share * rgb.shape[0] * rgb.shape[1] / pixels

    def encode(q: int) -> tuple[np.ndarray, int]:
        return _codec_round_trip(rgb, "mpeg2video", "mpeg2video", {"qmin": str(q), "qmax": str(q)})

    lo, hi = 2, 31
    best = encode(hi)[0]
    while lo <= hi:  # the encoded size falls as the quantiser grows
        q = (lo + hi) // 2
        out, size = encode(q)
        if size <= budget:
            best, hi = out, q - 1
        else:
            lo = q + 1
    return best


def _noise(rgb: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    noisy = rgb.astype(np.float32) + rng.normal(0.0, sigma, rgb.shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def _blur(rgb: np.ndarray, sigma: float, _rng: np.random.Generator) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    out = gaussian_filter(rgb.astype(np.float32), sigma=(sigma, sigma, 0), mode="reflect")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class _Kind:
    apply: Callable[[np.ndarray, float, np.random.Generator], np.ndarray]
    low: float
    high: float
    integer: bool


_KINDS: dict[str, _Kind] = {
    "jpeg": _Kind(_jpeg, 1, 100, True),
    "h264": _Kind(_h264, 0, 51, True),
    "mpeg2": _Kind(_mpeg2, 10e3, 100e6, False),
    "noise": _Kind(_noise, 0, 100, False),
    "blur": _Kind(_blur, 0.1, 10, False),
}
_NUMBER = r"\d+(?:\.\d+)?[kKmM]?"
_STEP = re.compile(rf"(?P<kind>[a-z0-9]+):(?P<low>{_NUMBER})(?:-(?P<high>{_NUMBER}))?")


def _number(text: str) -> float:
    unit = {"k": 1e3, "m": 1e6}.get(text[-1].lower(), 1.0)
    return float(text.rstrip("kKmM")) * unit


@dataclass(frozen=True)
class _Step:
    kind: str
    low: float
    high: float

    def draw(self, rng: np.random.Generator) -> float:
        if self.low == self.high:
            return self.low
        if _KINDS[self.kind].integer:
            return float(rng.integers(int(self.low), int(self.high), endpoint=True))
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class Degradation:
    """A parsed spec: steps applied in order to an 8-bit RGB image. Build it with :func:`parse_spec`."""

    spec: str
    steps: tuple[_Step, ...]

    @property
    def is_clean(self) -> bool:
        return not self.steps

    def __call__(self, rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Degrade an (H, W, 3) or (H, W) uint8 image; the same shape and dtype come back."""
        if rgb.dtype != np.uint8:
            raise ValueError(f"degradations work on 8-bit images, got {rgb.dtype}")
        gray = rgb.ndim == 2
        out = np.repeat(rgb[..., None], 3, axis=2) if gray else rgb
        for step in self.steps:
            out = _KINDS[step.kind].apply(out, step.draw(rng), rng)
        return out[..., 0].copy() if gray else out


def parse_spec(spec: str | Degradation) -> Degradation:
    """``"blur:1.2+jpeg:60"`` -> :class:`Degradation`; a bad spec raises :class:`DegradationError`."""
    if isinstance(spec, Degradation):
        return spec
    text = spec.strip().lower()
    if text in ("clean", "none", ""):
        return Degradation("clean", ())
    steps = []
    for part in text.split("+"):
        m = _STEP.fullmatch(part.strip())
        kind = _KINDS.get(m["kind"]) if m else None
        if m is None or kind is None:
            raise DegradationError(f"bad degradation {spec!r}; valid forms: {SPEC_FORMS}")
        low = _number(m["low"])
        high = _number(m["high"]) if m["high"] else low
        if not kind.low <= low <= high <= kind.high:
            raise DegradationError(
                f"bad degradation {spec!r}: {m['kind']} takes {kind.low:g} to {kind.high:g}, "
                "a range low-high in that order; valid forms: " + SPEC_FORMS
            )
        steps.append(_Step(m["kind"], low, high))
    return Degradation(spec.strip(), tuple(steps))


def degrade(rgb: np.ndarray, spec: str | Degradation, *, seed: int | Sequence[int] = 0) -> np.ndarray:
    """Apply a degradation spec to an 8-bit image, deterministically for a given ``seed``."""
    return parse_spec(spec)(rgb, np.random.default_rng(seed))


def low_resolution(
    hr: np.ndarray, scale: int, spec: str | Degradation = "clean", *, seed: int | Sequence[int] = 0
) -> np.ndarray:
    """The input a model is scored on: ``hr`` (float in [0, 1], modcropped) bicubic-downscaled by
    ``scale``, rounded to 8 bits, then degraded by ``spec``; returns uint8."""
    lr = np.rint(bicubic_degrade(hr, scale) * 255).astype(np.uint8)
    degradation = parse_spec(spec)
    return lr if degradation.is_clean else degradation(lr, np.random.default_rng(seed))


def protocol_pair(
    img: np.ndarray, scale: float, spec: str | Degradation = "clean", *, seed: int | Sequence[int] = 0
) -> tuple[np.ndarray, np.ndarray, float]:
    """A ground truth -> (cropped ground truth float in [0, 1], its uint8 low-resolution input, exact scale).

    A free factor is taken as a fraction p/q (q <= 10) and the ground truth is cropped to a multiple
    of p, so the low-resolution size is exact and upscaling it by p/q gives the ground truth's size.
    """
    from vdsr.pipeline import to_float

    frac = Fraction(scale).limit_denominator(10)
    p, q = frac.numerator, frac.denominator
    hr = modcrop(to_float(img), p)
    if q == 1:
        return hr, low_resolution(hr, p, spec, seed=seed), float(p)
    h, w = hr.shape[:2]
    lr = np.clip(np.rint(imresize(hr, (h // p * q, w // p * q)) * 255.0), 0, 255).astype(np.uint8)
    degradation = parse_spec(spec)
    lr = lr if degradation.is_clean else degradation(lr, np.random.default_rng(seed))
    return hr, lr, p / q
