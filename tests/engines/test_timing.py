"""engines.timing.latency_seconds: warm-up calls are not timed, and the statistic is the caller's."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import engines.timing
from engines._fastest import probe_seconds
from engines.timing import latency_seconds


class _SlowingEngine:
    """Call k takes k seconds on a fake clock, so which calls were timed shows in the result."""

    name = "slowing"

    def __init__(self) -> None:
        self.calls = 0
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def __call__(self, y: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.now += self.calls
        return y

    def close(self) -> None:
        pass


@pytest.fixture()
def engine(monkeypatch: pytest.MonkeyPatch) -> _SlowingEngine:
    slowing = _SlowingEngine()
    monkeypatch.setattr(engines.timing, "time", SimpleNamespace(perf_counter=slowing.clock))
    return slowing


def test_median_of_the_timed_calls_after_the_warm_up(engine: _SlowingEngine) -> None:
    assert latency_seconds(engine, np.zeros((1, 1, 4, 4), np.float32), repeats=3, warmup=2) == 4.0
    assert engine.calls == 5  # calls 3, 4 and 5 were timed


def test_probe_takes_the_best_of_two_after_one_warm_up(engine: _SlowingEngine) -> None:
    assert probe_seconds(engine, size=8) == 2.0
    assert engine.calls == 3


def test_at_least_one_timed_call(engine: _SlowingEngine) -> None:
    with pytest.raises(ValueError, match="repeats"):
        latency_seconds(engine, np.zeros((1, 1, 4, 4), np.float32), repeats=0)
