"""Interlaced frames woven back into whole pictures (FFmpeg's bwdif) before they reach the upscaler.

A 480i broadcast or a DVD stores each frame as two fields captured 1/50 or 1/60 s apart. Upscaled as
it is, every moving edge becomes a comb of alternate lines, and a sharpening network makes the comb
sharper. bwdif rebuilds each frame from its own fields and its neighbours', one frame out per frame
in, so frame counts stay those of the source; bwdif counts time in half frames, so each frame out
gets back the timestamp of its frame in. It needs the next frame before it can give the current
one: :class:`Deinterlacer` holds one frame back and gives it up at :meth:`flush`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from fractions import Fraction

import av

from vdsr.video.errors import VideoError
from vdsr.video.formats import DEINTERLACE_MODES
from vdsr.video.probe import VideoInfo

__all__ = ["Deinterlacer", "deinterlace_filter", "deinterlaced"]

_BWDIF = "mode=send_frame:parity=auto:deint={which}"


def deinterlace_filter(mode: str, info: VideoInfo) -> str | None:
    """bwdif's arguments for ``info``'s frames under ``mode``, or None when they go to the upscaler as they are.

    ``auto`` deinterlaces a video whose stream or first frame says it is interlaced, and then only the
    frames flagged so (a DVD can mix film and video); ``on`` deinterlaces every frame, for interlaced
    footage stored without the flag; ``off`` never does.
    """
    if mode not in DEINTERLACE_MODES:
        raise VideoError(f"deinterlace must be one of {', '.join(DEINTERLACE_MODES)}; got {mode!r}")
    if mode == "on":
        return _BWDIF.format(which="all")
    if mode == "auto" and info.interlaced:
        return _BWDIF.format(which="interlaced")
    return None


class Deinterlacer:
    """bwdif on a stream of decoded frames: :meth:`push` each frame, then :meth:`flush` once at the end.

    With ``args`` None every frame passes straight through. The filter is built at the first frame and
    built again if the frame size or format changes mid-stream.
    """

    def __init__(self, args: str | None, tb: Fraction) -> None:
        self.args, self.tb = args, tb
        self.graph: av.filter.Graph | None = None
        self.shape: tuple[int, int, str] | None = None
        self.waiting: deque[int | None] = deque()  # timestamps of the frames in, not yet out

    def push(self, frame: av.VideoFrame) -> list[av.VideoFrame]:
        """The frames ready after ``frame`` went in (none for the first, then one each)."""
        if self.args is None:
            return [frame]
        ready: list[av.VideoFrame] = []
        shape = (frame.width, frame.height, frame.format.name)
        if shape != self.shape:
            ready = self.flush()
            self.graph, self.shape = self._build(frame), shape
        assert self.graph is not None  # built just above
        try:
            self.graph.vpush(frame)
        except av.FFmpegError as exc:
            raise VideoError(f"cannot deinterlace {shape[0]}x{shape[1]} {shape[2]} frames ({exc})") from None
        self.waiting.append(frame.pts)
        return ready + self._pull()

    def flush(self) -> list[av.VideoFrame]:
        """The frame still held back; the filter is spent afterwards (the next push builds a new one)."""
        if self.graph is None:
            return []
        self.graph.vpush(None)
        ready = self._pull()
        self.graph, self.shape = None, None
        return ready

    def _build(self, first: av.VideoFrame) -> av.filter.Graph:
        width, height, fmt = first.width, first.height, first.format
        graph = av.filter.Graph()
        source = graph.add_buffer(width=width, height=height, format=fmt, time_base=self.tb)
        bwdif = graph.add("bwdif", self.args)
        sink = graph.add("buffersink")
        source.link_to(bwdif)
        bwdif.link_to(sink)
        try:
            graph.configure()
        except av.FFmpegError as exc:
            raise VideoError(f"cannot deinterlace {width}x{height} {fmt.name} frames ({exc})") from None
        return graph

    def _pull(self) -> list[av.VideoFrame]:
        assert self.graph is not None
        ready: list[av.VideoFrame] = []
        while True:
            try:
                frame = self.graph.vpull()
            except (av.BlockingIOError, av.EOFError):
                return ready
            frame.pts, frame.time_base = self.waiting.popleft(), self.tb
            ready.append(frame)


def deinterlaced(frames: Iterable[av.VideoFrame], args: str | None, tb: Fraction) -> Iterator[av.VideoFrame]:
    """``frames`` through bwdif (or unchanged with ``args`` None): as many frames out, in order, one late."""
    deinterlacer = Deinterlacer(args, tb)
    for frame in frames:
        yield from deinterlacer.push(frame)
    yield from deinterlacer.flush()
