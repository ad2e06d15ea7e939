"""What the ablation study produces: each variant's Set5 scores and training time, and which one won.

Kept apart from the training loop so the report, the choice of the combined model and the tests can
use results without training anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vdsr.config import ModelConfig
from vdsr.evaluate import Score

__all__ = ["StudyResult", "Variant", "scores_from_json", "scores_to_json"]


@dataclass(frozen=True)
class Variant:
    """One trained variant: its architecture, Set5 scores and training time (seconds, validation excluded)."""

    config: ModelConfig
    scores: list[Score]
    seconds: float

    def mean_psnr(self) -> float:
        """The mean PSNR over the scored scales: the one number the study ranks variants by."""
        return float(np.mean([s.psnr for s in self.scores]))


@dataclass(frozen=True)
class StudyResult:
    """Bicubic's scores and the variants trained so far, in the order they were planned."""

    bicubic: list[Score]
    variants: list[Variant]

    @property
    def scores(self) -> list[Score]:
        return self.bicubic + [s for v in self.variants for s in v.scores]

    def best(self) -> Variant:
        """The highest mean PSNR; a tie goes to the cheaper (fewer repeats), then to the planned order."""
        if not self.variants:
            raise ValueError("no variant has finished")
        return max(self.variants, key=lambda v: (round(v.mean_psnr(), 4), -v.config.repeats))


def scores_to_json(scores: Sequence[Score]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(s) for s in scores]


def scores_from_json(rows: Sequence[dict[str, Any]]) -> list[Score]:
    return [Score(**{**r, "per_image": {k: tuple(v) for k, v in r["per_image"].items()}}) for r in rows]
