"""FramePipeline: frames come out in order, the network runs while the previous frame is encoded,
and an error or a cancel leaves nothing half-done."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from vdsr.video.overlap import FramePipeline


def _frame(value: int) -> np.ndarray:
    return np.full((2, 2, 3), value, np.uint8)


def test_frames_are_encoded_in_order_with_their_timestamps() -> None:
    written: list[tuple[int, int]] = []
    with FramePipeline(lambda f: f + 1, lambda sr, pts: written.append((int(sr[0, 0, 0]), pts)), depth=2) as pipe:
        for i in range(5):
            pipe.push(_frame(i), 10 * i)
        assert len(written) == 3  # two frames still in flight
        pipe.finish()
    assert written == [(i + 1, 10 * i) for i in range(5)]


def test_the_next_frame_is_upscaled_while_the_previous_one_is_encoded() -> None:
    encoding = threading.Event()
    overlapped: list[bool] = []

    def upscale(frame: np.ndarray) -> np.ndarray:
        if frame[0, 0, 0] == 1:  # frame 1 waits until frame 0 is being encoded: serial code would never get there
            overlapped.append(encoding.wait(timeout=10))
        return frame

    def encode(sr: np.ndarray, pts: int) -> None:
        if pts == 0:
            encoding.set()

    with FramePipeline(upscale, encode) as pipe:
        pipe.push(_frame(0), 0)
        pipe.push(_frame(1), 1)
        pipe.finish()
    assert overlapped == [True]


def test_depth_zero_runs_each_frame_in_the_calling_thread() -> None:
    threads: list[str] = []

    def upscale(frame: np.ndarray) -> np.ndarray:
        threads.append(threading.current_thread().name)
        return frame

    with FramePipeline(upscale, lambda sr, pts: None, depth=0) as pipe:
        pipe.push(_frame(0), 0)
    assert threads == [threading.current_thread().name]


def test_an_error_in_the_worker_reaches_the_caller_and_nothing_after_it_is_encoded() -> None:
    written: list[int] = []

    def upscale(frame: np.ndarray) -> np.ndarray:
        if frame[0, 0, 0] == 2:
            raise RuntimeError("stopped at frame 2")
        return frame

    pipe = FramePipeline(upscale, lambda sr, pts: written.append(pts))
    with pytest.raises(RuntimeError, match="stopped at frame 2"), pipe:
        for i in range(5):
            pipe.push(_frame(i), i)
        pipe.finish()
    assert written == [0, 1]


def test_leaving_without_finish_drops_the_frames_in_flight() -> None:
    written: list[int] = []
    with FramePipeline(lambda f: f, lambda sr, pts: written.append(pts), depth=3) as pipe:
        for i in range(3):
            pipe.push(_frame(i), i)
    assert written == [] and not pipe.pending
