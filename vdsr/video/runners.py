"""Who encodes the missing segments: this process, or N worker processes that each build the model once.

Either way the parent alone records finished segments in the manifest and reports progress, so a
segment is written by one process and counted once, and a part is identical whoever encoded it.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import pickle
import queue
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import torch

from vdsr.cpu import thread_budget
from vdsr.pipeline import Upscaler
from vdsr.video.errors import VideoError
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


def _work(
    make_upscaler: Callable[[], Upscaler],
    settings: PartSettings,
    tasks: Any,
    results: Any,
    device: int | None,
    threads: int | None,
) -> None:
    """A worker process: build the upscaler once (on CUDA ``device`` alone, when given; with
    ``threads`` CPU threads, when given), then encode tasks until told to stop (a None task).

    Sends ``("frame", number, done)`` per frame, ``("done", task, frames)`` per part, or
    ``("error", exception)`` once, and stops.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    if device is not None:  # before anything starts CUDA in this fresh (spawned) process
        os.environ["CUDA_VISIBLE_DEVICES"] = str(device)
    if threads is not None:  # read by every CPU engine (vdsr.cpu.thread_budget); torch is already imported
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)
    try:
        upscaler = make_upscaler()
        while (task := tasks.get()) is not None:
            report = partial(_send_frame, results, task.segment.number)
            results.put(("done", task, encode_part(settings, task.segment, task.path, upscaler, report)))
    except BaseException as exc:  # every failure goes to the parent, which raises it
        results.put(("error", _picklable(exc)))


def _send_frame(results: Any, number: int, done: int) -> None:
    results.put(("frame", number, done))


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives the trip to the parent, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any failure to pickle
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class ProcessRunner:
    """``workers`` processes (spawned, so no engine state is shared by fork), each building its upscaler
    once and taking the next segment when it finishes one.

    Args:
        make_upscaler: builds the upscaler in a worker; must pickle (a module-level function or a
            ``functools.partial`` of one).
        workers: number of processes.
        devices: CUDA devices dealt out to the workers in turn (worker i sees ``devices[i % n]`` alone,
            as its device 0); empty: every worker sees what this process sees.
    """

    def __init__(self, make_upscaler: Callable[[], Upscaler], workers: int, devices: Sequence[int] = ()) -> None:
        self.make_upscaler, self.workers, self.devices = make_upscaler, workers, tuple(devices)

    def run(self, settings: PartSettings, tasks: list[Task], report: FrameReport, finished: Finished) -> None:
        if not tasks:
            return
        context = mp.get_context("spawn")
        todo, results = context.Queue(), context.Queue()
        count = min(self.workers, len(tasks))
        for task in [*tasks, *[None] * count]:
            todo.put(task)
        log.info("%d worker processes", count)
        devices = [self.devices[i % len(self.devices)] if self.devices else None for i in range(count)]
        if self.devices:
            log.info("CUDA devices of the workers: %s", ", ".join(map(str, devices)))
        threads = cpu_share(count, bool(self.devices))
        if threads:
            log.info("%d CPU threads per worker", threads)
        workers = [
            context.Process(
                target=_work, args=(self.make_upscaler, settings, todo, results, device, threads), daemon=True
            )
            for device in devices
        ]
        try:
            for worker in workers:
                worker.start()
            remaining = len(tasks)
            while remaining:
                try:
                    message = results.get(timeout=0.5)
                except queue.Empty:
                    _check_alive(workers)
                    continue
                if message[0] == "frame":
                    report(*message[1:])
                elif message[0] == "done":
                    finished(message[1].segment, message[2])
                    remaining -= 1
                else:
                    raise message[1]
        finally:
            for worker in workers:  # on an error or Ctrl-C: stop the others now (their parts stay unfinished)
                if worker.is_alive():
                    worker.terminate()
                worker.join()


def cpu_share(workers: int, on_gpus: bool) -> int | None:
    """Threads per worker process: the CPU's cores shared out, so N workers do not each start a thread
    per core and fight over them. None (leave it to the runtimes) on GPUs or when ``OMP_NUM_THREADS``
    is already set by the user, whose choice stands."""
    if on_gpus or thread_budget():
        return None
    return max(1, (os.cpu_count() or 1) // workers)


def _check_alive(workers: list[Any]) -> None:
    """A worker that died without a word (killed, out of memory) stops the run; finished parts stay."""
    for worker in workers:
        if worker.exitcode not in (None, 0):
            raise VideoError(f"a worker process stopped (exit code {worker.exitcode}); run again to continue")
