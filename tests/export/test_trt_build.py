"""The parts of the TensorRT path (engines.trt_* and export/to_trt.py) that need no GPU: shapes, fp16 ONNX,
sidecar, the build flow against a stand-in TensorRT, and the script's exit."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto

import engines.trt_build as trt_build
from engines.contract import EngineMismatchError
from engines.onnx_export import export_onnx
from engines.onnx_fp16 import convert_to_fp16
from engines.trt_profile import DEFAULT_PROFILE, ShapeProfile, parse_shape
from engines.trt_runtime import TensorRTUnavailableError, require_tensorrt, uses_strong_typing
from engines.trt_sidecar import read_sidecar, sidecar_path, write_sidecar
from export.to_trt import main as to_trt_main
from vdsr.checkpoint import read_onnx_metadata
from vdsr.config import ModelConfig
from vdsr.engine import EngineUnavailableError
from vdsr.models import VDSR

REPO = Path(__file__).resolve().parents[2]
TRT_RUNS_HERE = importlib.util.find_spec("tensorrt") is not None and torch.cuda.is_available()


def test_parse_shape() -> None:
    assert parse_shape("1x1x552x552") == (1, 1, 552, 552)
    assert parse_shape(" 2,1,64,96 ") == (2, 1, 64, 96)
    for bad in ["1x1x64", "1x1x0x64", "axbxcxd", ""]:
        with pytest.raises(ValueError, match="NxCxHxW"):
            parse_shape(bad)


def test_shape_profile_validation() -> None:
    profile = ShapeProfile.parse("1x1x32x32", "1x1x256x256", "2x1x512x512")
    assert profile.as_dict()["opt"] == [1, 1, 256, 256]
    assert profile.tag() == "1x1x32x32-1x1x256x256-2x1x512x512"
    with pytest.raises(ValueError, match="min <= opt <= max"):
        ShapeProfile.parse("1x1x64x64", "1x1x32x32", "1x1x128x128")
    with pytest.raises(ValueError, match="1 channel"):
        ShapeProfile.parse("1x3x32x32", "1x3x64x64", "1x3x128x128")
    assert DEFAULT_PROFILE.opt == (1, 1, 552, 552)


@pytest.mark.parametrize("arch", ["plain", "resbn"])
def test_fp16_conversion_keeps_head_residual_and_io_in_fp32(
    arch: str, tmp_path: Path, tiny_model: Callable[..., VDSR]
) -> None:
    model = tiny_model(ModelConfig(arch=arch, repeats=2, channels=8))
    fp32 = onnx.load(str(export_onnx(model, tmp_path / "m.onnx").path))
    half = convert_to_fp16(fp32)
    graph = half.graph
    weights = {t.name: t.data_type for t in graph.initializer}
    assert weights["head.weight"] == TensorProto.FLOAT
    assert weights["tail.weight"] == TensorProto.FLOAT16
    assert sum(dt == TensorProto.FLOAT16 for dt in weights.values()) == len(weights) - 1
    assert graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert [n.op_type for n in graph.node].count("Cast") == 2  # into fp16 after the head, back before the add
    final = graph.node[-1]
    assert final.op_type == "Add" and "y" in final.input  # the global residual reads the fp32 input
    assert read_onnx_metadata(half)["vdsr.dtype"].startswith("float16")
    assert fp32.graph.initializer[0].data_type == TensorProto.FLOAT  # input model untouched
    y = np.random.default_rng(0).random((1, 1, 24, 20), dtype=np.float32)
    session = ort.InferenceSession(half.SerializeToString(), providers=["CPUExecutionProvider"])
    with torch.inference_mode():
        want = model(torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(session.run(None, {"y": y})[0], want, rtol=0, atol=1e-2)


def test_fp16_conversion_rejects_unknown_ops() -> None:
    node = onnx.helper.make_node("Resize", ["y", "", "s"], ["out"])
    graph = onnx.helper.make_graph(
        [node],
        "g",
        [onnx.helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])],
        [onnx.helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        [onnx.helper.make_tensor("s", TensorProto.FLOAT, [4], [1, 1, 2, 2])],
    )
    with pytest.raises(ValueError, match="Resize"):
        convert_to_fp16(onnx.helper.make_model(graph))


def test_sidecar_round_trip(tmp_path: Path, tiny_checkpoint: Path) -> None:
    onnx_path = export_onnx(tiny_checkpoint, tmp_path / "m.onnx").path
    engine = tmp_path / "m.engine"
    gpu = {"name": "NVIDIA H100", "compute_capability": "9.0", "memory_gib": 79.6, "cuda": "12.8"}
    path = write_sidecar(
        engine,
        tensorrt_version="10.13.0",
        gpu=gpu,
        profile=DEFAULT_PROFILE,
        precision="fp16",
        strongly_typed=False,
        onnx_path=onnx_path,
        input_name="y",
        output_name="out",
    )
    assert path == sidecar_path(engine) == tmp_path / "m.engine.json"
    data = read_sidecar(engine)
    assert data is not None and data == json.loads(path.read_text())
    assert data["tensorrt"] == "10.13.0" and data["gpu"] == gpu and data["precision"] == "fp16"
    assert data["profile"] == {"min": [1, 1, 32, 32], "opt": [1, 1, 552, 552], "max": [4, 1, 1088, 1920]}
    assert json.loads(data["model"]["config"])["repeats"] == 2 and data["input"] == "y"
    assert read_sidecar(tmp_path / "other.engine") is None
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not a VDSR TensorRT sidecar"):
        read_sidecar(engine)


def test_strong_typing_follows_the_fp16_flag() -> None:
    trt10 = SimpleNamespace(BuilderFlag=SimpleNamespace(FP16=0, TF32=1))
    trt11 = SimpleNamespace(BuilderFlag=SimpleNamespace(TF32=1))
    assert not uses_strong_typing(trt10)  # type: ignore[arg-type]
    assert uses_strong_typing(trt11)  # type: ignore[arg-type]


@pytest.mark.skipif(TRT_RUNS_HERE, reason="TensorRT and a GPU are present")
def test_require_tensorrt_says_what_is_missing() -> None:
    with pytest.raises(TensorRTUnavailableError) as info:
        require_tensorrt()
    assert isinstance(info.value, EngineUnavailableError) and "\n" not in str(info.value)


@pytest.mark.skipif(TRT_RUNS_HERE, reason="TensorRT and a GPU are present")
def test_to_trt_exits_nonzero_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "export/to_trt.py", "--onnx", str(tmp_path / "m.onnx"), "--out", str(tmp_path / "m.engine")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TensorRT" in lines[0] and "GPU" in lines[0]
    assert not (tmp_path / "m.engine").exists()


def test_to_trt_rejects_bad_shapes_before_looking_for_tensorrt(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        to_trt_main(["--min-shape", "1x1x64x64", "--opt-shape", "1x1x32x32"])
    assert info.value.code == 2 and "min <= opt <= max" in capsys.readouterr().err


@pytest.mark.gpu
@pytest.mark.skipif(not TRT_RUNS_HERE, reason="needs tensorrt and a CUDA GPU")
def test_build_and_run_engine(tmp_path: Path, tiny_checkpoint: Path, tiny_model: Callable[..., VDSR]) -> None:
    from engines.tensorrt_ import TensorRTEngine

    onnx_path = export_onnx(tiny_checkpoint, tmp_path / "m.onnx").path
    profile = ShapeProfile.parse("1x1x16x16", "1x1x64x64", "2x1x128x128")
    result = trt_build.build_engine(onnx_path, tmp_path / "m.engine", profile, timing_cache=tmp_path / "timing.cache")
    assert result.engine.is_file() and result.sidecar.is_file() and (tmp_path / "timing.cache").is_file()
    engine = TensorRTEngine(result.engine)
    y = np.random.default_rng(0).random((2, 1, 40, 56), dtype=np.float32)
    with torch.inference_mode():
        want = tiny_model()(torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(engine(y), want, rtol=0, atol=1e-2)
    with pytest.raises(EngineMismatchError, match="profile"):
        engine(np.zeros((1, 1, 256, 256), np.float32))


# --------------------------------------------------------------------------- build flow with a fake TensorRT
# The real builder needs a GPU; this checks which path build_engine takes on TensorRT 10
# (FP16 flag, fp32 ONNX) and 11 (no flag: fp16 ONNX, strongly typed) against a stand-in.


class _Recorder:
    def __init__(self) -> None:
        self.flags: list[object] = []
        self.network_flags: int | None = None
        self.parsed: Path | None = None
        self.profile: tuple[object, ...] | None = None


def _fake_tensorrt(version: str, *, weak_typing: bool, rec: _Recorder) -> SimpleNamespace:
    class Logger:
        WARNING = 2

        def __init__(self, severity: int) -> None:
            pass

    class Network:
        def get_input(self, i: int) -> SimpleNamespace:
            return SimpleNamespace(name="y")

        def get_output(self, i: int) -> SimpleNamespace:
            return SimpleNamespace(name="out")

    class Cache:
        def serialize(self) -> bytes:
            return b"timing"

    class Config:
        def set_memory_pool_limit(self, pool: object, size: int) -> None:
            assert size > 0

        def set_flag(self, flag: object) -> None:
            rec.flags.append(flag)

        def add_optimization_profile(self, profile: object) -> None:
            pass

        def create_timing_cache(self, data: bytes) -> Cache:
            return Cache()

        def set_timing_cache(self, cache: Cache, ignore_mismatch: bool) -> None:
            pass

        def get_timing_cache(self) -> Cache:
            return Cache()

    class Profile:
        def set_shape(self, name: str, lo: object, opt: object, hi: object) -> None:
            rec.profile = (name, lo, opt, hi)

    class Builder:
        def __init__(self, logger: object) -> None:
            pass

        def create_network(self, flags: int) -> Network:
            rec.network_flags = flags
            return Network()

        def create_builder_config(self) -> Config:
            return Config()

        def create_optimization_profile(self) -> Profile:
            return Profile()

        def build_serialized_network(self, network: Network, config: Config) -> bytes:
            return b"serialized engine"

    class OnnxParser:
        num_errors = 0

        def __init__(self, network: Network, logger: object) -> None:
            pass

        def parse(self, data: bytes, path: str) -> bool:
            rec.parsed = Path(path)
            return onnx.load_from_string(data) is not None

    flags = SimpleNamespace(FP16="FP16", TF32="TF32") if weak_typing else SimpleNamespace(TF32="TF32")
    return SimpleNamespace(
        __version__=version,
        Logger=Logger,
        BuilderFlag=flags,
        NetworkDefinitionCreationFlag=SimpleNamespace(STRONGLY_TYPED=1),
        MemoryPoolType=SimpleNamespace(WORKSPACE="workspace"),
        Builder=Builder,
        OnnxParser=OnnxParser,
    )


@pytest.mark.parametrize(("version", "weak_typing"), [("10.13.0", True), ("11.4.0", False)])
def test_build_flow_for_tensorrt_10_and_11(
    version: str, weak_typing: bool, tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = _Recorder()
    fake = _fake_tensorrt(version, weak_typing=weak_typing, rec=rec)
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)
    monkeypatch.setattr(trt_build, "gpu_description", lambda device_id=0: {"name": "Fake GPU"})
    onnx_path = export_onnx(tiny_checkpoint, tmp_path / "m.onnx").path
    profile = ShapeProfile.parse("1x1x16x16", "1x1x64x64", "2x1x128x128")
    result = trt_build.build_engine(onnx_path, tmp_path / "m.engine", profile, timing_cache=tmp_path / "t.cache")
    assert result.engine.read_bytes() == b"serialized engine"
    assert (tmp_path / "t.cache").read_bytes() == b"timing"
    assert rec.profile == ("y", profile.min, profile.opt, profile.max)
    sidecar = read_sidecar(result.engine)
    assert sidecar is not None and sidecar["tensorrt"] == version and sidecar["precision"] == "fp16"
    assert sidecar["gpu"] == {"name": "Fake GPU"} and sidecar["strongly_typed"] is (not weak_typing)
    if weak_typing:  # TensorRT 10: fp32 ONNX + FP16 flag
        assert rec.flags == ["FP16"] and rec.network_flags == 0 and rec.parsed == onnx_path
    else:  # TensorRT 11: no precision flag; the parsed ONNX is the fp16 conversion
        assert rec.flags == [] and rec.network_flags == 1 << 1 and rec.parsed == result.onnx != onnx_path
        weights = {t.name: t.data_type for t in onnx.load(str(rec.parsed)).graph.initializer}
        assert weights["tail.weight"] == TensorProto.FLOAT16 and weights["head.weight"] == TensorProto.FLOAT


def test_to_trt_script_with_a_stand_in_tensorrt(
    tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", _fake_tensorrt("10.13.0", weak_typing=True, rec=_Recorder()))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)
    monkeypatch.setattr(trt_build, "gpu_description", lambda device_id=0: {"name": "Fake GPU"})
    onnx_path = export_onnx(tiny_checkpoint, tmp_path / "m.onnx").path
    assert to_trt_main(["--onnx", str(onnx_path), "--opt-shape", "1x1x128x128", "--max-shape", "1x1x256x256"]) == 0
    assert (tmp_path / "m.engine").is_file() and (tmp_path / "m.engine.json").is_file()
    assert (tmp_path / "timing.cache").is_file() and "FP16 builder flag" in capsys.readouterr().out
    assert to_trt_main(["--onnx", str(tmp_path / "missing.onnx")]) == 1
    assert "ONNX file not found" in capsys.readouterr().err
