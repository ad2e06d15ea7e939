"""ZeroGPU readiness: on a Hugging Face Space with ZeroGPU hardware, the handlers that run the network
ask for a GPU for as long as their work should take; everywhere else nothing changes.

ZeroGPU lends a GPU only inside functions wrapped with ``spaces.GPU``, for a duration the function
declares up front. The wrapping is done only where ``$SPACES_ZERO_GPU`` is set (the Space sets it),
and ``spaces`` is imported only there, so the app neither needs nor loads the package elsewhere.
Durations are estimated from the output pixels, which is what VDSR's cost follows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from demo.inputs import image_size

__all__ = [
    "ZERO_GPU_ENV",
    "batch_gpu_seconds",
    "gpu_seconds",
    "image_gpu_seconds",
    "on_zero_gpu",
    "preview_gpu_seconds",
    "video_gpu_seconds",
    "with_gpu",
]

log = logging.getLogger(__name__)

ZERO_GPU_ENV = "SPACES_ZERO_GPU"
_PIXELS_PER_SECOND = 10e6  # VDSR-20 at fp16 on one ZeroGPU slice, with room to spare
_START_SECONDS = 10.0  # the first call builds the engine on the GPU
_MIN_SECONDS, _MAX_SECONDS = 15, 120  # ZeroGPU's default is 60 s; a Space's quota favours short requests
_SCALES = {"x2": 2.0, "x3": 3.0, "x4": 4.0}

F = TypeVar("F", bound=Callable[..., Any])


def on_zero_gpu(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this is a ZeroGPU Space (the platform sets ``$SPACES_ZERO_GPU``)."""
    return environ.get(ZERO_GPU_ENV, "").strip().lower() not in ("", "0", "false")


def gpu_seconds(output_pixels: float) -> int:
    """Seconds of GPU to ask for, for this many output pixels."""
    seconds = _START_SECONDS + output_pixels / _PIXELS_PER_SECOND
    return int(min(_MAX_SECONDS, max(_MIN_SECONDS, seconds)))


def _scale(scale: Any, factor: Any) -> float:
    if scale == "free":
        return float(factor)
    return _SCALES.get(str(scale), 4.0)


def _image_pixels(image: Any) -> int:
    width, height = image_size(str(image)) or (1000, 1000)
    return width * height


def image_gpu_seconds(
    image: Any = None,
    scale: Any = "x2",
    factor: Any = 2.5,
    model: Any = None,
    engine: Any = None,
    ensemble: Any = False,
    *_: Any,
    **__: Any,
) -> int:
    """The duration for an image request (the handler's arguments); the longest on anything unexpected."""
    try:
        passes = 8 if ensemble is True else 1  # the x8 self-ensemble runs the network eight times
        return gpu_seconds(_image_pixels(image) * _scale(scale, factor) ** 2 * passes)
    except (OSError, TypeError, ValueError):
        return _MAX_SECONDS


def batch_gpu_seconds(images: Any = None, scale: Any = "x2", factor: Any = 2.5, *_: Any, **__: Any) -> int:
    """The duration for a batch: every image's output pixels."""
    try:
        pixels = sum(_image_pixels(path) for path in images or [])
        return gpu_seconds(pixels * _scale(scale, factor) ** 2)
    except (OSError, TypeError, ValueError):
        return _MAX_SECONDS


def _video_seconds(video: Any, scale: Any, factor: Any, duration: Any = None, frames: int | None = None) -> int:
    from vdsr.video import probe_video

    info = probe_video(str(video))
    count = frames if frames is not None else round(float(duration or info.duration) * float(info.fps))
    return gpu_seconds(count * info.width * info.height * _scale(scale, factor) ** 2)


def preview_gpu_seconds(
    video: Any = None, frame: Any = 0, mode: Any = "upscale", scale: Any = "x2", factor: Any = 2.5, *_: Any, **__: Any
) -> int:
    """The duration for a frame preview: one frame."""
    try:
        return _video_seconds(video, scale, factor, frames=1)
    except (OSError, TypeError, ValueError):  # an unreadable input: ask for the longest; the handler says why
        return _MAX_SECONDS


def video_gpu_seconds(
    video: Any = None,
    scale: Any = "x2",
    factor: Any = 2.5,
    model: Any = None,
    engine: Any = None,
    start: Any = 0.0,
    duration: Any = None,
    *_: Any,
    **__: Any,
) -> int:
    """The duration for a video request: the frames of the chosen part."""
    try:
        return _video_seconds(video, scale, factor, duration=duration)
    except (OSError, TypeError, ValueError):  # VideoError is a ValueError
        return _MAX_SECONDS


def with_gpu(handler: F, seconds: Callable[..., int], environ: Mapping[str, str] = os.environ) -> F:
    """``handler`` wrapped with ``spaces.GPU(duration=seconds)`` on a ZeroGPU Space; ``handler`` itself elsewhere."""
    if not on_zero_gpu(environ):
        return handler
    import spaces  # present on ZeroGPU Spaces; imported only there

    log.info("ZeroGPU: %s asks for a GPU per call", getattr(handler, "__name__", handler))
    return spaces.GPU(duration=seconds)(handler)  # type: ignore[no-any-return]
