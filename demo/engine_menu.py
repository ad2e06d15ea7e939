"""The engine menu: only backends that run on this machine, with why the others are missing.

Whether a backend runs here is decided by building it, as a request would (its runtime, its
device, the model exported for it), once at start-up; :func:`engines.create_engine` keeps the
engines it builds, so requests reuse them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from engines import ENGINES, create_engine
from vdsr.engine import EngineUnavailableError

__all__ = ["AUTO_ENGINE", "EngineMenu"]

log = logging.getLogger(__name__)

AUTO_ENGINE = "auto"


def _short_reason(name: str, exc: Exception) -> str:
    """The first clause of a backend's reason, what is missing, without install instructions or its own name."""
    reason = str(exc).split(";")[0].split(" (")[0].strip()
    for prefix in (f"{name}:", f"{name} is", name):
        reason = reason.removeprefix(prefix).strip()
    return reason or type(exc).__name__


@dataclass(frozen=True)
class EngineMenu:
    """The backends offered (``auto`` first) and, for each one left out, the reason."""

    runnable: tuple[str, ...]
    missing: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def probe(cls, checkpoint: Path | None) -> EngineMenu:
        """Build every registered backend for ``checkpoint``; None (no model installed) offers ``auto`` alone."""
        if checkpoint is None:
            return cls((), MappingProxyType({}))
        runnable, missing = [], {}
        for name in ENGINES.names():
            try:
                create_engine(name, checkpoint.resolve())
            except (EngineUnavailableError, ValueError, RuntimeError, OSError) as exc:
                missing[name] = _short_reason(name, exc)
                log.info("engine %s does not run here: %s", name, exc)
            else:
                runnable.append(name)
        return cls(tuple(runnable), MappingProxyType(missing))

    def values(self) -> list[str]:
        """The menu: ``auto``, then every backend that runs here."""
        return [AUTO_ENGINE, *self.runnable]

    def info(self) -> str:
        """The menu's help line: what ``auto`` does, and which backends are not offered and why."""
        text = "auto picks the fastest backend that runs here"
        if self.missing:
            text += "; not available here: " + "; ".join(f"{name} ({why})" for name, why in self.missing.items())
        return text
