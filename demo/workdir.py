"""Where the app writes its results: one folder per request, inside one folder per app."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vdsr.video.job import source_identity

__all__ = ["WorkDir"]


@dataclass(frozen=True)
class WorkDir:
    """The app's temporary folder; each request writes into a fresh subfolder of its own.

    Gradio copies returned files into its own cache, so a request's folder is only needed briefly:
    folders older than ``max_age_s`` are swept as new ones are made, and the whole folder goes at exit.
    """

    root: Path
    max_age_s: float = 3600.0

    @classmethod
    def create(cls, parent: Path | None = None) -> WorkDir:
        """Make the folder (under ``parent``, else the system's temporary folder) and remove it at exit."""
        root = Path(tempfile.mkdtemp(prefix="vdsr-app-", dir=parent))
        atexit.register(shutil.rmtree, root, True)
        return cls(root)

    def request_folder(self) -> Path:
        """A fresh, empty folder for one request; folders past ``max_age_s`` are removed on the way."""
        self._sweep()
        path = self.root / uuid.uuid4().hex
        path.mkdir()
        return path

    def job_folder(self, source: str | Path, settings: dict[str, Any]) -> Path:
        """The folder of one video job: the same file with the same settings gets the same folder, so a
        cancelled or failed job continues from its finished segments when it is asked for again.

        The file counts as the same by size, modification time and its first and last MB (as a
        job's manifest has it): Gradio keeps a re-uploaded file at the same path.
        """
        self._sweep()
        key = json.dumps({"source": source_identity(Path(source)), **settings}, sort_keys=True, default=str)
        path = self.root / f"job-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
        path.mkdir(exist_ok=True)
        os.utime(path)  # in use again: not swept for another max_age_s
        return path

    def _sweep(self) -> None:
        now = time.time()
        for old in self.root.iterdir():
            try:
                if now - old.stat().st_mtime > self.max_age_s:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass  # another request swept it first
