"""Cut a frame range into segments of a few seconds, each upscaled and encoded on its own.

A segment is the unit of resuming: an interrupted job loses at most the segment it was on.
Boundaries move forward to a source keyframe when one is near, so a segment's seek lands on its
first frame instead of decoding frames only to drop them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from vdsr.video.index import FrameIndex, FrameRange

__all__ = ["Segment", "plan_segments"]


@dataclass(frozen=True)
class Segment:
    """Frames ``first`` to ``stop - 1``: decoded from ``start_pts`` up to (not including) ``end_pts``.

    Timestamps are the source's, in its time base; ``end_pts`` is None for a segment that runs to the
    end of the video.
    """

    number: int
    first: int
    stop: int
    start_pts: int
    end_pts: int | None

    @property
    def frames(self) -> int:
        return self.stop - self.first

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        return cls(**{key: data[key] for key in ("number", "first", "stop", "start_pts", "end_pts")})


def plan_segments(index: FrameIndex, frames: FrameRange, length: int) -> list[Segment]:
    """Segments of about ``length`` frames covering ``frames``.

    A boundary moves to the first keyframe within half a segment after it; the last segment takes a
    remainder shorter than half a segment, so none is tiny. A range of under 1.5 segments is one segment.
    """
    if length < 1:
        raise ValueError(f"segment length must be >= 1 frame, got {length}")
    bounds = [frames.first]
    while True:
        cut = bounds[-1] + length
        if cut + length // 2 >= frames.stop:
            break
        cut = next((i for i in range(cut, cut + length // 2) if index.keyframes[i]), cut)
        bounds.append(cut)
    bounds.append(frames.stop)
    return [
        Segment(number=n, first=a, stop=b, start_pts=index.pts[a], end_pts=index.end_pts(b))
        for n, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]
