"""The quality gate: a pair losing more than the limit against PyTorch fp32 is refused; scores are cached per
model content and runtime versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import engines.quality_gate as quality_gate
import engines.shipped as shipped
from engines.quality_gate import GATE_DB, REFERENCE_LABEL, GateResult, QualityGate, reference_engine
from engines.shipped import set5_images
from vdsr.checkpoint import save_checkpoint
from vdsr.models import VDSR


class CheckerEngine:
    """PyTorch fp32 with a +-``levels``/255 checkerboard added to the luma it returns.

    The pattern is uncorrelated with the network's error, so it adds about its own power to the
    squared error: ``levels`` 4 costs a few tenths of a dB at every scale, 0 costs nothing.
    """

    name = "checker"
    precision = "fp32"

    def __init__(self, checkpoint: Path, levels: float) -> None:
        self.inner = reference_engine(checkpoint)
        self.amplitude = np.float32(levels / 255)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        rows, cols = np.indices(y.shape[-2:])
        return self.inner(y) + self.amplitude * np.where((rows + cols) % 2, 1, -1).astype(np.float32)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture()
def set5(small_data: Path) -> list[tuple[str, np.ndarray]]:
    images = set5_images(small_data)
    assert images is not None
    return images


def test_the_verdict_follows_the_loss_at_every_scale() -> None:
    reference = {2: 37.50, 3: 33.60, 4: 31.30}
    assert GateResult(reference, {2: 37.49, 3: 33.59, 4: 31.26}).admitted  # within 0.05 dB everywhere
    lossy = GateResult(reference, {2: 37.50, 3: 33.60, 4: 31.234})  # x4 loses 0.066 dB, as OpenVINO's own bf16 did
    assert not lossy.admitted and lossy.losses[4] == pytest.approx(0.066)
    assert "x4 0.0660" in lossy.summary() and "refused" in lossy.summary()
    assert GateResult(reference, {2: 37.60, 3: 33.70, 4: 31.40}).admitted  # a gain is not a loss
    assert GATE_DB == 0.05


def test_an_engine_that_loses_a_set_number_of_db_is_refused(
    tiny_checkpoint: Path, set5: list[tuple[str, np.ndarray]]
) -> None:
    gate = QualityGate(tiny_checkpoint, set5)
    same = gate.check("checker:0", CheckerEngine(tiny_checkpoint, 0))
    assert same.admitted and all(abs(loss) < 1e-6 for loss in same.losses.values())
    lossy = gate.check("checker:4", CheckerEngine(tiny_checkpoint, 4))
    assert not lossy.admitted
    assert all(loss > GATE_DB for loss in lossy.losses.values())
    assert set(lossy.losses) == {2, 3, 4}


def test_the_reference_is_pytorch_fp32_through_the_same_pipeline(
    tiny_checkpoint: Path, set5: list[tuple[str, np.ndarray]]
) -> None:
    engine = reference_engine(tiny_checkpoint)
    assert (engine.name, engine.precision, engine.device.type) == ("torch", "fp32", "cpu")
    gate = QualityGate(tiny_checkpoint, set5, scales=(2,))
    assert gate.reference() == pytest.approx(quality_gate.set5_psnr(tiny_checkpoint, engine, set5, (2,)), abs=1e-5)
    assert gate.check(REFERENCE_LABEL, engine).losses == {2: 0.0}


def test_scores_are_measured_once_and_again_when_the_runtime_or_the_model_changes(
    tmp_path: Path,
    set5: list[tuple[str, np.ndarray]],
    tiny_model: Callable[..., VDSR],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VDSR_CACHE_DIR", str(tmp_path / "cache"))
    checkpoint = save_checkpoint(tmp_path / "m.safetensors", tiny_model(seed=1), scales=[2])
    scored: list[str] = []
    real = quality_gate.set5_psnr

    def counting(checkpoint: Path, engine: object, *args: object) -> dict[int, float]:
        scored.append(type(engine).__name__)
        return real(checkpoint, engine, *args)

    monkeypatch.setattr(quality_gate, "set5_psnr", counting)

    def check() -> GateResult:
        return QualityGate(checkpoint, set5, scales=(2,)).check("checker:1", CheckerEngine(checkpoint, 1))

    first = check()
    assert scored == ["TorchEngine", "CheckerEngine"]
    assert check() == first and len(scored) == 2  # a new process reads both scores from the cache

    versions = {**quality_gate.runtime_versions(), "openvino": "2099.1"}
    monkeypatch.setattr(quality_gate, "runtime_versions", lambda: versions)
    check()
    assert len(scored) == 4  # a new runtime: reference and pair scored again

    save_checkpoint(checkpoint, tiny_model(seed=2), scales=[2])  # same path, new weights
    assert check() != first and len(scored) == 6


def test_set5_falls_back_to_the_three_images_shipped_with_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = set5_images(tmp_path)  # a data folder without Set5
    assert images is not None and [name for name, _ in images] == ["bird", "butterfly", "head"]
    assert all(image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8 for _, image in images)
    monkeypatch.setattr(shipped, "GATE_IMAGES", tmp_path / "missing")
    assert set5_images(tmp_path) is None  # then auto considers fp32 pairs only, and warns
