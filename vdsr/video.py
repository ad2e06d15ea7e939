"""Video in, video out: decode with PyAV, upscale every frame, encode H.264, keep the audio.

Colour: each frame is converted YUV -> RGB with the source's own matrix and
range (BT.601 / BT.709 / BT.2020 / SMPTE 240M, limited or full). Untagged
sources follow the usual player convention: BT.709 from 1280x720 up, BT.601
below. The output is 8-bit yuv420p, limited range, converted and tagged with
the same rule applied to the *output* size, so players that ignore tags still
show the right colours.

Timing: frame timestamps (pts and time base) are carried over unchanged, so
variable frame rate and audio/video sync survive. Audio streams are remuxed
packet for packet; only a codec the output container cannot hold is
re-encoded to AAC. Display rotation is kept as metadata (pixels are not
rotated).

Output is written to a hidden temporary file beside ``dst`` and renamed at the
end, so an interrupted or failed run never leaves a file under ``dst``'s name.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

from vdsr.imageio import write_image
from vdsr.pipeline import Upscaler

__all__ = [
    "MAX_OUTPUT_PIXELS",
    "MAX_VIDEO_PIXELS",
    "OUTPUT_SUFFIXES",
    "VIDEO_SUFFIXES",
    "VideoError",
    "VideoInfo",
    "VideoResult",
    "extract_frames",
    "read_frames",
    "probe_video",
    "upscale_video",
]

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".m2ts", ".wmv",
                  ".flv", ".3gp", ".ogv")
"""Input suffixes the CLI treats as video (PyAV reads more; the content decides)."""

OUTPUT_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")
"""Containers that hold H.264 and keep timestamps exactly."""

MAX_VIDEO_PIXELS = 4096 * 2160
"""Largest input frame (DCI 4K)."""

MAX_OUTPUT_PIXELS = 8192 * 4320
"""Largest output frame: H.264 level 6.2's limit (8K UHD)."""

ProgressFn = Callable[[int, int], None]

_OUTPUT_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
_NOT_VIDEO_FORMATS = {"image2", "tty"}
_X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
# AVColorSpace (frame tag) -> (name, swscale matrix).
_MATRICES = {
    1: ("bt709", Colorspace.ITU709),
    4: ("fcc", Colorspace.FCC),
    5: ("bt601", Colorspace.ITU601),  # BT470BG
    6: ("bt601", Colorspace.ITU601),  # SMPTE170M
    7: ("smpte240m", Colorspace.SMPTE240M),
    9: ("bt2020", Colorspace.BT2020),
    10: ("bt2020", Colorspace.BT2020),
}
_SWS_BY_NAME = {name: sws for name, sws in _MATRICES.values()}
_AVCOL_SPC_BY_NAME = {"bt709": 1, "bt601": 6}
_AVCOL_UNSPECIFIED = 2
_TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear", 13: "srgb",
              14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
_HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}
_AVCOL_RANGE_JPEG = 2
# Exact rounding and full-resolution chroma: flat colours come back within one level.
_SWS_FLAGS = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT | \
    Interpolation.FULL_CHR_H_INP


class VideoError(ValueError):
    """A video is missing, unreadable, unsupported or too large; the message is one line."""


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

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codecs)

    @property
    def audio_codec(self) -> str | None:
        """Codec of the first audio stream, or None."""
        return self.audio_codecs[0] if self.audio_codecs else None


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


# --------------------------------------------------------------------------- helpers


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _size_rule(width: int, height: int) -> str:
    """The matrix players assume for untagged video: BT.709 from 720p up, else BT.601."""
    return "bt709" if width >= 1280 or height >= 720 else "bt601"


def _frame_colour(frame: av.VideoFrame, width: int, height: int) -> tuple[str, str, bool]:
    """(matrix name, range name, guessed) for a decoded frame."""
    tagged = _MATRICES.get(int(frame.colorspace))
    matrix, guessed = (tagged[0], False) if tagged else (_size_rule(width, height), True)
    full = int(frame.color_range) == _AVCOL_RANGE_JPEG or frame.format.name.startswith("yuvj")
    return matrix, ("full" if full else "limited"), guessed


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if not path.is_file():
        raise VideoError(f"{path}: not a file")
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({_first_line(exc)})") from None
    except OSError as exc:
        raise VideoError(f"{path}: cannot open ({_first_line(exc)})") from None


