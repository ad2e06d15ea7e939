"""Every backend against PyTorch fp32, and the clear errors the backends promise."""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from engines import ENGINES, PREFERENCE, create_engine, gpu_backends
from engines.contract import EngineFileError, EngineMismatchError
from engines.onnx_cache import onnx_for
from engines.onnxruntime_ import OnnxRuntimeEngine
from engines.openvino_ import OpenVinoEngine
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


def test_cpu_runtimes_take_their_thread_count_from_omp_num_threads(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One variable shares the cores for every backend (the video workers set it per process)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    ort_engine = build_or_skip("onnxruntime", tiny_checkpoint)
    assert isinstance(ort_engine, OnnxRuntimeEngine)
    assert ort_engine.session.get_session_options().intra_op_num_threads == 1
    ov_engine = build_or_skip("openvino", tiny_checkpoint)
    assert isinstance(ov_engine, OpenVinoEngine)
    assert int(ov_engine.compiled.get_property("INFERENCE_NUM_THREADS")) == 1
    assert ov_engine.compiled.get_property("ENABLE_CPU_PINNING") is False  # workers must not share one core


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


def test_openvino_reads_the_metadata_an_ir_kept(tmp_path: Path) -> None:
    """An OpenVINO IR has no ONNX file to read; the ONNX metadata it kept in its rt_info still counts."""
    ov = pytest.importorskip("openvino", reason="the IR is written by OpenVINO itself")
    core = ov.Core()

    def to_ir(onnx_path: Path) -> Path:
        ir = onnx_path.with_suffix(".xml")
        ov.save_model(core.read_model(str(onnx_path)), str(ir))
        return ir

    with pytest.raises(EngineMismatchError, match="metadata says 'y'"):
        OpenVinoEngine(to_ir(_conv_model(tmp_path / "renamed.onnx", input_name="input", meta_input="y")))
    labelled = onnx.load(str(_conv_model(tmp_path / "int8.onnx")))
    helper.set_model_props(labelled, {"vdsr.input": "y", "vdsr.dtype": "int8-qdq"})
    onnx.save(labelled, str(tmp_path / "int8.onnx"))
    engine = OpenVinoEngine(to_ir(tmp_path / "int8.onnx"))
    assert engine.path.suffix == ".xml" and engine.input_name == "y" and engine.precision == "int8"


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
def test_tensorrt_unavailable_is_clear_and_auto_skips_it(
    tmp_path: Path, tiny_model: Callable[..., VDSR], small_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VDSR_DATA_DIR", str(small_data))  # the quality gate scores pairs on this small Set5
    checkpoint = save_checkpoint(tmp_path / "auto.safetensors", tiny_model(seed=3), scales=[2])
    with pytest.raises(EngineUnavailableError) as info:
        TensorRTEngine(checkpoint)
    assert "\n" not in str(info.value) and "tensorrt" in str(info.value).lower()
    engine = create_engine("auto", checkpoint)  # walks PREFERENCE past tensorrt
    assert engine.name != "tensorrt"


class _SignalStack(ctypes.Structure):
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


def _signal_stack() -> tuple[int | None, int, int]:
    stack = _SignalStack()
    assert ctypes.CDLL(None).sigaltstack(None, ctypes.byref(stack)) == 0
    return stack.ss_sp, stack.ss_flags, stack.ss_size


@pytest.mark.skipif(sys.platform == "win32", reason="sigaltstack is POSIX")
def test_openvino_engines_freed_out_of_order_leave_the_signal_stack_alone(tiny_checkpoint: Path) -> None:
    """OpenVINO 2026.4 alone leaves the thread's signal stack pointing at a freed model's after
    this sequence; the next Python signal handler then crashed the test run (SIGSEGV) or
    corrupted arrays. The engine puts the stack back."""
    faulthandler.enable()  # as under pytest: an alternate signal stack is in place
    before = _signal_stack()
    first = OpenVinoEngine(tiny_checkpoint)
    second = OpenVinoEngine(tiny_checkpoint)
    plane = np.zeros((1, 1, 16, 16), np.float32)
    first(plane), second(plane)
    del first
    gc.collect()
    del second
    gc.collect()
    assert _signal_stack() == before


def test_auto_puts_gpu_backends_first(monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in PREFERENCE:  # a CPU-only box: no backend is tried before the CPU ones are measured
        monkeypatch.setattr(cls, "uses_gpu", classmethod(lambda c: False))
    assert gpu_backends() == []
    # A GPU box with CUDA PyTorch but neither TensorRT nor onnxruntime-gpu: PyTorch on CUDA
    # is taken before any CPU backend is built or measured.
    monkeypatch.setattr(TorchEngine, "uses_gpu", classmethod(lambda c: True))
    assert gpu_backends() == [TorchEngine]


def test_auto_takes_an_onnx_export(tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PyTorch runs checkpoints only; auto still finds a backend for a VDSR .onnx export."""
    monkeypatch.setenv("VDSR_CACHE_DIR", str(tmp_path))
    exported = onnx_for(tiny_checkpoint, "test")
    with pytest.raises(EngineUnavailableError, match="onnx"):
        TorchEngine(exported)
    create_engine.cache_clear()
    assert create_engine("auto", exported).name in ONNX_ENGINES
    create_engine.cache_clear()


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
