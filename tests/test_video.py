"""Tests for vdsr.video: probing, upscaling with audio/colour/timing intact, stills and frame folders.

Clips are tiny (64x48, a handful of frames) and generated with PyAV into tmp_path;
the shared test videos (carphone, bigbuckbunny) are used for a few frames only.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from vdsr.data import data_dir
from vdsr.imageio import read_image
from vdsr.pipeline import Upscaler
from vdsr.resize import scaled_size
from vdsr.video import (
    VideoError,
    as_displayed,
    extract_frames,
    probe_video,
    upscale_video,
)

VIDEO_DIR = data_dir() / "video"
FAST = {"preset": "ultrafast"}
BICUBIC = Upscaler(None)


def _shared(name: str) -> Path:
    path = VIDEO_DIR / name
    if not path.is_file():
        pytest.skip(f"test video {path} not found (set VDSR_DATA_DIR to the shared data folder)")
    return path


def _flat_frame(width: int, height: int, yuv: tuple[int, int, int]) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane, value in zip(frame.planes, yuv, strict=True):
        plane.update(np.full(plane.buffer_size, value, np.uint8).tobytes())
    return frame


def make_clip(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    frames: int = 6,
    rate: Fraction = Fraction(25),
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    yuv: tuple[int, int, int] | None = None,
    colorspace: int | None = None,
    color_range: int | None = None,
    rotation: int = 0,
    audio: str | None = None,
    audio_rate: int = 8000,
    audio_layout: str = "mono",
) -> Path:
    """Write a small H.264 clip: moving gradient (or flat ``yuv``), optional tags, rotation and audio."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"qp": "0", "preset": "ultrafast"}
        if time_base is not None:
            video.codec_context.time_base = time_base
        if colorspace is not None:
            video.codec_context.colorspace = colorspace
        if color_range is not None:
            video.codec_context.color_range = color_range
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio is not None:
            sound = out.add_stream(audio, rate=audio_rate, layout=audio_layout)
        ramp = np.linspace(0, 255, width, dtype=np.float32)
        for i in range(frames):
            if yuv is None:
                rgb = np.broadcast_to(((ramp + 20 * i) % 256).astype(np.uint8)[None, :, None], (height, width, 3))
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="yuv420p")
            else:
                frame = _flat_frame(width, height, yuv)
            if pts is not None:
                frame.pts, frame.time_base = pts[i], time_base
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if sound is not None:
            _write_audio(out, sound, seconds=frames / float(rate))
    return path


def _write_audio(out: av.container.OutputContainer, sound: av.AudioStream, seconds: float) -> None:
    fmt = sound.codec_context.codec.audio_formats[0]
    dtype = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "flt": np.float32, "dbl": np.float64}[
        fmt.name.rstrip("p")
    ]
    rate, layout = sound.codec_context.sample_rate, sound.codec_context.layout
    channels = len(layout.channels)
    total, step = int(rate * seconds), sound.codec_context.frame_size or 1024
    for start in range(0, total, step):
        count = min(step, total - start)
        samples = np.zeros((channels, count) if fmt.is_planar else (1, count * channels), dtype)
        if dtype == np.uint8:
            samples += 128
        frame = av.AudioFrame.from_ndarray(samples, format=fmt.name, layout=layout.name)
        frame.sample_rate, frame.pts = rate, start
        for packet in sound.encode(frame):
            out.mux(packet)
    for packet in sound.encode(None):
        out.mux(packet)


def _video_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def _streams(path: Path) -> dict[str, tuple[str, float]]:
    """type -> (codec, duration seconds) of the first stream of each type."""
    found: dict[str, tuple[str, float]] = {}
    with av.open(str(path)) as container:
        for stream in container.streams:
            if stream.type in found:
                continue
            seconds = float(stream.duration * stream.time_base) if stream.duration else container.duration / 1e6
            found[stream.type] = (stream.codec_context.name, seconds)
    return found


def _one_line(exc: pytest.ExceptionInfo[VideoError]) -> str:
    text = str(exc.value)
    assert text and "\n" not in text
    return text


