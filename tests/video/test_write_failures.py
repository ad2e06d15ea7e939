"""A write that fails part-way (a full disk; here a file-size limit in a child process) ends in one
line naming the file the user asked for (or the job's part), never a hidden temporary; a one-pass run
leaves nothing behind, and a segmented job stays resumable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_video import make_clip
from vdsr.pipeline import Upscaler
from vdsr.video import upscale_video

REPO = Path(__file__).resolve().parents[2]
SETTINGS = {"crf": 0, "preset": "ultrafast"}  # lossless x4: parts of about 15 kB, an output of about 60 kB

# The child caps the size of any file it writes: writing past the cap fails with EFBIG ("File too
# large"), as a full disk fails with ENOSPC.
_CHILD = """
import resource, sys
from vdsr.pipeline import Upscaler
from vdsr.video import VideoError, upscale_video
src, dst, cap, segment = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
try:
    upscale_video(src, dst, Upscaler(None), 4, crf=0, preset="ultrafast", segment_seconds=segment)
except VideoError as exc:
    print(exc)
    sys.exit(2)
"""


def run_capped(src: Path, dst: Path, cap: int, segment: float = 0) -> subprocess.CompletedProcess[str]:
    """Upscale ``src`` to ``dst`` in a child process that cannot write files over ``cap`` bytes."""
    return subprocess.run(
        [sys.executable, "-c", _CHILD, str(src), str(dst), str(cap), str(segment)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", frames=40, audio="aac")


def test_a_failed_write_names_the_output_not_the_temporary(tmp_path: Path, clip: Path) -> None:
    dst = tmp_path / "out.mp4"
    done = run_capped(clip, dst, cap=4000)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip() == f"{dst}: cannot write (File too large)"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("cap", "failing", "resumed"),
    [
        (8_000, "out.mp4.parts/part-00000.mp4", 0),  # the first part does not fit
        (30_000, "out.mp4", 4),  # every part fits, the joined output does not
    ],
)
def test_a_full_disk_leaves_the_job_resumable(tmp_path: Path, clip: Path, cap: int, failing: str, resumed: int) -> None:
    whole = upscale_video(clip, tmp_path / "whole.mp4", Upscaler(None), 4, segment_seconds=0.4, **SETTINGS)
    dst = tmp_path / "out.mp4"
    done = run_capped(clip, dst, cap=cap, segment=0.4)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip() == f"{tmp_path / failing}: cannot write (File too large)"
    assert not dst.exists() and (tmp_path / "out.mp4.parts" / "manifest.json").is_file()
    assert not [p for p in tmp_path.rglob(".*")], "a hidden temporary was left"
    result = upscale_video(clip, dst, Upscaler(None), 4, segment_seconds=0.4, **SETTINGS)
    assert (result.resumed, result.segments) == (resumed, 4)
    assert dst.read_bytes() == whole.path.read_bytes()
