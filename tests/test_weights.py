"""The shipped default model: it loads safely, and its recorded figures are the ones it measures."""

from pathlib import Path

import pytest

from engines.torch_ import TorchEngine, TorchOptions
from vdsr.checkpoint import load_checkpoint
from vdsr.config import ModelConfig
from vdsr.data import load_rgb_folder
from vdsr.evaluate import evaluate
from vdsr.pipeline import Upscaler
from vdsr.weights import DEFAULT_MODEL, WEIGHTS_DIR, resolve_model, shipped_models


def test_default_model_is_shipped_and_is_the_papers_vdsr20() -> None:
    assert shipped_models()[0] == DEFAULT_MODEL
    model, info = load_checkpoint(resolve_model())
    assert info.config == ModelConfig(arch="plain", repeats=18)
    assert info.scales == (2.0, 3.0, 4.0)
    assert info.path == WEIGHTS_DIR / f"{DEFAULT_MODEL}.safetensors"
    assert info.path.stat().st_size < 5_000_000


# The shipped model's measured gain over bicubic on Set5 is +3.77 / +3.17 / +2.80 dB at x2 / x3 / x4
# (docs/training.md). x2 is issue 3's floor; x3 and x4 guard what was reached.
MIN_GAIN_DB = {2: 3.5, 3: 3.0, 4: 2.6}


def test_default_model_beats_bicubic_and_matches_its_recorded_figures(data_root: Path) -> None:
    model, info = load_checkpoint(resolve_model())
    images = load_rgb_folder(data_root / "Set5")
    fp32 = TorchEngine(model, TorchOptions(precision="fp32"))
    methods = {"bicubic": Upscaler(None), "vdsr": Upscaler(fp32, receptive_radius=20)}
    scores = {(s.method, s.scale): s.psnr for s in evaluate(methods, images, [2, 3, 4], with_ssim=False)}
    for scale in (2, 3, 4):
        assert scores["vdsr", scale] - scores["bicubic", scale] >= MIN_GAIN_DB[scale], scale
        # The figures written into the checkpoint (and the README) are what this code measures.
        assert scores["vdsr", scale] == pytest.approx(info.evaluation["psnr"][str(scale)], abs=0.01)
