"""``workers=2``: segments encoded by two processes, each building its engine once, give the very
bytes one process gives (through the CLI, with a real tiny checkpoint); a worker that dies stops the
run in one line and leaves the job to continue."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest

from tests.test_video import FAST, make_clip
from tests.video.refiners import crashing, on_device, passthrough
from vdsr.cli import main
from vdsr.video import VideoError, upscale_video
from vdsr.video.runners import cpu_share


@pytest.mark.slow
def test_two_workers_give_the_bytes_of_one(tmp_path: Path, tiny_checkpoint: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=40, audio="aac")
    common = ["--scale", "2", "--model", str(tiny_checkpoint), "--engine", "torch", "--segment", "0.4"]
    assert main(["-q", "upscale", str(clip), str(tmp_path / "one.mp4"), *common]) == 0
    assert main(["-q", "upscale", str(clip), str(tmp_path / "two.mp4"), *common, "--workers", "2"]) == 0
    assert (tmp_path / "two.mp4").read_bytes() == (tmp_path / "one.mp4").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "one.mp4", "two.mp4"]


def test_a_worker_that_dies_stops_the_run_and_the_job_continues(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=40)
    dst = tmp_path / "out.mp4"
    settings = {"segment_seconds": 0.4, "model_identity": {"model": "test"}, **FAST}
    with pytest.raises(VideoError, match=r"a worker process stopped \(exit code 9\); run again to continue"):
        upscale_video(clip, dst, crashing(15), 2, workers=2, make_upscaler=partial(crashing, 15), **settings)
    assert not dst.exists()
    reference = upscale_video(clip, tmp_path / "reference.mp4", crashing(10**6), 2, **settings)
    result = upscale_video(clip, dst, crashing(10**6), 2, **settings)
    assert result.resumed <= 2 and dst.read_bytes() == reference.path.read_bytes()


def test_each_worker_sees_only_its_own_device(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=40)
    seen = tmp_path / "seen"
    seen.mkdir()
    settings = {"segment_seconds": 0.4, "model_identity": {"model": "test"}, **FAST}
    reference = upscale_video(clip, tmp_path / "reference.mp4", passthrough(), 2, **settings)
    # no GPU is needed: the workers only record what they were given (one worker per device by default)
    result = upscale_video(
        clip,
        tmp_path / "out.mp4",
        passthrough(),
        2,
        devices=(3, 5),
        make_upscaler=partial(on_device, str(seen), 2),
        **settings,
    )
    assert sorted(p.read_text() for p in seen.glob("*.device")) == ["3", "5"]
    assert result.path.read_bytes() == reference.path.read_bytes()
    with pytest.raises(VideoError, match="Ray gives its actors GPUs itself"):
        upscale_video(clip, tmp_path / "ray.mp4", passthrough(), 2, devices=(0,), ray="", **settings)


def test_the_cpu_is_shared_out_between_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert (cpu_share(2, on_gpus=False), cpu_share(3, on_gpus=False), cpu_share(16, on_gpus=False)) == (4, 2, 1)
    assert cpu_share(2, on_gpus=True) is None  # each GPU worker keeps the runtimes' own choice
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert cpu_share(2, on_gpus=False) is None  # the user's choice stands


def test_each_cpu_worker_runs_with_its_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    clip = make_clip(tmp_path / "clip.mp4", frames=40)
    seen = tmp_path / "seen"
    seen.mkdir()
    settings = {"segment_seconds": 0.4, "model_identity": {"model": "test"}, **FAST}
    make = partial(on_device, str(seen), 2)
    upscale_video(clip, tmp_path / "out.mp4", passthrough(), 2, workers=2, make_upscaler=make, **settings)
    share = max(1, (os.cpu_count() or 1) // 2)
    assert [p.read_text() for p in seen.glob("*.threads")] == [f"{share} {share}"] * 2
