"""Video in, video out: decode with PyAV, upscale every frame, encode H.264 (yuv420p), keep the audio.

Output is written to a hidden temporary file beside ``dst`` and renamed at the
end, so an interrupted or failed run never leaves a file under ``dst``'s name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from vdsr.pipeline import Upscaler
from vdsr.video.colour import HDR_TRANSFERS, size_rule
from vdsr.video.encoder import OutputFile
from vdsr.video.errors import VideoError
from vdsr.video.files import written_whole
from vdsr.video.formats import MAX_OUTPUT_PIXELS
from vdsr.video.probe import open_video, probe_video, video_stream
from vdsr.video.request import Trim, check_request
from vdsr.video.transcode import Transcoder

__all__ = ["ProgressFn", "VideoResult", "upscale_video"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class VideoResult:
    """What :func:`upscale_video` wrote.

    Attributes:
        path: the output file (``dst``).
        frames: frames encoded.
        width, height: output frame size (even numbers).
        fps: the source's average frame rate (timestamps are copied, not resampled).
        duration: seconds of video written (last timestamp + one frame - first).
        seconds: wall-clock time of the whole run.
        audio: one line per audio stream, e.g. ``aac copied`` or ``vorbis -> aac``.
        color_matrix: matrix used for, and tagged on, the output (range is limited).
    """

    path: Path
    frames: int
    width: int
    height: int
    fps: Fraction
    duration: float
    seconds: float
    audio: tuple[str, ...] = field(default_factory=tuple)
    color_matrix: str = "bt601"

    @property
    def frames_per_second(self) -> float:
        """Processing speed (frames per wall-clock second)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _even_size(height: int, width: int) -> tuple[int, int]:
    """Round down to even (yuv420p needs it), but never below 2."""
    return max(2, height - height % 2), max(2, width - width % 2)


def upscale_video(
    src: str | Path,
    dst: str | Path,
    upscaler: Upscaler,
    scale: float,
    *,
    crf: int = 18,
    preset: str = "medium",
    start: float | None = None,
    duration: float | None = None,
    max_frames: int | None = None,
    progress: ProgressFn | None = None,
) -> VideoResult:
    """Upscale every frame of ``src`` and write H.264 (yuv420p) to ``dst`` with the audio copied.

    Args:
        src: input video (anything FFmpeg decodes).
        dst: output file; ``.mp4``, ``.m4v``, ``.mov`` or ``.mkv``.
        upscaler: applied to each frame as (H, W, 3) uint8 RGB.
        scale: upscaling factor (>= 1); odd output sizes are cropped by one pixel to even.
        crf: x264 constant rate factor, 0 (lossless) to 51; 18 is visually lossless.
        preset: x264 speed preset (``ultrafast`` ... ``veryslow``).
        start: seconds to skip first (seeks to the keyframe before, then drops frames).
        duration: seconds of video to process from ``start``.
        max_frames: stop after this many frames.
        progress: called as ``progress(done, total)`` after every frame; ``total``
            is an estimate (from the container) that never drops below ``done``.

    Returns:
        What was written (see :class:`VideoResult`).

    Raises:
        VideoError: bad input or output (one-line message).
        InputError: from the upscaler (bad scale for it, output too large).
        Anything the upscaler or a KeyboardInterrupt raises propagates; ``dst``
        is then left untouched (no partial file under its name).
    """
    started = time.perf_counter()
    src, dst = Path(src), Path(dst)
    trim = Trim(start=start, duration=duration, max_frames=max_frames)
    fmt = check_request(src, dst, scale, crf, preset, trim)
    info = probe_video(src)
    out_h, out_w = _even_size(*upscaler.check(info.height, info.width, scale))
    if out_h * out_w > MAX_OUTPUT_PIXELS:
        raise VideoError(f"{src}: output of {out_w}x{out_h} is over H.264's limit of 8192x4320; use a smaller scale")
    out_matrix = size_rule(out_w, out_h)
    total = trim.expected_frames(info)
    if not dst.parent.is_dir():
        raise VideoError(f"{dst.parent}: output folder does not exist")

    if info.color_transfer in HDR_TRANSFERS:
        log.warning("%s is HDR (%s); frames are processed as 8-bit without tone mapping", src.name, info.color_transfer)
    log.info(
        "%s: %dx%d %s fps %s/%s -> %dx%d %s, %d frames",
        src.name,
        info.width,
        info.height,
        f"{float(info.fps):.3f}",
        info.color_matrix,
        info.color_range,
        out_w,
        out_h,
        out_matrix,
        total,
    )

    def report(done: int) -> None:
        """Progress after each frame; ``total`` is an estimate, so it never drops below ``done``."""
        if progress is not None:
            progress(done, max(total, done))

    with written_whole(dst) as tmp, open_video(src) as container:
        output = OutputFile(path=tmp, fmt=fmt, size=(out_h, out_w), matrix=out_matrix, crf=crf, preset=preset)
        vin = video_stream(src, container)
        vin.thread_type = "AUTO"
        frames, video_seconds, audio = Transcoder(container, vin, info, upscaler, scale, output, trim, report).run()
    log.info("%s: %d frames in %.1f s", dst.name, frames, time.perf_counter() - started)
    return VideoResult(
        path=dst,
        frames=frames,
        width=out_w,
        height=out_h,
        fps=info.fps,
        duration=video_seconds,
        seconds=time.perf_counter() - started,
        audio=audio,
        color_matrix=out_matrix,
    )