def _video_stream(path: Path, container: av.container.InputContainer) -> av.VideoStream:
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


def _time_base(stream: av.stream.Stream) -> Fraction:
    if not stream.time_base:
        raise VideoError(f"stream {stream.index} has no time base")
    return stream.time_base


def _stream_fps(stream: av.VideoStream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < rate < 1000:
            return Fraction(rate)
    log.warning("no usable frame rate in the stream; assuming 25 fps")
    return Fraction(25)


def _stream_duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _decode(path: Path, container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
    """Decoded frames of ``stream``; decoder errors become VideoError."""
    frames = container.decode(stream)
    index = 0
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            raise VideoError(f"{path}: damaged video, decoding failed after {index} frames ({_first_line(exc)})") \
                from None
        index += 1
        yield frame


def _to_rgb(frame: av.VideoFrame, matrix: str, full_range: bool, width: int, height: int) -> np.ndarray:
    """Decoded frame -> (height, width, 3) uint8 RGB, using the source's matrix and range."""
    return frame.to_ndarray(
        format="rgb24",
        width=width,
        height=height,
        src_colorspace=_SWS_BY_NAME[matrix],
        src_color_range=ColorRange.JPEG if full_range else ColorRange.MPEG,
        dst_color_range=ColorRange.JPEG,
        interpolation=_SWS_FLAGS,
    )


def _to_yuv(rgb: np.ndarray, matrix: str) -> av.VideoFrame:
    """(H, W, 3) uint8 RGB -> limited-range yuv420p frame in ``matrix`` (bt601 or bt709)."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(
        format="yuv420p",
        dst_colorspace=_SWS_BY_NAME[matrix],
        src_color_range=ColorRange.JPEG,
        dst_color_range=ColorRange.MPEG,
        interpolation=_SWS_FLAGS,
    )


def _even_size(height: int, width: int) -> tuple[int, int]:
    """Round down to even (yuv420p needs it), but never below 2."""
    return max(2, height - height % 2), max(2, width - width % 2)


def _orient(img: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a counter-clockwise display rotation to pixels (for still images)."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(img, turns)) if turns else img


# --------------------------------------------------------------------------- probe


def probe_video(path: str | Path, *, max_pixels: int = MAX_VIDEO_PIXELS) -> VideoInfo:
    """Describe the first video stream of a file (decodes one frame to check it).

    Raises:
        VideoError: missing, corrupt or audio-only file, no frames, or a frame
            larger than ``max_pixels``; the message is one line naming the file.
    """
    path = Path(path)
    with _open(path) as container:
        stream = _video_stream(path, container)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > max_pixels:
            raise VideoError(f"{path}: {width}x{height} is over the limit of {max_pixels / 1e6:.1f} megapixels "
                             f"(4096x2160)")
        stream.thread_type = "AUTO"
        first = next(_decode(path, container, stream), None)
        if first is None:
            raise VideoError(f"{path}: the video stream has no frames")
        width, height = first.width, first.height
        if width * height > max_pixels:
            raise VideoError(f"{path}: {width}x{height} is over the limit of {max_pixels / 1e6:.1f} megapixels")
        fps = _stream_fps(stream)
        duration = _stream_duration(container, stream)
        frames = stream.frames or max(1, round(duration * fps))
        matrix, colour_range, guessed = _frame_colour(first, width, height)
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
            color_transfer=_TRANSFERS.get(int(first.color_trc), "unknown"),
            rotation=int(first.rotation or 0),
            audio_codecs=tuple(s.codec_context.name for s in container.streams.audio),
        )


# --------------------------------------------------------------------------- audio


_LAYOUT_BY_CHANNELS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def _aac_stream(out: av.container.OutputContainer, src: av.AudioStream) -> av.AudioStream:
    """A new AAC output stream for ``src``: its rate and layout, or the nearest the encoder accepts."""
    rate = src.codec_context.sample_rate
    if rate not in (av.Codec("aac", "w").audio_rates or ()):
        rate = 48000
    layouts = [src.codec_context.layout.name, _LAYOUT_BY_CHANNELS.get(src.codec_context.channels), "stereo"]
    for layout in dict.fromkeys(name for name in layouts if name):
        probe = av.CodecContext.create("aac", "w")  # try the layout without touching the output
        probe.sample_rate, probe.layout, probe.format = rate, layout, "fltp"
        try:
            probe.open()
        except av.FFmpegError:
            continue
        stream = out.add_stream("aac", rate=rate, layout=layout)
        stream.time_base = Fraction(1, rate)
        return stream
    raise VideoError(f"audio stream {src.index} ({src.codec_context.name}, {src.codec_context.layout.name}) "
                     "cannot be re-encoded as AAC; write .mkv to copy it unchanged")


class _AudioTrack:
    """One input audio stream on its way to the output: packets copied, or re-encoded to AAC.

    Packets are held until the video has reached their time, so the output is
    interleaved and a trimmed run can stop the audio where the video stopped.
    """

    def __init__(self, src: av.AudioStream, out: av.container.OutputContainer) -> None:
        self.src = src
        self.tb = _time_base(src)
        self.pending: list[av.Packet] = []
        self.done = False
        self.decoder: av.AudioStream | None = None
        try:
            self.stream = out.add_stream_from_template(src)
            self.label = f"{src.codec_context.name} copied"
        except ValueError:
            self.stream = _aac_stream(out, src)
            self.decoder = src
            self.label = f"{src.codec_context.name} -> aac"
        log.info("audio stream %d: %s", src.index, self.label)

    def time(self, packet: av.Packet) -> float | None:
        return None if packet.pts is None else float(packet.pts * self.tb)

    def flush(self, out: av.container.OutputContainer, until: float, start: float, shift: float) -> None:
        """Write held packets that begin before ``until`` (seconds), dropping those before ``start``."""
        keep = []
        for packet in self.pending:
            t = self.time(packet)
            if t is None or t < until:
                if t is None or t >= start:
                    self._write(out, packet, shift)
            else:
                keep.append(packet)
        self.pending = keep

    def _write(self, out: av.container.OutputContainer, packet: av.Packet, shift: float) -> None:
        offset = round(shift / self.tb) if shift else 0
        if self.decoder is None:
            if packet.pts is not None:
                packet.pts -= offset
            if packet.dts is not None:
                packet.dts -= offset
            packet.stream = self.stream
            out.mux(packet)
            return
        for frame in self.decoder.decode(packet):
            if frame.pts is not None:
                frame.pts -= offset
            for encoded in self.stream.encode(frame):
                out.mux(encoded)

    def close(self, out: av.container.OutputContainer, shift: float) -> None:
        """Drain the re-encoder (a no-op for copied streams)."""
        if self.decoder is None:
            return
        offset = round(shift / self.tb) if shift else 0
        for frame in self.decoder.decode(None):
            if frame.pts is not None:
                frame.pts -= offset
            for encoded in self.stream.encode(frame):
                out.mux(encoded)
        for encoded in self.stream.encode(None):
            out.mux(encoded)


# --------------------------------------------------------------------------- upscale_video


def _temp_path(dst: Path) -> Path:
    """A new, unique hidden file beside ``dst`` (same suffix), so concurrent runs never collide."""
    fd, name = tempfile.mkstemp(prefix=f".{dst.stem}.partial-", suffix=dst.suffix, dir=dst.parent)
    os.close(fd)
    return Path(name)


def _check_request(src: Path, dst: Path, scale: float, crf: int, preset: str, start: float | None,
                   duration: float | None, max_frames: int | None) -> str:
    """Validate the arguments of :func:`upscale_video`; returns the output container format."""
    fmt = _OUTPUT_FORMATS.get(dst.suffix.lower())
    if fmt is None:
        raise VideoError(f"{dst}: unsupported output container {dst.suffix or '(none)'}; use "
                         + ", ".join(OUTPUT_SUFFIXES))
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise VideoError(f"{dst}: output would overwrite the input")
    if not 0 <= crf <= 51:
        raise VideoError(f"crf must be 0-51 (lower is better quality), got {crf}")
    if preset not in _X264_PRESETS:
        raise VideoError(f"preset must be one of {', '.join(_X264_PRESETS)}; got {preset!r}")
    if not np.isfinite(scale) or scale < 1:
        raise VideoError(f"scale must be a number >= 1, got {scale}")
    if start is not None and not (np.isfinite(start) and start >= 0):
        raise VideoError(f"start must be >= 0 seconds, got {start}")
    if duration is not None and not (np.isfinite(duration) and duration > 0):
        raise VideoError(f"duration must be > 0 seconds, got {duration}")
    if max_frames is not None and max_frames < 1:
        raise VideoError(f"max_frames must be >= 1, got {max_frames}")
    return fmt


def _expected_frames(info: VideoInfo, start: float | None, duration: float | None, max_frames: int | None) -> int:
    total = info.frames
    if start:
        total -= round(start * info.fps)
    if duration is not None:
        total = min(total, max(1, round(duration * info.fps)))
    if max_frames is not None:
        total = min(total, max_frames)
    return max(total, 1)


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
    fmt = _check_request(src, dst, scale, crf, preset, start, duration, max_frames)
    info = probe_video(src)
    out_h, out_w = _even_size(*upscaler.check(info.height, info.width, scale))
    if out_h * out_w > MAX_OUTPUT_PIXELS:
        raise VideoError(f"{src}: output of {out_w}x{out_h} is over H.264's limit of 8192x4320; use a smaller scale")
    out_matrix = _size_rule(out_w, out_h)
    total = _expected_frames(info, start, duration, max_frames)
    if not dst.parent.is_dir():
        raise VideoError(f"{dst.parent}: output folder does not exist")

    if info.color_transfer in _HDR_TRANSFERS:
        log.warning("%s is HDR (%s); frames are processed as 8-bit without tone mapping", src.name,
                    info.color_transfer)
    tmp = _temp_path(dst)
    log.info("%s: %dx%d %s fps %s/%s -> %dx%d %s, %d frames", src.name, info.width, info.height,
             f"{float(info.fps):.3f}", info.color_matrix, info.color_range, out_w, out_h, out_matrix, total)
    try:
        with _open(src) as container:
            vin = _video_stream(src, container)
            vin.thread_type = "AUTO"
            result = _transcode(container, vin, tmp, fmt, info, upscaler, scale, (out_h, out_w), out_matrix,
                                crf=crf, preset=preset, start=start, duration=duration, max_frames=max_frames,
                                total=total, progress=progress)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    frames, video_seconds, audio = result
    log.info("%s: %d frames in %.1f s", dst.name, frames, time.perf_counter() - started)
    return VideoResult(path=dst, frames=frames, width=out_w, height=out_h, fps=info.fps, duration=video_seconds,
                       seconds=time.perf_counter() - started, audio=audio, color_matrix=out_matrix)


def _transcode(
    container: av.container.InputContainer,
    vin: av.VideoStream,
    tmp: Path,
    fmt: str,
    info: VideoInfo,
    upscaler: Upscaler,
    scale: float,
    out_size: tuple[int, int],
    out_matrix: str,
    *,
    crf: int,
    preset: str,
    start: float | None,
    duration: float | None,
    max_frames: int | None,
    total: int,
    progress: ProgressFn | None,
) -> tuple[int, float, tuple[str, ...]]:
    """Decode -> upscale -> encode into ``tmp``; returns (frames, seconds of video, audio labels)."""
    src = info.path
    out_h, out_w = out_size
    tb = _time_base(vin)
    frame_step = 1 / float(info.fps)
    if start:
        container.seek(int(start / tb) + (vin.start_time or 0), stream=vin, backward=True)
    first_time = -np.inf if start is None else start - frame_step / 2  # drop frames before this
    end_time = np.inf  # drop frames from here on (set at the first frame when duration is given)

    options = {"movflags": "+faststart"} if fmt in {"mp4", "mov"} else {}
    out = av.open(str(tmp), mode="w", format=fmt, options=options)
    try:
        vout: av.VideoStream | None = None
        audio_in = list(container.streams.audio)
        dropped = [f"{s.type} #{s.index}" for s in container.streams if s is not vin and s not in audio_in]
        if dropped:
            log.info("not copied: %s", ", ".join(dropped))
        held: dict[int, list[av.Packet]] = {s.index: [] for s in audio_in}  # audio before the first frame
        tracks: dict[int, _AudioTrack] = {}
        frames = 0
        t0 = t_last = 0.0
        keep_from, shift = -np.inf, 0.0  # audio window start and timestamp shift, seconds
        t_end = np.inf  # end of the written video, known once the video is done
        last_pts: int | None = None
        shift_pts = 0
        video_done = False
        for packet in container.demux(vin, *audio_in):
            if packet.stream.type == "audio":
                if packet.size == 0:
                    continue
                track = tracks.get(packet.stream.index)
                if track is None:
                    held[packet.stream.index].append(packet)
                    continue
                track.pending.append(packet)
                if video_done:
                    t = track.time(packet)
                    track.done = t is not None and t >= t_end
                    track.flush(out, t_end, keep_from, shift)
                    if all(tr.done for tr in tracks.values()):
                        break
                continue
            if video_done:
                continue
            try:
                decoded = vin.decode(packet)
            except av.FFmpegError as exc:
                raise VideoError(f"{src}: damaged video, decoding failed after {frames} frames "
                                 f"({_first_line(exc)})") from None
            for frame in decoded:
                if frame.pts is not None:
                    t = float(frame.pts * tb)
                else:  # no timestamp (some AVI/raw streams): assume a constant rate
                    t = t_last + frame_step if frames else max(first_time, 0.0)
                if t < first_time:
                    continue
                if vout is None:
                    t0 = t
                    if start is not None:
                        shift_pts, keep_from, shift = frame.pts or 0, t0, t0
                    if duration is not None:
                        end_time = (t0 if start is None else start) + duration - frame_step / 2
                    vout = _open_video_out(out, vin, info, out_size, out_matrix, frame, crf, preset)
                    for s in audio_in:
                        tracks[s.index] = _AudioTrack(s, out)
                        tracks[s.index].pending = held.pop(s.index)
                if t >= end_time:
                    video_done = True
                    break
                rgb = _to_rgb(frame, info.color_matrix, info.color_range == "full", info.width, info.height)
                sr = upscaler.upscale(rgb, scale)[:out_h, :out_w]
                yuv = _to_yuv(sr, out_matrix)
                pts = frame.pts - shift_pts if frame.pts is not None else round((t - shift) / tb)
                if last_pts is not None and pts <= last_pts:
                    pts = last_pts + 1  # x264 needs strictly increasing timestamps
                yuv.pts, yuv.time_base = pts, tb
                last_pts = pts
                for encoded in vout.encode(yuv):
                    out.mux(encoded)
                frames += 1
                t_last = t
                for track in tracks.values():
                    track.flush(out, t, keep_from, shift)
                if progress is not None:
                    progress(frames, max(total, frames))
                if max_frames is not None and frames >= max_frames:
                    video_done = True
                    break
            if video_done:
                t_end = t_last + frame_step
                if not tracks:
                    break
        if vout is None:
            raise VideoError(f"{src}: no frames in the requested range" if start is not None
                             else f"{src}: the video stream has no frames")
        for encoded in vout.encode(None):
            out.mux(encoded)
        t_end = t_last + frame_step
        # A whole-file run keeps every audio packet; a trimmed one stops the audio with the video.
        trimmed = start is not None or duration is not None or max_frames is not None
        for track in tracks.values():
            track.flush(out, t_end if trimmed else np.inf, keep_from, shift)
            track.close(out, shift)
    finally:
        out.close()
    audio = tuple(track.label for track in tracks.values())
    return frames, t_end - t0, audio


def _open_video_out(
    out: av.container.OutputContainer,
    vin: av.VideoStream,
    info: VideoInfo,
    size: tuple[int, int],
    matrix: str,
    first: av.VideoFrame,
    crf: int,
    preset: str,
) -> av.VideoStream:
    vout = out.add_stream("libx264", rate=info.fps)
    vout.width, vout.height = size[1], size[0]
    vout.pix_fmt = "yuv420p"
    vout.time_base = vout.codec_context.time_base = _time_base(vin)
    vout.options = {"crf": str(crf), "preset": preset}
    cc = vout.codec_context
    cc.colorspace = _AVCOL_SPC_BY_NAME[matrix]
    cc.color_range = 1  # limited (MPEG)
    if int(first.color_primaries) != _AVCOL_UNSPECIFIED:
        cc.color_primaries = int(first.color_primaries)
    if int(first.color_trc) != _AVCOL_UNSPECIFIED:
        cc.color_trc = int(first.color_trc)
    sar = vin.sample_aspect_ratio
    if sar and sar != 1:
        cc.sample_aspect_ratio = sar
    if info.rotation:
        vout.set_display_rotation(info.rotation)
    return vout


# --------------------------------------------------------------------------- stills


def extract_frames(
    src: str | Path,
    frame_indices: Iterable[int],
    upscaler: Upscaler,
    scale: float,
    out_dir: str | Path,
) -> list[Path]:
    """Write bicubic | upscaler side-by-side PNGs of chosen frames, for a quick look.

    Each PNG is (H', 2 * W', 3) uint8 with the plain bicubic upscale on the left
    and ``upscaler``'s on the right (H', W' = the upscaled frame size), turned
    upright if the video carries a display rotation. Frames are decoded in order
    from the start, so late indices in long videos take a while.

    Args:
        src: input video.
        frame_indices: 0-based frame numbers; duplicates are written once.
        upscaler: the model to compare against bicubic.
        scale: upscaling factor.
        out_dir: created if missing; files are named ``<stem>_f<index>_x<scale>.png``.

    Returns:
        The written paths, in ascending frame order.

    Raises:
        VideoError: bad video, or an index that is negative or past the last frame.
    """
    src, out_dir = Path(src), Path(out_dir)
    info = probe_video(src)
    upscaler.check(info.height, info.width, scale)
    bicubic = Upscaler(None, limits=upscaler.limits)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for index, rgb in read_frames(src, frame_indices):
        pair = np.hstack([bicubic.upscale(rgb, scale), upscaler.upscale(rgb, scale)])
        written.append(write_image(out_dir / f"{src.stem}_f{index:06d}_x{scale:g}.png", pair))
    return written


def read_frames(src: str | Path, frame_indices: Iterable[int]) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` for the chosen frames in ascending order; duplicates once.

    Each frame is (H, W, 3) uint8 RGB, converted with the source's own matrix and
    range and turned upright if the video carries a display rotation. Frames are
    decoded in order from the start, so late indices in long videos take a while.

    Raises:
        VideoError: bad video, no indices, or an index that is negative or past the last frame.
    """
    src = Path(src)
    wanted = sorted(set(int(i) for i in frame_indices))
    if not wanted:
        raise VideoError("no frame numbers given")
    if wanted[0] < 0:
        raise VideoError(f"frame numbers start at 0, got {wanted[0]}")
    info = probe_video(src)
    full = info.color_range == "full"
    done = 0
    with _open(src) as container:
        stream = _video_stream(src, container)
        stream.thread_type = "AUTO"
        index = -1
        for index, frame in enumerate(_decode(src, container, stream)):
            if index != wanted[done]:
                continue
            rgb = _to_rgb(frame, info.color_matrix, full, info.width, info.height)
            yield index, _orient(rgb, info.rotation)
            done += 1
            if done == len(wanted):
                return
    raise VideoError(f"{src}: frame {wanted[done]} is past the end ({index + 1} frames)")
