"""OpenVINO backend (CPU): runs an ONNX export, an OpenVINO IR (.xml) or a cached export of a checkpoint.

The inference precision is always set, never left to the plugin: on a CPU with native bf16 the
plugin's default is bf16, which lost 0.066 dB on Set5 at x4. fp32 is the default here; bf16 is asked
for by name and keeps the first convolution in fp32 (:mod:`engines.openvino_precision`).
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engines.contract import EngineFileError, check_input, check_io, require_file
from engines.onnx_cache import onnx_for
from engines.openvino_precision import LayerPrecision, first_convolution, keep_in_fp32, runtime_precisions
from vdsr.checkpoint import read_onnx_metadata
from vdsr.cpu import thread_budget
from vdsr.engine import EngineUnavailableError

__all__ = ["OpenVinoEngine", "OpenVinoOptions", "keep_signal_stack"]

_PRECISIONS = ("f32", "bf16", "f16")
# OpenVINO element type names -> the precision names the rest of the project uses.
_PRECISION_NAMES = {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}


@dataclass(frozen=True)
class OpenVinoOptions:
    """Compile settings.

    Attributes:
        device: OpenVINO device (``CPU``; ``GPU`` for Intel GPUs).
        precision: ``INFERENCE_PRECISION_HINT`` (``f32``, ``bf16``, ``f16``), always passed to the
            plugin. ``auto`` (see :mod:`engines.candidates`) decides whether bf16 pays on this CPU.
        keep_first_conv_fp32: under bf16 or f16, keep the convolution that reads the image in fp32
            (rounding the input luma to bf16 is what costs quality); no effect in f32.
        performance_hint: ``LATENCY`` (one request at a time, as the pipeline runs) or ``THROUGHPUT``.
        threads: inference threads; 0: ``OMP_NUM_THREADS`` where set, else OpenVINO's choice.
    """

    device: str = "CPU"
    precision: str = "f32"
    keep_first_conv_fp32: bool = True
    performance_hint: str = "LATENCY"
    threads: int = 0


class _StackT(ctypes.Structure):
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


@contextmanager
def keep_signal_stack() -> Iterator[None]:
    """Put the thread's alternate signal stack back as it was when the block began.

    OpenVINO's CPU plugin (2026.4) installs an alternate signal stack of its own on the
    thread that compiles a model. When the model is destroyed it "restores" the stack it
    replaced, and that stack may belong to another model that is already freed: after A
    and B are compiled and A is freed first, the thread's signal stack points at freed
    memory. The next Python signal handler (SIGCHLD from a subprocess or a DataLoader
    worker) is then written there: a SIGSEGV, or silently corrupted arrays. Putting the
    old stack back at once keeps OpenVINO's stack out of use, and OpenVINO leaves a stack
    that is not its own alone on destruction.
    """
    if sys.platform == "win32":  # no sigaltstack on Windows
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    before = _StackT()
    saved = libc.sigaltstack(None, ctypes.byref(before)) == 0
    try:
        yield
    finally:
        if saved:
            libc.sigaltstack(ctypes.byref(before), None)


class OpenVinoEngine:
    """Runs the network with OpenVINO; dynamic batch, height and width."""

    name: ClassVar[str] = "openvino"

    @classmethod
    def uses_gpu(cls) -> bool:
        return False  # the default device is the CPU

    def __init__(self, model: str | Path, options: OpenVinoOptions | None = None) -> None:
        self.options = options or OpenVinoOptions()
        if self.options.precision not in _PRECISIONS:
            raise ValueError(f"openvino precision must be one of {_PRECISIONS}, got {self.options.precision!r}")
        try:
            import openvino as ov
        except ImportError:
            raise EngineUnavailableError("openvino is not installed (pip install openvino)") from None
        with keep_signal_stack():
            self._build(ov.Core(), model)

    def _build(self, core: Any, model: str | Path) -> None:
        if self.options.device.split(".")[0] not in {d.split(".")[0] for d in core.available_devices}:
            raise EngineUnavailableError(
                f"openvino sees no {self.options.device} device (has {', '.join(core.available_devices)})"
            )
        path = require_file(self.name, model)
        self.path: Path = path if path.suffix == ".xml" else onnx_for(path, self.name)
        config: dict[str, Any] = {
            "PERFORMANCE_HINT": self.options.performance_hint,
            "INFERENCE_PRECISION_HINT": self.options.precision,
        }
        if threads := self.options.threads or thread_budget():
            config["INFERENCE_NUM_THREADS"] = threads
            # A limited thread count means other processes share the CPU, and OpenVINO pins every
            # process's threads from the first core up: two 1-thread workers on 2 cores ran at half
            # speed, both on core 0 (1309 ms per 640x360 call each, against 644 ms unpinned).
            config["ENABLE_CPU_PINNING"] = False
        try:
            ov_model = core.read_model(str(self.path))
            if self.options.precision != "f32" and self.options.keep_first_conv_fp32:
                ov_model = keep_in_fp32(core, ov_model, [first_convolution(ov_model)])
            self.compiled = core.compile_model(ov_model, self.options.device, config)
        except (RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "RuntimeError"
            raise EngineFileError(f"{self.name}: cannot load {self.path.name}: {first}") from None
        metadata = read_onnx_metadata(self.path) if self.path.suffix == ".onnx" else _ir_metadata(ov_model)
        expected = metadata.get("vdsr.input")
        inputs = [(p.get_any_name(), _dims(p.get_partial_shape())) for p in self.compiled.inputs]
        outputs = [(p.get_any_name(), _dims(p.get_partial_shape())) for p in self.compiled.outputs]
        self.input_name, self.output_name = check_io(self.name, self.path, inputs, outputs, expected_input=expected)
        self.input_shape: tuple[object, ...] = tuple(inputs[0][1])
        hint = str(self.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name())
        self.precision: str = _PRECISION_NAMES.get(hint, hint)
        if metadata.get("vdsr.dtype") == "int8-qdq":  # int8 kernels; the layers left in float run in the hint
            self.precision = "int8" if self.precision == "fp32" else f"int8+{self.precision}"
        self._request = self.compiled.create_infer_request()
        self._lock = threading.Lock()

    def layer_precisions(self) -> list[LayerPrecision]:
        """What the plugin actually runs each layer in: the check that a precision was honoured."""
        return runtime_precisions(self.compiled)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        x = check_input(self.name, y, self.input_shape)
        with self._lock:  # one infer request, reused; its output buffer is copied before release
            self._request.infer({self.input_name: x})
            return np.array(self._request.get_output_tensor(0).data, dtype=np.float32, copy=True)

    def close(self) -> None:
        self._request = None  # type: ignore[assignment]
        self.compiled = None  # type: ignore[assignment]


def _dims(shape: Any) -> list[object]:
    """OpenVINO PartialShape -> list with ints for static dims and None for dynamic ones."""
    return [d.get_length() if d.is_static else None for d in shape]


def _ir_metadata(ov_model: Any) -> dict[str, str]:
    """The ONNX ``metadata_props`` an OpenVINO IR (.xml) kept from its source, under rt_info ``framework``.

    An IR has no ONNX file to read, so this is the one place its metadata comes from.
    """
    try:
        if not ov_model.has_rt_info(["framework"]):
            return {}
        entries = ov_model.get_rt_info(["framework"]).astype(dict)
        return {str(key): str(value.astype(str)) for key, value in entries.items()}
    except (RuntimeError, AttributeError, TypeError):
        return {}
