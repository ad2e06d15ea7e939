import math

import numpy as np
import pytest

from vdsr.metrics import psnr, ssim


def test_identical_images() -> None:
    img = np.random.default_rng(0).random((20, 20, 3))
    assert psnr(img, img, crop_border=2) == math.inf
    assert ssim(img, img, crop_border=2) == pytest.approx(1.0)


def test_known_psnr_on_luma() -> None:
    hr = np.full((10, 10), 0.5)
    sr = hr + 1 / 255  # error of exactly one level everywhere
    assert psnr(sr, hr, crop_border=0) == pytest.approx(20 * math.log10(255))


def test_border_is_shaved() -> None:
    hr = np.zeros((10, 10))
    sr = hr.copy()
    sr[0, :] = 1.0  # damage only the first row
    assert psnr(sr, hr, crop_border=1) == math.inf
    assert psnr(sr, hr, crop_border=0) < 20


def test_rgb_is_measured_on_y() -> None:
    rng = np.random.default_rng(2)
    hr = rng.random((16, 16, 3))
    sr = np.clip(hr + rng.normal(0, 0.01, hr.shape), 0, 1)
    from vdsr.color import rgb_to_y

    assert psnr(sr, hr, crop_border=2) == pytest.approx(psnr(rgb_to_y(sr), rgb_to_y(hr), crop_border=2))


def test_errors() -> None:
    with pytest.raises(ValueError, match="shape mismatch"):
        psnr(np.zeros((4, 4)), np.zeros((5, 4)), crop_border=0)
    with pytest.raises(ValueError, match="empty"):
        psnr(np.zeros((4, 4)), np.zeros((4, 4)), crop_border=2)
