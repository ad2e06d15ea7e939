"""The machine's peak per precision, measured in the same run as the engines: 64->64 3x3 convolutions.

VDSR-20 is 18 such convolutions (each followed by a ReLU) between two thin ones, so the best a
runtime does on them, alone, is what the network could reach on this CPU at that precision. The rate
is the one per added layer, between stacks of the two :data:`DEPTHS`: every call also converts a
64-channel input and output (int8 quantises and dequantises them), which the network pays once per
18 layers on one channel, and with AMX that fixed cost outweighs four bf16 layers. Each precision is
measured on every runtime that runs it here (fp32: PyTorch, ONNX Runtime, OpenVINO; bf16, only where
the CPU has it natively: PyTorch autocast and OpenVINO; int8: a QDQ convolution in ONNX Runtime and
OpenVINO, quantised as :mod:`engines.int8_qdq` quantises the network), and the peak is the best.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from engines.int8_qdq import quantize_static_qdq
from engines.timing import latency_seconds
from vdsr.cpu import cpu_has_native_bf16

__all__ = ["CHANNELS", "DEPTHS", "Peak", "best_peaks", "conv_gflop", "measure_peaks"]

CHANNELS = 64
DEPTHS = (4, 32)  # a short and a long stack; the peak is the rate of the layers between them
Run = Callable[[np.ndarray], object]


@dataclass(frozen=True)
class Peak:
    """One precision on one runtime: GFLOP/s (GOP/s for int8) on the convolutions, or why it was not run."""

    precision: str
    runtime: str
    gflops: float | None
    note: str = ""


def conv_gflop(size: int, depth: int) -> float:
    """GFLOP of a stack of ``depth`` layers on a ``size`` x ``size`` plane (2 per multiply-accumulate)."""
    return depth * 2 * CHANNELS * CHANNELS * 9 * size * size / 1e9


def _weights(depth: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((CHANNELS, CHANNELS, 3, 3)) * 0.05).astype(np.float32) for _ in range(depth)]


def _conv_onnx(path: Path, depth: int) -> Path:
    nodes, weights, last = [], [], "x"
    for i, w in enumerate(_weights(depth)):
        weights.append(helper.make_tensor(f"w{i}", TensorProto.FLOAT, list(w.shape), w.ravel()))
        nodes.append(helper.make_node("Conv", [last, f"w{i}"], [f"c{i}"], pads=[1, 1, 1, 1], name=f"conv{i}"))
        last = "y" if i == depth - 1 else f"r{i}"
        nodes.append(helper.make_node("Relu", [f"c{i}"], [last], name=f"relu{i}"))
    dims: list[int | str] = [1, CHANNELS, "h", "w"]
    graph = helper.make_graph(
        nodes,
        "convs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def _qdq(fp32: Path, out: Path, x: np.ndarray) -> Path:
    """The QDQ int8 stack, with the settings the int8 models use (:mod:`engines.int8_qdq`)."""
    return quantize_static_qdq(fp32, out, "x", [x])


def _torch(precision: str, depth: int) -> Run:
    import torch

    layers: list[torch.nn.Module] = []
    for w in _weights(depth):
        conv = torch.nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1, bias=False)
        conv.weight.data = torch.from_numpy(w)
        layers += [conv, torch.nn.ReLU()]
    stack = torch.nn.Sequential(*layers).eval().to(memory_format=torch.channels_last)
    dtype = torch.bfloat16 if precision == "bf16" else None

    @torch.inference_mode()
    def run(x: np.ndarray) -> object:
        tensor = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
            return stack(tensor)

    return run


def _onnxruntime(model: Path) -> Run:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {"x": x})


def _openvino(model: Path, hint: str) -> Run:
    import openvino as ov

    from engines.openvino_ import keep_signal_stack

    with keep_signal_stack():
        compiled = ov.Core().compile_model(
            str(model), "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"}
        )
    request = compiled.create_infer_request()
    return lambda x: request.infer({"x": x})


def measure_peaks(size: int = 256, repeats: int = 5, native_bf16: bool | None = None) -> list[Peak]:
    """Every precision on every runtime that runs it: the median of ``repeats`` calls after two warm-ups,
    on a short and a long stack, and the GFLOP/s of the layers the long one adds."""
    native = bool(cpu_has_native_bf16()) if native_bf16 is None else native_bf16
    x = np.random.default_rng(1).random((1, CHANNELS, size, size), dtype=np.float32)
    peaks = []
    with tempfile.TemporaryDirectory() as tmp:

        @cache
        def fp32(depth: int) -> Path:
            return _conv_onnx(Path(tmp) / f"conv{depth}.onnx", depth)

        @cache
        def int8(depth: int) -> Path:  # one QDQ model per depth, run by both runtimes
            return _qdq(fp32(depth), Path(tmp) / f"int8-{depth}.onnx", x)

        plans: list[tuple[str, str, Callable[[int], Run]]] = [
            ("fp32", "torch", lambda depth: _torch("fp32", depth)),
            ("fp32", "onnxruntime", lambda depth: _onnxruntime(fp32(depth))),
            ("fp32", "openvino", lambda depth: _openvino(fp32(depth), "f32")),
            ("bf16", "torch", lambda depth: _torch("bf16", depth)),
            ("bf16", "openvino", lambda depth: _openvino(fp32(depth), "bf16")),
            ("int8", "onnxruntime", lambda depth: _onnxruntime(int8(depth))),
            ("int8", "openvino", lambda depth: _openvino(int8(depth), "f32")),
        ]
        short, long = DEPTHS
        for precision, runtime, build in plans:
            if precision == "bf16" and not native:
                peaks.append(Peak(precision, runtime, None, "no native bf16 on this CPU"))
                continue
            try:
                runs = build(short), build(long)
            except ImportError as exc:
                peaks.append(Peak(precision, runtime, None, f"not installed ({exc.name})"))
                continue
            t_short, t_long = (latency_seconds(run, x, repeats=repeats, warmup=2) for run in runs)  # type: ignore[arg-type]
            added = conv_gflop(size, long) - conv_gflop(size, short)
            # Timing noise can hide the added layers on a tiny plane; the long stack's own rate is then the floor.
            gflops = added / (t_long - t_short) if t_long > t_short else conv_gflop(size, long) / t_long
            peaks.append(Peak(precision, runtime, gflops))
    return peaks


def best_peaks(peaks: list[Peak]) -> dict[str, Peak]:
    """The fastest runtime per precision (the machine's peak for it), among those that ran."""
    best: dict[str, Peak] = {}
    for peak in peaks:
        if peak.gflops is not None and (peak.precision not in best or peak.gflops > best[peak.precision].gflops):
            best[peak.precision] = peak
    return best
