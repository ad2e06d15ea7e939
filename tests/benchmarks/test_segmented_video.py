"""The segmented-video benchmark (python -m benchmarks.segments) runs end to end on a tiny model, untimed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.segments import main


def test_the_report_compares_one_pass_segments_and_two_processes(
    tiny_checkpoint: Path, data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "--model",
                str(tiny_checkpoint),
                "--engine",
                "torch",
                "--seconds",
                "2",
                "--size",
                "64x48",
                "--segment",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "2 s of 64x48 at 25 fps, upscaled x2" in out and "machine: " in out
    rows = re.findall(r"^\| (.+?) \| ([\d.]+) \| ([+-][\d.]+)% \|$", out, re.MULTILINE)
    assert [name for name, _, _ in rows] == ["one pass", "1 s segments, 1 process", "1 s segments, 2 processes"]
    assert rows[0][2] == "+0.0" and all(float(seconds) > 0 for _, seconds, _ in rows)


def test_a_bad_size_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--size", "wide"])
    assert "WxH" in capsys.readouterr().err
