import numpy as np
import pytest
import torch

from engines.torch_ import TorchEngine
from vdsr.config import ModelConfig
from vdsr.models import build_model
from vdsr.tiling import plan_tiles, run_tiled


def test_tiles_cover_every_pixel_once() -> None:
    covered = np.zeros((70, 53), int)
    for t in plan_tiles(70, 53, tile=16, halo=5):
        covered[t.dst] += 1
        src_h = t.src[0].stop - t.src[0].start
        assert t.keep[0].stop <= src_h
    assert (covered == 1).all()


@pytest.mark.parametrize("tile", [7, 16, 33])
def test_tiled_output_equals_whole_image(tile: int) -> None:
    config = ModelConfig(repeats=3, channels=8)
    model = build_model(config).eval()
    torch.manual_seed(0)
    for p in model.parameters():
        p.data.normal_(0, 0.2)
    engine = TorchEngine(model)
    plane = np.random.default_rng(0).random((50, 61)).astype(np.float32)
    whole = engine(plane[None, None])[0, 0]
    tiled = run_tiled(engine, plane, tile=tile, halo=config.receptive_radius)
    assert np.abs(tiled - whole).max() <= 1e-5
    # A halo smaller than the receptive field is visibly wrong: the test can fail.
    short = run_tiled(engine, plane, tile=tile, halo=1)
    assert np.abs(short - whole).max() > 1e-3


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        plan_tiles(10, 10, tile=0, halo=2)
