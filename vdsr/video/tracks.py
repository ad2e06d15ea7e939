"""The source's other streams ride along with the upscaled video, with their language and title.

Audio packets are copied as they are, or re-encoded to AAC when the output container cannot hold the
codec or, in MP4, when browsers and phones would not play it. Subtitles are copied where the container
holds them (Matroska holds every kind); MP4 and MOV hold only their own text format, so text
subtitles (SRT, ASS, WebVTT) are converted to it by FFmpeg's encoder, and picture subtitles (DVD,
Blu-ray) stay behind. Timestamps are shifted with a trimmed video. The file's own tags (title, date
recorded, place) and its chapters are carried by :func:`copy_file_info`.

Whether a container holds a codec is decided before the output is written, by writing a header
for it in memory: FFmpeg refuses some pairs only there (Opus or FLAC in MOV, 8 kHz MP3 in MP4),
too late for a run that has already started.
"""

from __future__ import annotations

import contextlib
import io
import logging
from fractions import Fraction
from typing import TYPE_CHECKING

import av
from av.subtitles.stream import SubtitleStream

from vdsr.video.errors import VideoError
from vdsr.video.probe import time_base

if TYPE_CHECKING:
    from av.container.core import Chapter

__all__ = [
    "MP4_AUDIO",
    "CarriedStream",
    "CarriedTrack",
    "can_copy",
    "carried_streams",
    "copy_file_info",
    "copy_stream_tags",
    "keeps",
]

log = logging.getLogger(__name__)

MP4_AUDIO = frozenset({"aac", "mp3", "opus", "flac"})
"""Audio codecs that browsers, phones and TVs play from an MP4. MP4 can also hold AC3, MP2, PCM and
ALAC (DVD, broadcast and camera sound), but Chrome and Firefox play such a file silent."""

_LAYOUT_BY_CHANNELS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}

CarriedStream = av.AudioStream | SubtitleStream
"""A stream that rides along with the video."""

_STREAM_TAGS = ("language", "title")
"""A stream's tags that stay true of it in the output: which language, and its name in a player's menu."""

_FILE_TAG_SKIP = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration"}
"""File tags that describe the file written rather than the recording; FFmpeg writes its own."""


def can_copy(src: av.stream.Stream, fmt: str) -> bool:
    """True when an ``fmt`` container (FFmpeg muxer name) takes ``src``'s packets as they are."""
    trial = av.open(io.BytesIO(), mode="w", format=fmt)
    try:
        trial.add_stream_from_template(src)
        trial.start_encoding()  # writes the header: where MOV and MP4 refuse what they cannot hold
        return True
    except (ValueError, av.FFmpegError):
        return False
    finally:
        with contextlib.suppress(ValueError, av.FFmpegError):
            trial.close()


def keeps(src: CarriedStream, fmt: str) -> bool:
    """True when ``src``'s packets go into an ``fmt`` output unchanged; otherwise audio becomes AAC."""
    if fmt == "mp4" and src.type == "audio" and src.codec_context.codec.canonical_name not in MP4_AUDIO:
        return False
    return can_copy(src, fmt)


def _to_mov_text(src: CarriedStream, fmt: str) -> bool:
    """True for text subtitles bound for MP4 or MOV, which hold text only as their own ``mov_text``,
    once their decoder is open: its ASS header holds the styles the encoder writes."""
    if not (isinstance(src, SubtitleStream) and fmt in ("mp4", "mov") and src.codec_context.codec.text_sub):
        return False
    try:
        if not src.codec_context.is_open:
            src.codec_context.open()
    except av.FFmpegError:
        return False
    return True


def carried_streams(container: av.container.InputContainer, fmt: str) -> list[CarriedStream]:
    """The streams that go into an ``fmt`` output besides the video: every audio stream, and the
    subtitles it can hold. What stays behind is logged, with the container that would keep it."""
    carried: list[CarriedStream] = list(container.streams.audio)
    left = []
    for stream in container.streams:
        if isinstance(stream, SubtitleStream) and (keeps(stream, fmt) or _to_mov_text(stream, fmt)):
            carried.append(stream)
        elif stream.type not in ("video", "audio"):
            left.append(stream)
    if left:
        names = ", ".join(_stream_name(s) for s in left)
        subtitles = any(isinstance(s, SubtitleStream) for s in left)
        log.info("not copied: %s%s", names, " (write .mkv to keep subtitles)" if subtitles else "")
    return carried


def _stream_name(stream: av.stream.Stream) -> str:
    codec = stream.codec_context  # None for a data track FFmpeg has no decoder for (MP4 chapter text)
    return f"{stream.type} #{stream.index}" + (f" ({codec.name})" if codec is not None else "")


