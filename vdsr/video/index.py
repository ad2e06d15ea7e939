"""Every frame of the picture stream by its exact timestamp, read from the packets without decoding.

A long video is cut into segments by frame number; this index turns a frame number into the
source's own timestamp, so each segment can seek to it and the parts join with no frame lost or
repeated. It also applies a trim exactly as the one-pass loop does, frame for frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from vdsr.video.errors import VideoError, first_line
from vdsr.video.probe import VideoInfo, open_video, time_base, video_stream
from vdsr.video.request import Trim

__all__ = ["FrameIndex", "FrameRange", "index_frames", "seek_point"]


@dataclass(frozen=True)
class FrameRange:
    """Frames ``first`` to ``stop - 1`` of a :class:`FrameIndex`, and the timestamp shift of the output."""

    first: int
    stop: int
    shift_pts: int  # subtracted from every timestamp (the first frame's, when a start is given)

    @property
    def frames(self) -> int:
        return self.stop - self.first


@dataclass(frozen=True)
class FrameIndex:
    """Presentation timestamps (ascending, in ``tb``) and keyframe flags of every frame."""

    tb: Fraction
    pts: tuple[int, ...]
    keyframes: tuple[bool, ...]
    origin: int = 0  # the stream's start time: a trim's start counts from here

    def __len__(self) -> int:
        return len(self.pts)

    def seconds(self, i: int) -> float:
        return float(self.pts[i] * self.tb)

    def end_pts(self, stop: int) -> int | None:
        """Timestamp of frame ``stop``, where a range ending before it stops; None past the last frame."""
        return self.pts[stop] if stop < len(self.pts) else None

    def select(self, trim: Trim, fps: Fraction) -> FrameRange:
        """The frames a trim keeps, by the one-pass loop's rules: a frame half a frame early still counts
        as the start, the duration counts from ``start`` (or the first frame), ``max_frames`` caps it.

        A range with no frames (a start past the end) has ``frames == 0``.
        """
        step = 1 / float(fps)
        origin = float(self.origin * self.tb)
        first_time = -math.inf if trim.start is None else origin + trim.start - step / 2
        first = next((i for i in range(len(self.pts)) if self.seconds(i) >= first_time), len(self.pts))
        if first == len(self.pts):
            return FrameRange(first=first, stop=first, shift_pts=0)
        stop = len(self.pts)
        if trim.duration is not None:
            counted_from = self.seconds(first) if trim.start is None else origin + trim.start
            end_time = counted_from + trim.duration - step / 2
            stop = next((i for i in range(first, len(self.pts)) if self.seconds(i) >= end_time), stop)
        if trim.max_frames is not None:
            stop = min(stop, first + trim.max_frames)
        return FrameRange(first=first, stop=stop, shift_pts=self.pts[first] if trim.start is not None else 0)


def index_frames(info: VideoInfo) -> FrameIndex | None:
    """Index the picture stream of ``info.path`` from its packets.

    Returns None when the packets cannot name every frame exactly (a packet without a timestamp, as in
    some AVI files, or two frames at one time): such a video is upscaled in one pass.
    """
    path: Path = info.path
    with open_video(path) as container:
        stream = video_stream(path, container)
        tb = time_base(stream)
        origin = stream.start_time
        frames: list[tuple[int, bool]] = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue
                if packet.pts is None:
                    return None
                frames.append((packet.pts, packet.is_keyframe))
        except av.FFmpegError as exc:
            raise VideoError(f"{path}: damaged video, reading failed ({first_line(exc)})") from None
    frames.sort()
    if any(a[0] == b[0] for a, b in zip(frames, frames[1:], strict=False)):
        return None
    pts = tuple(p for p, _ in frames)
    if origin is None:
        origin = pts[0] if pts else 0
    return FrameIndex(tb=tb, pts=pts, keyframes=tuple(k for _, k in frames), origin=origin)


def seek_point(path: Path, pts: int | None = None, seconds: float | None = None) -> int | None:
    """Where to seek so that decoding starts at or before a frame; None: decode from the beginning.

    The frame is given by its exact timestamp ``pts`` (from an index), or as ``seconds`` after the
    stream's start. Seeking lands on the keyframe before it where the container has an index (MP4,
    MKV); a container searched by bytes (MPEG-TS) can land past it, and then decoding must start at
    the beginning, or the frames in between would be lost. This tries the seek and looks.
    """
    with open_video(path) as container:
        stream = video_stream(path, container)
        if pts is None:
            if not seconds:
                return None
            pts = int(seconds / time_base(stream)) + (stream.start_time or 0)
        try:
            container.seek(pts, stream=stream, backward=True)
            for packet in container.demux(stream):
                if packet.is_keyframe and packet.pts is not None:
                    return pts if packet.pts <= pts else None
        except av.FFmpegError:
            return None
    return None
