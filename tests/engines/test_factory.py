"""engines.load_upscaler: the one way a model becomes an Upscaler, with the halo the model needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engines import ENGINES, load_upscaler
from tests.conftest import make_model
from vdsr.checkpoint import save_checkpoint
from vdsr.config import ModelConfig
from vdsr.ensemble import SelfEnsemble
from vdsr.imageio import read_image
from vdsr.pipeline import UpscaleLimits, Upscaler

REFERENCE = Path(__file__).resolve().parent.parent / "data"


@pytest.mark.parametrize("repeats", [2, 24])
def test_the_halo_comes_from_the_model(tmp_path: Path, repeats: int) -> None:
    model = make_model(ModelConfig(arch="plain", repeats=repeats, channels=4))
    path = save_checkpoint(tmp_path / "m.safetensors", model, scales=[2])
    radius = model.config.receptive_radius
    assert radius == repeats + 2
    for upscaler in (
        load_upscaler(path, "torch"),
        load_upscaler(model),
        load_upscaler(str(path), ENGINES.get("torch")(path)),
    ):
        assert upscaler.halo == radius


def test_every_way_in_gives_the_same_result(tiny_checkpoint: Path, rgb_image: np.ndarray) -> None:
    from vdsr.checkpoint import load_checkpoint

    model, _ = load_checkpoint(tiny_checkpoint)
    by_path = load_upscaler(tiny_checkpoint, "torch").upscale(rgb_image, 2)
    np.testing.assert_array_equal(load_upscaler(model).upscale(rgb_image, 2), by_path)
    np.testing.assert_array_equal(
        load_upscaler(tiny_checkpoint, ENGINES.get("torch")(tiny_checkpoint)).upscale(rgb_image, 2), by_path
    )


def test_options(tiny_checkpoint: Path) -> None:
    upscaler = load_upscaler(tiny_checkpoint, "torch", tile=64, ensemble=True, limits=UpscaleLimits(max_scale=3))
    assert isinstance(upscaler.refine, SelfEnsemble)
    assert upscaler.limits.tile == 64 and upscaler.limits.max_scale == 3


def test_a_network_without_its_halo_is_refused() -> None:
    with pytest.raises(ValueError, match="load_upscaler"):
        Upscaler(lambda y: y)
    with pytest.raises(ValueError, match="runs on torch"):
        load_upscaler(make_model(), "openvino")


@pytest.mark.parametrize(("name", "scale"), [("butterfly", 2), ("bird", 3)])
def test_the_shipped_models_output_is_unchanged(name: str, scale: int) -> None:
    """Pinned to outputs saved before the code was reorganised. Other CPUs' kernels may round the last
    fp32 bit differently, so a pixel may differ by one level; anything more is a change in behaviour."""
    img = read_image(REFERENCE / f"{name}_x{scale}_input.png")
    want = read_image(REFERENCE / f"{name}_x{scale}_vdsr-20.png")
    got = load_upscaler("vdsr-20", "torch").upscale(img, scale)
    assert got.shape == want.shape and got.dtype == want.dtype
    diff = np.abs(got.astype(int) - want)
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999
