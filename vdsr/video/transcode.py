"""The decode -> upscale -> encode loop behind :func:`~vdsr.video.upscale_video`.

Timing: frame timestamps (pts and time base) are carried over unchanged, so
variable frame rate and audio/video sync survive. Audio and subtitle streams
ride along as :mod:`~vdsr.video.tracks` says, with the file's tags and chapters.
Display rotation is kept as metadata (pixels are not rotated). Interlaced
frames pass through :class:`~vdsr.video.deinterlace.Deinterlacer` between
the decoder and the upscaler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import av
import numpy as np

from vdsr.pipeline import Upscaler
from vdsr.video.deinterlace import Deinterlacer
from vdsr.video.encoder import OutputFile, VideoEncoder, upscale_frame
from vdsr.video.errors import VideoError, first_line
from vdsr.video.overlap import FramePipeline
from vdsr.video.probe import VideoInfo, time_base
from vdsr.video.request import Trim
from vdsr.video.tracks import CarriedTrack, carried_streams, copy_file_info

__all__ = ["Transcoder"]

log = logging.getLogger(__name__)


class Transcoder:
    """One decode -> upscale -> encode pass into ``output.path``, audio and subtitles interleaved on the way.

    Video, audio and subtitle packets arrive mixed from one demuxer; this object holds what they
    share: the trim window, the timestamp shift, where the video ended, and the packets still waiting.
    Single use: build it, call :meth:`run` once.
    """

    out: av.container.OutputContainer  # opened by run()

    def __init__(
        self,
        container: av.container.InputContainer,
        vin: av.VideoStream,
        info: VideoInfo,
        upscaler: Upscaler,
        scale: float,
        output: OutputFile,
        trim: Trim,
        report: Callable[[int], None],
        seek_pts: int | None = None,
        bwdif: str | None = None,
    ) -> None:
        self.container, self.vin, self.info = container, vin, info
        self.upscaler, self.scale, self.output, self.trim, self.report = upscaler, scale, output, trim, report
        self.seek_pts = seek_pts  # where decoding starts (see vdsr.video.index.seek_point); None: the beginning
        self.tb = time_base(vin)
        self.deinterlacer = Deinterlacer(bwdif, self.tb)  # bwdif's arguments, or None: frames as decoded
        self.frame_step = 1 / float(info.fps)
        self.origin = float((vin.start_time or 0) * self.tb)  # a start counts from here (a .ts often starts late)
        self.first_time = -np.inf if trim.start is None else self.origin + trim.start - self.frame_step / 2
        self.end_time = np.inf  # drop frames from here on (set at the first frame when duration is given)
        self.carried = carried_streams(container, output.fmt)
        self.held: dict[int, list[av.Packet]] = {s.index: [] for s in self.carried}  # before the first frame
        self.tracks: dict[int, CarriedTrack] = {}
        self.vout: VideoEncoder | None = None
        self.pipeline: FramePipeline | None = None  # opened with the video stream, at the first frame
        self.frames = 0  # frames taken (upscaled or on their way); self.written: encoded
        self.written = 0
        self.t0 = self.t_last = 0.0
        self.keep_from, self.shift = -np.inf, 0.0  # carried streams' window start and timestamp shift, seconds
        self.t_end = np.inf  # end of the written video, known once the video is done
        self.shift_pts = 0
        self.video_done = False

    def run(self) -> tuple[int, float, tuple[str, ...]]:
        """Transcode; returns (frames, seconds of video, audio labels)."""
        if self.seek_pts is not None:
            self.container.seek(self.seek_pts, stream=self.vin, backward=True)
        options = {"movflags": "+faststart"} if self.output.fmt in {"mp4", "mov"} else {}
        self.out = av.open(str(self.output.path), mode="w", format=self.output.fmt, options=options)
        try:
            for packet in self.container.demux(self.vin, *self.carried):
                handle = self._video_packet if packet.stream is self.vin else self._carried_packet
                if handle(packet):
                    break
            if not self.video_done:  # the end of the file: the frame the deinterlacer held back
                for frame in self.deinterlacer.flush():
                    if self._take(frame):
                        break
            self._finish()
        finally:
            if self.pipeline is not None:
                self.pipeline.close()
            self.out.close()
        audio = tuple(track.label for track in self.tracks.values() if track.paces)
        return self.frames, self.t_end - self.t0, audio

    def _carried_packet(self, packet: av.Packet) -> bool:
        """Hold or write one audio or subtitle packet; True once every audio track has passed the end
        of the video."""
        if packet.size == 0:
            return False
        track = self.tracks.get(packet.stream.index)
        if track is None:
            self.held[packet.stream.index].append(packet)
            return False
        track.pending.append(packet)
        if not self.video_done:
            return False
        t = track.time(packet)
        track.done = t is not None and t >= self.t_end
        track.flush(self.out, self.t_end, self.keep_from, self.shift)
        return self._carried_done()

    def _carried_done(self) -> bool:
        """True when no more of the source is needed: every audio track is past the end of the video
        (subtitles come and go, so with no audio the rest of the file is read for them)."""
        pacing = [track for track in self.tracks.values() if track.paces]
        return all(track.done for track in pacing) if pacing else not self.tracks

    def _video_packet(self, packet: av.Packet) -> bool:
        """Decode one video packet and encode its frames; True once the video is done and no audio waits."""
        if self.video_done:
            return False
        try:
            decoded = self.vin.decode(packet)
        except av.FFmpegError as exc:
            raise VideoError(
                f"{self.info.path}: damaged video, decoding failed after {self.frames} frames ({first_line(exc)})"
            ) from None
        for frame in (ready for got in decoded for ready in self.deinterlacer.push(got)):
            if self._take(frame):
                self.video_done = True
                break
        if not self.video_done:
            return False
        self.t_end = self.t_last + self.frame_step
        return self._carried_done()

    def _take(self, frame: av.VideoFrame) -> bool:
        """Encode ``frame`` if it lies in the trim window; True when the window is complete."""
        if frame.pts is not None:
            t = float(frame.pts * self.tb)
        else:  # no timestamp (some AVI/raw streams): assume a constant rate
            t = self.t_last + self.frame_step if self.frames else max(self.first_time, 0.0)
        if t < self.first_time:
            return False
        if self.vout is None:
            self._begin(frame, t)
        if t >= self.end_time:
            return True
        self._encode(frame, t)
        for track in self.tracks.values():
            track.flush(self.out, t, self.keep_from, self.shift)
        return self.trim.max_frames is not None and self.frames >= self.trim.max_frames

    def _begin(self, first: av.VideoFrame, t: float) -> None:
        """At the first kept frame: fix the trim window, give the output the file's tags and chapters,
        and open the video stream and the carried tracks."""
        self.t0 = t
        if self.trim.start is not None:
            self.shift_pts, self.keep_from, self.shift = first.pts or 0, t, t
        if self.trim.duration is not None:
            origin = t if self.trim.start is None else self.origin + self.trim.start
            self.end_time = origin + self.trim.duration - self.frame_step / 2
        until = self.end_time + self.frame_step / 2  # where the last kept frame ends
        copy_file_info(self.container, self.out, self.keep_from, until, self.shift)
        self.vout = VideoEncoder(self.out, self.vin, self.info, self.output, first)
        self.pipeline = FramePipeline(self._upscale, self._write)
        for s in self.carried:
            self.tracks[s.index] = CarriedTrack(s, self.out)
            self.tracks[s.index].pending = self.held.pop(s.index)

    def _encode(self, frame: av.VideoFrame, t: float) -> None:
        """Send one decoded frame to be upscaled and encoded, its timestamp carried over (shifted by a trim)."""
        if self.pipeline is None:
            raise RuntimeError("the video stream is opened by the first frame")
        pts = frame.pts - self.shift_pts if frame.pts is not None else round((t - self.shift) / self.tb)
        self.pipeline.push(frame, pts)
        self.frames += 1
        self.t_last = t

    def _upscale(self, frame: av.VideoFrame) -> np.ndarray:
        return upscale_frame(frame, self.info, self.upscaler, self.scale, self.output.size)

    def _write(self, sr: np.ndarray, pts: int) -> None:
        if self.vout is None:
            raise RuntimeError("the video stream is opened by the first frame")
        self.vout.encode(sr, pts)
        self.written += 1
        self.report(self.written)

    def _finish(self) -> None:
        """Drain the encoder and the audio; a trimmed run stops the audio with the video."""
        if self.vout is None:
            raise VideoError(
                f"{self.info.path}: no frames in the requested range"
                if self.trim.start is not None
                else f"{self.info.path}: the video stream has no frames"
            )
        if self.pipeline is not None:
            self.pipeline.finish()
        self.vout.close(self.frame_step)
        self.t_end = self.t_last + self.frame_step
        until = self.t_end if self.trim.active else np.inf
        for track in self.tracks.values():
            track.flush(self.out, until, self.keep_from, self.shift)
            track.close(self.out, self.shift)
