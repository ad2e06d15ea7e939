"""Join the parts into the final container without re-encoding, with the source's audio, subtitles,
tags and chapters copied once.

Video packets get back the source's presentation times (each part counts from its own first frame;
the join adds the part's start, shifted as the one-pass loop shifts it); only a decode time that
would not increase across a part boundary is moved up by a tick. Audio and subtitles are chosen,
shifted and copied (audio re-encoded where the container needs it) by the one-pass loop's rules, and
all are fed to the muxer in time order.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from vdsr.video.encoder import TrackEnd
from vdsr.video.errors import VideoError
from vdsr.video.probe import open_video, time_base, video_stream
from vdsr.video.tracks import CarriedStream, CarriedTrack, carried_streams, copy_file_info

__all__ = ["AudioWindow", "join_parts"]


@dataclass(frozen=True)
class AudioWindow:
    """Which source audio and subtitles go with the video: packets from ``keep_from`` to ``until``
    (source seconds), moved ``shift`` seconds earlier; ``seek_pts`` positions the source as the one-pass
    loop does. Chapters are cut to the same window."""

    seek_pts: int | None = None
    keep_from: float = -math.inf
    until: float = math.inf
    shift: float = 0.0


def join_parts(
    parts: list[tuple[Path, Fraction]],
    out_path: Path,
    fmt: str,
    src: Path,
    audio: AudioWindow,
    last_frame_lasts: Fraction,
) -> tuple[str, ...]:
    """Write the parts' video and ``src``'s audio, subtitles, tags and chapters into ``out_path`` (an
    ``fmt`` container).

    Args:
        parts: each part file with the output time (seconds) of its first frame, in order.
        last_frame_lasts: seconds the last frame is shown; the track ends there.

    Returns:
        One label per audio stream, e.g. ``aac copied``.
    """
    options = {"movflags": "+faststart"} if fmt in {"mp4", "mov"} else {}
    with av.open(str(parts[0][0])) as first, open_video(src) as source:
        template = first.streams.video[0]
        with av.open(str(out_path), mode="w", format=fmt, options=options) as out:
            copy_file_info(source, out, audio.keep_from, audio.until, audio.shift)
            vout = out.add_stream_from_template(template)
            vout.time_base = template.time_base
            carried = carried_streams(source, fmt)
            tracks = {s.index: CarriedTrack(s, out) for s in carried}
            video_end = TrackEnd(out, vout)
            last_pts: int | None = None
            video, others = _video_packets(parts, template, vout), _carried_packets(source, carried, audio)
            for _, packet in heapq.merge(video, others, key=lambda item: item[0]):
                if packet.stream is vout:
                    video_end.mux(packet)
                    if packet.pts is not None:
                        last_pts = packet.pts if last_pts is None else max(last_pts, packet.pts)
                    continue
                track = tracks[packet.stream.index]
                track.pending.append(packet)
                track.flush(out, audio.until, audio.keep_from, audio.shift)
            for track in tracks.values():
                track.flush(out, audio.until, audio.keep_from, audio.shift)
                track.close(out, audio.shift)
            if last_pts is None:
                raise VideoError(f"{parts[0][0]}: the parts hold no video")
            video_end.close(last_pts + round(last_frame_lasts / time_base(template)))
    return tuple(track.label for track in tracks.values() if track.paces)


def _video_packets(
    parts: list[tuple[Path, Fraction]], template: av.VideoStream, vout: av.VideoStream
) -> Iterator[tuple[float, av.Packet]]:
    """Every part's packets in order, as (decode time in seconds, packet) for ``vout``."""
    headers = bytes(template.codec_context.extradata or b"")
    tb = time_base(template)
    last_dts: int | None = None
    for part, start in parts:
        offset = round(start / tb)
        with av.open(str(part)) as container:
            stream = container.streams.video[0]
            if bytes(stream.codec_context.extradata or b"") != headers or stream.time_base != tb:
                raise VideoError(f"{part}: encoded differently from the first part; rerun with --restart")
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is not None:
                    packet.pts += offset
                if packet.dts is not None:
                    packet.dts += offset
                    if last_dts is not None and packet.dts <= last_dts:
                        packet.dts = last_dts + 1  # a new part's encoder starts its decode times early
                    if packet.pts is not None and packet.dts > packet.pts:
                        raise VideoError(f"{part}: its frames cannot follow the previous part's; rerun with --restart")
                    last_dts = packet.dts
                packet.stream = vout
                yield float((packet.dts if packet.dts is not None else packet.pts or 0) * tb), packet


def _carried_packets(
    source: av.container.InputContainer, streams: list[CarriedStream], window: AudioWindow
) -> Iterator[tuple[float, av.Packet]]:
    """The carried streams' packets from the window's start until every audio stream has passed its
    end (with no audio, to the end of the file: subtitles come and go)."""
    if not streams:
        return
    pacing = sum(1 for s in streams if s.type == "audio")
    if window.seek_pts is not None:
        source.seek(window.seek_pts, stream=video_stream(Path(source.name), source), backward=True)
    passed: set[int] = set()
    seconds = -math.inf
    for packet in source.demux(*streams):
        if packet.size == 0:
            continue
        if packet.pts is not None:
            seconds = float(packet.pts * time_base(packet.stream))
            if seconds >= window.until:
                if packet.stream.type == "audio":
                    passed.add(packet.stream.index)
                if pacing and len(passed) == pacing:
                    return
                continue
        yield seconds - window.shift, packet
