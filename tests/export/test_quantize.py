"""Int8 QDQ quantisation: which layers stay fp32, metadata, engines run it, and the quality gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

import export.quantize
from benchmarks.measure import engine_rows
from engines import ENGINES
from engines.calibration import calibration_patches, shipped_patches
from engines.int8_qdq import Int8Recipe, fp32_nodes, int8_for, quantize_qdq
from engines.onnx_cache import onnx_for
from engines.onnxruntime_ import OnnxRuntimeEngine
from engines.quality_gate import reference_engine, set5_psnr
from engines.shipped import set5_images
from export.quantize import build_int8
from export.to_int8 import main as to_int8_main
from vdsr.checkpoint import read_model_config, read_onnx_metadata
from vdsr.cli import main as cli_main
from vdsr.imageio import read_image, write_image


def quantized_convs(proto: onnx.ModelProto) -> set[str]:
    """Conv nodes whose weight comes through a DequantizeLinear (int8 weights)."""
    dequantized = {out for n in proto.graph.node if n.op_type == "DequantizeLinear" for out in n.output}
    return {n.name for n in proto.graph.node if n.op_type == "Conv" and n.input[1] in dequantized}


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoint: Path, small_data: Path) -> Path:
    patches = calibration_patches(small_data / "T91", count=4, size=48)
    assert [p.shape for p in patches] == [(1, 1, 48, 48)] * 4
    out = tmp_path_factory.mktemp("int8") / "tiny-int8.onnx"
    return quantize_qdq(onnx_for(tiny_checkpoint, "test"), out, patches, keep_first=1)


def test_calibration_patches_are_real_network_inputs_drawn_deterministically(small_data: Path) -> None:
    patches = calibration_patches(small_data / "T91", count=6, size=32, seed=3)
    again = calibration_patches(small_data / "T91", count=6, size=32, seed=3)
    other = calibration_patches(small_data / "T91", count=6, size=32, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(patches, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(patches, other, strict=True))
    for patch in patches:
        assert patch.shape == (1, 1, 32, 32) and patch.dtype == np.float32 and patch.flags.c_contiguous
        assert patch.min() > -0.1 and patch.max() < 1.1 and patch.std() > 0  # luma (bicubic overshoots a little)
    with pytest.raises(ValueError, match="large enough"):
        calibration_patches(small_data / "T91", count=1, size=4096)


def test_calibration_takes_the_same_degradation_spec(small_data: Path) -> None:
    clean = calibration_patches(small_data / "T91", count=4, size=32, seed=3)
    damaged = calibration_patches(small_data / "T91", count=4, size=32, seed=3, degradation="jpeg:20")
    for a, b in zip(clean, damaged, strict=True):  # the same crops, of a JPEG-damaged input
        assert not np.array_equal(a, b) and np.abs(a - b).mean() < 0.05


def test_first_last_conv_and_residual_add_stay_fp32(int8_model: Path, tiny_checkpoint: Path) -> None:
    fp32 = onnx.load(str(onnx_for(tiny_checkpoint, "test")))
    convs = [n.name for n in fp32.graph.node if n.op_type == "Conv"]
    kept = fp32_nodes(fp32, keep_first=1)
    assert kept[:2] == [convs[0], convs[-1]] and any("Add" in name for name in kept)
    proto = onnx.load(str(int8_model))
    assert quantized_convs(proto) == set(convs[1:-1])
    meta = read_onnx_metadata(proto)
    assert meta["vdsr.dtype"] == "int8-qdq" and json.loads(meta["vdsr.int8"])["keep_fp32"] == kept
    assert read_model_config(int8_model) == read_model_config(tiny_checkpoint)


@pytest.mark.parametrize("name", ["onnxruntime", "openvino"])
def test_engines_run_the_int8_model_close_to_fp32(
    name: str, int8_model: Path, tiny_checkpoint: Path, small_data: Path
) -> None:
    y = calibration_patches(small_data / "T91", count=1, size=48, seed=7)[0]  # real luma, like the calibration
    got, want = ENGINES.get(name)(int8_model)(y), ENGINES.get(name)(tiny_checkpoint)(y)
    assert got.shape == y.shape
    assert 0 < np.abs(got - want).max() < 0.05  # quantised (not identical), yet close


def test_gate_writes_only_within_tolerance(tmp_path: Path, tiny_checkpoint: Path, small_data: Path) -> None:
    out = tmp_path / "kept.onnx"
    report = build_int8(
        tiny_checkpoint, out, small_data, engine="onnxruntime", tolerance=100.0, keep_first=1, patches=4, scales=[2]
    )
    assert report.accepted and report.path == out and out.is_file()
    assert set(json.loads(read_onnx_metadata(out)["vdsr.int8_set5"])) == {"2"}
    assert read_onnx_metadata(out)["vdsr.int8_reference"] == "torch fp32"
    assert "| x2 |" in report.table() and "kept" in report.table() and "torch fp32 PSNR" in report.table()

    refused = tmp_path / "refused.onnx"
    assert (
        to_int8_main(
            [
                "--model",
                str(tiny_checkpoint),
                "--out",
                str(refused),
                "--data-dir",
                str(small_data),
                "--engine",
                "onnxruntime",
                "--tolerance",
                "-1",
                "--patches",
                "4",
                "--keep-first",
                "1",
            ]
        )
        == 1
    )
    assert not refused.exists()


def test_cli_upscales_with_an_onnx_model(int8_model: Path, tmp_path: Path, rgb_image: np.ndarray) -> None:
    src, out = tmp_path / "in.png", tmp_path / "up.png"
    write_image(src, rgb_image)
    assert (
        cli_main(["upscale", str(src), str(out), "--scale", "2", "--model", str(int8_model), "--engine", "onnxruntime"])
        == 0
    )
    assert read_image(out).shape == (rgb_image.shape[0] * 2, rgb_image.shape[1] * 2, 3)


def test_non_vdsr_onnx_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.onnx"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable ONNX file"):
        read_model_config(bogus)


def test_engines_report_int8_and_the_benchmark_runs_it(int8_model: Path, tiny_checkpoint: Path) -> None:
    rows = {row.label: row for row in engine_rows(tiny_checkpoint, ["torch", "openvino", "onnxruntime"], int8_model)}
    assert {"openvino-int8", "onnxruntime-int8"} <= set(rows) and "torch-int8" not in rows
    for label in ("openvino-int8", "onnxruntime-int8"):
        engine = rows[label].build(tiny_checkpoint)
        assert engine.precision == "int8" and engine.path == int8_model
    assert ENGINES.get("onnxruntime")(tiny_checkpoint).precision == "fp32"


class CheckerOnnxRuntime(OnnxRuntimeEngine):
    """ONNX Runtime with a +-4/255 checkerboard on every output: fp32 and int8 through it lose alike."""

    def __call__(self, y: np.ndarray) -> np.ndarray:
        rows, cols = np.indices(y.shape[-2:])
        return super().__call__(y) + np.float32(4 / 255) * np.where((rows + cols) % 2, 1, -1).astype(np.float32)


def test_the_int8_gate_compares_with_torch_fp32_not_with_its_own_engine(
    tmp_path: Path, tiny_checkpoint: Path, small_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine that degrades fp32 and int8 alike (as OpenVINO's bf16 did on both sides) fools a same-engine
    comparison, never the gate: the reference is PyTorch fp32 through the same pipeline."""

    class Registry:
        @staticmethod
        def get(name: str) -> type:
            return CheckerOnnxRuntime

    monkeypatch.setattr(export.quantize, "ENGINES", Registry)
    out = tmp_path / "int8.onnx"
    # keep_first=3 leaves all four convolutions of the tiny model in fp32: int8 and fp32 run the same numbers
    report = build_int8(tiny_checkpoint, out, small_data, engine="checker", keep_first=3, patches=4, scales=[2])
    images = set5_images(small_data)
    torch_fp32 = set5_psnr(tiny_checkpoint, reference_engine(tiny_checkpoint), images, [2])
    same_engine_fp32 = set5_psnr(tiny_checkpoint, CheckerOnnxRuntime(onnx_for(tiny_checkpoint, "test")), images, [2])
    assert report.gate.reference == pytest.approx(torch_fp32, abs=1e-4)
    assert report.gate.candidate == pytest.approx(same_engine_fp32, abs=1e-4)  # no loss against its own engine
    assert report.gate.losses[2] > 0.1 and not report.accepted and report.path is None and not out.exists()


