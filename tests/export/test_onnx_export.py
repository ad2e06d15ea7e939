"""ONNX export (engines.onnx_export, export/to_onnx.py): round trip at two sizes, BatchNorm folding, metadata,
one self-contained file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from engines.onnx_export import (
    ExportError,
    export_onnx,
    fold_batchnorm,
    reference_luma,
    to_onnx_model,
    verify_onnx,
)
from export.to_onnx import main as to_onnx_main
from vdsr.checkpoint import read_onnx_metadata, save_checkpoint
from vdsr.config import ModelConfig
from vdsr.models import VDSR


def run_onnx(path: Path, y: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: y})[0]


def run_torch(model: torch.nn.Module, y: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model(torch.from_numpy(y)).numpy()


def test_round_trip_at_two_sizes(tmp_path: Path, tiny_checkpoint: Path, tiny_model: Callable[..., VDSR]) -> None:
    report = export_onnx(tiny_checkpoint, tmp_path / "tiny.onnx")
    assert report.max_abs_diff <= 1e-4 and report.checked_on.startswith(("Set5/", "synthetic"))
    model = tiny_model()
    rng = np.random.default_rng(0)
    for shape in [(1, 1, 40, 52), (3, 1, 17, 29)]:
        y = rng.random(shape, dtype=np.float32)
        np.testing.assert_allclose(run_onnx(report.path, y), run_torch(model, y), rtol=0, atol=1e-4)


def test_graph_is_dynamic_self_contained_and_carries_metadata(tmp_path: Path, tiny_checkpoint: Path) -> None:
    out = export_onnx(tiny_checkpoint, tmp_path / "sub" / "m.onnx").path
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.onnx"]  # no external-data side file
    proto = onnx.load(str(out), load_external_data=False)
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 1, "height", "width"]
    assert "Cast" not in {n.op_type for n in proto.graph.node}  # no-op casts from .float() stripped
    meta = read_onnx_metadata(out)
    assert ModelConfig.from_json(meta["vdsr.config"]) == ModelConfig(arch="plain", repeats=2, channels=8)
    assert meta["vdsr.opset"] == "17" == str(proto.opset_import[0].version)
    assert json.loads(meta["vdsr.scales"]) == [2.0, 3.0, 4.0]
    assert meta["vdsr.input"] == "y" and meta["vdsr.dtype"] == "float32"


@pytest.mark.parametrize("arch", ["bn", "resbn"])
def test_batchnorm_is_folded(arch: str, tmp_path: Path, tiny_model: Callable[..., VDSR]) -> None:
    model = tiny_model(ModelConfig(arch=arch, repeats=2, channels=8))
    folded, count = fold_batchnorm(model)
    assert count == 2
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # input left alone
    y = np.random.default_rng(2).random((2, 1, 33, 27), dtype=np.float32)
    np.testing.assert_allclose(run_torch(folded, y), run_torch(model, y), rtol=0, atol=1e-5)
    path = export_onnx(model, tmp_path / f"{arch}.onnx").path
    proto = onnx.load(str(path))
    assert "BatchNormalization" not in {n.op_type for n in proto.graph.node}
    assert read_onnx_metadata(proto)["vdsr.bn_folded"] == "2"
    np.testing.assert_allclose(run_onnx(path, y), run_torch(model, y), rtol=0, atol=1e-4)


def test_nothing_is_written_when_verification_fails(tmp_path: Path, tiny_model: Callable[..., VDSR]) -> None:
    out = tmp_path / "bad.onnx"
    with pytest.raises(ExportError, match="not writing it"):
        export_onnx(tiny_model(), out, atol=-1.0)  # no difference can pass a negative tolerance
    assert not out.exists()
    proto, _ = to_onnx_model(tiny_model(seed=0))
    y, _ = reference_luma(32)
    with pytest.raises(ExportError, match="differs from PyTorch"):
        verify_onnx(proto, tiny_model(seed=5), y)  # a different model's weights


def test_reference_image_is_real_even_without_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VDSR_DATA_DIR", str(tmp_path))  # no Set5 there: the image the package ships
    y, what = reference_luma(64)
    assert y.shape[:2] == (1, 1) and max(y.shape[2:]) <= 64 and y.dtype == np.float32
    assert y.min() >= 0.0 and y.max() <= 1.0
    assert what == "Set5/butterfly 64x64 centre crop"


def test_to_onnx_script(tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.onnx"
    assert to_onnx_main(["--model", str(tiny_checkpoint), "--out", str(out)]) == 0
    assert out.is_file() and "wrote" in capsys.readouterr().out
    assert to_onnx_main(["--model", str(tmp_path / "missing.safetensors")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not found" in err


def test_checkpoint_metadata_survives(tmp_path: Path, tiny_model: Callable[..., VDSR]) -> None:
    checkpoint = save_checkpoint(tmp_path / "c.safetensors", tiny_model(), scales=[3])
    meta = read_onnx_metadata(export_onnx(checkpoint, tmp_path / "c.onnx").path)
    assert meta["vdsr.source"] == "c.safetensors" and json.loads(meta["vdsr.scales"]) == [3.0]
