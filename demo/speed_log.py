"""How fast each (model, engine) ran here, measured on real requests, to estimate a video's processing time.

The cost of VDSR is proportional to the output pixels, so one number per (model, engine choice)
is enough: output pixels per second, as last measured (a frame preview or a whole video). This is
the one piece of the app's state that requests change; a lock keeps it consistent.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["SpeedLog"]


@dataclass
class SpeedLog:
    """Output pixels per second, per (model name, engine menu value)."""

    _speeds: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, model: str, engine: str, pixels: int, seconds: float) -> None:
        """Remember a run of ``pixels`` output pixels that took ``seconds``."""
        if pixels > 0 and seconds > 0:
            with self._lock:
                self._speeds[(model, engine)] = pixels / seconds

    def pixels_per_second(self, model: str, engine: str) -> float | None:
        """The last measured speed, or None before the first run of this pair."""
        with self._lock:
            return self._speeds.get((model, engine))
