"""The (backend, precision) pairs ``auto`` chooses among on a CPU, and how each one is built.

fp32 runs on every CPU backend. bf16 is a candidate only where the CPU has it natively (AMX or
AVX512-BF16): emulated, it is slower than fp32. int8 is the QDQ model of :mod:`engines.int8_qdq`,
built from the checkpoint on first use, on the two runtimes that run QDQ models; the quantiser
leaves its first three and last convolutions in fp32, and ``openvino:int8`` runs them in fp32 (an
explicit f32 hint, not the plugin's bf16). ``openvino:int8+bf16``, offered where bf16 is native,
runs them in bf16 but the first, as the bf16 pair does: on AMX they took half of the int8 model's
time in fp32. A pair is only a
candidate: :mod:`engines.quality_gate` decides whether it may run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engines.int8_qdq import int8_for
from engines.onnx_cache import CHECKPOINT_SUFFIXES
from engines.onnxruntime_ import OnnxRuntimeEngine, OnnxRuntimeOptions
from engines.openvino_ import OpenVinoEngine, OpenVinoOptions
from engines.torch_ import TorchEngine, TorchOptions
from vdsr.cpu import cpu_has_native_bf16
from vdsr.engine import Engine

__all__ = ["PAIRS", "REFERENCE", "Candidate", "cpu_candidates"]

# Every pair that can be built, by backend: what each runtime runs on a CPU.
PAIRS: dict[str, tuple[str, ...]] = {
    "torch": ("fp32", "bf16"),
    "onnxruntime": ("fp32", "int8"),
    "openvino": ("fp32", "bf16", "int8", "int8+bf16"),
}
_CPU = ("CPUExecutionProvider",)


@dataclass(frozen=True)
class Candidate:
    """One backend at one precision on the CPU."""

    backend: str
    precision: str

    def __post_init__(self) -> None:
        if self.precision not in PAIRS.get(self.backend, ()):
            known = ", ".join(f"{b}:{p}" for b, ps in PAIRS.items() for p in ps)
            raise ValueError(f"unknown engine pair {self.label!r}; known: {known}")

    @property
    def label(self) -> str:
        """``backend:precision``: how the pair is named in logs, caches and ``--engine``."""
        return f"{self.backend}:{self.precision}"

    @classmethod
    def parse(cls, spec: str) -> Candidate:
        """``openvino:int8`` -> Candidate("openvino", "int8")."""
        backend, _, precision = spec.partition(":")
        return cls(backend, precision)

    @property
    def quantized(self) -> bool:
        """Whether the pair runs the int8 model."""
        return self.precision.startswith("int8")

    @property
    def float_precision(self) -> str:
        """What the layers that are not int8 run in: bf16 for ``bf16`` and ``int8+bf16``, else fp32."""
        return "bf16" if self.precision.endswith("bf16") else "fp32"

    def build(self, model: Path) -> Engine:
        """The engine for ``model`` (a checkpoint, or an ONNX export at fp32).

        Raises:
            EngineUnavailableError: the runtime is missing, or the int8 model cannot be built here.
        """
        if self.backend == "torch":
            return TorchEngine(model, TorchOptions(device="cpu", precision=self.precision))
        runs = int8_for(model) if self.quantized else model
        if self.backend == "onnxruntime":
            return OnnxRuntimeEngine(runs, OnnxRuntimeOptions(providers=_CPU))
        hint = "bf16" if self.float_precision == "bf16" else "f32"
        return OpenVinoEngine(runs, OpenVinoOptions(precision=hint))


REFERENCE = Candidate("torch", "fp32")


def cpu_candidates(model: Path, native_bf16: bool | None = None) -> list[Candidate]:
    """The pairs to consider for ``model`` on this CPU.

    A checkpoint gets every pair; an ONNX export or OpenVINO IR is run as it is (no torch, nothing
    lowered: there is no checkpoint to gate against). ``native_bf16`` defaults to
    :func:`vdsr.cpu.cpu_has_native_bf16` (unknown counts as no).
    """
    suffix = Path(model).suffix
    if suffix == ".xml":
        return [Candidate("openvino", "fp32")]
    if suffix not in CHECKPOINT_SUFFIXES:
        return [Candidate("onnxruntime", "fp32"), Candidate("openvino", "fp32")]
    native = bool(cpu_has_native_bf16()) if native_bf16 is None else native_bf16
    pairs = [REFERENCE, Candidate("onnxruntime", "fp32"), Candidate("openvino", "fp32")]
    pairs += [Candidate("onnxruntime", "int8"), Candidate("openvino", "int8")]
    if native:
        pairs += [Candidate("torch", "bf16"), Candidate("openvino", "bf16"), Candidate("openvino", "int8+bf16")]
    return pairs
