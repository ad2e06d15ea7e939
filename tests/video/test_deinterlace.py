"""Interlaced input: found by the probe, deinterlaced before upscaling with every frame and timestamp
kept, the same in segments as in one pass, and left alone when it is progressive or turned off.

The clip is woven the way an interlaced camera records: moving vertical bars, the top field of each
frame taken 1/50 s before its bottom field, coded as interlaced H.264 (lossless), top field first.
Progressive, the bars are the same on every row, so any difference between neighbouring rows is comb.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.test_video import BICUBIC, FAST, make_clip
from tests.video.refiners import passthrough
from tests.video.test_segments import LOSSLESS, decoded
from vdsr.cli import main
from vdsr.imageio import read_image
from vdsr.video import VideoError, probe_video, read_frames, upscale_video
from vdsr.video.deinterlace import Deinterlacer, deinterlace_filter

WIDTH, HEIGHT, FRAMES = 96, 64, 40


def _field_picture(t: int) -> np.ndarray:
    """Vertical bars 4 px to the right per field: every row alike, so the picture has no comb."""
    x = np.arange(WIDTH)
    row = np.where((x - 4 * t) % 32 < 12, 220, 40).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(row[None, :, None], (HEIGHT, WIDTH, 3)))


def make_interlaced_clip(path: Path, *, keyint: int = 10) -> Path:
    """FRAMES frames at 25 fps, each woven from two field times, flagged interlaced top field first."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"qp": "0", "preset": "ultrafast", "x264-params": f"interlaced=1:tff=1:keyint={keyint}"}
        for i in range(FRAMES):
            woven = _field_picture(2 * i).copy()
            woven[1::2] = _field_picture(2 * i + 1)[1::2]
            frame = av.VideoFrame.from_ndarray(woven, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return path


def comb(rgb: np.ndarray) -> float:
    """Mean distance of each row's green from the mean of its neighbours (0 for these bars, progressive)."""
    g = rgb[..., 1].astype(np.float64)
    return float(np.abs(g[1:-1] - (g[:-2] + g[2:]) / 2).mean())


def _frames(path: Path) -> list[tuple[Fraction, np.ndarray]]:
    with av.open(str(path)) as container:
        return [(f.pts * f.time_base, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def interlaced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_interlaced_clip(tmp_path_factory.mktemp("interlaced") / "woven.mp4")


def test_the_probe_tells_interlaced_from_progressive(tmp_path: Path, interlaced: Path) -> None:
    assert probe_video(interlaced).interlaced
    assert not probe_video(make_clip(tmp_path / "progressive.mp4")).interlaced


def test_auto_deinterlaces_only_what_is_flagged(tmp_path: Path, interlaced: Path) -> None:
    progressive = probe_video(make_clip(tmp_path / "progressive.mp4"))
    assert deinterlace_filter("auto", progressive) is None
    assert deinterlace_filter("off", probe_video(interlaced)) is None
    assert "deint=interlaced" in (deinterlace_filter("auto", probe_video(interlaced)) or "")
    assert "deint=all" in (deinterlace_filter("on", progressive) or "")
    with pytest.raises(VideoError, match="deinterlace must be one of auto, on, off; got 'yes'"):
        deinterlace_filter("yes", progressive)


def test_frames_read_are_woven_back_whole(interlaced: Path) -> None:
    kept = dict(read_frames(interlaced, range(FRAMES), deinterlace="off"))
    woven = dict(read_frames(interlaced, range(FRAMES)))
    assert sorted(woven) == list(range(FRAMES))
    assert min(comb(kept[i]) for i in kept) > 40
    assert max(comb(woven[i]) for i in woven) < 0.1 * min(comb(kept[i]) for i in kept)


def test_the_deinterlacer_gives_one_frame_per_frame_one_late(interlaced: Path) -> None:
    with av.open(str(interlaced)) as container:
        stream = container.streams.video[0]
        source, tb = list(container.decode(stream)), stream.time_base
    deinterlacer = Deinterlacer(deinterlace_filter("auto", probe_video(interlaced)), tb)
    ready = [len(deinterlacer.push(frame)) for frame in source]
    out = deinterlacer.flush()
    assert ready == [0] + [1] * (len(source) - 1) and len(out) == 1
    assert Deinterlacer(None, tb).push(source[0]) == [source[0]]


def test_upscaled_video_is_deinterlaced_with_every_frame_and_time(tmp_path: Path, interlaced: Path) -> None:
    off = upscale_video(interlaced, tmp_path / "off.mp4", BICUBIC, 2, deinterlace="off", segment_seconds=0, **FAST)
    auto = upscale_video(interlaced, tmp_path / "auto.mp4", BICUBIC, 2, segment_seconds=0, **FAST)
    kept, woven = _frames(off.path), _frames(auto.path)
    assert auto.frames == off.frames == FRAMES
    assert [t for t, _ in woven] == [t for t, _ in kept] == [Fraction(i, 25) for i in range(FRAMES)]
    assert np.mean([comb(rgb) for _, rgb in woven]) < 0.1 * np.mean([comb(rgb) for _, rgb in kept])


@pytest.mark.parametrize("trim", [{}, {"start": 0.4, "duration": 0.8}])
def test_segments_give_the_one_pass_output(tmp_path: Path, interlaced: Path, trim: dict) -> None:
    """Segments start on keyframes (every 10 frames), so each must decode the frame before its first."""
    one = upscale_video(interlaced, tmp_path / "one.mp4", passthrough(), 2, segment_seconds=0, **trim, **LOSSLESS)
    cut = upscale_video(interlaced, tmp_path / "cut.mp4", passthrough(), 2, segment_seconds=0.4, **trim, **LOSSLESS)
    assert one.segments == 1 and cut.segments >= 2
    assert decoded(cut.path) == decoded(one.path)


def test_a_broadcast_transport_stream_too(tmp_path: Path) -> None:
    """MPEG-TS, as 1080i television is recorded: seeking there is by bytes, so segments decode from the start."""
    ts = make_interlaced_clip(tmp_path / "woven.ts")
    one = upscale_video(ts, tmp_path / "one.mp4", passthrough(), 2, segment_seconds=0, **LOSSLESS)
    cut = upscale_video(ts, tmp_path / "cut.mp4", passthrough(), 2, segment_seconds=0.4, start=0.4, **LOSSLESS)
    assert probe_video(ts).interlaced and (one.frames, cut.frames) == (FRAMES, FRAMES - 10) and cut.segments >= 2
    pixels = [[picture for _, picture in decoded(out.path)["frames"]] for out in (one, cut)]
    assert pixels[1] == pixels[0][10:]  # a start shifts the times to 0; the pictures are one pass's


def test_a_changed_deinterlace_setting_is_refused_on_resume(tmp_path: Path, interlaced: Path) -> None:
    dst = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        upscale_video(interlaced, dst, passthrough(fail_after=15), 2, segment_seconds=0.4, **LOSSLESS)
    with pytest.raises(VideoError, match="deinterlace"):
        upscale_video(interlaced, dst, passthrough(), 2, segment_seconds=0.4, deinterlace="off", **LOSSLESS)


def test_cli_takes_the_setting_and_refuses_a_bad_one(
    tmp_path: Path, interlaced: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["upscale", str(interlaced), str(tmp_path / "out.mp4"), "--scale", "2", "--deinterlace", "yes"])
    assert exc.value.code == 2 and "invalid choice: 'yes'" in capsys.readouterr().err
    combs = {}
    for mode in ("off", "auto"):
        look = tmp_path / mode
        argv = ["-q", "upscale", str(interlaced), str(look), "--scale", "2", "--frames", "5"]
        assert main([*argv, "--model", str(tiny_checkpoint), "--deinterlace", mode]) == 0
        (png,) = look.iterdir()
        combs[mode] = comb(read_image(png)[:, : 2 * WIDTH])  # the bicubic half of bicubic | model
    assert combs["auto"] < 0.1 * combs["off"]