def test_the_shipped_calibration_patches_are_t91s(data_root: Path) -> None:
    """Where there is no data folder, ``auto`` calibrates int8 on patches shipped with the package: T91's own."""
    recipe = Int8Recipe()
    shipped = shipped_patches(recipe.patches, recipe.size, recipe.seed)
    computed = calibration_patches(data_root / "T91", count=recipe.patches, size=recipe.size, seed=recipe.seed)
    assert shipped is not None and len(shipped) == len(computed) == 64
    for a, b in zip(shipped, computed, strict=True):
        assert a.shape == b.shape == (1, 1, 96, 96) and a.dtype == np.float32 and np.array_equal(a, b)
    assert shipped_patches(recipe.patches, recipe.size, seed=1) is None  # another recipe computes its own


def test_auto_builds_the_int8_model_once_even_without_a_data_folder(tiny_checkpoint: Path, tmp_path: Path) -> None:
    first = int8_for(tiny_checkpoint, data_root=tmp_path / "no-data")  # the default recipe: shipped patches
    stamp = first.stat().st_mtime_ns
    assert int8_for(tiny_checkpoint, data_root=tmp_path / "no-data") == first and first.stat().st_mtime_ns == stamp
    assert read_onnx_metadata(first)["vdsr.dtype"] == "int8-qdq" and int8_for(first) == first
