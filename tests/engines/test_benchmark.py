"""The benchmark runs end to end on a tiny model (no timed assertions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from engines.benchmark import conv_weights, engine_rows, main, system_info
from engines.torch_ import TorchEngine
from vdsr.config import ModelConfig
from vdsr.cpu import machine_summary
from vdsr.models import build_model


def test_conv_weights_of_vdsr_20() -> None:
    assert conv_weights(build_model(ModelConfig())) == 664_704


def test_benchmark_writes_report_and_chart(
    tmp_path: Path, tiny_checkpoint: Path, data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--model",
            str(tiny_checkpoint),
            "--quick",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--scales",
            "2",
            "--out-dir",
            str(tmp_path),
            "--note",
            "tiny test model",
        ]
    )
    assert code == 0
    report = (tmp_path / "benchmarks.md").read_text()
    assert (tmp_path / "benchmarks.png").stat().st_size > 1000
    for name in ("torch", "onnxruntime", "openvino"):
        assert f"| {name} | fp32 |" in report or f"| {name} | bf16 |" in report
    assert "| torch | fp32 | tile 256x256 | 65,536 |" in report and "1.00x |" in report
    assert "+0.0000" in report  # torch vs itself
    assert "OpenVinoOptions(" in report and "CPUExecutionProvider" in report
    assert "480p" not in report  # --quick
    if importlib.util.find_spec("tensorrt") is None or not torch.cuda.is_available():
        assert "**tensorrt**: not available here:" in report
    assert "tiny test model" in capsys.readouterr().out


def test_baseline_is_torch_fp32_on_cpu_and_cuda_gets_its_own_row(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = dict(engine_rows(["openvino", "torch"]))
    baseline = rows["torch"](tiny_checkpoint)
    assert (baseline.device.type, baseline.precision) == ("cpu", "fp32")
    assert "torch-cuda" in rows or not torch.cuda.is_available()
    monkeypatch.setattr(TorchEngine, "uses_gpu", classmethod(lambda c: True))
    assert [label for label, _ in engine_rows(["openvino", "torch"])] == ["openvino", "torch", "torch-cuda"]


def test_report_names_the_gpu_or_says_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert torch.cuda.is_available() or system_info()["gpu"] == "none"

    class H200:
        name, total_memory = "NVIDIA H200", 140 * 2**30

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: H200)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    assert system_info()["gpu"] == "NVIDIA H200, 140 GiB, CUDA 13.0"
    assert machine_summary().endswith(", GPU NVIDIA H200, 140 GiB, CUDA 13.0")
