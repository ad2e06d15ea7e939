"""Time every engine on the same inputs and score it on Set5, one engine in memory at a time.

Speed-ups are against PyTorch fp32 eager on the CPU, so they mean the same on every machine;
quality is each engine's Set5 PSNR through the full :class:`~vdsr.pipeline.Upscaler`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.workloads import Workload
from engines import ENGINES, load_upscaler
from engines.timing import latency_seconds
from engines.torch_ import TorchEngine, TorchOptions
from vdsr.engine import Engine, EngineUnavailableError
from vdsr.evaluate import evaluate
from vdsr.pipeline import UpscaleLimits

__all__ = ["BASELINE", "Result", "engine_rows", "run_benchmark"]

BASELINE = "torch"
_INT8_ENGINES = ("openvino", "onnxruntime")  # the backends that run a QDQ int8 ONNX model


@dataclass
class Result:
    """One engine's numbers (or why it could not run)."""

    engine: str
    precision: str = ""
    details: str = ""
    unavailable: str = ""
    latency_s: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    psnr: dict[int, float] = field(default_factory=dict)


def _precision(engine: Engine) -> str:
    precision = getattr(engine, "precision", None)
    if precision is None:
        precision = getattr(getattr(engine, "options", None), "precision", "fp32")
    return str(precision)


def _details(engine: Engine) -> str:
    """The engine's options, and its execution providers where it has them."""
    text = repr(getattr(engine, "options", ""))
    providers = getattr(engine, "providers", None)
    return f"{text}; providers {', '.join(providers)}" if providers else text


def _build_on(cls: type, model: Path, _checkpoint: Path) -> Engine:
    """Build ``cls`` on ``model`` instead of the benchmarked checkpoint."""
    return cls(model)


def engine_rows(names: list[str], int8: Path | None = None) -> list[tuple[str, Callable[[Path], Engine]]]:
    """(row label, builder) for each engine to run.

    The baseline is always PyTorch fp32 eager on the CPU, so speed-ups mean the same
    on every machine; where PyTorch sees a GPU, PyTorch on CUDA (fp16) gets its own row.
    With ``int8`` (a model from ``export/to_int8.py``), the ONNX engines run it too.
    """
    rows: list[tuple[str, Callable[[Path], Engine]]] = []
    for name in names:
        if name != BASELINE:
            rows.append((name, ENGINES.get(name)))
        else:
            rows.append((BASELINE, lambda ckpt: TorchEngine(ckpt, TorchOptions(device="cpu", precision="fp32"))))
            if TorchEngine.uses_gpu():
                rows.append(("torch-cuda", TorchEngine))
        if int8 is not None and name in _INT8_ENGINES:
            rows.append((f"{name}-int8", functools.partial(_build_on, ENGINES.get(name), int8)))
    return rows


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
    for name, build in engine_rows(engines, int8):
        result = Result(engine=name)
        results.append(result)
        try:
            engine = build(checkpoint)
        except (EngineUnavailableError, ValueError, RuntimeError) as exc:  # unavailable, or failed to load
            result.unavailable = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if log:
                print(f"{name}: not available here ({exc})", file=sys.stderr)
            if on_result is not None:
                on_result(results)
            continue
        result.precision = _precision(engine)
        result.details = _details(engine)
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
