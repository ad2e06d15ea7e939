"""The CLI's video job flags: an interrupted run continues, a changed setting is refused in one line,
``--restart`` starts again, and a bad ``--workers`` is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

import vdsr.cli
from tests.test_video import make_clip
from tests.video.refiners import passthrough
from vdsr.cli import main


@pytest.fixture()
def job(tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The arguments of a CLI run whose first attempt failed on frame 16 (one of four segments done)."""
    clip = make_clip(tmp_path / "clip.mp4", frames=40)
    args = ["-q", "upscale", str(clip), str(tmp_path / "out.mp4"), "--scale", "2", "--segment", "0.4"]
    args += ["--model", str(tiny_checkpoint)]
    monkeypatch.setattr(vdsr.cli, "_load_upscaler", lambda *a, **k: passthrough(fail_after=15))
    with pytest.raises(RuntimeError):
        main(args)
    monkeypatch.setattr(vdsr.cli, "_load_upscaler", lambda *a, **k: passthrough())
    assert (tmp_path / "out.mp4.parts" / "part-00000.mp4").is_file()
    return args


def test_running_again_continues(job: list[str], tmp_path: Path) -> None:
    assert main(job) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]


def test_a_changed_setting_is_refused_until_restart(
    job: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*job, "--crf", "30"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "settings crf was 18, now 30; --restart discards it" in err
    assert len(err.splitlines()) == 1
    assert main([*job, "--crf", "30", "--restart"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]


def test_bad_workers_is_one_line(job: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*job, "--workers", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --workers must be >= 1, got 0"


@pytest.mark.parametrize(
    ("devices", "message"),
    [
        ("0,x", "error: --devices takes GPU numbers separated by commas, such as 0,1; got '0,x'"),
        ("1,1", "error: --devices takes distinct GPU numbers separated by commas, such as 0,1; got '1,1'"),
    ],
)
def test_bad_devices_are_one_line(
    job: list[str], capsys: pytest.CaptureFixture[str], devices: str, message: str
) -> None:
    capsys.readouterr()
    assert main([*job, "--devices", devices]) == 2
    assert capsys.readouterr().err.strip() == message


def test_devices_need_a_gpu(job: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.device_count():
        pytest.skip("this machine has a CUDA GPU; the message is for machines without one")
    capsys.readouterr()
    assert main([*job, "--devices", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --devices: no CUDA GPU is visible here"
