"""A long video as a resumable job: open (or continue) the job folder, encode the parts still missing,
join them into the output, remove the folder.

An interruption at any point (Ctrl-C, a kill, a crash, a full disk) leaves the finished parts and
the manifest; running the same request again redoes only what was cut off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from vdsr.video.encoder import step_ticks
from vdsr.video.files import written_whole
from vdsr.video.job import open_job
from vdsr.video.join import AudioWindow, join_parts
from vdsr.video.part import PartSettings
from vdsr.video.runners import SegmentRunner, Task
from vdsr.video.segments import Segment

__all__ = ["JobOutcome", "run_segmented"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    """What a segmented run wrote: frames, audio labels, and how many segments an earlier run had done."""

    frames: int
    audio: tuple[str, ...]
    resumed: int
    resumed_frames: int


class _Progress:
    """Frames done of the whole job (finished segments, earlier runs included, plus those under way)."""

    def __init__(self, done: int, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.done, self.total, self.progress = done, total, progress
        self.running: dict[int, int] = {}
        self.finished: set[int] = set()

    def frame(self, number: int, frames: int) -> None:
        if number in self.finished:
            return  # a late count from a worker whose segment is already counted
        self.running[number] = frames
        self.tell()

    def segment(self, number: int, frames: int) -> None:
        self.finished.add(number)
        self.running.pop(number, None)
        self.done += frames
        self.tell()

    def tell(self) -> None:
        if self.progress is not None:
            done = self.done + sum(self.running.values())
            self.progress(done, max(self.total, done))


def run_segmented(
    dst: Path,
    fmt: str,
    settings: PartSettings,
    segments: list[Segment],
    identity: dict[str, Any],
    audio: AudioWindow,
    runner: SegmentRunner,
    *,
    restart: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> JobOutcome:
    """Encode the missing segments of ``dst``'s job with ``runner``, join them into ``dst``, remove the job folder."""
    total = sum(s.frames for s in segments)
    length = total // len(segments)
    with open_job(dst, identity, segments, restart=restart) as job:
        resumed, resumed_frames = len(job.done), job.frames_done()
        done = f"resuming, {resumed} of {len(segments)} segments ({resumed_frames} of {total} frames) done"
        log.info("%s: %s", job.folder, done if resumed else f"{len(segments)} segments of about {length} frames")
        tally = _Progress(resumed_frames, total, progress)
        tally.tell()

        def finished(segment: Segment, frames: int) -> None:
            job.finish(segment, frames)
            tally.segment(segment.number, frames)

        runner.run(settings, [Task(s, job.part(s.number)) for s in job.todo()], tally.frame, finished)
        starts = [(s.start_pts - settings.shift_pts) * settings.source_tb for s in segments]
        with written_whole(dst) as hidden:
            labels = join_parts(
                [(job.part(s.number), start) for s, start in zip(segments, starts, strict=True)],
                hidden,
                fmt,
                settings.info.path,
                audio,
                last_frame_lasts=_last_frame_lasts(settings),
            )
        job.remove()
    return JobOutcome(frames=job.frames_done(), audio=labels, resumed=resumed, resumed_frames=resumed_frames)


def _last_frame_lasts(settings: PartSettings) -> Fraction:
    """How long the last frame is shown, in seconds, rounded to the source's ticks as the one-pass encoder does."""
    return step_ticks(settings.frame_step, settings.source_tb) * settings.source_tb
