"""Blends of a model and its fine-tune: a dial between the two skills, with no training.

A fine-tune and the weights it started from lie in one basin, so their weighted average, parameter by
parameter, is a working network between them (Wortsman et al., "Robust fine-tuning of zero-shot
models", 2022; Real-ESRGAN's denoise strength does the same). Between the clean ``vdsr-20`` and its
real-world fine-tune it sets how much compression damage is removed against how much fine detail is
kept, and lightly compressed input scores best in between (docs/real-world.md).
"""

from __future__ import annotations

from pathlib import Path

import torch

from vdsr.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vdsr.models import VDSR

__all__ = ["SEPARATOR", "blend", "blend_checkpoints", "format_strength", "split_strength"]

SEPARATOR = "@"  # ``vdsr-20-real@0.75``: the fine-tune at 0.75 strength


def blend(a: VDSR, b: VDSR, alpha: float) -> VDSR:
    """``(1 - alpha) * a + alpha * b``, parameter by parameter, as a new network."""
    if a.config != b.config:
        raise ValueError(f"cannot blend {a.config.name} with {b.config.name}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    sb = b.state_dict()
    blended = {
        k: torch.lerp(v.float(), sb[k].float(), alpha).to(v.dtype) if v.is_floating_point() else sb[k]
        for k, v in a.state_dict().items()
    }
    out = VDSR(a.config)
    out.load_state_dict(blended)
    return out.eval()


def format_strength(strength: float) -> str:
    """The canonical spelling of a strength in a model name: ``0.75``, ``0.5``."""
    return f"{strength:.2f}".rstrip("0").rstrip(".")


def split_strength(name: str) -> tuple[str, float] | None:
    """``"vdsr-20-real@0.75"`` -> ``("vdsr-20-real", 0.75)``; None for a name without a strength.

    Raises:
        CheckpointError: the strength is not a number from 0 to 1 in steps of 0.01.
    """
    base, sep, text = name.rpartition(SEPARATOR)
    if not sep or not base:
        return None
    try:
        strength = float(text)
    except ValueError:
        strength = -1.0
    if not 0.0 <= strength <= 1.0 or round(strength, 2) != strength:
        raise CheckpointError(f"bad strength in {name!r}: give 0 to 1 in steps of 0.01, as in {base}@0.75")
    return base, strength


def blend_checkpoints(a: Path, b: Path, alpha: float, out: Path) -> Path:
    """Write the blend of the checkpoints ``a`` and ``b`` to ``out`` (atomically), with ``b``'s scales."""
    model_a, info_a = load_checkpoint(a)
    model_b, info_b = load_checkpoint(b)
    training = {"blend": {"a": a.name, "b": b.name, "alpha": alpha}, "b": info_b.training}
    return save_checkpoint(out, blend(model_a, model_b, alpha), scales=info_b.scales, training=training)
