"""Frozen configuration dataclasses shared by models, training and engines."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["ModelConfig"]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one VDSR variant.

    Attributes:
        arch: ``plain`` (conv+ReLU), ``bn`` (conv+BN+ReLU) or ``resbn``
            (conv+BN+ReLU blocks, each with its own skip connection).
        repeats: number of middle 64->64 blocks; the paper's VDSR-20 has 18.
        channels: feature channels of the middle blocks.
    """

    arch: str = "plain"
    repeats: int = 18
    channels: int = 64

    def __post_init__(self) -> None:
        from vdsr.models.vdsr import ARCHS  # the registry of block types is the one list of architectures

        if self.arch not in ARCHS:
            raise ValueError(f"unknown arch {self.arch!r}; choose from {sorted(ARCHS.names())}")
        if self.repeats < 0 or self.channels < 1:
            raise ValueError("repeats must be >= 0 and channels >= 1")

    @property
    def depth(self) -> int:
        """Total number of convolutions (head + repeats + tail)."""
        return self.repeats + 2

    @property
    def receptive_radius(self) -> int:
        """Pixels of context each output pixel sees on every side (one per 3x3 conv)."""
        return self.depth

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``vdsr-20`` or ``vdsr-bn-20`` (by total conv layers)."""
        prefix = "vdsr" if self.arch == "plain" else f"vdsr-{self.arch}"
        suffix = "" if self.channels == 64 else f"-c{self.channels}"
        return f"{prefix}-{self.depth}{suffix}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a dict, rejecting unknown keys so typos fail loudly."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls.from_dict(json.loads(text))
