"""Shared fixtures: a tiny random checkpoint, the data folder, sample images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vdsr.checkpoint import save_checkpoint
from vdsr.config import ModelConfig
from vdsr.data import data_dir
from vdsr.models import build_model

TINY = ModelConfig(arch="plain", repeats=2, channels=8)


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = data_dir()
    if not (root / "Set5").is_dir():
        pytest.skip(f"datasets not found at {root}: set VDSR_DATA_DIR to the folder holding Set5/ and T91/")
    return root


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random VDSR whose tail is perturbed so it is not the identity."""
    model = build_model(TINY)
    model.tail.weight.data.normal_(0, 0.01)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors", model, scales=[2, 3, 4])


@pytest.fixture()
def rgb_image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((37, 45, 3)) * 255).astype(np.uint8)
