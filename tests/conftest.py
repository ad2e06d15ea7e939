"""Shared fixtures: tiny random models and checkpoints, a private ONNX cache, the data folder, sample images."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from vdsr.checkpoint import save_checkpoint
from vdsr.config import ModelConfig
from vdsr.data import data_dir
from vdsr.models import VDSR, build_model

TINY = ModelConfig(arch="plain", repeats=2, channels=8)


def make_model(config: ModelConfig = TINY, seed: int = 0) -> VDSR:
    """A tiny random VDSR that is far from the identity (non-zero tail, live BatchNorm stats)."""
    torch.manual_seed(seed)
    model = build_model(config)
    model.tail.weight.data.normal_(0, 0.05)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.1, 0.1)
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point $VDSR_CACHE_DIR at a temporary folder so tests never touch ~/.cache/vdsr."""
    folder = tmp_path_factory.mktemp("vdsr-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VDSR_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def tiny_model() -> Callable[..., VDSR]:
    """Factory: ``tiny_model(config=..., seed=...)`` -> a fresh tiny random VDSR in eval mode."""
    return make_model


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = data_dir()
    if not (root / "Set5").is_dir():
        pytest.skip(f"datasets not found at {root}: set VDSR_DATA_DIR to the folder holding Set5/ and T91/")
    return root


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of :func:`make_model`'s tiny random VDSR."""
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors", make_model(), scales=[2, 3, 4])


@pytest.fixture()
def rgb_image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((37, 45, 3)) * 255).astype(np.uint8)


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """A data root with three T91 images and one small Set5 image, so training and calibration tests are quick."""
    from vdsr.imageio import read_image, write_image

    root = tmp_path_factory.mktemp("data")
    for name in ("000t1.bmp", "000t2.bmp", "000t3.bmp"):
        write_image(root / "T91" / name.replace(".bmp", ".png"), read_image(data_root / "T91" / name))
    write_image(root / "Set5" / "bird.png", read_image(data_root / "Set5" / "bird.png")[:96, :96])
    return root
