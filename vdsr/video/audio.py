"""Audio rides along with the upscaled video: packets are copied as they are, or re-encoded to AAC
when the output container cannot hold the codec or, in MP4, when browsers and phones would not play
it; timestamps are shifted with a trimmed video.

Whether a container holds a codec is decided before the output is written, by writing a header
for it in memory: FFmpeg refuses some pairs only there (Opus or FLAC in MOV, 8 kHz MP3 in MP4),
too late for a run that has already started.
"""

from __future__ import annotations

import contextlib
import io
import logging
from fractions import Fraction

import av

from vdsr.video.errors import VideoError
from vdsr.video.probe import time_base

__all__ = ["MP4_AUDIO", "AudioTrack", "can_copy", "keeps"]

log = logging.getLogger(__name__)

MP4_AUDIO = frozenset({"aac", "mp3", "opus", "flac"})
"""Audio codecs that browsers, phones and TVs play from an MP4. MP4 can also hold AC3, MP2, PCM and
ALAC (DVD, broadcast and camera sound), but Chrome and Firefox play such a file silent."""

_LAYOUT_BY_CHANNELS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def can_copy(src: av.AudioStream, fmt: str) -> bool:
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


def keeps(src: av.AudioStream, fmt: str) -> bool:
    """True when ``src``'s packets go into an ``fmt`` output unchanged; otherwise they become AAC."""
    if fmt == "mp4" and src.codec_context.codec.canonical_name not in MP4_AUDIO:
        return False
    return can_copy(src, fmt)


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


class AudioTrack:
    """One input audio stream on its way to the output: packets copied, or re-encoded to AAC.

    Packets are held until the video has reached their time, so the output is
    interleaved and a trimmed run can stop the audio where the video stopped.
    """

    def __init__(self, src: av.AudioStream, out: av.container.OutputContainer) -> None:
        self.src = src
        self.tb = time_base(src)
        self.pending: list[av.Packet] = []
        self.done = False
        self.decoder: av.AudioStream | None = None
        if keeps(src, out.format.name):
            self.stream = out.add_stream_from_template(src)
            self.label = f"{src.codec_context.name} copied"
        else:
            self.stream = _aac_stream(out, src)
            self.decoder = src
            self.label = f"{src.codec_context.name} -> aac"
        hint = "" if self.decoder is None else " (write .mkv to keep it unchanged)"
        log.info("audio stream %d: %s%s", src.index, self.label, hint)

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
