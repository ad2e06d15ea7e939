"""The evaluation protocol reproduces the published bicubic baselines on Set5."""

from pathlib import Path

import pytest

from vdsr.data import load_rgb_folder
from vdsr.evaluate import PAPER_SET5, evaluate
from vdsr.pipeline import Upscaler


def test_set5_bicubic_matches_the_paper(data_root: Path) -> None:
    images = load_rgb_folder(data_root / "Set5")
    assert len(images) == 5
    scores = evaluate({"bicubic": Upscaler(None)}, images, [2, 3, 4])
    for score in scores:
        assert score.psnr == pytest.approx(PAPER_SET5[score.scale][0], abs=0.05), score
    # SSIM in the paper's protocol: 0.9299 / 0.8682 / 0.8104 (Kim et al., Table 3 of the VDSR paper).
    assert [round(s.ssim, 2) for s in scores] == [0.93, 0.87, 0.81]
