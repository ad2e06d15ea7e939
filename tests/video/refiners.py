"""Refine callables for the segment tests, importable by name so that a child process and this one
build upscalers a job manifest calls the same (it records the refine callable's class)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch

from vdsr.pipeline import Upscaler


class Passthrough:
    """Returns the luma unchanged, after ``delay`` seconds; raises ``error`` on call ``fail_after + 1``."""

    def __init__(self, delay: float = 0.0, fail_after: int | None = None, error: BaseException | None = None) -> None:
        self.delay, self.fail_after, self.error, self.calls = delay, fail_after, error, 0

    def __call__(self, y: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise self.error or RuntimeError("refine failed")
        if self.delay:
            time.sleep(self.delay)
        return y


def passthrough(delay: float = 0.0, fail_after: int | None = None, error: BaseException | None = None) -> Upscaler:
    """An upscaler whose network changes nothing (bicubic through the network path), one call per frame."""
    return Upscaler(Passthrough(delay, fail_after, error), receptive_radius=2)


class Crash:
    """Ends its process at once (as a kill or an out-of-memory would) on call ``after + 1``."""

    def __init__(self, after: int) -> None:
        self.after, self.calls = after, 0

    def __call__(self, y: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls > self.after:
            os._exit(9)
        return y


def crashing(after: int) -> Upscaler:
    """An upscaler that ends its process on frame ``after + 1``; named like :func:`passthrough`'s in a manifest."""
    return Upscaler(Crash(after), receptive_radius=2)


def on_device(log_dir: str, workers: int) -> Upscaler:
    """:func:`passthrough`, after noting in ``log_dir`` which CUDA devices and how many CPU threads this
    process was given and waiting (up to a minute) for the other workers to do the same, so that none
    finishes the job alone."""
    threads = f"{os.environ.get('OMP_NUM_THREADS', 'unset')} {torch.get_num_threads()}"
    (Path(log_dir) / f"{os.getpid()}.threads").write_text(threads)
    (Path(log_dir) / f"{os.getpid()}.device").write_text(os.environ.get("CUDA_VISIBLE_DEVICES", "all"))
    deadline = time.monotonic() + 60
    while len(list(Path(log_dir).glob("*.device"))) < workers and time.monotonic() < deadline:
        time.sleep(0.05)
    return passthrough()
