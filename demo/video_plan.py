"""Which part of a clip to upscale, whether it fits the limits, and how long it should take.

The limits bound the work (output pixels in all) and the length of the part upscaled at once, not
the upload: the plan says the longest part that fits at the chosen scale, and the estimated time
from the speed measured here, so a user can pick a start and a duration that will run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from demo.errors import user_error
from demo.limits import AppLimits
from vdsr.video import VideoInfo
from vdsr.video.request import Trim

__all__ = ["VideoPlan", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``: a duration as a person reads it."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


@dataclass(frozen=True)
class VideoPlan:
    """The part of ``info`` from ``start`` for ``duration`` seconds, upscaled to ``out_size`` (height, width)."""

    info: VideoInfo
    start: float
    duration: float
    out_size: tuple[int, int]

    @classmethod
    def make(cls, info: VideoInfo, start: float | None, duration: float | None, out_size: tuple[int, int]) -> VideoPlan:
        """The plan for a request; no duration (or one past the end) means to the end of the clip."""
        start = float(start or 0.0)
        if not math.isfinite(start) or not 0 <= start < info.duration:
            raise user_error(f"The start must be from 0 to {info.duration:.1f} s (the clip's length); got {start:g}.")
        rest = info.duration - start
        if duration is not None and (not math.isfinite(duration) or duration <= 0):
            raise user_error(f"The duration must be more than 0 s; got {duration:g}.")
        return cls(info, start, rest if duration is None else min(float(duration), rest), out_size)

    @property
    def frames(self) -> int:
        """Frames in the part to upscale."""
        return Trim(start=self.start or None, duration=self.duration).expected_frames(self.info)

    @property
    def frame_pixels(self) -> int:
        return self.out_size[0] * self.out_size[1]

    def longest(self, limits: AppLimits) -> float:
        """Seconds from ``start`` that fit the limits at this output size (the length limit and the work limit)."""
        frames = limits.max_video_output_pixels // self.frame_pixels
        fits = min(limits.max_video_seconds, frames / float(self.info.fps))
        return max(0.0, min(fits, self.info.duration - self.start))

    def check(self, limits: AppLimits) -> None:
        """Refuse a part longer than fits, saying how much does."""
        longest = self.longest(limits)
        if self.duration <= longest + 0.05 and self.frames * self.frame_pixels <= limits.max_video_output_pixels:
            return
        out_h, out_w = self.out_size
        if longest * float(self.info.fps) < 1:
            raise user_error(
                f"Even one frame of {out_w}x{out_h} is over the limit of {limits.max_video_output_pixels / 1e6:g} MP "
                "of video output; use a smaller scale."
            )
        raise user_error(
            f"{self.duration:.1f} s from {self.start:g} s is too long: at {out_w}x{out_h}, up to "
            f"{longest:.1f} s fit (the limits are {limits.max_video_seconds:g} s and "
            f"{limits.max_video_output_pixels / 1e6:g} MP of output). Choose a shorter duration or a smaller scale."
        )

    def describe(self, limits: AppLimits, pixels_per_second: float | None) -> str:
        """One line of Markdown: the part, its size, whether it fits, and the estimated time."""
        out_h, out_w = self.out_size
        end = self.start + self.duration
        text = f"To upscale: {self.start:g} to {end:.1f} s, {self.frames} frames to {out_w}x{out_h}."
        longest = self.longest(limits)
        if self.duration > longest + 0.05:
            text += f" **Too long: up to {longest:.1f} s fit from {self.start:g} s at this scale.**"
        else:
            text += f" Up to {longest:.1f} s fit from {self.start:g} s at this scale."
        if pixels_per_second:
            seconds = self.frames * self.frame_pixels / pixels_per_second
            per_frame = pixels_per_second / self.frame_pixels
            text += f" Estimated time: about {format_seconds(seconds)} ({per_frame:.2g} frames/s measured here)."
        else:
            text += " The time estimate appears once a frame has been previewed."
        return text
