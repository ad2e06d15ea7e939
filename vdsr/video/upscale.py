"""Video in, video out: decode with PyAV, upscale every frame, encode H.264 (yuv420p), keep the audio.

A clip of one segment (a few seconds) is transcoded in one pass. A longer one becomes a resumable
job: segments encoded on their own into ``OUT.parts/`` (see :mod:`~vdsr.video.segmented`), then
joined. Either way the output is written to a hidden temporary file beside ``dst`` and renamed at
the end, so an interrupted or failed run never leaves a file under ``dst``'s name.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from vdsr.pipeline import Upscaler
from vdsr.video.colour import HDR_TRANSFERS, size_rule
from vdsr.video.deinterlace import deinterlace_filter
from vdsr.video.encoder import OutputFile
from vdsr.video.errors import VideoError
from vdsr.video.files import written_whole
from vdsr.video.formats import DEFAULT_PRESET, MAX_OUTPUT_PIXELS
from vdsr.video.index import index_frames, seek_point
from vdsr.video.job import discard_job, source_identity
from vdsr.video.join import AudioWindow
from vdsr.video.part import PartSettings
from vdsr.video.probe import VideoInfo, open_video, probe_video, video_stream
from vdsr.video.request import Trim, check_request
from vdsr.video.runners import LocalRunner, ProcessRunner, SegmentRunner
from vdsr.video.segmented import run_segmented
from vdsr.video.segments import plan_segments
from vdsr.video.transcode import Transcoder

__all__ = ["SEGMENT_SECONDS", "ProgressFn", "VideoResult", "upscale_video"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]

SEGMENT_SECONDS = 5.0
"""Default segment length: an interruption loses at most this much work, and a segment's own costs
(a seek, an encoder start, a join) stay a small share of it."""


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
        segments: segments the job was cut into (1: one pass, no job folder).
        resumed: segments an earlier, interrupted run had finished.
        resumed_frames: the frames in those segments (not upscaled by this run).
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
    segments: int = 1
    resumed: int = 0
    resumed_frames: int = 0

    @property
    def frames_per_second(self) -> float:
        """Processing speed: frames this run upscaled per wall-clock second."""
        return (self.frames - self.resumed_frames) / self.seconds if self.seconds > 0 else 0.0


def _runner(
    upscaler: Upscaler,
    workers: int | None,
    make_upscaler: Callable[[], Upscaler] | None,
    ray: str | None,
    devices: Sequence[int] = (),
) -> SegmentRunner:
    if workers is not None and workers < 1:
        raise VideoError(f"workers must be >= 1, got {workers}")
    if devices and ray is not None:
        raise VideoError("devices are for worker processes on this machine; Ray gives its actors GPUs itself")
    if ray is None and (workers or 1) == 1 and not devices:
        return LocalRunner(upscaler)
    if make_upscaler is None:
        raise ValueError("workers in other processes need make_upscaler, to build the upscaler there")
    if ray is not None:
        from vdsr.video.ray_runner import RayRunner  # Ray is optional

        return RayRunner(make_upscaler, workers, ray)
    return ProcessRunner(make_upscaler, workers or max(1, len(devices)), devices)


def _describe(upscaler: Upscaler) -> dict[str, Any]:
    """What the upscaler itself says about the model: its refine callable's type, halo and tile."""
    refine = upscaler.refine
    kind = "bicubic" if refine is None else f"{type(refine).__module__}.{type(refine).__qualname__}"
    return {"upscaler": kind, "halo": upscaler.halo, "tile": upscaler.limits.tile}


def _settings(output: OutputFile, scale: float, trim: Trim, segment_frames: int, bwdif: str | None) -> dict[str, Any]:
    # segment_frames is the planned length; boundaries moved to keyframes are compared separately
    """Every setting that changes a part's pixels or stream, or which frames it holds."""
    return {
        "scale": scale,
        "deinterlace": bwdif,
        "size": list(output.size),
        "matrix": output.matrix,
        "codec": "libx264 yuv420p",
        "crf": output.crf,
        "preset": output.preset,
        "container": output.fmt,
        "start": trim.start,
        "duration": trim.duration,
        "max_frames": trim.max_frames,
        "segment_frames": segment_frames,
    }


def _audio_window(trim: Trim, seek_pts: int | None, first: float, end: float) -> AudioWindow:
    """The one-pass loop's audio rules: a start shifts the audio with the video; any trim ends it with the video."""
    return AudioWindow(
        seek_pts=seek_pts,
        keep_from=first if trim.start is not None else -math.inf,
        until=end if trim.active else math.inf,
        shift=first if trim.start is not None else 0.0,
    )


