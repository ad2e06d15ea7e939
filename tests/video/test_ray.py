"""Segments on a Ray cluster (a local one, two CPUs) give the bytes of a local run; without Ray,
``--ray`` says in one line what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.test_video import FAST, make_clip
from tests.video.refiners import passthrough
from vdsr.cli import main
from vdsr.video import upscale_video

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_local_ray_cluster_gives_the_bytes_of_a_local_run(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="Ray is optional (requirements-dev.txt installs it)")
    clip = make_clip(tmp_path / "clip.mp4", frames=40, audio="aac")
    local = upscale_video(clip, tmp_path / "local.mp4", passthrough(), 2, segment_seconds=0.4, **FAST)
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    try:
        counts: list[int] = []
        result = upscale_video(
            clip,
            tmp_path / "ray.mp4",
            passthrough(),
            2,
            segment_seconds=0.4,
            ray="",
            workers=2,
            make_upscaler=passthrough,
            progress=lambda done, total: counts.append(done),
            **FAST,
        )
    finally:
        ray.shutdown()
    assert result.path.read_bytes() == local.path.read_bytes()
    assert counts[0] == 0 and counts[-1] == 40 and max(counts) == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "local.mp4", "ray.mp4"]


def test_without_ray_the_flag_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: importing or finding it fails
    clip = make_clip(tmp_path / "clip.mp4", frames=2)
    assert main(["upscale", str(clip), str(tmp_path / "out.mp4"), "--scale", "2", "--ray"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "error: Ray is not installed; pip install ray to send segments to a Ray cluster"
    )
    with pytest.raises(ValueError, match="Ray is not installed"):
        upscale_video(clip, tmp_path / "out.mp4", passthrough(), 2, ray="", make_upscaler=passthrough)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
