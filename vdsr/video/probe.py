"""Open a video, find its picture stream and describe it, turning every FFmpeg failure into a one-line VideoError."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from vdsr.video.colour import frame_colour, transfer_name
from vdsr.video.errors import VideoError, first_line
from vdsr.video.formats import MAX_VIDEO_PIXELS

__all__ = [
    "VideoInfo",
    "decode_frames",
    "open_video",
    "probe_video",
    "time_base",
    "video_stream",
]

log = logging.getLogger(__name__)

_NOT_VIDEO_FORMATS = {"image2", "tty"}
_INTERLACED_FIELD_ORDERS = {2, 3, 4, 5}  # AVFieldOrder: tt, bb, tb, bt (0 unknown, 1 progressive)


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` finds in a file.

    Attributes:
        path: the file.
        container: FFmpeg demuxer name, e.g. ``mov,mp4,m4a,3gp,3g2,mj2``.
        codec: video codec name, e.g. ``h264``.
        width, height: coded frame size in pixels (before any display rotation).
        fps: average frame rate as an exact fraction (30000/1001 for 29.97).
        frames: number of frames; from the container index when it has one,
            else estimated as duration * fps.
        duration: seconds.
        pix_fmt: decoder pixel format, e.g. ``yuv420p``.
        color_matrix: ``bt601``, ``bt709``, ``bt2020``, ``smpte240m`` or ``fcc``.
        color_range: ``limited`` (16-235) or ``full`` (0-255).
        color_guessed: True when the file carries no matrix tag and
            ``color_matrix`` follows the size rule (BT.709 from 720p up).
        color_transfer: transfer tag, e.g. ``bt709``, ``smpte2084`` (PQ), ``arib-std-b67``
            (HLG) or ``unknown``; carried to the output unchanged.
        rotation: display rotation in degrees, counter-clockwise (0, 90, 180, -90).
        audio_codecs: codec name of each audio stream, in order.
        sample_aspect_ratio: width of a pixel over its height as players show it (128/117 for
            NTSC 4:3 DVD-style frames); 1 for square pixels.
        interlaced: True when the stream's field order or the first frame says each frame holds two
            fields (480i broadcasts, DVD video, DV and AVCHD camcorders).
    """

    path: Path
    container: str
    codec: str
    width: int
    height: int
    fps: Fraction
    frames: int
    duration: float
    pix_fmt: str
    color_matrix: str
    color_range: str
    color_guessed: bool
    color_transfer: str
    rotation: int
    audio_codecs: tuple[str, ...] = ()
    sample_aspect_ratio: Fraction = Fraction(1)
    interlaced: bool = False

    def display_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) at which players show an upright frame of this size, pixel aspect applied.

        The aspect stretches the coded frame's rows, so a frame turned by 90 degrees stretches its columns.
        """
        sar = self.sample_aspect_ratio
        if sar == 1:
            return height, width
        if self.rotation in (90, -90, 270, -270):
            return max(1, round(height * sar)), width
        return height, max(1, round(width * sar))

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codecs)

    @property
    def audio_codec(self) -> str | None:
        """Codec of the first audio stream, or None."""
        return self.audio_codecs[0] if self.audio_codecs else None


def open_video(path: Path) -> av.container.InputContainer:
    """Open ``path`` for reading; a missing, unreadable or non-media file is a VideoError."""
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if not path.is_file():
        raise VideoError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty")
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({first_line(exc)})") from None
    except OSError as exc:
        raise VideoError(f"{path}: cannot open ({first_line(exc)})") from None


def video_stream(path: Path, container: av.container.InputContainer) -> av.VideoStream:
    """The first real video stream (cover art in music files does not count)."""
    if container.format.name in _NOT_VIDEO_FORMATS or container.format.name.endswith("_pipe"):
        raise VideoError(f"{path}: {container.format.name} is an image or text format, not a video")
    cover = av.stream.Disposition.attached_pic
    videos = [s for s in container.streams.video if not s.disposition & cover]
    if not videos:
        if container.streams.audio:
            raise VideoError(f"{path}: audio-only file, no video stream")
        raise VideoError(f"{path}: no video stream")
    return videos[0]


def time_base(stream: av.stream.Stream) -> Fraction:
    """The stream's time base; timestamps mean nothing without one."""
    if not stream.time_base:
        raise VideoError(f"stream {stream.index} has no time base")
    return stream.time_base


def decode_frames(
    path: Path, container: av.container.InputContainer, stream: av.VideoStream
) -> Iterator[av.VideoFrame]:
    """Decoded frames of ``stream``; decoder errors become VideoError."""
    frames = container.decode(stream)
    index = 0
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            raise VideoError(
                f"{path}: damaged video, decoding failed after {index} frames ({first_line(exc)})"
            ) from None
        index += 1
        yield frame


def _stream_fps(stream: av.VideoStream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < rate < 1000:
            return Fraction(rate)
    log.warning("no usable frame rate in the stream; assuming 25 fps")
    return Fraction(25)


def _sample_aspect_ratio(stream: av.VideoStream) -> Fraction:
    for sar in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if sar and 0 < sar < 100:
            return Fraction(sar)
    return Fraction(1)


def _stream_duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def probe_video(path: str | Path, *, max_pixels: int = MAX_VIDEO_PIXELS) -> VideoInfo:
    """Describe the first video stream of a file (decodes one frame to check it).

    Raises:
        VideoError: missing, corrupt or audio-only file, no frames, or a frame
            larger than ``max_pixels``; the message is one line naming the file.
    """
    path = Path(path)
    with open_video(path) as container:
        stream = video_stream(path, container)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > max_pixels:
            raise VideoError(
                f"{path}: {width}x{height} is over the limit of {max_pixels / 1e6:.1f} megapixels (4096x2160)"
            )
        stream.thread_type = "AUTO"
        first = next(decode_frames(path, container, stream), None)
        if first is None:
            raise VideoError(f"{path}: the video stream has no frames")
        width, height = first.width, first.height
        if width * height > max_pixels:
            raise VideoError(f"{path}: {width}x{height} is over the limit of {max_pixels / 1e6:.1f} megapixels")
        fps = _stream_fps(stream)
        duration = _stream_duration(container, stream)
        frames = stream.frames or max(1, round(duration * fps))
        matrix, colour_range, guessed = frame_colour(first, width, height)
        return VideoInfo(
            path=path,
            container=container.format.name,
            codec=stream.codec_context.name,
            width=width,
            height=height,
            fps=fps,
            frames=int(frames),
            duration=duration,
            pix_fmt=first.format.name,
            color_matrix=matrix,
            color_range=colour_range,
            color_guessed=guessed,
            color_transfer=transfer_name(first),
            rotation=int(first.rotation or 0),
            audio_codecs=tuple(s.codec_context.name for s in container.streams.audio),
            sample_aspect_ratio=_sample_aspect_ratio(stream),
            interlaced=first.interlaced_frame or stream.codec_context.field_order in _INTERLACED_FIELD_ORDERS,
        )