def copy_file_info(
    src: av.container.InputContainer, out: av.container.OutputContainer, start: float, until: float, shift: float
) -> None:
    """Give ``out`` the source file's tags (title, date recorded, place) and its chapters that overlap
    ``start`` to ``until`` (source seconds), cut to that window and moved ``shift`` seconds earlier."""
    for key, value in src.metadata.items():
        if key.lower() not in _FILE_TAG_SKIP:
            out.metadata[key] = value
    chapters: list[Chapter] = []
    for chapter in src.chapters():
        tb = chapter["time_base"]
        if tb is None:
            continue
        begin, end = float(chapter["start"] * tb), float(chapter["end"] * tb)
        if begin < until and end > start:  # a chapter cut by a trim keeps the part inside
            begin, end = max(begin, start) - shift, min(end, until) - shift
            chapters.append({**chapter, "start": round(begin / tb), "end": round(end / tb)})
    if chapters:
        out.set_chapters(chapters)


def copy_stream_tags(src: av.stream.Stream, dst: av.stream.Stream) -> None:
    """Give ``dst`` the language and title of ``src``."""
    for key in _STREAM_TAGS:
        if key in src.metadata:
            dst.metadata[key] = src.metadata[key]


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
    raise VideoError(
        f"audio stream {src.index} ({src.codec_context.name}, {src.codec_context.layout.name}) "
        "cannot be re-encoded as AAC; write .mkv to copy it unchanged"
    )


class CarriedTrack:
    """One input stream of :func:`carried_streams` on its way to the output: packets copied, or
    re-encoded (audio to AAC, text subtitles to ``mov_text``).

    Packets are held until the video has reached their time, so the output is interleaved and a
    trimmed run can stop the stream where the video stopped. Audio runs to the end of the video, so
    reading stops once every audio stream has passed it (``paces``); subtitles come and go, and do not.
    """

    def __init__(self, src: CarriedStream, out: av.container.OutputContainer) -> None:
        self.src = src
        self.tb = time_base(src)
        self.paces = src.type == "audio"
        self.pending: list[av.Packet] = []
        self.done = False
        self.aac: tuple[av.AudioStream, av.AudioStream] | None = None  # (decoder, encoder) when re-encoding
        self.text: SubtitleStream | None = None  # the mov_text output a text subtitle is re-encoded to
        self.stream: av.stream.Stream
        fmt = out.format.name
        if isinstance(src, SubtitleStream) and not keeps(src, fmt) and _to_mov_text(src, fmt):
            self.stream = self.text = out.add_stream("mov_text")
            self.text.codec_context.subtitle_header = src.codec_context.subtitle_header
            self.text.time_base = src.time_base
            self.label = f"{src.codec_context.name} -> mov_text"
        elif not isinstance(src, av.AudioStream) or keeps(src, fmt):
            self.stream = out.add_stream_from_template(src)
            self.label = f"{src.codec_context.name} copied"
        else:
            encoder = _aac_stream(out, src)
            self.stream, self.aac = encoder, (src, encoder)
            self.label = f"{src.codec_context.name} -> aac"
        copy_stream_tags(src, self.stream)
        hint = "" if self.aac is None and self.text is None else " (write .mkv to keep it unchanged)"
        log.info("%s stream %d: %s%s", src.type, src.index, self.label, hint)

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
        if self.text is not None:
            self._write_text(out, packet, offset)
            return
        if self.aac is None:
            if packet.pts is not None:
                packet.pts -= offset
            if packet.dts is not None:
                packet.dts -= offset
            packet.stream = self.stream
            out.mux(packet)
            return
        decoder, encoder = self.aac
        for frame in decoder.decode(packet):
            if frame.pts is not None:
                frame.pts -= offset
            for encoded in encoder.encode(frame):
                out.mux(encoded)

    def _write_text(self, out: av.container.OutputContainer, packet: av.Packet, offset: int) -> None:
        """One text subtitle decoded and encoded as ``mov_text``, at the source packet's time."""
        assert self.text is not None and isinstance(self.src, SubtitleStream)
        decoded = self.src.codec_context.decode2(packet)
        if decoded is None or packet.pts is None:
            return
        encoded = self.text.codec_context.encode_subtitle(decoded)
        encoded.pts = encoded.dts = packet.pts - offset
        encoded.duration, encoded.time_base, encoded.stream = packet.duration, self.tb, self.text
        out.mux(encoded)

    def close(self, out: av.container.OutputContainer, shift: float) -> None:
        """Drain the re-encoder (a no-op for copied streams)."""
        if self.aac is None:
            return
        decoder, encoder = self.aac
        offset = round(shift / self.tb) if shift else 0
        for frame in decoder.decode(None):
            if frame.pts is not None:
                frame.pts -= offset
            for encoded in encoder.encode(frame):
                out.mux(encoded)
        for encoded in encoder.encode(None):
            out.mux(encoded)
