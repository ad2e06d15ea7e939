from pathlib import Path

import numpy as np
import pytest

from engines.torch_ import TorchEngine
from vdsr.pipeline import InputError, UpscaleLimits, Upscaler, to_float
from vdsr.resize import imresize


@pytest.fixture()
def upscaler(tiny_checkpoint: Path) -> Upscaler:
    return Upscaler(TorchEngine(tiny_checkpoint), receptive_radius=4)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((20, 30), np.uint8),
        ((20, 30, 1), np.uint8),
        ((20, 30, 2), np.uint8),
        ((20, 30, 3), np.uint8),
        ((20, 30, 4), np.uint8),
        ((20, 30), np.uint16),
        ((20, 30, 3), np.uint16),
        ((20, 30, 4), np.uint16),
    ],
)
def test_keeps_channels_and_bit_depth(upscaler: Upscaler, shape: tuple[int, ...], dtype: type) -> None:
    img = (np.random.default_rng(0).random(shape) * np.iinfo(dtype).max).astype(dtype)
    out = upscaler.upscale(img, 2.5)
    assert out.shape == (50, 75, *shape[2:])
    assert out.dtype == dtype


def test_bicubic_upscaler_is_plain_bicubic(rgb_image: np.ndarray) -> None:
    out = Upscaler(None).upscale(rgb_image, 2)
    expected = np.clip(imresize(to_float(rgb_image), (74, 90)), 0, 1)
    assert np.abs(to_float(out) - expected).max() <= 1 / 255 + 1e-6


def test_alpha_is_upscaled_bicubically_not_by_the_network(upscaler: Upscaler, rgb_image: np.ndarray) -> None:
    alpha = np.random.default_rng(3).integers(0, 256, rgb_image.shape[:2], dtype=np.uint8)
    rgba = np.dstack([rgb_image, alpha])
    out = upscaler.upscale(rgba, 2)
    np.testing.assert_array_equal(out[..., 3], Upscaler(None).upscale(alpha, 2))
    np.testing.assert_array_equal(out[..., :3], upscaler.upscale(rgb_image, 2))


def test_network_changes_only_luma(upscaler: Upscaler, rgb_image: np.ndarray) -> None:
    from vdsr.color import rgb_to_ycbcr

    rgb_image = (rgb_image // 4 + 96).astype(np.uint8)  # mid-tones: no clipping to distort chroma

    sr = rgb_to_ycbcr(to_float(upscaler.upscale(rgb_image, 2)).astype(np.float64))
    bic = rgb_to_ycbcr(to_float(Upscaler(None).upscale(rgb_image, 2)).astype(np.float64))
    assert np.abs(sr[..., 0] - bic[..., 0]).mean() > 1e-3
    assert np.abs(sr[..., 1:] - bic[..., 1:]).max() < 4 / 255  # chroma differs only by 8-bit rounding


def test_gray_matches_rgb_of_equal_channels(upscaler: Upscaler, rgb_image: np.ndarray) -> None:
    gray = rgb_image[..., 0]
    out_gray = upscaler.upscale(gray, 2).astype(int)
    out_rgb = upscaler.upscale(np.dstack([gray] * 3), 2).astype(int)
    assert np.abs(out_gray - out_rgb[..., 1]).max() <= 1


def test_tiled_pipeline_equals_untiled(tiny_checkpoint: Path, rgb_image: np.ndarray) -> None:
    engine = TorchEngine(tiny_checkpoint)
    whole = Upscaler(engine, receptive_radius=4, limits=UpscaleLimits(tile=4096)).upscale(rgb_image, 3)
    tiled = Upscaler(engine, receptive_radius=4, limits=UpscaleLimits(tile=16)).upscale(rgb_image, 3)
    np.testing.assert_array_equal(whole, tiled)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((20, 30), np.uint8),
        ((20, 30, 2), np.uint8),
        ((20, 30, 3), np.uint8),
        ((20, 30, 4), np.uint16),
        ((20, 30, 3), np.float32),
    ],
)
def test_upscale_pair_is_bicubic_and_upscale_from_one_call(
    tiny_checkpoint: Path, shape: tuple[int, ...], dtype: type
) -> None:
    img = np.random.default_rng(4).random(shape)
    img = img.astype(dtype) if np.dtype(dtype).kind == "f" else (img * np.iinfo(dtype).max).astype(dtype)
    limits = UpscaleLimits(max_output_pixels=5000, tile=16)
    upscaler = Upscaler(TorchEngine(tiny_checkpoint), receptive_radius=4, limits=limits)
    bicubic, sr = upscaler.upscale_pair(img, 2.5)
    np.testing.assert_array_equal(bicubic, Upscaler(None, limits=limits).upscale(img, 2.5))
    np.testing.assert_array_equal(sr, upscaler.upscale(img, 2.5))
    assert bicubic.dtype == sr.dtype == dtype and not np.array_equal(bicubic, sr)
    with pytest.raises(InputError, match="megapixels"):  # the same limits as upscale
        upscaler.upscale_pair(img, 4)


