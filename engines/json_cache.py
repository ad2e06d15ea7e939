"""A small JSON file of measurements keyed by what they depend on: read whole, updated one key at a time.

Losing it only costs a measurement, so a file that cannot be read counts as empty and one that cannot
be written is logged and skipped; writes go through a temporary file, so a reader never sees half of one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["JsonCache"]

log = logging.getLogger(__name__)


class JsonCache:
    """The entries of one cache file, each a JSON object under a string key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, dict[str, Any]]:
        """Every entry; empty when the file is missing or unreadable."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry under ``key``, or None."""
        entry = self.read().get(key)
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store ``entry`` under ``key``, keeping the other entries."""
        data = self.read()
        data[key] = entry
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
            tmp.replace(self.path)
        except OSError as exc:  # a read-only home still works; it measures again next time
            log.warning("cannot write %s: %s", self.path, exc)
