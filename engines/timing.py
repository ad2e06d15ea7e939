"""How long an engine takes per call: the one timing helper for the ``auto`` probe, benchmarks and int8 checks.

Warm-up calls come first and are not timed, so one-off costs (kernel selection, allocation, lazy
compilation) never count; the statistic over the timed calls is the caller's choice (the median for
reports, the best for a quick ranking).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

from vdsr.engine import Engine

__all__ = ["latency_seconds"]


def latency_seconds(
    engine: Engine,
    y: np.ndarray,
    *,
    repeats: int = 3,
    warmup: int = 1,
    statistic: Callable[[Sequence[float]], float] = statistics.median,
) -> float:
    """``statistic`` (default the median) of ``repeats`` timed calls of ``engine`` on ``y``, after ``warmup``
    untimed ones, in seconds."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        engine(y)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        engine(y)
        times.append(time.perf_counter() - start)
    return statistic(times)
