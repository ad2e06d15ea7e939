"""ZeroGPU readiness: nothing changes without $SPACES_ZERO_GPU; with it, the network's handlers ask for a GPU."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from demo.zero_gpu import (
    batch_gpu_seconds,
    gpu_seconds,
    image_gpu_seconds,
    on_zero_gpu,
    preview_gpu_seconds,
    video_gpu_seconds,
    with_gpu,
)


def handler(image: str, scale: str = "x2") -> str:
    """A stand-in endpoint."""
    return image


def test_without_zero_gpu_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "spaces", None)  # importing it would fail: it must not be imported
    for environ in ({}, {"SPACES_ZERO_GPU": ""}, {"SPACES_ZERO_GPU": "false"}):
        assert not on_zero_gpu(environ)
        assert with_gpu(handler, image_gpu_seconds, environ) is handler


def test_on_zero_gpu_the_handler_asks_for_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []

    def gpu(duration: Any) -> Any:
        asked.append(duration)
        return lambda fn: ("wrapped", fn)

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    assert with_gpu(handler, image_gpu_seconds, {"SPACES_ZERO_GPU": "true"}) == ("wrapped", handler)
    assert asked == [image_gpu_seconds]


def test_durations_follow_the_output_pixels(tmp_path: Path, clip: Path) -> None:
    assert (gpu_seconds(0), gpu_seconds(100e6), gpu_seconds(1e12)) == (15, 20, 120)
    image = tmp_path / "big.png"
    Image.new("RGB", (1000, 1000)).save(image)
    assert image_gpu_seconds(str(image), "x4") == 15  # 16 MP out
    assert image_gpu_seconds(str(image), "x4", 2.5, None, "auto", True) == 22  # x8 self-ensemble: 128 MP
    assert image_gpu_seconds(str(image), "free", 3.0) == 15
    assert batch_gpu_seconds([str(image)] * 8, "x4") == 22
    assert preview_gpu_seconds(str(clip), 0, "upscale", "x4") == 15
    assert video_gpu_seconds(str(clip), "x2") == 15
    assert video_gpu_seconds(str(tmp_path / "missing.mp4")) == 120  # unreadable: the longest
