"""Segments on a Ray cluster: one actor per worker builds the upscaler once and encodes segment after
segment, reading the source from and writing parts to a path every node sees.

No scheduler of our own: Ray restarts a lost actor and retries its task, and a retried segment is
harmless because a part is written whole under its name or not at all, and only this process
records it in the manifest. Ray is optional and imported only here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from vdsr.pipeline import Upscaler
from vdsr.video.errors import RAY_MISSING, VideoError
from vdsr.video.part import PartSettings, encode_part
from vdsr.video.runners import Finished, FrameReport, Task

__all__ = ["RayRunner"]

log = logging.getLogger(__name__)

_RETRIES = 3  # a lost actor is restarted, and its segment retried, this many times


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise VideoError(RAY_MISSING) from None
    return ray


class _SegmentActor:
    """Lives on a node of the cluster: builds the upscaler once, then encodes the segments it is given."""

    def __init__(self, make_upscaler: Callable[[], Upscaler]) -> None:
        self.upscaler = make_upscaler()

    def encode(self, settings: PartSettings, task: Task, frames: Any) -> tuple[Task, int]:
        """Encode ``task``'s segment, putting (segment number, frames done) on the ``frames`` queue."""
        report = partial(_put, frames, task.segment.number)
        return task, encode_part(settings, task.segment, task.path, self.upscaler, report)


def _put(frames: Any, number: int, done: int) -> None:
    frames.put((number, done))


class RayRunner:
    """Encodes segments on the Ray cluster at ``address``.

    Args:
        make_upscaler: builds the upscaler on each actor; must pickle.
        workers: actors, spread over the nodes; None: one per node.
        address: passed to ``ray.init``; ``""`` takes Ray's default (``RAY_ADDRESS``, a cluster
            started on this machine, or a new local one). Ignored when Ray is already initialised.
    """

    def __init__(self, make_upscaler: Callable[[], Upscaler], workers: int | None, address: str) -> None:
        self.ray = _import_ray()
        self.make_upscaler, self.workers, self.address = make_upscaler, workers, address

    def run(self, settings: PartSettings, tasks: list[Task], report: FrameReport, finished: Finished) -> None:
        if not tasks:
            return
        ray = self.ray
        from ray.util import ActorPool
        from ray.util.queue import Empty, Queue

        if not ray.is_initialized():
            ray.init(address=self.address or None, log_to_driver=False)
        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        count = min(self.workers or max(1, nodes), len(tasks))
        log.info("Ray: %d actors on %d nodes", count, nodes)
        frames = Queue()
        actor = ray.remote(max_restarts=_RETRIES, max_task_retries=_RETRIES)(_SegmentActor)
        actors = [actor.options(scheduling_strategy="SPREAD").remote(self.make_upscaler) for _ in range(count)]
        pool = ActorPool(actors)
        try:
            for task in tasks:
                pool.submit(lambda a, t: a.encode.remote(settings, t, frames), task)
            while pool.has_next():
                try:
                    task, done = pool.get_next_unordered(timeout=0.2)
                except TimeoutError:
                    _drain(frames, Empty, report)
                    continue
                _drain(frames, Empty, report)
                finished(task.segment, done)
        finally:
            for each in actors:
                ray.kill(each)
            ray.kill(frames.actor)


def _drain(frames: Any, empty: type[Exception], report: FrameReport) -> None:
    try:
        while True:
            report(*frames.get_nowait())
    except empty:
        return
