"""Who encodes the missing segments: this process, or N worker processes that each build the model once.

Either way the parent alone records finished segments in the manifest and reports progress, so a
segment is written by one process and counted once, and a part is identical whoever encoded it.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import signal
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from vdsr.pipeline import Upscaler
from vdsr.video.part import PartSettings, encode_part
from vdsr.video.segments import Segment

__all__ = ["LocalRunner", "ProcessRunner", "SegmentRunner", "Task"]

log = logging.getLogger(__name__)

FrameReport = Callable[[int, int], None]  # (segment number, frames of it done)
Finished = Callable[[Segment, int], None]  # (segment, frames written); its part is complete


@dataclass(frozen=True)
class Task:
    """One segment to encode into ``path``."""

    segment: Segment
    path: Path


class SegmentRunner(Protocol):
    """Encodes tasks; calls ``finished`` in this process as each part completes, ``report`` as frames do."""

    def run(self, settings: PartSettings, tasks: list[Task], report: FrameReport, finished: Finished) -> None: ...


class LocalRunner:
    """One segment after another, in this process, with an upscaler already built."""

    def __init__(self, upscaler: Upscaler) -> None:
        self.upscaler = upscaler

    def run(self, settings: PartSettings, tasks: list[Task], report: FrameReport, finished: Finished) -> None:
        for task in tasks:
            frames = encode_part(settings, task.segment, task.path, self.upscaler, partial(report, task.segment.number))
            finished(task.segment, frames)


# --------------------------------------------------------------------------- worker processes

_worker: dict[str, Any] = {}  # in each worker: its upscaler and the queue it reports frames on


def _start_worker(make_upscaler: Callable[[], Upscaler], frames: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    _worker["upscaler"] = make_upscaler()
    _worker["frames"] = frames


def _encode_in_worker(settings: PartSettings, task: Task) -> tuple[Task, int]:
    number, frames = task.segment.number, _worker["frames"]
    done = encode_part(settings, task.segment, task.path, _worker["upscaler"], partial(_put, frames, number))
    return task, done


def _put(frames: Any, number: int, done: int) -> None:
    frames.put((number, done))


class ProcessRunner:
    """``workers`` processes (spawned, so no engine state is shared by fork), each building its upscaler once.

    Args:
        make_upscaler: builds the upscaler in a worker; must pickle (a module-level function or a
            ``functools.partial`` of one).
        workers: number of processes.
    """

    def __init__(self, make_upscaler: Callable[[], Upscaler], workers: int) -> None:
        self.make_upscaler, self.workers = make_upscaler, workers

    def run(self, settings: PartSettings, tasks: list[Task], report: FrameReport, finished: Finished) -> None:
        if not tasks:
            return
        context = mp.get_context("spawn")
        frames = context.Queue()
        count = min(self.workers, len(tasks))
        log.info("%d worker processes", count)
        pool = context.Pool(count, initializer=_start_worker, initargs=(self.make_upscaler, frames))
        try:
            pending = [pool.apply_async(_encode_in_worker, (settings, task)) for task in tasks]
            while pending:
                _drain(frames, report, wait=0.2)
                still = []
                for result in pending:
                    if not result.ready():
                        still.append(result)
                        continue
                    task, done = result.get()  # re-raises a worker's error here
                    _drain(frames, report, wait=0)
                    finished(task.segment, done)
                pending = still
            pool.close()
            pool.join()
        finally:
            pool.terminate()  # on an error or Ctrl-C: stop the other workers now (their parts stay unfinished)
            frames.close()


def _drain(frames: Any, report: FrameReport, wait: float) -> None:
    """Pass on the frame counts the workers have sent; wait up to ``wait`` seconds for the first."""
    try:
        item = frames.get(timeout=wait) if wait else frames.get_nowait()
        while True:
            report(*item)
            item = frames.get_nowait()
    except queue.Empty:
        return
