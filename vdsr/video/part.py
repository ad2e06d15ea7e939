"""One segment, decoded, upscaled and encoded on its own into a part file of the job folder.

A part is an MP4 holding only the H.264 stream, its timestamps counted from the segment's first
frame: MP4 keeps those exactly (an offset from zero would pass through the movie's millisecond
clock), and the join adds the segment's start back. It is written to a hidden temporary and renamed
when complete: a part under its own name is always whole, whatever stopped the run. An interlaced
source is deinterlaced from a frame before the segment to a frame after it, so its parts hold the
frames one pass would make.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vdsr.pipeline import Upscaler
from vdsr.video.deinterlace import deinterlaced
from vdsr.video.encoder import OutputFile, VideoEncoder, upscale_frame
from vdsr.video.errors import VideoError
from vdsr.video.files import written_whole
from vdsr.video.index import seek_point
from vdsr.video.overlap import FramePipeline
from vdsr.video.probe import VideoInfo, decode_frames, open_video, time_base, video_stream
from vdsr.video.segments import Segment

__all__ = ["PART_FORMAT", "PartSettings", "encode_part"]

PART_FORMAT = "mp4"


@dataclass(frozen=True)
class PartSettings:
    """What every part of a job shares (plain data, so a worker process can receive it)."""

    info: VideoInfo
    scale: float
    output: OutputFile  # size, matrix, crf and preset; the path is each part's own
    shift_pts: int  # subtracted from every source timestamp in the output
    frame_step: float  # seconds the last frame of the video lasts
    source_tb: Fraction  # time base of the source's picture stream (and of every timestamp above)
    bwdif: str | None = None  # the deinterlacer's arguments; None: frames as decoded


def encode_part(
    settings: PartSettings,
    segment: Segment,
    path: Path,
    upscaler: Upscaler,
    report: Callable[[int], None] = lambda done: None,
) -> int:
    """Encode ``segment`` into ``path``; returns its frame count. ``report(done)`` follows each frame."""
    info = settings.info
    with written_whole(path) as hidden:
        output = replace(settings.output, path=hidden, fmt=PART_FORMAT)
        with av.open(str(hidden), mode="w", format=PART_FORMAT) as out:
            encoder: VideoEncoder | None = None
            frames = 0

            def write(sr: np.ndarray, pts: int) -> None:
                nonlocal frames
                assert encoder is not None  # opened before the first frame is pushed
                encoder.encode(sr, pts)
                frames += 1
                report(frames)

            def upscale(frame: av.VideoFrame) -> np.ndarray:
                return upscale_frame(frame, info, upscaler, settings.scale, output.size)

            with FramePipeline(upscale, write) as pipeline:
                for vin, frame, pts in _segment_frames(info.path, segment, settings.bwdif):
                    if encoder is None:
                        encoder = VideoEncoder(out, vin, info, output, frame)
                    pipeline.push(frame, pts - segment.start_pts)
                if encoder is None:
                    raise VideoError(f"{info.path}: no frames from {segment.start_pts} on (segment {segment.number})")
                pipeline.finish()
            encoder.close(settings.frame_step)
    return frames


def _segment_frames(
    src: Path, segment: Segment, bwdif: str | None
) -> Iterator[tuple[av.VideoStream, av.VideoFrame, int]]:
    """The segment's frames in order: seek to the keyframe before its start (or decode from the
    beginning where a seek would land past it), drop frames before it, stop at its end.

    With ``bwdif``, the keyframe is the one before the frame before the start, so the first frame is
    deinterlaced with its real neighbour, and decoding runs past the end for the last frame's."""
    seek_pts = seek_point(src, segment.start_pts - (1 if bwdif else 0)) if segment.first > 0 else None
    with open_video(src) as container:
        vin = video_stream(src, container)
        vin.thread_type = "AUTO"
        if seek_pts is not None:
            container.seek(seek_pts, stream=vin, backward=True)
        for frame in deinterlaced(decode_frames(src, container, vin), bwdif, time_base(vin)):
            pts = frame.pts
            if pts is None:
                raise VideoError(f"{src}: a frame without a timestamp in segment {segment.number}")
            if pts < segment.start_pts:
                continue
            if segment.end_pts is not None and pts >= segment.end_pts:
                return
            yield vin, frame, pts
