"""The H.264 stream of an output: opened at the first frame, fed upscaled RGB frames with their
timestamps, drained at the end so that players read the right duration.

Shared by the one-pass transcode and the per-segment parts, so both encode alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vdsr.pipeline import Upscaler
from vdsr.video.colour import AVCOL_SPC_BY_NAME, AVCOL_UNSPECIFIED, to_rgb, to_yuv
from vdsr.video.probe import VideoInfo, time_base
from vdsr.video.tracks import copy_stream_tags

__all__ = ["OutputFile", "TrackEnd", "VideoEncoder", "step_ticks", "upscale_frame"]


@dataclass(frozen=True)
class OutputFile:
    """Where and how the upscaled video is encoded."""

    path: Path
    fmt: str
    size: tuple[int, int]  # (height, width), both even
    matrix: str
    crf: int
    preset: str


class TrackEnd:
    """Muxes a video stream's packets, holding back the last so its duration can end the track exactly.

    MP4 and MOV take a track's length from its decode times plus the last packet's duration. With
    x264's B-frames the decode times lag the presentation times by the first frames' gaps, and at a
    variable frame rate those differ from the last ones, so the track read short (0.32 s for a
    0.44 s clip). Giving the last packet the remaining time makes players read the source's duration.
    Matroska stores presentation times only and needs no correction.
    """

    def __init__(self, out: av.container.OutputContainer, stream: av.VideoStream) -> None:
        self.out, self.stream = out, stream
        self.held: av.Packet | None = None
        self.first_pts: int | None = None
        self.first_dts: int | None = None
        self.fix = out.format.name in {"mp4", "mov"}

    def mux(self, packet: av.Packet) -> None:
        """Write the packet held so far and hold this one (all timestamps in the stream's time base)."""
        if packet.pts is not None:
            self.first_pts = packet.pts if self.first_pts is None else min(self.first_pts, packet.pts)
        if self.first_dts is None and packet.dts is not None:
            self.first_dts = packet.dts
        if self.held is not None:
            self.out.mux(self.held)
        self.held = packet

    def close(self, end_pts: int) -> None:
        """Write the last packet, lasting until ``end_pts`` (where the last frame ends)."""
        packet, self.held = self.held, None
        if packet is None:
            return
        if self.fix and None not in (packet.dts, self.first_pts, self.first_dts):
            lasting = (end_pts - self.first_pts) - (packet.dts - self.first_dts)  # type: ignore[operator]
            if lasting > 0:
                packet.duration = lasting
        self.out.mux(packet)


class VideoEncoder:
    """libx264 in ``output``'s settings, with the source's time base, colour tags, aspect and rotation."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        vin: av.VideoStream,
        info: VideoInfo,
        output: OutputFile,
        first: av.VideoFrame,
    ) -> None:
        self.output = output
        self.tb = time_base(vin)
        self.stream = _open_stream(out, vin, info, output, first)
        self.track = TrackEnd(out, self.stream)
        self.last_pts: int | None = None

    def encode(self, rgb: np.ndarray, pts: int) -> None:
        """Encode one upscaled (H, W, 3) uint8 frame at ``pts`` (source time base)."""
        if self.last_pts is not None and pts <= self.last_pts:
            pts = self.last_pts + 1  # x264 needs strictly increasing timestamps
        yuv = to_yuv(rgb, self.output.matrix)
        yuv.pts, yuv.time_base = pts, self.tb
        self.last_pts = pts
        for packet in self.stream.encode(yuv):
            self.track.mux(packet)

    def close(self, frame_step: float) -> None:
        """Drain the encoder; the last frame lasts ``frame_step`` seconds."""
        for packet in self.stream.encode(None):
            self.track.mux(packet)
        if self.last_pts is not None:
            self.track.close(self.last_pts + step_ticks(frame_step, self.tb))


def upscale_frame(
    frame: av.VideoFrame, info: VideoInfo, upscaler: Upscaler, scale: float, size: tuple[int, int]
) -> np.ndarray:
    """A decoded source frame upscaled to ``size`` (height, width) as RGB, read with the source's colour tags."""
    rgb = to_rgb(frame, info.color_matrix, info.color_range == "full", info.width, info.height)
    return upscaler.upscale(rgb, scale)[: size[0], : size[1]]


def step_ticks(seconds: float, tb: Fraction) -> int:
    """``seconds`` in ticks of ``tb``, at least one."""
    return max(1, round(seconds / tb))


def _open_stream(
    out: av.container.OutputContainer, vin: av.VideoStream, info: VideoInfo, output: OutputFile, first: av.VideoFrame
) -> av.VideoStream:
    vout = out.add_stream("libx264", rate=info.fps)
    vout.width, vout.height = output.size[1], output.size[0]
    vout.pix_fmt = "yuv420p"
    vout.time_base = vout.codec_context.time_base = time_base(vin)
    vout.options = {"crf": str(output.crf), "preset": output.preset}
    cc = vout.codec_context
    cc.colorspace = AVCOL_SPC_BY_NAME[output.matrix]
    cc.color_range = 1  # limited (MPEG)
    if int(first.color_primaries) != AVCOL_UNSPECIFIED:
        cc.color_primaries = int(first.color_primaries)
    if int(first.color_trc) != AVCOL_UNSPECIFIED:
        cc.color_trc = int(first.color_trc)
    sar = vin.sample_aspect_ratio
    if sar and sar != 1:
        cc.sample_aspect_ratio = sar
    if info.rotation:
        vout.set_display_rotation(info.rotation)
    copy_stream_tags(vin, vout)
    return vout