@pytest.mark.parametrize("scale", [0.5, 0.0, float("nan"), 100.0])
def test_bad_scales(upscaler: Upscaler, rgb_image: np.ndarray, scale: float) -> None:
    with pytest.raises(InputError):
        upscaler.upscale(rgb_image, scale)


def test_bad_shapes_and_sizes(upscaler: Upscaler) -> None:
    with pytest.raises(InputError, match="unsupported image shape"):
        upscaler.upscale(np.zeros((4, 4, 5), np.uint8), 2)
    with pytest.raises(InputError, match="unsupported pixel type"):
        upscaler.upscale(np.zeros((4, 4, 3), np.int32), 2)
    small = Upscaler(None, limits=UpscaleLimits(max_output_pixels=1000))
    with pytest.raises(InputError, match="megapixels"):
        small.upscale(np.zeros((40, 40, 3), np.uint8), 2)


def test_one_pixel_image(upscaler: Upscaler) -> None:
    assert upscaler.upscale(np.full((1, 1, 3), 128, np.uint8), 2).shape == (2, 2, 3)


PEAK_RSS_LIMIT_MB = 2500  # for a 4000x3000 RGB image upscaled x2 (8000x6000, 48 MP out); measured 1970


def test_huge_image_stays_under_the_memory_bound(tmp_path: Path) -> None:
    """Tiling and in-place colour work keep a 48-megapixel result under the stated peak RSS.

    Runs in a fresh process so the peak is this upscale's alone. The network is a
    two-convolution VDSR so the test measures memory, not compute.
    """
    import subprocess
    import sys

    script = """
import resource
import numpy as np
import torch
from engines.torch_ import TorchEngine
from vdsr.config import ModelConfig
from vdsr.models import build_model
from vdsr.pipeline import Upscaler
torch.set_num_threads(1)
img = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
out = Upscaler(TorchEngine(build_model(ModelConfig(repeats=0, channels=1))), receptive_radius=2).upscale(img, 2)
assert out.shape == (6000, 8000, 3) and out.dtype == np.uint8
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert int(proc.stdout.strip()) < PEAK_RSS_LIMIT_MB


@pytest.mark.parametrize(
    ("scale", "network", "out"), [(1, (40, 60), (20, 30)), (1.5, (40, 60), (30, 45)), (2.5, (50, 75), (50, 75))]
)
def test_below_x2_the_network_runs_at_x2_and_is_resized_down(
    tiny_checkpoint: Path, rgb_image: np.ndarray, scale: float, network: tuple[int, int], out: tuple[int, int]
) -> None:
    """VDSR learns x2 to x4; below x2 it would sharpen a picture bicubic left nearly sharp."""
    img = rgb_image[:20, :30]
    seen: list[tuple[int, ...]] = []
    engine = TorchEngine(tiny_checkpoint)

    def refine(y: np.ndarray) -> np.ndarray:
        seen.append(y.shape[-2:])
        return engine(y)

    upscaler = Upscaler(refine, receptive_radius=4)
    bicubic, sr = upscaler.upscale_pair(img, scale)
    assert seen == [network] and sr.shape[:2] == out
    np.testing.assert_array_equal(bicubic, Upscaler(None).upscale(img, scale))
    if scale < 2:  # the x2 result, resized down (from before its rounding to 8 bits)
        at_x2 = to_float(upscaler.upscale(img, 2))
        np.testing.assert_allclose(to_float(sr), np.clip(imresize(at_x2, out), 0, 1), atol=2 / 255)
