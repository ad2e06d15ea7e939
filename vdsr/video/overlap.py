"""Frames upscaled on a worker thread while the calling thread decodes the next and encodes the last.

The network holds the cores for most of a frame's time, but decoding, the colour conversions and
x264 leave gaps in which it could already run. PyTorch, OpenVINO, ONNX Runtime and FFmpeg release
the GIL while they compute, so one worker thread is enough to overlap them; frames still come out
in order, one at a time, and an error in the worker reaches the caller at the next frame.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

import numpy as np

__all__ = ["FramePipeline"]

Frame = TypeVar("Frame")  # a decoded av.VideoFrame in the video code

DEPTH = 1  # frames in flight by default; 0 runs each frame in the calling thread (the benchmark's serial baseline)


class FramePipeline(Generic[Frame]):
    """``push`` frames in order; each is upscaled by ``upscale`` on a worker thread and then handed,
    in order, to ``encode`` on the calling thread, at most ``depth`` frames behind.

    Use as a context manager and call :meth:`finish` at the end: leaving the block without it (an
    error, a cancelled job) drops the frames still in flight without encoding them.
    """

    def __init__(
        self,
        upscale: Callable[[Frame], np.ndarray],
        encode: Callable[[np.ndarray, int], None],
        *,
        depth: int | None = None,
    ) -> None:
        depth = DEPTH if depth is None else depth
        if depth < 0:
            raise ValueError(f"depth must be >= 0, got {depth}")
        self.upscale, self.encode, self.depth = upscale, encode, depth
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vdsr-upscale") if depth else None
        self.pending: deque[tuple[Future[np.ndarray], int]] = deque()

    def push(self, frame: Frame, pts: int) -> None:
        """Start upscaling ``frame`` (to be encoded at ``pts``); encode the frames now ``depth`` behind."""
        if self.pool is None:
            self.encode(self.upscale(frame), pts)
            return
        self.pending.append((self.pool.submit(self.upscale, frame), pts))
        while len(self.pending) > self.depth:
            self._encode_oldest()

    def finish(self) -> None:
        """Encode every frame still in flight."""
        while self.pending:
            self._encode_oldest()

    def _encode_oldest(self) -> None:
        future, pts = self.pending.popleft()
        self.encode(future.result(), pts)

    def __enter__(self) -> FramePipeline[Frame]:
        return self

    def close(self) -> None:
        """Drop the frames still in flight (after an error or a cancel) and stop the worker."""
        for future, _ in self.pending:
            future.cancel()
        self.pending.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
