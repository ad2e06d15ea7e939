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


def test_a_free_factor_is_scored_on_an_exact_crop(data_root: Path) -> None:
    """x1.5 = 3/2: the ground truth is cropped to a multiple of 3, its input is exactly 2/3 of it, and
    Lanczos (no network) scores close to bicubic, as at the integer scales."""
    from vdsr.evaluate import Lanczos

    images = load_rgb_folder(data_root / "Set5")[:2]
    scores = evaluate({"bicubic": Upscaler(None), "lanczos": Lanczos()}, images, [1.5, 2], with_ssim=False)
    by = {(s.method, s.scale): s.psnr for s in scores}
    assert {s.scale for s in scores} == {1.5, 2}
    assert by["bicubic", 1.5] > by["bicubic", 2] + 2  # a smaller factor loses less
    assert abs(by["lanczos", 1.5] - by["bicubic", 1.5]) < 1
