"""Real codec damage with a true reference: carphone_distorted scored against carphone_pristine at x1."""

from __future__ import annotations

from pathlib import Path

from training.real_damage import main, score_pair


def test_the_real_model_removes_part_of_real_h264_damage(data_root: Path) -> None:
    scores = {s.method: s for s in score_pair(["vdsr-20-real"], data_root, step=30)}
    assert list(scores) == ["input", "vdsr-20-real"]
    assert 20 < scores["input"].psnr < 30  # heavily compressed, as the MANIFEST says
    assert scores["vdsr-20-real"].psnr > scores["input"].psnr
    assert scores["vdsr-20-real"].ssim > scores["input"].ssim


def test_the_command_prints_each_method_against_the_input(data_root: Path, tiny_checkpoint: Path, capsys) -> None:
    assert main(["--models", str(tiny_checkpoint), "--step", "60", "--data-dir", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert "| input | " in out and "(+0.00)" in out
    assert f"| {tiny_checkpoint} | " in out
