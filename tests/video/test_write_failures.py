"""A write that fails part-way (a full disk, here a file-size limit in a child process) ends in one
line naming the output the user asked for, never a hidden temporary, and leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_video import make_clip

# The child caps the size of any file it writes; writing past the cap fails with EFBIG ("File too large"),
# as a full disk fails with ENOSPC.
_CHILD = """
import resource, sys
from vdsr.pipeline import Upscaler
from vdsr.video import VideoError, upscale_video
src, dst, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
try:
    upscale_video(src, dst, Upscaler(None), 4, crf=0, preset="ultrafast")
except VideoError as exc:
    print(exc)
    sys.exit(2)
"""


def run_capped(src: Path, dst: Path, cap: int) -> subprocess.CompletedProcess[str]:
    """Upscale ``src`` to ``dst`` in a child process that cannot write files over ``cap`` bytes."""
    return subprocess.run(
        [sys.executable, "-c", _CHILD, str(src), str(dst), str(cap)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_a_failed_write_names_the_output_not_the_temporary(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=30)
    dst = tmp_path / "out.mp4"
    done = run_capped(clip, dst, cap=4000)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip() == f"{dst}: cannot write (File too large)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