def _one_pass(
    src: Path,
    output: OutputFile,
    info: VideoInfo,
    upscaler: Upscaler,
    scale: float,
    trim: Trim,
    seek_pts: int | None,
    total: int,
    progress: ProgressFn | None,
    bwdif: str | None,
) -> tuple[int, float, tuple[str, ...]]:
    """Decode, upscale and encode in one go into a hidden file, renamed to ``output.path`` when complete."""

    def report(done: int) -> None:
        if progress is not None:
            progress(done, max(total, done))

    with written_whole(output.path) as hidden, open_video(src) as container:
        vin = video_stream(src, container)
        vin.thread_type = "AUTO"
        out = replace(output, path=hidden)
        transcoder = Transcoder(
            container, vin, info, upscaler, scale, out, trim, report, seek_pts=seek_pts, bwdif=bwdif
        )
        return transcoder.run()


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
    preset: str = DEFAULT_PRESET,
    start: float | None = None,
    duration: float | None = None,
    max_frames: int | None = None,
    deinterlace: str = "auto",
    progress: ProgressFn | None = None,
    segment_seconds: float | None = SEGMENT_SECONDS,
    restart: bool = False,
    model_identity: Mapping[str, Any] | None = None,
    workers: int | None = None,
    make_upscaler: Callable[[], Upscaler] | None = None,
    ray: str | None = None,
    devices: Sequence[int] = (),
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
        deinterlace: ``auto`` deinterlaces (bwdif, one frame out per frame in) a source that says it is
            interlaced; ``on`` every frame, for interlaced footage without the flag; ``off`` never.
        progress: called as ``progress(done, total)`` after every frame, for the whole job (segments
            finished by an earlier run count as done); ``total`` never drops below ``done``.
        segment_seconds: length of a segment; a video of more than 1.5 segments is upscaled as a
            resumable job in ``OUT.parts/``. None or 0: always one pass.
        restart: discard an unfinished job for ``dst`` instead of continuing it.
        model_identity: what names the model and engine in the job's manifest (for example the
            checkpoint's SHA-256 and the engine's backend and precision), so a job is never continued
            with another model; added to the upscaler's own class, halo and tile.
        workers: processes encoding segments at once; more than one needs ``make_upscaler``. None:
            one here (in this process), one per device with ``devices``, one actor per node with ``ray``.
        make_upscaler: builds the upscaler in each worker process (picklable, e.g. a
            ``functools.partial`` of ``engines.load_upscaler``); gives the same frames as ``upscaler``.
        ray: send segments to a Ray cluster at this address (``""``: Ray's default: ``RAY_ADDRESS``,
            a cluster started on this machine, or a new local one); every node must see ``src`` and
            ``dst``'s folder at the same paths. Needs ``make_upscaler`` and Ray installed.
        devices: CUDA devices for the worker processes, dealt out in turn (worker i sees only
            ``devices[i % len(devices)]``); ``workers`` defaults to one per device.

    Returns:
        What was written (see :class:`VideoResult`).

    Raises:
        VideoError: bad input or output, or a job folder for ``dst`` that does not match this
            request (one-line message).
        InputError: from the upscaler (bad scale for it, output too large).
        Anything the upscaler or a KeyboardInterrupt raises propagates; ``dst``
        is then left untouched (no partial file under its name), and finished segments stay.
    """
    started = time.perf_counter()
    src, dst = Path(src), Path(dst)
    trim = Trim(start=start, duration=duration, max_frames=max_frames)
    fmt = check_request(src, dst, scale, crf, preset, trim)
    runner = _runner(upscaler, workers, make_upscaler, ray, devices)
    if segment_seconds is not None and not (math.isfinite(segment_seconds) and segment_seconds >= 0):
        raise VideoError(f"segment length must be >= 0 seconds, got {segment_seconds}")
    info = probe_video(src)
    bwdif = deinterlace_filter(deinterlace, info)
    out_h, out_w = _even_size(*upscaler.check(info.height, info.width, scale))
    if out_h * out_w > MAX_OUTPUT_PIXELS:
        raise VideoError(f"{src}: output of {out_w}x{out_h} is over H.264's limit of 8192x4320; use a smaller scale")
    out_matrix = size_rule(out_w, out_h)
    if not dst.parent.is_dir():
        raise VideoError(f"{dst.parent}: output folder does not exist")
    if info.color_transfer in HDR_TRANSFERS:
        log.warning("%s is HDR (%s); frames are processed as 8-bit without tone mapping", src.name, info.color_transfer)
    output = OutputFile(path=dst, fmt=fmt, size=(out_h, out_w), matrix=out_matrix, crf=crf, preset=preset)
    index = index_frames(info) if segment_seconds else None
    span = index.select(trim, info.fps) if index is not None else None
    if span is not None and span.frames == 0:
        raise VideoError(f"{src}: no frames in the requested range")
    seek_pts = None  # where decoding starts: at or before the first frame kept (and the one before it, for bwdif)
    if trim.start:
        back = 1 if bwdif else 0  # bwdif needs the frame before the first, decoded too
        exact = index.pts[span.first] - back if index is not None and span is not None else None
        seek_pts = seek_point(src, pts=exact, seconds=max(0.0, trim.start - back / float(info.fps)))
    total = span.frames if span is not None else trim.expected_frames(info)
    if bwdif is not None:
        flagged = "interlaced" if info.interlaced else "not flagged interlaced"
        log.info("%s: %s; deinterlacing with bwdif before upscaling", src.name, flagged)
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
    length = max(1, round((segment_seconds or 0) * float(info.fps)))
    segments = plan_segments(index, span, length) if index is not None and span is not None and segment_seconds else []
    if len(segments) > 1 and index is not None and span is not None:
        identity = {
            "source": source_identity(src),
            "model": {**_describe(upscaler), **dict(model_identity or {})},
            "settings": _settings(output, scale, trim, length, bwdif),
        }
        settings = PartSettings(info, scale, output, span.shift_pts, 1 / float(info.fps), index.tb, bwdif)
        step = settings.frame_step
        window = _audio_window(trim, seek_pts, index.seconds(span.first), index.seconds(span.stop - 1) + step)
        outcome = run_segmented(
            dst, fmt, settings, segments, identity, window, runner, restart=restart, progress=progress
        )
        frames, audio, resumed, resumed_frames = outcome.frames, outcome.audio, outcome.resumed, outcome.resumed_frames
        video_seconds = index.seconds(span.stop - 1) + step - index.seconds(span.first)
    else:
        discard_job(dst, restart=restart)  # a job folder left for dst: refused, or removed on a restart
        frames, video_seconds, audio = _one_pass(
            src, output, info, upscaler, scale, trim, seek_pts, total, progress, bwdif
        )
        resumed = resumed_frames = 0
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
        segments=max(1, len(segments)),
        resumed=resumed,
        resumed_frames=resumed_frames,
    )
