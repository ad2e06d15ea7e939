"""``workers=2``: segments encoded by two processes, each building its engine once, give the very
bytes one process gives; through the CLI with a real (tiny) checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_video import make_clip
from vdsr.cli import main


@pytest.mark.slow
def test_two_workers_give_the_bytes_of_one(tmp_path: Path, tiny_checkpoint: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=40, audio="aac")
    common = ["--scale", "2", "--model", str(tiny_checkpoint), "--engine", "torch", "--segment", "0.4"]
    assert main(["-q", "upscale", str(clip), str(tmp_path / "one.mp4"), *common]) == 0
    assert main(["-q", "upscale", str(clip), str(tmp_path / "two.mp4"), *common, "--workers", "2"]) == 0
    assert (tmp_path / "two.mp4").read_bytes() == (tmp_path / "one.mp4").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "one.mp4", "two.mp4"]
