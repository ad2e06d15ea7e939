"""Time every engine on the same inputs and score it on Set5, one engine in memory at a time.

Speed-ups are against PyTorch fp32 eager on the CPU, so they mean the same on every machine;
quality is each engine's Set5 PSNR through the full :class:`~vdsr.pipeline.Upscaler`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.workloads import Workload
from engines import ENGINES, build_engine, load_upscaler
from engines.candidates import PAIRS, Candidate, cpu_candidates
from engines.onnxruntime_ import OnnxRuntimeEngine
from engines.openvino_ import OpenVinoEngine
from engines.timing import latency_seconds
from engines.torch_ import TorchEngine
from vdsr.engine import Engine, EngineUnavailableError
from vdsr.evaluate import evaluate
from vdsr.pipeline import UpscaleLimits

__all__ = ["AUTO", "BASELINE", "Result", "Row", "engine_rows", "run_benchmark"]

BASELINE = "torch"
AUTO = "auto"


@dataclass
class Result:
    """One engine's numbers (or why it could not run)."""

    engine: str
    precision: str = ""
    details: str = ""
    unavailable: str = ""
    on_cpu: bool = True
    latency_s: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    psnr: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One engine to run: its label in the report, how to build it for the checkpoint, and where it runs."""

    label: str
    build: Callable[[Path], Engine]
    on_cpu: bool = True


def _details(engine: Engine) -> str:
    """The engine's options, and its execution providers where it has them."""
    text = repr(getattr(engine, "options", ""))
    providers = getattr(engine, "providers", None)
    return f"{text}; providers {', '.join(providers)}" if providers else text


def _pair_row(candidate: Candidate, int8: Path | None) -> Row:
    label = candidate.backend if candidate.precision == "fp32" else f"{candidate.backend}-{candidate.precision}"
    if candidate.quantized and int8 is not None:  # a given int8 model instead of the one auto builds
        runs_as = Candidate(candidate.backend, candidate.float_precision)
        return Row(label, lambda _checkpoint: runs_as.build(int8))
    return Row(label, candidate.build)


def engine_rows(checkpoint: Path, names: list[str], int8: Path | None = None) -> list[Row]:
    """The rows to run: every (backend, precision) pair ``auto`` considers on this CPU, GPU backends, and ``auto``.

    The baseline, PyTorch fp32 eager on the CPU, comes first, so speed-ups mean the same on every
    machine. int8 rows run the model ``auto`` builds (:func:`engines.int8_qdq.int8_for`), or ``int8``
    (a model from ``export/to_int8.py``) where given. A backend that would use a GPU here gets its
    own row with its default options (``torch-cuda`` for PyTorch).
    """
    rows = [_pair_row(c, int8) for c in cpu_candidates(checkpoint) if c.backend in names]
    rows.sort(key=lambda row: row.label != BASELINE)
    for name in names:
        if name == AUTO:
            continue
        cls = ENGINES.get(name)
        if name not in PAIRS:
            rows.append(Row(name, cls, on_cpu=not cls.uses_gpu()))
        elif cls.uses_gpu():
            rows.append(Row("torch-cuda" if name == "torch" else f"{name}-gpu", cls, on_cpu=False))
    if AUTO in names:
        rows.append(Row(AUTO, lambda ckpt: build_engine(AUTO, ckpt)))  # where it runs is known once built
    return rows


def _runs_on_cpu(engine: Engine) -> bool:
    """Whether an engine ``auto`` built runs on the CPU (its CPU pairs do; a backend on a GPU does not)."""
    if isinstance(engine, TorchEngine):
        return engine.device.type == "cpu"
    if isinstance(engine, OnnxRuntimeEngine):
        return engine.providers[0] == "CPUExecutionProvider"
    return isinstance(engine, OpenVinoEngine) and engine.options.device.startswith("CPU")


def run_benchmark(
    checkpoint: Path,
    workloads: list[Workload],
    images: list[tuple[str, np.ndarray]],
    *,
    engines: list[str],
    repeats: int,
    warmup: int,
    scales: tuple[int, ...] = (2, 3, 4),
    int8: Path | None = None,
    log: bool = True,
    on_result: Callable[[list[Result]], None] | None = None,
) -> list[Result]:
    """Time every engine on every workload and score it on ``images``; one engine in memory at a time.

    ``on_result`` is called with the results so far after each engine, so a long run can
    write its report as it goes.
    """
    results = []
    for row in engine_rows(checkpoint, engines, int8):
        name = row.label
        result = Result(engine=name, on_cpu=row.on_cpu)
        results.append(result)
        try:
            engine = row.build(checkpoint)
        except (EngineUnavailableError, ValueError, RuntimeError) as exc:  # unavailable, or failed to load
            result.unavailable = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if log:
                print(f"{name}: not available here ({exc})", file=sys.stderr)
            if on_result is not None:
                on_result(results)
            continue
        result.precision = engine.precision
        result.details = _details(engine)
        if name == AUTO:  # say what auto picked
            name = result.engine = f"{AUTO} ({engine.name} {engine.precision})"
            result.on_cpu = _runs_on_cpu(engine)
        for work in workloads:
            try:
                result.latency_s[work.name] = latency_seconds(engine, work.y, repeats=repeats, warmup=warmup)
            except (RuntimeError, ValueError, MemoryError) as exc:
                result.errors[work.name] = str(exc).splitlines()[0]
            if log:
                got = result.latency_s.get(work.name)
                text = f"{got * 1e3:.1f} ms" if got is not None else f"failed: {result.errors[work.name]}"
                print(f"{name} [{result.precision}] {work.name}: {text}", file=sys.stderr)
        # One tile per Set5 image (all are <= 512 px), so tiling never changes the result.
        upscaler = load_upscaler(checkpoint, engine, limits=UpscaleLimits(tile=1024))
        for score in evaluate({name: upscaler}, images, scales, with_ssim=False):
            result.psnr[score.scale] = score.psnr
        if log:
            print(f"{name}: Set5 PSNR {result.psnr}", file=sys.stderr)
        engine.close()
        if on_result is not None:
            on_result(results)
    return results
