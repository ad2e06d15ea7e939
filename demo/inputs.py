"""Gradio inputs -> checked values: scale factors, image arrays, video descriptions and frames, file names.

Everything here raises :class:`gradio.Error` with a one-line reason when the input cannot be used.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from demo.errors import request_error, user_error
from demo.limits import AppLimits, video_frame_hint
from vdsr.imageio import ImageReadError, read_image
from vdsr.pipeline import from_float, to_float
from vdsr.resize import imresize, scaled_size
from vdsr.video import VideoError, VideoInfo, probe_video, read_frames

__all__ = [
    "check_output_size",
    "fit_size",
    "image_size",
    "over_input_limit",
    "describe_video",
    "file_stem",
    "parse_scale",
    "probe_upload",
    "read_frame",
    "read_upload",
    "scale_tag",
    "uploaded_video",
]


def parse_scale(scale: str | float | None, factor: float | None, limits: AppLimits) -> float:
    """``x2``/``x3``/``x4`` -> 2/3/4; ``free`` -> ``factor``; a number (or numeric string) is taken as is."""
    text = str(scale if scale is not None else "x2").strip().lower()
    if text == "free":
        value = float(factor) if factor is not None else float("nan")
    else:
        try:
            value = float(text.removeprefix("x").removeprefix("×"))
        except ValueError:
            raise user_error(f"Scale must be x2, x3, x4, free or a number; got {scale!r}.") from None
    if not math.isfinite(value) or not limits.min_free_scale <= value <= limits.max_free_scale:
        low, high = limits.min_free_scale, limits.max_free_scale
        raise user_error(f"Scale must be between {low:g} and {high:g}; got {value:g}.")
    return value


IMAGE_FORMATS = "PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP and TIFF work"


def image_size(path: str) -> tuple[int, int] | None:
    """(width, height) from the file's header, or None when PIL does not recognise it as an image."""
    try:
        with Image.open(path) as im:
            return im.size
    except (UnidentifiedImageError, OSError):
        return None


def fit_size(height: int, width: int, max_pixels: int) -> tuple[int, int]:
    """The largest (height, width) of the same shape within ``max_pixels``."""
    factor = math.sqrt(max_pixels / (height * width))
    return max(1, math.floor(height * factor)), max(1, math.floor(width * factor))


def read_upload(path: str | None, limits: AppLimits, *, shrink: bool = False) -> np.ndarray:
    """Uploaded image file -> uint8/uint16 array (bit depth and alpha kept); refused in plain words.

    An image over the upload limit is refused with the size it would be shrunk to; with ``shrink``
    it is downscaled (bicubic) to fit instead.
    """
    if not path:
        raise user_error(f"Upload an image first; {IMAGE_FORMATS}.")
    try:
        empty = Path(path).stat().st_size == 0
    except OSError:
        raise user_error("The upload is gone from the server; upload the file again.") from None
    if empty:
        raise user_error("The file is empty.")
    size = image_size(path)
    if size is None:
        raise user_error(f"This file is not an image; {IMAGE_FORMATS}.")
    width, height = size
    allowed = limits.max_shrink_input_pixels if shrink else limits.max_input_pixels
    if width * height > allowed:
        raise user_error(over_input_limit(width, height, limits, shrink=shrink))
    try:
        img = read_image(path, max_pixels=allowed)
    except ImageReadError as exc:
        raise request_error("Cannot use this image", exc, path) from None
    if img.shape[0] * img.shape[1] <= limits.max_input_pixels:
        return img
    new_size = fit_size(img.shape[0], img.shape[1], limits.max_input_pixels)
    return from_float(imresize(to_float(img), new_size), img.dtype, inplace=True)


def over_input_limit(width: int, height: int, limits: AppLimits, *, shrink: bool = False) -> str:
    """Why an image is too large, and what to do about it."""
    limit = f"{limits.max_input_pixels / 1e6:g} MP"
    if shrink or width * height > limits.max_shrink_input_pixels:
        return (
            f"{width}x{height} is {width * height / 1e6:.0f} MP, too large to shrink here (up to "
            f"{limits.max_shrink_input_pixels / 1e6:g} MP); downscale it first."
        )
    fit_h, fit_w = fit_size(height, width, limits.max_input_pixels)
    return (
        f"{width}x{height} ({width * height / 1e6:.1f} MP) is over the {limit} limit for images. "
        f"Tick 'Shrink to fit first' to downscale it to {fit_w}x{fit_h} before upscaling."
    )


def check_output_size(height: int, width: int, scale: float, max_pixels: int, limits: AppLimits) -> None:
    """Refuse a scale whose output is over ``max_pixels``, naming the largest scale that fits this image."""
    out_h, out_w = scaled_size(height, width, scale)
    if out_h * out_w <= max_pixels:
        return
    largest = math.floor(math.sqrt(max_pixels / (height * width)) * 10) / 10
    while largest >= limits.min_free_scale and math.prod(scaled_size(height, width, largest)) > max_pixels:
        largest = round(largest - 0.1, 1)
    advice = (
        f"the largest scale that fits this image is x{largest:g} (choose 'free factor')"
        if largest >= limits.min_free_scale
        else "no scale fits this image; downscale it first"
    )
    raise user_error(
        f"At x{scale:g}, {width}x{height} would become {out_w}x{out_h}, over the output limit of "
        f"{max_pixels / 1e6:g} MP; {advice}."
    )


def uploaded_video(video: str | None) -> str:
    """The uploaded video's path; an empty upload is refused."""
    if not video:
        raise user_error("Upload a video first (MP4, MOV, MKV, WebM, ...).")
    return video


def probe_upload(video: str, limits: AppLimits) -> VideoInfo:
    """Uploaded video -> its description, if it is readable and its frames are within the frame-size limit.

    The clip may be of any length: the limits bound the part upscaled at once (see :mod:`demo.video_plan`).
    """
    try:
        info = probe_video(video)
    except VideoError as exc:
        raise request_error("Cannot use this upload", exc, video) from None
    if info.width * info.height > limits.max_video_frame_pixels:
        raise user_error(
            f"Frames of {info.width}x{info.height} are over the limit of "
            f"{limits.max_video_frame_pixels / 1e6:.2g} MP{video_frame_hint(limits)}; downscale the video first."
        )
    return info


def describe_video(info: VideoInfo) -> str:
    """One line of Markdown: size, rate, length, codecs, and whether its fields are woven back first."""
    audio = ", ".join(info.audio_codecs) if info.audio_codecs else "none"
    interlaced = " Interlaced: deinterlaced before upscaling." if info.interlaced else ""
    return (
        f"**{info.width}x{info.height}**, {float(info.fps):.3g} fps, {info.frames} frames, "
        f"{info.duration:.2f} s, video {info.codec}, audio {audio}.{interlaced}"
    )


def read_frame(video: str, index: int, info: VideoInfo) -> np.ndarray:
    """Frame ``index`` of the video as upright (H, W, 3) uint8 RGB."""
    if not 0 <= index < max(info.frames, 1):
        raise user_error(f"Frame {index} is out of range: the video has {info.frames} frames (0 to {info.frames - 1}).")
    try:
        ((_, rgb),) = read_frames(video, [index])
    except VideoError as exc:
        raise request_error(f"Cannot read frame {index}", exc, video) from None
    return rgb


def file_stem(path: str | None, fallback: str) -> str:
    """The upload's name without suffix, reduced to safe characters, for naming results."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(path).stem) if path else ""
    return stem or fallback


def scale_tag(scale: float) -> str:
    """``x2``, ``x2.5``: the scale as it appears in result file names."""
    return f"x{scale:g}"