# --------------------------------------------------------------------------- probe and errors


def test_probe_carphone() -> None:
    info = probe_video(_shared("carphone_pristine.mp4"))
    assert (info.width, info.height, info.fps, info.frames) == (176, 144, Fraction(30000, 1001), 120)
    assert info.codec == "h264" and not info.has_audio and info.audio_codec is None
    assert (info.color_matrix, info.color_range, info.rotation) == ("bt601", "limited", 0)
    assert info.duration == pytest.approx(4.004, abs=0.01)
    assert info.sample_aspect_ratio == Fraction(128, 117)  # players show it 193 pixels wide, not 176


def test_display_size_stretches_the_coded_rows() -> None:
    info = probe_video(_shared("carphone_pristine.mp4"))
    assert info.display_size(288, 352) == (288, 385)  # an x2 upscale keeps the pixel aspect
    turned = dataclasses.replace(info, rotation=90)
    assert turned.display_size(352, 288) == (385, 288)  # upright, the coded rows are its columns
    square = dataclasses.replace(info, sample_aspect_ratio=Fraction(1))
    assert square.display_size(288, 352) == (288, 352)
    frame = np.zeros((144, 176, 3), np.uint8)
    assert as_displayed(frame, info).shape == (144, 193, 3)
    assert as_displayed(frame, turned, upright=False).shape == (193, 144, 3)  # turned first, then stretched


def test_probe_tags_and_rotation(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "tagged.mp4", colorspace=1, color_range=2, rotation=90, audio="aac")
    info = probe_video(clip)
    assert (info.color_matrix, info.color_range, info.color_guessed) == ("bt709", "full", False)
    assert info.rotation == 90
    assert info.audio_codecs == ("aac",)


def _audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as out:
        _write_audio(out, out.add_stream("aac", rate=8000, layout="mono"), seconds=0.5)
    return path


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("missing.mp4", None, "no such file"),
        ("corrupt.mp4", lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)), "not a readable video"),
        ("notes.txt", lambda p: p.write_text("not a video\n" * 20), "not a readable video"),
        ("voice.m4a", _audio_only, "audio-only"),
        ("folder.mp4", lambda p: p.mkdir(), "not a file"),
        ("empty.mp4", lambda p: p.write_bytes(b""), "empty.mp4: the file is empty"),
    ],
)
def test_bad_inputs(tmp_path: Path, name: str, make, message: str) -> None:
    path = tmp_path / name
    if make is not None:
        make(path)
    with pytest.raises(VideoError) as exc:
        probe_video(path)
    assert message in _one_line(exc)
    assert "Errno" not in _one_line(exc) and _one_line(exc).count(name) == 1  # plain words, the name once
    with pytest.raises(VideoError):
        upscale_video(path, tmp_path / "out.mp4", BICUBIC, 2)
    assert not (tmp_path / "out.mp4").exists()


def test_resolution_limit(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=1)
    with pytest.raises(VideoError) as exc:
        probe_video(clip, max_pixels=64 * 47)
    assert "over the limit" in _one_line(exc)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"crf": 60}, "crf"),
        ({"preset": "warp"}, "preset"),
        ({"start": -1.0}, "start"),
        ({"duration": 0.0}, "duration"),
        ({"max_frames": 0}, "max_frames"),
    ],
)
def test_bad_requests(tmp_path: Path, kwargs: dict, message: str) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=1)
    with pytest.raises(VideoError) as exc:
        upscale_video(clip, tmp_path / "out.mp4", BICUBIC, 2, **kwargs)
    assert message in _one_line(exc)
    with pytest.raises(VideoError, match="unsupported output container"):
        upscale_video(clip, tmp_path / "out.webm", BICUBIC, 2)
    with pytest.raises(VideoError, match="overwrite the input"):
        upscale_video(clip, clip, BICUBIC, 2)
    with pytest.raises(VideoError, match="no frames in the requested range"):
        upscale_video(clip, tmp_path / "out.mp4", BICUBIC, 2, start=30.0)
    assert not (tmp_path / "out.mp4").exists()


