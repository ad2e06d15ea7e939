"""Segmented jobs: the same output as one pass (frames, timestamps including a variable frame rate,
audio, duration), resumed after an interruption with identical bytes, and refused when the source,
model or a setting changed.

Clips are tiny (64x48, 40 frames) and cut into segments of 0.4 s, so a job has four segments.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest

from tests.test_video import FAST, make_clip
from tests.video.refiners import Passthrough, passthrough
from vdsr.video import VideoError, upscale_video

SEGMENT = 0.4  # seconds: 10 frames at 25 fps
LOSSLESS = {"crf": 0, **FAST}  # lossless, so a segmented output decodes to the very frames of one pass
REPO = Path(__file__).resolve().parents[2]


def decoded(path: Path) -> dict[str, object]:
    """Everything a viewer gets: each frame's pixels and time, the audio packets, the durations players read."""
    with av.open(str(path)) as container:
        frames = [(f.pts * f.time_base, bytes(f.to_ndarray(format="yuv420p"))) for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = [(p.pts, bytes(p)) for p in container.demux(audio=0) if p.size] if container.streams.audio else []
        durations = [container.duration] + [s.duration and s.duration * s.time_base for s in container.streams]
    return {"frames": frames, "audio": audio, "durations": durations}


def parts_folder(dst: Path) -> Path:
    return dst.with_name(dst.name + ".parts")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 frames at 25 fps (1.6 s) with AAC audio."""
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", frames=40, audio="aac")


@pytest.mark.parametrize(
    ("suffix", "trim"),
    [(".mp4", {}), (".mkv", {"start": 0.3, "duration": 1.0}), (".mov", {"max_frames": 33})],
)
def test_segments_give_the_one_pass_output(tmp_path: Path, clip: Path, suffix: str, trim: dict) -> None:
    one = upscale_video(clip, tmp_path / f"one{suffix}", passthrough(), 2, segment_seconds=0, **trim, **LOSSLESS)
    cut = upscale_video(clip, tmp_path / f"cut{suffix}", passthrough(), 2, segment_seconds=SEGMENT, **trim, **LOSSLESS)
    assert one.segments == 1 and cut.segments >= 2
    assert (cut.frames, cut.duration, cut.audio) == (one.frames, one.duration, one.audio)
    assert decoded(cut.path) == decoded(one.path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"one{suffix}", f"cut{suffix}"])


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_variable_frame_rate_survives_segments(tmp_path: Path, suffix: str) -> None:
    pts = [0, 40, 80, 200, 240, 400, 420, 440, 600, 640, 680, 1000, 1040, 1080, 1300]  # ms; ends at 1.34 s
    clip = make_clip(tmp_path / "vfr.mkv", frames=len(pts), pts=pts, time_base=Fraction(1, 1000), audio="aac")
    one = upscale_video(clip, tmp_path / f"one{suffix}", passthrough(), 2, segment_seconds=0, crf=0)
    cut = upscale_video(clip, tmp_path / f"cut{suffix}", passthrough(), 2, segment_seconds=0.1, crf=0)
    assert cut.segments > 3
    assert decoded(cut.path) == decoded(one.path)
    frames = decoded(cut.path)["frames"]
    assert [round(t * 1000) for t, _ in frames] == pts  # type: ignore[union-attr]
    with av.open(str(cut.path)) as container:
        assert container.duration / 1e6 == pytest.approx(1.34)


def test_a_short_clip_is_one_pass_with_no_job_folder(tmp_path: Path, clip: Path) -> None:
    dst = tmp_path / "out.mp4"
    seen: list[bool] = []
    result = upscale_video(
        clip, dst, passthrough(), 2, segment_seconds=1.1, progress=lambda d, t: seen.append(parts_folder(dst).exists())
    )
    assert result.segments == 1 and not any(seen)


def test_resume_after_an_error_gives_identical_bytes(tmp_path: Path, clip: Path) -> None:
    whole = upscale_video(clip, tmp_path / "whole.mp4", passthrough(), 2, segment_seconds=SEGMENT, **FAST)
    dst = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):  # stops on frame 26: two segments done, the third cut off
        upscale_video(clip, dst, passthrough(fail_after=25), 2, segment_seconds=SEGMENT, **FAST)
    assert not dst.exists()
    assert sorted(p.name for p in parts_folder(dst).iterdir()) == ["manifest.json", "part-00000.mp4", "part-00001.mp4"]
    calls: list[tuple[int, int]] = []
    upscaler = passthrough()
    result = upscale_video(
        clip, dst, upscaler, 2, segment_seconds=SEGMENT, progress=lambda d, t: calls.append((d, t)), **FAST
    )
    assert (result.resumed, result.resumed_frames, result.frames) == (2, 20, 40)
    assert isinstance(upscaler.refine, Passthrough) and upscaler.refine.calls == 20
    assert calls[0] == (20, 40) and calls[-1] == (40, 40)
    assert dst.read_bytes() == whole.path.read_bytes()
    assert not parts_folder(dst).exists()


# A child process upscaling slowly, so it can be killed in the middle of a segment.
_CHILD = """
import sys
from tests.video.refiners import passthrough
from vdsr.video import upscale_video
upscale_video(sys.argv[1], sys.argv[2], passthrough(delay=0.03), 2, segment_seconds=0.4, preset="ultrafast")
"""


def test_resume_after_a_kill_gives_identical_bytes(tmp_path: Path, clip: Path) -> None:
    whole = upscale_video(clip, tmp_path / "whole.mp4", passthrough(), 2, segment_seconds=SEGMENT, **FAST)
    dst = tmp_path / "out.mp4"
    manifest = parts_folder(dst) / "manifest.json"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(clip), str(dst)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not (parts_folder(dst) / "part-00001.mp4").exists() and child.poll() is None:
            assert time.monotonic() < deadline, "the child never finished a segment"
            time.sleep(0.01)
        child.kill()  # SIGKILL: no clean-up of any kind
    finally:
        child.wait()
    assert child.returncode != 0, "the child finished before it was killed; slow it down"
    assert manifest.is_file() and not dst.exists()
    result = upscale_video(clip, dst, passthrough(), 2, segment_seconds=SEGMENT, **FAST)
    assert 1 <= result.resumed < 4
    assert dst.read_bytes() == whole.path.read_bytes()
    assert not parts_folder(dst).exists()


def _interrupted(clip: Path, dst: Path, **kwargs: object) -> None:
    with pytest.raises(RuntimeError):
        upscale_video(clip, dst, passthrough(fail_after=15), 2, segment_seconds=SEGMENT, **FAST, **kwargs)  # type: ignore[arg-type]
    assert parts_folder(dst).is_dir()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"crf": 30}, "settings crf was 23, now 30"),
        ({"scale": 3}, "settings scale was 2, now 3"),
        ({"model_identity": {"sha256": "b" * 8}}, "model sha256 was 'aaaaaaaa', now 'bbbbbbbb'"),
        ({"segment_seconds": 0.8}, "settings segment_frames was 10, now 20"),
        ({"segment_seconds": 0}, "(one pass)"),
    ],
)
def test_a_changed_model_or_setting_is_refused(tmp_path: Path, clip: Path, change: dict, message: str) -> None:
    dst = tmp_path / "out.mp4"
    _interrupted(clip, dst, model_identity={"sha256": "a" * 8}, crf=23)
    request = {"scale": 2, "crf": 23, "model_identity": {"sha256": "a" * 8}, "segment_seconds": SEGMENT} | change
    scale = request.pop("scale")
    with pytest.raises(VideoError) as exc:
        upscale_video(clip, dst, passthrough(), scale, preset="ultrafast", **request)
    text = str(exc.value)
    assert message in text and "--restart discards it" in text and "\n" not in text
    result = upscale_video(clip, dst, passthrough(), scale, preset="ultrafast", restart=True, **request)
    assert result.resumed == 0 and result.frames == 40 and not parts_folder(dst).exists()


def test_a_changed_source_is_refused(tmp_path: Path, clip: Path) -> None:
    src = tmp_path / "src.mp4"
    src.write_bytes(clip.read_bytes())
    dst = tmp_path / "out.mp4"
    _interrupted(src, dst)
    stat = src.stat()
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(VideoError, match=r"the source changed \(mtime ns\); --restart discards it"):
        upscale_video(src, dst, passthrough(), 2, segment_seconds=SEGMENT, **FAST)
    make_clip(src, frames=40, audio="aac", yuv=(100, 120, 140))  # same length, other pictures
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(VideoError, match="the source changed"):
        upscale_video(src, dst, passthrough(), 2, segment_seconds=SEGMENT, **FAST)


def test_a_folder_that_is_not_a_job_is_never_touched(tmp_path: Path, clip: Path) -> None:
    dst = tmp_path / "out.mp4"
    parts_folder(dst).mkdir()
    (parts_folder(dst) / "holiday.jpg").write_bytes(b"keep me")
    for restart in (False, True):
        with pytest.raises(VideoError, match="move"):
            upscale_video(clip, dst, passthrough(), 2, segment_seconds=SEGMENT, restart=restart, **FAST)
    assert (parts_folder(dst) / "holiday.jpg").read_bytes() == b"keep me"


def test_a_job_another_run_is_working_on_is_refused(tmp_path: Path, clip: Path) -> None:
    fcntl = pytest.importorskip("fcntl", reason="folder locks are POSIX advisory locks")
    dst = tmp_path / "out.mp4"
    _interrupted(clip, dst)
    held = os.open(parts_folder(dst), os.O_RDONLY)  # what a running job holds
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for restart in (False, True):
            with pytest.raises(VideoError, match="another run is working on this job"):
                upscale_video(clip, dst, passthrough(), 2, segment_seconds=SEGMENT, restart=restart, **FAST)
    finally:
        os.close(held)
    assert upscale_video(clip, dst, passthrough(), 2, segment_seconds=SEGMENT, **FAST).resumed == 1


def test_a_transport_stream_that_starts_late_keeps_every_frame(tmp_path: Path) -> None:
    """MPEG-TS timestamps start late (here at 10 s) and seeking there goes by bytes, so it can land past
    the start: ``start`` counts from the stream's first frame, and no frame in between is lost."""
    pts = list(range(250, 300))  # 50 frames at 25 fps, from 10 s on
    clip = make_clip(tmp_path / "clip.ts", frames=50, pts=pts, time_base=Fraction(1, 25), audio="aac")
    trim = {"start": 0.5, "duration": 1.0}
    one = upscale_video(clip, tmp_path / "one.mp4", passthrough(), 2, segment_seconds=0, **trim, **LOSSLESS)
    cut = upscale_video(clip, tmp_path / "cut.mp4", passthrough(), 2, segment_seconds=SEGMENT, **trim, **LOSSLESS)
    assert one.frames == cut.frames == 25 and cut.segments == 2
    assert decoded(cut.path) == decoded(one.path)
    times = [t for t, _ in decoded(cut.path)["frames"]]  # type: ignore[union-attr]
    assert times[0] == 0 and times[-1] == pytest.approx(24 / 25)
