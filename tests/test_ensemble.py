from pathlib import Path

import numpy as np
import pytest
import torch

from engines.torch_ import TorchEngine, TorchOptions
from vdsr.checkpoint import load_checkpoint
from vdsr.ensemble import SelfEnsemble
from vdsr.evaluate import evaluate
from vdsr.imageio import read_image
from vdsr.pipeline import UpscaleLimits, Upscaler
from vdsr.weights import resolve_model

# The 8 symmetries of the square on (N, 1, H, W), written with torch so the check is independent of the numpy code.
SYMMETRIES = [(k, flip) for k in range(4) for flip in (False, True)]


def _apply(t: torch.Tensor, k: int, flip: bool) -> torch.Tensor:
    t = torch.rot90(t, k, dims=(2, 3))
    return torch.flip(t, dims=(3,)) if flip else t


def _undo(t: torch.Tensor, k: int, flip: bool) -> torch.Tensor:
    t = torch.flip(t, dims=(3,)) if flip else t
    return torch.rot90(t, -k, dims=(2, 3))


@pytest.fixture()
def engine(tiny_checkpoint: Path) -> TorchEngine:
    """A tiny random VDSR: far from symmetric, so the 8 passes really differ."""
    return TorchEngine(tiny_checkpoint, TorchOptions(precision="fp32"))


@pytest.fixture()
def plane() -> np.ndarray:
    return np.random.default_rng(0).random((1, 1, 23, 31), dtype=np.float32)


def test_is_the_mean_of_the_eight_transformed_passes(engine: TorchEngine, plane: np.ndarray) -> None:
    x = torch.from_numpy(plane)
    passes = [_undo(torch.from_numpy(engine(_apply(x, k, f).contiguous().numpy())), k, f) for k, f in SYMMETRIES]
    expected = torch.stack(passes).mean(0).numpy()
    single = engine(plane)
    assert np.abs(expected - single).max() > 1e-4  # the passes disagree, so the average means something
    np.testing.assert_allclose(SelfEnsemble(engine)(plane), expected, atol=1e-6)


def test_output_turns_with_the_input(engine: TorchEngine, plane: np.ndarray) -> None:
    """The average over all 8 symmetries is equivariant even though the network is not."""
    ensemble = SelfEnsemble(engine)
    reference = torch.from_numpy(ensemble(plane))
    for k, flip in SYMMETRIES:
        turned = _apply(torch.from_numpy(plane), k, flip).contiguous().numpy()
        np.testing.assert_allclose(ensemble(turned), _apply(reference, k, flip).numpy(), atol=1e-5)


def test_identity_network_stays_identity(plane: np.ndarray) -> None:
    np.testing.assert_allclose(SelfEnsemble(lambda y: y.copy())(plane), plane, atol=1e-7)


def test_tiled_ensemble_equals_whole_image(engine: TorchEngine, rgb_image: np.ndarray) -> None:
    ensemble = SelfEnsemble(engine)
    whole = Upscaler(ensemble, receptive_radius=4, limits=UpscaleLimits(tile=4096)).upscale(rgb_image, 3)
    tiled = Upscaler(ensemble, receptive_radius=4, limits=UpscaleLimits(tile=16)).upscale(rgb_image, 3)
    np.testing.assert_array_equal(whole, tiled)


def test_shipped_model_scores_higher_with_the_ensemble(data_root: Path) -> None:
    """On a real Set5 image at x2, the x8 ensemble of the shipped VDSR-20 beats its single pass."""
    model, info = load_checkpoint(resolve_model())
    engine = TorchEngine(model, TorchOptions(precision="fp32"))
    bird = [("bird", read_image(data_root / "Set5" / "bird.png"))]
    methods = {
        "single": Upscaler(engine, receptive_radius=info.config.receptive_radius),
        "x8": Upscaler(SelfEnsemble(engine), receptive_radius=info.config.receptive_radius),
    }
    scores = {s.method: s.psnr for s in evaluate(methods, bird, [2], with_ssim=False)}
    assert scores["x8"] - scores["single"] > 0.05
