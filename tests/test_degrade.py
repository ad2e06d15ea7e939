import io

import numpy as np
import pytest
from PIL import Image

from vdsr.color import rgb_to_ycbcr
from vdsr.degrade import DegradationError, bicubic_degrade, degrade, low_resolution, modcrop, parse_spec, protocol_pair
from vdsr.metrics import psnr


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return psnr(a / 255.0, b / 255.0, crop_border=0)


def _image(h: int = 48, w: int = 64) -> np.ndarray:
    """A smooth image with edges, so codecs behave as on photos (noise would be incompressible)."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([128 + 90 * np.sin(x / 5), 128 + 80 * np.cos(y / 7), (x * 3 + y * 2) % 256], axis=2)
    return np.clip(rgb, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "spec",
    [
        "clean",
        "jpeg:50",
        "h264:23",
        "mpeg2:2M",
        "noise:5",
        "blur:1.2",
        "blur:1.2+jpeg:60",
        "h264:18-35",
        "noise:1-8+jpeg:30-95",
    ],
)
@pytest.mark.parametrize("size", [(48, 64), (37, 51)])  # odd sizes: yuv420p needs padding inside
def test_degradations_keep_shape_and_dtype_and_are_deterministic(spec: str, size: tuple[int, int]) -> None:
    img = _image(*size)
    out = degrade(img, spec, seed=7)
    assert out.shape == img.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, degrade(img, spec, seed=7))
    if spec == "clean":
        np.testing.assert_array_equal(out, img)
    else:
        assert 20 < _psnr(out, img) < 60  # changed, but still the same picture


def test_gray_images_stay_gray() -> None:
    gray = _image()[..., 0]
    assert degrade(gray, "jpeg:50").shape == gray.shape


def test_jpeg_equals_pils_own_round_trip() -> None:
    img = _image()
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=50)
    np.testing.assert_array_equal(degrade(img, "jpeg:50"), np.asarray(Image.open(buf).convert("RGB")))


@pytest.mark.parametrize("spec", ["h264:0", "h264:28", "mpeg2:8M"])
def test_codec_round_trips_keep_the_brightness(spec: str) -> None:
    """A codec blurs and blocks, but must not shift levels: a model would learn to undo the shift on every input."""
    img = _image(96, 128)
    shift = 255 * (rgb_to_ycbcr(degrade(img, spec) / 255.0)[..., 0] - rgb_to_ycbcr(img / 255.0)[..., 0]).mean()
    assert abs(shift) < 0.4, shift  # luma levels; swscale's default fast path gave about -1.1


@pytest.mark.parametrize(("kind", "better", "worse"), [("jpeg", 90, 30), ("h264", 18, 35), ("mpeg2", "8M", "1M")])
def test_stronger_settings_lose_more(kind: str, better: object, worse: object) -> None:
    img = _image(96, 128)
    assert _psnr(degrade(img, f"{kind}:{better}"), img) > _psnr(degrade(img, f"{kind}:{worse}"), img) + 1


def test_seeds_change_random_degradations_only() -> None:
    img = _image()
    assert not np.array_equal(degrade(img, "noise:5", seed=1), degrade(img, "noise:5", seed=2))
    np.testing.assert_array_equal(degrade(img, "jpeg:50", seed=1), degrade(img, "jpeg:50", seed=2))


@pytest.mark.parametrize(
    "spec", ["jpg:50", "jpeg", "jpeg:0", "jpeg:101", "h264:60", "jpeg:90-30", "blur:x", "jpeg:50+", "mpeg2:5"]
)
def test_bad_specs_get_one_line_naming_the_valid_forms(spec: str) -> None:
    with pytest.raises(DegradationError) as err:
        parse_spec(spec)
    message = str(err.value)
    assert "\n" not in message and "jpeg:Q" in message and "h264:CRF" in message


def test_rates_take_units() -> None:
    assert parse_spec("mpeg2:1500k").steps[0].low == 1.5e6
    assert parse_spec("mpeg2:2M").steps[0].low == 2e6


def test_low_resolution_is_the_standard_protocol_when_clean() -> None:
    hr = modcrop(_image(50, 67).astype(np.float32) / 255, 3)
    assert hr.shape[:2] == (48, 66)
    lr = low_resolution(hr, 3)
    assert lr.dtype == np.uint8 and lr.shape == (16, 22, 3)
    np.testing.assert_array_equal(lr, np.rint(bicubic_degrade(hr, 3) * 255).astype(np.uint8))
    assert not np.array_equal(low_resolution(hr, 3, "jpeg:30"), lr)


def test_protocol_pair_handles_free_factors() -> None:
    hr, lr, exact = protocol_pair(_image(50, 67), 2.5)
    assert exact == 2.5 and hr.shape[:2] == (50, 65) and lr.shape[:2] == (20, 26)
    hr, lr, exact = protocol_pair(_image(50, 67), 2, "h264:23")
    assert exact == 2 and hr.shape[:2] == (50, 66) and lr.shape[:2] == (25, 33)