# --------------------------------------------------------------------------- upscale_video


def test_carphone_x2(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    result = upscale_video(
        _shared("carphone_distorted.mp4"),
        tmp_path / "x2.mp4",
        BICUBIC,
        2,
        max_frames=8,
        progress=lambda done, total: calls.append((done, total)),
        **FAST,
    )
    info = probe_video(result.path)
    assert info.codec == "h264" and info.pix_fmt == "yuv420p"
    assert (info.width, info.height) == (result.width, result.height) == (352, 288)
    assert info.fps == Fraction(30000, 1001)
    assert len(_video_frames(result.path)) == result.frames == 8
    assert [done for done, _ in calls] == list(range(1, 9)) and calls[-1] == (8, 8)
    assert result.duration == pytest.approx(8 * 1001 / 30000)
    assert not list(tmp_path.glob(".*partial*"))


def test_odd_output_size_is_made_even(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", width=66, height=50, frames=3)
    result = upscale_video(clip, tmp_path / "out.mkv", BICUBIC, 1.5, **FAST)
    height, width = scaled_size(50, 66, 1.5)
    assert height % 2 or width % 2, "pick a size that needs rounding"
    frames = _video_frames(result.path)
    assert (frames[0].width, frames[0].height) == (width - width % 2, height - height % 2)
    assert len(frames) == 3


def test_bigbuckbunny_keeps_audio(tmp_path: Path) -> None:
    src = _shared("bigbuckbunny.mp4")
    result = upscale_video(src, tmp_path / "bbb.mp4", BICUBIC, 1, duration=1.0, **FAST)
    assert result.frames == 25 and result.audio == ("aac copied",)
    streams = _streams(result.path)
    assert streams["video"] == ("h264", pytest.approx(1.0, abs=0.001))
    assert streams["audio"][0] == "aac"
    assert abs(streams["audio"][1] - streams["video"][1]) <= 1 / 25
    with av.open(str(src)) as original, av.open(str(result.path)) as copy:
        assert copy.streams.audio[0].codec_context.layout.name == original.streams.audio[0].codec_context.layout.name


def _audio_packets(path: Path) -> list[tuple[int | None, bytes]]:
    with av.open(str(path)) as container:
        return [(p.pts, bytes(p)) for p in container.demux(audio=0) if p.size]


def test_whole_file_copies_every_audio_packet_unchanged(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=5, audio="aac")
    result = upscale_video(clip, tmp_path / "out.mp4", BICUBIC, 2, **FAST)
    assert result.audio == ("aac copied",)
    assert _audio_packets(result.path) == _audio_packets(clip)


def test_trim_shifts_video_and_audio_together(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=25, audio="aac")  # 1 s at 25 fps
    result = upscale_video(clip, tmp_path / "trim.mkv", BICUBIC, 1, start=0.4, duration=0.2, **FAST)
    assert result.frames == 5
    times: dict[str, list[float]] = {"video": [], "audio": []}
    with av.open(str(result.path)) as container:
        for packet in container.demux():
            if packet.pts is not None:
                times[packet.stream.type].append(float(packet.pts * packet.time_base))
    video, audio = times["video"], times["audio"]
    assert min(video) == pytest.approx(0.0)
    assert 0.0 <= min(audio) < 1024 / 8000 and max(audio) < 0.2


def test_variable_frame_rate_timestamps_survive(tmp_path: Path) -> None:
    pts = [0, 40, 50, 130, 300, 340]  # milliseconds, irregular
    clip = make_clip(tmp_path / "vfr.mkv", frames=len(pts), pts=pts, time_base=Fraction(1, 1000))
    result = upscale_video(clip, tmp_path / "out.mp4", BICUBIC, 2, **FAST)
    times = [round(float(f.pts * f.time_base) * 1000) for f in _video_frames(result.path)]
    assert times == pts


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_variable_frame_rate_duration_reads_right(tmp_path: Path, suffix: str) -> None:
    """x264's B-frames end an MP4's decode-time table early by the first frame gaps; players must still read 0.44 s."""
    pts = [0, 40, 80, 200, 240, 400]  # milliseconds: the last frame ends at 0.44 s
    clip = make_clip(tmp_path / "vfr.mkv", frames=len(pts), pts=pts, time_base=Fraction(1, 1000))
    result = upscale_video(clip, tmp_path / f"out{suffix}", BICUBIC, 2, preset="medium")  # medium uses B-frames
    assert result.duration == pytest.approx(0.44)
    assert probe_video(result.path).duration == pytest.approx(0.44)
    with av.open(str(result.path)) as container:
        assert container.duration / 1e6 == pytest.approx(0.44)
        times = [round(float(f.pts * f.time_base) * 1000) for f in container.decode(video=0)]
    assert times == pts


def test_rotation_is_kept(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "rotated.mp4", frames=2, rotation=-90)
    result = upscale_video(clip, tmp_path / "out.mp4", BICUBIC, 2, **FAST)
    info = probe_video(result.path)
    assert info.rotation == -90 and (info.width, info.height) == (128, 96)


def test_audio_the_container_cannot_hold_is_reencoded(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "pcm.mkv", frames=5, audio="pcm_u8")
    result = upscale_video(clip, tmp_path / "out.mp4", BICUBIC, 1, **FAST)
    assert result.audio == ("pcm_u8 -> aac",)
    assert probe_video(result.path).audio_codecs == ("aac",)


@pytest.mark.parametrize(
    ("codec", "suffix", "label", "stored"),
    [
        ("libopus", ".mov", "opus -> aac", "aac"),  # MOV refuses Opus and FLAC only when its header is written
        ("flac", ".mov", "flac -> aac", "aac"),
        ("libopus", ".mp4", "opus copied", "opus"),
        ("flac", ".mkv", "flac copied", "flac"),
        # DVD, broadcast and camera sound: MP4 holds it, but browsers would play the file silent
        ("ac3", ".mp4", "ac3 -> aac", "aac"),
        ("ac3", ".mkv", "ac3 copied", "ac3"),
        ("mp2", ".mp4", "mp2 -> aac", "aac"),
        ("pcm_s16le", ".mp4", "pcm_s16le -> aac", "aac"),  # Matroska leaves PCM's channel order unnamed
        ("pcm_s16le", ".mov", "pcm_s16le copied", "pcm_s16le"),
    ],
)
def test_audio_is_copied_or_reencoded_by_what_the_container_holds(
    tmp_path: Path, codec: str, suffix: str, label: str, stored: str
) -> None:
    clip = make_clip(tmp_path / "clip.mkv", frames=5, audio=codec, audio_rate=48000, audio_layout="stereo")
    result = upscale_video(clip, tmp_path / f"out{suffix}", BICUBIC, 1, **FAST)
    assert result.audio == (label,)
    with av.open(str(result.path)) as container:
        assert container.streams.audio[0].codec_context.name == stored
        assert sum(frame.samples for frame in container.decode(audio=0)) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mkv", f"out{suffix}"]


def _dvd_rip(tmp_path: Path) -> Path:
    """An MKV as a DVD rip is: a 2 s clip, French AC3 with a title, English subtitles at 0.2 and 1.2 s,
    a title, a recording date and two chapters."""
    clip = make_clip(tmp_path / "clip.mkv", frames=50, audio="ac3", audio_rate=48000, audio_layout="stereo")
    srt = tmp_path / "subs.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:00,800\nHello.\n\n2\n00:00:01,200 --> 00:00:01,800\nAgain.\n")
    rip = tmp_path / "rip.mkv"
    with av.open(str(clip)) as video, av.open(str(srt)) as subs, av.open(str(rip), "w") as out:
        streams = {s: out.add_stream_from_template(s) for s in (*video.streams, *subs.streams)}
        streams[video.streams.audio[0]].metadata.update({"language": "fra", "title": "Français"})
        streams[subs.streams[0]].metadata["language"] = "eng"
        out.metadata.update({"title": "A DVD", "creation_time": "2001-02-03T04:05:06.000000Z"})
        ms = Fraction(1, 1000)
        chapters = [(1, 0, 1000, "Opening"), (2, 1000, 2000, "Ending")]
        out.set_chapters(
            [{"id": i, "start": a, "end": b, "time_base": ms, "metadata": {"title": t}} for i, a, b, t in chapters]
        )
        packets = [p for p in (*video.demux(), *subs.demux()) if p.dts is not None]
        for packet in sorted(packets, key=lambda p: float(p.dts * p.time_base)):
            packet.stream = streams[packet.stream]
            out.mux(packet)
    return rip


def _subtitle_lines(container: av.container.InputContainer) -> list[tuple[float, bytes]]:
    """(time, text) of each subtitle: SRT packets are the text; MP4's mov_text ones start with its length."""
    stream = container.streams.subtitles[0]
    lines = []
    for packet in container.demux(stream):
        data = bytes(packet)
        if stream.codec_context.name == "mov_text":
            data = data[2 : 2 + int.from_bytes(data[:2], "big")]
        if data:  # MP4 fills the gaps between subtitles with empty ones
            lines.append((round(float(packet.pts * packet.time_base), 2), data))
    return lines


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
@pytest.mark.parametrize("segment", [0, 0.4])
@pytest.mark.parametrize("start", [None, 0.5])
def test_subtitles_languages_titles_and_chapters_ride_along(
    tmp_path: Path, suffix: str, segment: float, start: float | None
) -> None:
    """Matroska copies the SRT; MP4 holds text subtitles only as mov_text, which FFmpeg converts them to."""
    rip = _dvd_rip(tmp_path)
    out = upscale_video(rip, tmp_path / f"out{suffix}", BICUBIC, 2, start=start, segment_seconds=segment, **FAST)
    assert out.audio == (("ac3 copied",) if suffix == ".mkv" else ("ac3 -> aac",))
    shift = 12 / 25 if start else 0.0  # the output starts with the frame nearest 0.5 s: 0.48 s at 25 fps
    with av.open(str(out.path)) as container:
        audio, subs = container.streams.audio[0], container.streams.subtitles[0]
        assert (audio.metadata["language"], subs.metadata["language"]) == ("fra", "eng")
        assert subs.codec_context.name == ("srt" if suffix == ".mkv" else "mov_text")
        assert container.metadata["title"] == "A DVD"
        assert container.metadata["creation_time"] == "2001-02-03T04:05:06.000000Z"  # photo libraries sort by it
        chapters = [
            (round(float(c["start"] * c["time_base"]), 2), c["metadata"]["title"]) for c in container.chapters()
        ]
        assert chapters == [(0.0, "Opening"), (round(1.0 - shift, 2), "Ending")]
        lines = _subtitle_lines(container)
    expected = [(0.2, b"Hello."), (1.2, b"Again.")]
    assert lines == [(round(t - shift, 2), text) for t, text in expected if t >= shift]


def test_an_upscaled_mp4_with_chapters_can_be_upscaled_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """MP4 keeps chapters in a text track FFmpeg has no decoder for: it stays behind, named, and the
    chapters are read back as chapters."""
    first = upscale_video(_dvd_rip(tmp_path), tmp_path / "out.mp4", BICUBIC, 2, segment_seconds=0, **FAST).path
    with caplog.at_level(logging.INFO, logger="vdsr.video"):
        again = upscale_video(first, tmp_path / "again.mp4", BICUBIC, 1, segment_seconds=0, **FAST).path
    assert "not copied: data #3" in [record.getMessage() for record in caplog.records]
    with av.open(str(again)) as container:
        assert [c["metadata"]["title"] for c in container.chapters()] == ["Opening", "Ending"]
        assert _subtitle_lines(container) == [(0.2, b"Hello."), (1.2, b"Again.")]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_output_has_the_normal_file_mode(tmp_path: Path, umask: int) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    old = os.umask(umask)
    try:
        result = upscale_video(clip, tmp_path / "out.mp4", BICUBIC, 2, **FAST)
    finally:
        os.umask(old)
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o666 & ~umask


def _reference_rgb(yuv: tuple[float, float, float], matrix: str, full: bool) -> np.ndarray:
    """Mean Y, Cb, Cr (8-bit code values) -> RGB in [0, 255] by the BT.601 / BT.709 formulas."""
    kr, kb = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}[matrix]
    offset, span = ((0, 128, 128), (255, 255, 255)) if full else ((16, 128, 128), (219, 224, 224))
    y, u, v = (np.array(yuv, np.float64) - offset) / span
    r, b = y + 2 * (1 - kr) * v, y + 2 * (1 - kb) * u
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.array([r, g, b]) * 255, 0, 255)


