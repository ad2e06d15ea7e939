"""Every backend against PyTorch fp32, and the clear errors the backends promise."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from engines import ENGINES, PREFERENCE, auto_order, create_engine
from engines._onnx_cache import EngineFileError, EngineMismatchError, onnx_for
from engines.onnxruntime_ import OnnxRuntimeEngine
from engines.openvino_ import OpenVinoEngine, OpenVinoOptions
from engines.tensorrt_ import TensorRTEngine
from engines.torch_ import TorchEngine, TorchOptions
from vdsr.checkpoint import save_checkpoint
from vdsr.engine import Engine, EngineUnavailableError
from vdsr.models import VDSR
from vdsr.pipeline import Upscaler

# Max abs difference from PyTorch fp32 that each precision may show on luma in [0, 1].
TOLERANCE = {"fp32": 1e-4, "bf16": 3e-2, "fp16": 1e-2}
ONNX_ENGINES = ["onnxruntime", "openvino"]  # take an .onnx file and run on this CPU


def build_or_skip(name: str, model: Path) -> Engine:
    try:
        return ENGINES.get(name)(model)
    except EngineUnavailableError as exc:
        pytest.skip(f"{name} cannot run here: {exc}")


def reference(checkpoint_model: torch.nn.Module, y: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return checkpoint_model(torch.from_numpy(y)).numpy()


@pytest.mark.parametrize("name", ENGINES.names())
def test_engine_matches_torch_fp32(name: str, tiny_checkpoint: Path, tiny_model: Callable[..., VDSR]) -> None:
    engine = build_or_skip(name, tiny_checkpoint)
    assert isinstance(engine, Engine)
    precision = getattr(engine, "precision", "fp32")
    model = tiny_model()
    rng = np.random.default_rng(1)
    for shape in [(1, 1, 37, 45), (2, 1, 24, 64)]:  # dynamic batch, height and width
        y = rng.random(shape, dtype=np.float32)
        out = engine(y)
        assert out.shape == shape and out.dtype == np.float32
        np.testing.assert_allclose(out, reference(model, y), rtol=0, atol=TOLERANCE[precision])
    engine.close()


@pytest.mark.parametrize("name", ONNX_ENGINES)
def test_engine_runs_in_upscaler(name: str, tiny_checkpoint: Path, rgb_like: np.ndarray) -> None:
    engine = build_or_skip(name, tiny_checkpoint)
    ours = Upscaler(engine, receptive_radius=4).upscale(rgb_like, 2)
    torch_ = Upscaler(ENGINES.get("torch")(tiny_checkpoint), receptive_radius=4).upscale(rgb_like, 2)
    assert np.abs(ours.astype(int) - torch_.astype(int)).max() <= 1


@pytest.fixture()
def rgb_like() -> np.ndarray:
    return (np.random.default_rng(0).random((21, 30, 3)) * 255).astype(np.uint8)


@pytest.mark.parametrize("name", ENGINES.names())
def test_missing_model_file_is_one_clear_line(name: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises((EngineUnavailableError, ValueError)) as info:
        ENGINES.get(name)(missing)
    message = str(info.value)
    assert "\n" not in message
    if isinstance(info.value, ValueError):
        assert "nope.onnx" in message and "not found" in message


@pytest.mark.parametrize("name", ONNX_ENGINES)
def test_wrong_kind_of_file(name: str, tmp_path: Path) -> None:
    junk = tmp_path / "weights.bin"
    junk.write_bytes(b"not a model")
    with pytest.raises(EngineFileError, match="expected .onnx"):
        ENGINES.get(name)(junk)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a model")
    with pytest.raises(EngineFileError, match=f"{name}: cannot load corrupt.onnx") as info:
        ENGINES.get(name)(corrupt)
    assert "\n" not in str(info.value)


def _conv_model(
    path: Path,
    *,
    channels: int = 1,
    input_name: str = "y",
    static: bool = False,
    inputs: int = 1,
    meta_input: str | None = None,
) -> Path:
    """A one-conv ONNX model with the given input shape and names."""
    dims: list[int | str] = [1, channels, 16, 16] if static else ["n", channels, "h", "w"]
    out_dims: list[int | str] = [1, 1, 16, 16] if static else ["n", 1, "h", "w"]
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1, channels, 3, 3], np.full(9 * channels, 0.1).tolist())
    graph_inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, dims)]
    nodes = [helper.make_node("Conv", [input_name, "w"], ["conv"], pads=[1, 1, 1, 1])]
    last = "conv"
    for i in range(1, inputs):
        graph_inputs.append(helper.make_tensor_value_info(f"extra{i}", TensorProto.FLOAT, out_dims))
        nodes.append(helper.make_node("Add", [last, f"extra{i}"], [f"sum{i}"]))
        last = f"sum{i}"
    nodes.append(helper.make_node("Identity", [last], ["out"]))
    graph = helper.make_graph(
        nodes, "g", graph_inputs, [helper.make_tensor_value_info("out", TensorProto.FLOAT, out_dims)], [weight]
    )
    # IR 8, as the exports write: onnx 1.23's default (14) is refused by onnxruntime 1.30
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    if meta_input is not None:
        helper.set_model_props(model, {"vdsr.input": meta_input})
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("name", ONNX_ENGINES)
def test_mismatched_model_is_rejected(name: str, tmp_path: Path) -> None:
    cls = ENGINES.get(name)
    with pytest.raises(EngineMismatchError, match=r"expected \(N, 1, H, W\)"):
        cls(_conv_model(tmp_path / "rgb.onnx", channels=3))
    with pytest.raises(EngineMismatchError, match="exactly one"):
        cls(_conv_model(tmp_path / "two.onnx", inputs=2))
    with pytest.raises(EngineMismatchError, match="metadata says 'y'"):
        cls(_conv_model(tmp_path / "renamed.onnx", input_name="input", meta_input="y"))


@pytest.mark.parametrize("name", ONNX_ENGINES)
def test_mismatched_input_is_rejected(name: str, tmp_path: Path) -> None:
    engine = ENGINES.get(name)(_conv_model(tmp_path / "static.onnx", static=True))
    assert engine(np.zeros((1, 1, 16, 16), np.float32)).shape == (1, 1, 16, 16)
    with pytest.raises(EngineMismatchError, match="fixed shape"):
        engine(np.zeros((1, 1, 20, 16), np.float32))
    with pytest.raises(EngineMismatchError, match=r"expected \(N, 1, H, W\)"):
        engine(np.zeros((1, 3, 16, 16), np.float32))
    assert isinstance(EngineMismatchError("x"), ValueError)


@pytest.mark.skipif(
    importlib.util.find_spec("tensorrt") is not None and torch.cuda.is_available(), reason="TensorRT can run here"
)
def test_tensorrt_unavailable_is_clear_and_auto_skips_it(tmp_path: Path, tiny_model: Callable[..., VDSR]) -> None:
    checkpoint = save_checkpoint(tmp_path / "auto.safetensors", tiny_model(seed=3), scales=[2])
    with pytest.raises(EngineUnavailableError) as info:
        TensorRTEngine(checkpoint)
    assert "\n" not in str(info.value) and "tensorrt" in str(info.value).lower()
    engine = create_engine("auto", checkpoint)  # walks PREFERENCE past tensorrt
    assert engine.name != "tensorrt"


def test_auto_puts_gpu_backends_first(monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in PREFERENCE:  # this machine as it is: a CPU-only box keeps the measured CPU order
        monkeypatch.setattr(cls, "uses_gpu", classmethod(lambda c: False))
    assert auto_order() == list(PREFERENCE)
    # A GPU box with CUDA PyTorch but neither TensorRT nor onnxruntime-gpu: PyTorch on CUDA
    # must come before OpenVINO on the CPU.
    monkeypatch.setattr(TorchEngine, "uses_gpu", classmethod(lambda c: True))
    order = auto_order()
    assert order[0] is TorchEngine and order[1:] == [c for c in PREFERENCE if c is not TorchEngine]


def test_torch_defaults_follow_the_device(tiny_checkpoint: Path) -> None:
    engine = TorchEngine(tiny_checkpoint)
    if torch.cuda.is_available():
        assert (engine.device.type, engine.precision) == ("cuda", "fp16")
    else:
        assert (engine.device.type, engine.precision) == ("cpu", "fp32")
    assert TorchEngine.uses_gpu() == torch.cuda.is_available()
    with pytest.raises(ValueError, match="precision"):
        TorchEngine(tiny_checkpoint, TorchOptions(precision="int4"))


def test_onnx_cache_is_keyed_by_checkpoint_contents(
    tmp_path: Path, private_cache: Path, tiny_model: Callable[..., VDSR]
) -> None:
    first = save_checkpoint(tmp_path / "a.safetensors", tiny_model(seed=1), scales=[2])
    path = onnx_for(first, "test")
    assert path.is_file() and path.is_relative_to(private_cache) and path.suffix == ".onnx"
    stamp = path.stat().st_mtime_ns
    assert onnx_for(first, "test") == path and path.stat().st_mtime_ns == stamp  # reused, not re-exported
    save_checkpoint(first, tiny_model(seed=2), scales=[2])  # same file name, new weights
    assert onnx_for(first, "test") != path


def test_onnxruntime_reports_providers_and_rejects_missing_ones(tiny_checkpoint: Path) -> None:
    engine = OnnxRuntimeEngine(tiny_checkpoint)
    assert engine.providers[-1] == "CPUExecutionProvider" and engine.precision == "fp32"
    from engines.onnxruntime_ import OnnxRuntimeOptions

    with pytest.raises(EngineUnavailableError, match="NoSuchExecutionProvider"):
        OnnxRuntimeEngine(tiny_checkpoint, OnnxRuntimeOptions(providers=("NoSuchExecutionProvider",)))


def test_openvino_precision_is_fp32_without_native_bf16(tiny_checkpoint: Path) -> None:
    from vdsr.cpu import cpu_has_native_bf16

    engine = OpenVinoEngine(tiny_checkpoint)
    if cpu_has_native_bf16() is not None:
        assert engine.precision == ("bf16" if cpu_has_native_bf16() else "fp32")
    assert OpenVinoEngine(tiny_checkpoint, OpenVinoOptions(precision="f32")).precision == "fp32"
    with pytest.raises(ValueError, match="precision"):
        OpenVinoEngine(tiny_checkpoint, OpenVinoOptions(precision="fp64"))
