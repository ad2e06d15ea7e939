"""Whether a candidate replaces the shipped model: the rule fixed before any run, applied to scores.

A candidate ships only if its mean PSNR over the scales beats the shipped model's on the held-out
video frames AND on Set5. The held-out frames come first: no training run or choice looks at them,
while the study picks its variant on Set5, so Set5 alone would reward tuning on the test set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vdsr.evaluate import Score

__all__ = ["TARGET_X2", "Verdict", "decide", "mean_psnr"]

TARGET_X2 = 37.53  # the paper's Set5 x2, in a single pass


def mean_psnr(scores: Sequence[Score], method: str) -> float:
    """``method``'s PSNR averaged over the scales it was scored at."""
    values = [s.psnr for s in scores if s.method == method and s.degradation == "clean"]
    if not values:
        raise ValueError(f"no scores for {method!r}")
    return float(np.mean(values))


@dataclass(frozen=True)
class Verdict:
    """The two margins the rule reads (candidate minus shipped, dB) and Set5 x2 against the paper."""

    candidate: str
    shipped: str
    holdout_gain: float
    set5_gain: float
    set5_x2: float | None

    @property
    def ship(self) -> bool:
        return self.holdout_gain > 0 and self.set5_gain > 0

    def text(self) -> str:
        """One line: SHIP or DON'T SHIP, and why."""
        margins = (
            f"{self.holdout_gain:+.3f} dB on the held-out frames and {self.set5_gain:+.3f} dB on Set5 "
            "(mean over the scales, candidate minus shipped)"
        )
        if self.ship:
            head = f"SHIP {self.candidate}: it beats {self.shipped} on both sets"
        else:
            sets = (("the held-out frames", self.holdout_gain), ("Set5", self.set5_gain))
            lost = [name for name, gain in sets if gain <= 0]
            head = f"DON'T SHIP {self.candidate}: it does not beat {self.shipped} on {' or '.join(lost)}"
        target = ""
        if self.set5_x2 is not None:
            met = "meets" if self.set5_x2 >= TARGET_X2 else "misses"
            target = f"; Set5 x2 {self.set5_x2:.2f} dB {met} the paper's {TARGET_X2}"
        return f"{head}: {margins}{target}."


def decide(candidate: str, shipped: str, holdout: Sequence[Score], set5: Sequence[Score]) -> Verdict:
    """Apply the rule to scores of both methods (as :func:`vdsr.evaluate.evaluate` returns them)."""
    x2 = [s.psnr for s in set5 if s.method == candidate and s.scale == 2 and s.degradation == "clean"]
    return Verdict(
        candidate=candidate,
        shipped=shipped,
        holdout_gain=mean_psnr(holdout, candidate) - mean_psnr(holdout, shipped),
        set5_gain=mean_psnr(set5, candidate) - mean_psnr(set5, shipped),
        set5_x2=x2[0] if x2 else None,
    )