@pytest.mark.parametrize(
    ("colorspace", "matrix", "full"),
    [(6, "bt601", False), (1, "bt709", False), (5, "bt601", True), (None, "bt601", False)],
)
def test_no_colour_shift(tmp_path: Path, colorspace: int | None, matrix: str, full: bool) -> None:
    yuv = (120, 90, 170)
    clip = make_clip(tmp_path / "flat.mp4", frames=2, yuv=yuv, colorspace=colorspace, color_range=2 if full else 1)
    src_info = probe_video(clip)
    assert (src_info.color_matrix, src_info.color_range) == (matrix, "full" if full else "limited")
    result = upscale_video(clip, tmp_path / "out.mp4", BICUBIC, 2, crf=0, **FAST)
    info = probe_video(result.path)
    assert not info.color_guessed and info.color_range == "limited" and info.color_matrix == result.color_matrix
    frame = _video_frames(result.path)[-1]
    out_yuv = tuple(float(np.frombuffer(plane, np.uint8).mean()) for plane in frame.planes)
    # Decode both with the textbook formulas, each with its own tags: the colours must agree.
    got = _reference_rgb(out_yuv, info.color_matrix, full=False)
    np.testing.assert_allclose(got, _reference_rgb(yuv, matrix, full), atol=2.0)


