"""Blending two models' outputs: the arithmetic, and the study's command on a tiny pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engines import load_upscaler
from training.output_blend import main, output_blend
from vdsr.checkpoint import save_checkpoint
from vdsr.pipeline import Upscaler


@pytest.fixture()
def pair(tiny_model, tmp_path: Path) -> tuple[Path, Path]:
    a = save_checkpoint(tmp_path / "a.safetensors", tiny_model(seed=1), scales=[2, 3, 4])
    b = save_checkpoint(tmp_path / "b.safetensors", tiny_model(seed=2), scales=[2, 3, 4])
    return a, b


def test_the_blend_mixes_the_two_networks_outputs(pair: tuple[Path, Path]) -> None:
    clean, real = (load_upscaler(str(p), "torch") for p in pair)
    y = np.random.default_rng(0).random((23, 31)).astype(np.float32)
    a, b = clean.refine_luma(y), real.refine_luma(y)
    assert not np.allclose(a, b)
    for share in (0.0, 0.3, 1.0):
        mixed = output_blend(clean, real, share).refine_luma(y)
        np.testing.assert_allclose(mixed, (1 - share) * a + share * b, rtol=1e-5, atol=1e-6)


def test_the_blend_refuses_a_bad_share_or_a_missing_network(pair: tuple[Path, Path]) -> None:
    clean = load_upscaler(str(pair[0]), "torch")
    with pytest.raises(ValueError, match="share"):
        output_blend(clean, clean, 1.5)
    with pytest.raises(ValueError, match="two networks"):
        output_blend(clean, Upscaler(None), 0.5)


def test_the_command_scores_the_blends_beside_the_real_model(pair: tuple[Path, Path], data_root: Path, capsys) -> None:
    argv = ["--clean", str(pair[0]), "--real", str(pair[1]), "--shares", "0.5", "--sets", "Set5"]
    argv += ["--degradation", "jpeg:90", "--scales", "2", "--weight-blends", "--data-dir", str(data_root)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Set5, x2" in out and "| jpeg:90 |" in out
    assert f"| input | bicubic | {pair[1]} | outputs@0.5 |" in out
