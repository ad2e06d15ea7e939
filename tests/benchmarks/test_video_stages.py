"""The video-stage benchmark (python -m benchmarks.video) runs end to end on a tiny model (no timed assertions)."""

from __future__ import annotations

import re
from pathlib import Path

import av
import pytest

from benchmarks.video import main, make_clip
from vdsr.video import overlap


def test_the_clip_is_a_480p_h264_video(tmp_path: Path, data_root: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", 3)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 854, 480)
        assert sum(1 for _ in container.decode(stream)) == 3


def test_the_report_splits_a_frame_and_compares_the_two_orders(
    tiny_checkpoint: Path, data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model", str(tiny_checkpoint), "--engine", "torch", "--frames", "2", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 frames of 854x480 upscaled x2 to 1708x960" in out and "machine: " in out
    network_share = re.search(r"\| in turn \| [\d.]+ \| [\d.]+ \| ([\d.]+)% \| 1.00x \|", out)
    assert network_share is not None and 0 < float(network_share.group(1)) < 100
    assert re.search(r"\| overlapped \| [\d.]+ \| \| \| [\d.]+x \|", out)
    assert overlap.DEPTH == 1  # the default is back
