"""PyAV loads only when a video is involved: upscaling an image must not pay for it.

Each check runs in a fresh interpreter, since this test process has imported PyAV already.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from vdsr.imageio import read_image, write_image

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _imported_modules(importtime_log: str) -> set[str]:
    """Module names from ``python -X importtime`` output (``import time: self | cumulative | name``)."""
    return {line.rsplit("|", 1)[1].strip() for line in importtime_log.splitlines() if line.startswith("import time:")}


def _is_pyav(name: str) -> bool:
    return name == "av" or name.startswith("av.")


def test_upscaling_a_png_never_imports_pyav(tmp_path: Path, tiny_checkpoint: Path, rgb_image: np.ndarray) -> None:
    src, dst = write_image(tmp_path / "in.png", rgb_image), tmp_path / "out.png"
    argv = ["upscale", str(src), str(dst), "--scale", "2", "--model", str(tiny_checkpoint), "--engine", "torch"]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vdsr", "-q", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert read_image(dst).shape == (74, 90, 3)
    imported = _imported_modules(proc.stderr)
    assert "vdsr.cli" in imported  # the log is read right
    assert not {name for name in imported if _is_pyav(name)}
    assert {name for name in imported if name.startswith("vdsr.video")} == {
        "vdsr.video",
        "vdsr.video.errors",
        "vdsr.video.formats",
    }


def test_video_package_loads_pyav_on_first_use_of_a_video_function() -> None:
    script = """
import sys

import vdsr.cli
import vdsr.video as video
from vdsr.video import VIDEO_SUFFIXES, VideoError

assert ".mp4" in VIDEO_SUFFIXES and issubclass(VideoError, ValueError)
assert "av" not in sys.modules, "importing vdsr.cli or vdsr.video imported PyAV"
from vdsr.video import read_frames

assert "av" in sys.modules and read_frames.__module__ == "vdsr.video.frames"
missing = [name for name in video.__all__ if getattr(video, name, None) is None]
assert not missing, missing
assert set(video.__all__) <= set(dir(video))
try:
    video.no_such_name
except AttributeError as exc:
    assert "no_such_name" in str(exc)
else:
    raise AssertionError("an unknown name did not raise AttributeError")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr[-2000:]