class _FailAfter:
    """A refine callable that raises ``error`` on call ``n + 1``."""

    def __init__(self, n: int, error: BaseException) -> None:
        self.n, self.error, self.calls = n, error, 0

    def __call__(self, y: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls > self.n:
            raise self.error
        return y


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("engine failed")])
def test_interrupted_run_leaves_no_output(tmp_path: Path, error: BaseException) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=8)
    dst = tmp_path / "out.mp4"
    with pytest.raises(type(error)):
        upscale_video(clip, dst, Upscaler(_FailAfter(3, error), receptive_radius=2), 2, **FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    dst.write_bytes(b"previous result")
    with pytest.raises(type(error)):
        upscale_video(clip, dst, Upscaler(_FailAfter(3, error), receptive_radius=2), 2, **FAST)
    assert dst.read_bytes() == b"previous result"


# --------------------------------------------------------------------------- stills and folders


def test_extract_frames(tmp_path: Path) -> None:
    src = _shared("carphone_pristine.mp4")
    model = Upscaler(lambda y: np.clip(y * 1.1, 0, 1), receptive_radius=2)
    paths = extract_frames(src, [5, 0, 5], model, 2, tmp_path / "stills")
    assert [p.name for p in paths] == ["carphone_pristine_f000000_x2.png", "carphone_pristine_f000005_x2.png"]
    pair = read_image(paths[1])
    assert pair.shape == (288, 770, 3) and pair.dtype == np.uint8  # 352 wide, shown 385 wide (pixels 128/117)
    assert not np.array_equal(pair[:, :385], pair[:, 385:])
    with pytest.raises(VideoError) as exc:
        extract_frames(src, [500], BICUBIC, 2, tmp_path / "stills")
    assert "past the end (120 frames)" in _one_line(exc)
    with pytest.raises(VideoError):
        extract_frames(src, [-1], BICUBIC, 2, tmp_path / "stills")


def test_extract_frames_turns_rotated_video_upright(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "rotated.mp4", frames=2, rotation=90)
    (path,) = extract_frames(clip, [1], BICUBIC, 2, tmp_path)
    assert read_image(path).shape == (128, 192, 3)  # each frame upright (48x64 -> 96x128), still side by side
