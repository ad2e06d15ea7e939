"""Pick the fastest CPU backend by measuring it on this machine, once, and remember the pick.

Which CPU runtime wins depends on the machine: on our 2-core EPYC VMs ONNX Runtime was 1.7x
PyTorch and OpenVINO 1.2x on one day, and OpenVINO led ONNX Runtime on others
(docs/benchmarks.md). A fixed order cannot be right everywhere. So ``auto`` times each CPU
backend that builds here on one tile, keeps the fastest, and caches the choice in
``$VDSR_CACHE_DIR/fastest-cpu-engine.json``. The cache key is the machine, the runtime versions
and the network's shape. Delete the file to measure again.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from engines.onnx_cache import cache_dir
from engines.timing import latency_seconds
from vdsr.cpu import cpu_name
from vdsr.engine import Engine, EngineUnavailableError

__all__ = ["PROBE_SIZE", "cache_file", "fastest_engine", "probe_seconds"]

log = logging.getLogger(__name__)

PROBE_SIZE = 256  # on 2026-11-26 this ranked the backends as full 552x552 tiles did (192 did not), at 1/5 the time
_RUNTIMES = ("torch", "onnxruntime", "openvino")


def cache_file() -> Path:
    """Where the pick is remembered, per machine, runtime versions and model."""
    return cache_dir() / "fastest-cpu-engine.json"


def probe_seconds(engine: Engine, size: int = PROBE_SIZE) -> float:
    """Best of two timed calls on a random ``size`` x ``size`` plane, after one warm-up call."""
    plane = np.random.default_rng(0).random((1, 1, size, size), dtype=np.float32)
    return latency_seconds(engine, plane, repeats=2, warmup=1, statistic=min)


def _cache_key(model_key: str, names: Sequence[str]) -> str:
    versions = []
    for runtime in _RUNTIMES:
        try:
            versions.append(f"{runtime} {importlib.metadata.version(runtime)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{runtime} -")
    return " | ".join([cpu_name(), f"{os.cpu_count()} cpus", *versions, model_key, ",".join(names)])


def _read_cache() -> dict[str, dict]:
    try:
        return json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(key: str, entry: dict) -> None:
    cache = _read_cache()
    cache[key] = entry
    try:
        cache_file().parent.mkdir(parents=True, exist_ok=True)
        cache_file().write_text(json.dumps(cache, indent=2))
    except OSError as exc:  # a read-only home still gets a working engine, measured again next time
        log.warning("cannot cache the engine choice in %s: %s", cache_file(), exc)


def fastest_engine(
    candidates: Sequence[type],
    checkpoint: Path,
    *,
    model_key: str,
    reasons: list[str],
    measure: Callable[[Engine], float] | None = None,
) -> Engine | None:
    """The fastest of ``candidates`` (engine classes) that builds for ``checkpoint``, or None.

    A cached pick for this machine and model is built alone; otherwise every candidate is
    built and measured, and the losers are closed. Why a backend could not be built is
    appended to ``reasons``. ``measure`` (default :func:`probe_seconds`) times one engine.
    """
    measure = measure or probe_seconds
    key = _cache_key(model_key, [cls.name for cls in candidates])
    cached = _read_cache().get(key, {}).get("engine")
    cached_cls = next((cls for cls in candidates if cls.name == cached), None)
    if cached_cls is not None:
        try:
            return cached_cls(checkpoint)
        except EngineUnavailableError as exc:  # the runtime changed since: measure the others
            log.info("cached engine %s no longer builds (%s); measuring again", cached, exc)
            reasons.append(f"{cached_cls.name}: {exc}")
            candidates = [cls for cls in candidates if cls is not cached_cls]
    engines = []
    for cls in candidates:
        try:
            engines.append(cls(checkpoint))
        except EngineUnavailableError as exc:
            reasons.append(f"{cls.name}: {exc}")
    if not engines:
        return None
    if len(engines) == 1:
        return engines[0]
    seconds = {engine.name: measure(engine) for engine in engines}
    best = min(engines, key=lambda engine: seconds[engine.name])
    for engine in engines:
        if engine is not best:
            engine.close()
    timings = ", ".join(f"{name} {s * 1e3:.0f} ms" for name, s in sorted(seconds.items(), key=lambda kv: kv[1]))
    log.info("engine auto: measured a %dx%d tile: %s; using %s", PROBE_SIZE, PROBE_SIZE, timings, best.name)
    _write_cache(
        key,
        {
            "engine": best.name,
            "ms": {n: round(s * 1e3, 1) for n, s in seconds.items()},
            "probe": PROBE_SIZE,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        },
    )
    return best
