"""Pick what ``auto`` runs on a CPU: the fastest (backend, precision) pair the quality gate admits.

Which pair wins depends on the machine: on 2-core EPYC VMs ONNX Runtime fp32 was 1.7x PyTorch one
day and OpenVINO led it on others, and int8 was 1.0x fp32 on one AVX2 EPYC and 2-3x on another
(docs/performance.md). A fixed order cannot be right everywhere, so ``auto`` builds each candidate,
times it on one tile, and walks them from fastest to slowest until the gate admits one: the result
is the fastest admitted pair, and only the pairs faster than it are scored on Set5. The pick is
cached in ``$VDSR_CACHE_DIR/fastest-cpu-engine.json`` under the machine, the runtime versions, the
model's content, the candidates and the gate's limit; a change to any of them measures again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from engines.candidates import Candidate
from engines.fingerprint import machine_key
from engines.json_cache import JsonCache
from engines.timing import latency_seconds
from vdsr.cache import cache_dir
from vdsr.engine import Engine, EngineUnavailableError

__all__ = ["PROBE_SIZE", "cache_file", "fastest_admitted", "pick_key", "probe_seconds"]

log = logging.getLogger(__name__)

PROBE_SIZE = 256  # on 2026-11-26 this ranked the backends as full 552x552 tiles did (192 did not), at 1/5 the time

Admit = Callable[[Candidate, Engine], bool]


def cache_file() -> Path:
    """Where the pick is remembered."""
    return cache_dir() / "fastest-cpu-engine.json"


def probe_seconds(engine: Engine, size: int = PROBE_SIZE) -> float:
    """Best of two timed calls on a random ``size`` x ``size`` plane, after one warm-up call."""
    plane = np.random.default_rng(0).random((1, 1, size, size), dtype=np.float32)
    return latency_seconds(engine, plane, repeats=2, warmup=1, statistic=min)


def pick_key(model_key: str, candidates: Sequence[Candidate], gate: str) -> str:
    """What a pick depends on: the machine and runtime versions, the model, the candidates and the gate."""
    return " | ".join([machine_key(), f"model {model_key}", ",".join(c.label for c in candidates), gate])


def fastest_admitted(
    candidates: Sequence[Candidate],
    model: Path,
    *,
    model_key: str,
    gate: str,
    admit: Admit,
    reasons: list[str],
    measure: Callable[[Engine], float] | None = None,
) -> tuple[Candidate, Engine] | None:
    """The fastest of ``candidates`` that builds for ``model`` and that ``admit`` accepts, with its engine.

    A cached pick is built alone. Otherwise every candidate is built and timed (``measure``, default
    :func:`probe_seconds`), ``admit`` is asked from the fastest down until it accepts one, and the
    others are closed. Why a candidate could not be built is appended to ``reasons``. ``model_key``
    names the model's content and ``gate`` the admission rule, for the cache. None if none is admitted.
    """
    measure = measure or probe_seconds
    cache = JsonCache(cache_file())
    key = pick_key(model_key, candidates, gate)
    entry = cache.get(key) or {}
    cached = next((c for c in candidates if c.label == entry.get("pick")), None)
    if cached is not None:
        try:
            return cached, cached.build(model)
        except EngineUnavailableError as exc:  # something changed that the key does not see: measure the rest
            log.info("cached pick %s no longer builds (%s); measuring again", cached.label, exc)
            reasons.append(f"{cached.label}: {exc}")
            candidates = [c for c in candidates if c != cached]
    start = time.perf_counter()
    built: list[tuple[Candidate, Engine]] = []
    for candidate in candidates:
        try:
            built.append((candidate, candidate.build(model)))
        except EngineUnavailableError as exc:
            reasons.append(f"{candidate.label}: {exc}")
    seconds = {c.label: measure(e) for c, e in built} if len(built) > 1 else {}
    built.sort(key=lambda pair: seconds.get(pair[0].label, 0.0))
    picked, verdicts = None, {}
    for candidate, engine in built:
        verdicts[candidate.label] = admit(candidate, engine)
        if verdicts[candidate.label]:
            picked = (candidate, engine)
            break
    for _, engine in built:
        if picked is None or engine is not picked[1]:
            engine.close()
    timings = ", ".join(f"{label} {s * 1e3:.0f} ms" for label, s in sorted(seconds.items(), key=lambda kv: kv[1]))
    refused = [label for label, ok in verdicts.items() if not ok]
    log.info(
        "engine auto: timed a %dx%d tile: %s; over the quality gate: %s; picked %s (measured in %.0f s, once)",
        PROBE_SIZE,
        PROBE_SIZE,
        timings or "one candidate, not timed",
        ", ".join(refused) or "none",
        picked[0].label if picked else "nothing",
        time.perf_counter() - start,
    )
    if picked is not None:
        cache.put(
            key,
            {
                "pick": picked[0].label,
                "ms": {label: round(s * 1e3, 1) for label, s in seconds.items()},
                "admitted": verdicts,
                "probe": PROBE_SIZE,
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            },
        )
    return picked
