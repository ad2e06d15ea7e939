"""A video upscale running beside the request, so the request can show frames as they are made and stop it.

:func:`vdsr.video.upscale_video` reports progress only as counts. The job hands it an upscaler
that keeps the latest frame it produced and, once told to stop, refuses the next frame; the
core then removes its unfinished output, so a stopped job leaves nothing half-written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vdsr.pipeline import Upscaler

__all__ = ["FrameTap", "JobStopped", "VideoJob"]


class JobStopped(Exception):
    """The user stopped the job; raised inside the core's frame loop to end it."""


class FrameTap(Upscaler):
    """``inner``'s upscaling, keeping the latest result; refuses to go on once ``stop`` is set."""

    def __init__(self, inner: Upscaler, stop: threading.Event) -> None:
        super().__init__(inner.refine, receptive_radius=inner.halo or None, limits=inner.limits)
        self.stop = stop
        self.latest: np.ndarray | None = None
        self.frames = 0

    def upscale(self, img: np.ndarray, scale: float) -> np.ndarray:
        if self.stop.is_set():
            raise JobStopped
        out = super().upscale(img, scale)
        self.latest, self.frames = out, self.frames + 1
        return out


@dataclass
class VideoJob:
    """Runs ``work(upscaler, progress)`` in a thread; :meth:`wait` returns its result or raises its error."""

    work: Callable[[Upscaler, Callable[[int, int], None]], Any]
    tap: FrameTap
    done: int = 0
    total: int = 0
    _result: Any = None
    _error: BaseException | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def start(cls, work: Callable[[Upscaler, Callable[[int, int], None]], Any], upscaler: Upscaler) -> VideoJob:
        job = cls(work, FrameTap(upscaler, threading.Event()))
        job._thread = threading.Thread(target=job._run, name="vdsr-video-job", daemon=True)
        job._thread.start()
        return job

    def _run(self) -> None:
        def progress(done: int, total: int) -> None:
            self.done, self.total = done, total

        try:
            self._result = self.work(self.tap, progress)
        except BaseException as exc:  # handed to the request's thread by wait()
            self._error = exc

    def running(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True while the job still runs."""
        assert self._thread is not None
        self._thread.join(timeout)
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop at the next frame and wait (up to ``timeout``) for the core to clean up."""
        self.tap.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def result(self) -> Any:
        """The work's return value, or its exception raised here."""
        if self._error is not None:
            raise self._error
        return self._result
