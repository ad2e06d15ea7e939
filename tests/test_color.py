import numpy as np

from vdsr.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb


def test_matlab_reference_values() -> None:
    # MATLAB: rgb2ycbcr(uint8([0 0 0; 255 255 255; 255 0 0])) -> [16 128 128; 235 128 128; 81 90 240]
    rgb = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0]], dtype=np.float64)
    ycbcr = rgb_to_ycbcr(rgb) * 255
    np.testing.assert_allclose(ycbcr, [[16, 128, 128], [235, 128, 128], [81.481, 90.203, 240]], atol=1e-3)


def test_round_trip() -> None:
    rgb = np.random.default_rng(0).random((20, 30, 3))
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, atol=1e-10)
    rgb32 = rgb.astype(np.float32)
    back = ycbcr_to_rgb(rgb_to_ycbcr(rgb32))
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, rgb32, atol=1e-5)


def test_y_only_matches_full_conversion() -> None:
    rgb = np.random.default_rng(1).random((4, 5, 3))
    np.testing.assert_allclose(rgb_to_y(rgb), rgb_to_ycbcr(rgb)[..., 0])
