"""The app's per-request bounds, read from the environment when the app is built."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from demo.errors import SetupError
from vdsr.pipeline import UpscaleLimits

__all__ = ["ENV_PREFIX", "AppLimits", "limits_markdown"]

ENV_PREFIX = "VDSR_APP_"


@dataclass(frozen=True)
class AppLimits:
    """Per-request bounds sized for a free CPU Space (2 vCPU, 16 GB).

    VDSR-20 costs about 1.3 MFLOP per output pixel (1.3 TFLOP per output
    megapixel). On 2 vCPU that took from 0.4 s per output megapixel (a Xeon with
    AMX, int8) to about 14 s (an AVX2-only EPYC in fp32); sized for the slowest,
    the bounds keep one image near a minute and one video within about ten minutes.
    """

    max_input_pixels: int = 1_000_000
    max_shrink_input_pixels: int = 50_000_000  # an upload this large may still be downscaled to fit, on request
    max_batch_files: int = 20
    max_output_pixels: int = 4_000_000
    max_ensemble_output_pixels: int = 500_000  # the x8 self-ensemble runs the network 8 times per pixel
    min_free_scale: float = 1.0  # x1: the same size, compression damage removed
    max_free_scale: float = 4.0
    max_video_seconds: float = 10.0
    max_video_frame_pixels: int = 720 * 576  # a DVD frame (PAL; NTSC's 720x480 and 480p's 854x480 fit too)
    max_video_output_pixels: int = 30_000_000
    queue_size: int = 16
    concurrency: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AppLimits:
        """Defaults, overridden by ``VDSR_APP_<FIELD>`` variables (e.g. ``VDSR_APP_QUEUE_SIZE=32``).

        Raises:
            SetupError: a variable is not a number.
        """
        values: dict[str, Any] = {}
        for field in fields(cls):
            name = ENV_PREFIX + field.name.upper()
            raw = environ.get(name)
            if raw is None:
                continue
            try:
                number = float(raw)
            except ValueError:
                raise SetupError(f"{name} must be a number, got {raw!r}") from None
            values[field.name] = int(number) if field.type == "int" else number
        return cls(**values)

    def upscale_limits(self, *, ensemble: bool = False) -> UpscaleLimits:
        """The upscaler's bounds for one request: the x8 self-ensemble has its own, smaller output limit."""
        output = self.max_ensemble_output_pixels if ensemble else self.max_output_pixels
        return UpscaleLimits(max_output_pixels=output, max_scale=self.max_free_scale)


def video_frame_hint(limits: AppLimits) -> str:
    """The frame-size limit in words a user knows, where it takes a DVD's frames."""
    return " (a DVD's 720x576 fits)" if limits.max_video_frame_pixels >= 720 * 576 else ""


def limits_markdown(limits: AppLimits) -> str:
    """The limits as one line of UI text, the video limit in seconds a user can act on."""
    frame = 720 * 576
    example_seconds = limits.max_video_output_pixels // (4 * frame) / 25  # a PAL DVD clip (25 fps) at x2
    example = min(example_seconds, limits.max_video_seconds)
    return (
        f"Limits: images up to {limits.max_input_pixels / 1e6:g} MP in and {limits.max_output_pixels / 1e6:g} MP "
        f"out ({limits.max_ensemble_output_pixels / 1e6:g} MP with the x8 self-ensemble); free scale "
        f"{limits.min_free_scale:g} to {limits.max_free_scale:g}. Videos of any length with frames up to "
        f"{limits.max_video_frame_pixels / 1e6:.2g} MP{video_frame_hint(limits)}: "
        f"up to {limits.max_video_seconds:g} s and "
        f"{limits.max_video_output_pixels / 1e6:g} MP of output are upscaled at a time, so choose a start and a "
        f"duration (a 720x576, 25 fps DVD clip at x2: {example:.1f} s). Requests run {limits.concurrency} at a time; "
        f"at most {limits.queue_size} wait."
    )
