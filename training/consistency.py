"""Flip/rotation consistency: teach one network pass what the x8 self-ensemble knows.

The x8 self-ensemble adds 0.1-0.2 dB to a trained VDSR-20 (docs/notes.md), so the
network's outputs for an image and for its flipped or rotated copy disagree. With a
consistency weight, each training step runs the batch and one non-identity flip/rotation
of it through the network in one call; the loss is the mean of both outputs' losses (the
second turned back) against the ground truth, plus the weight times the L2 between them.
With a distillation weight, the target is instead partly the x8 self-ensemble of a frozen
teacher (the weights the run started from), which is what one pass should learn to match.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from training.losses import Loss

__all__ = ["consistency_losses", "ensemble_targets", "step_transform"]

_DIMS = (2, 3)  # (H, W) of an (N, 1, H, W) batch
_ALL_EIGHT = [(q, m) for q in range(4) for m in (False, True)]


def step_transform(seed: int, rank: int, step: int) -> tuple[int, bool]:
    """(quarter turns 1-3, mirrored) for one step; a function of the step only, so resuming repeats it."""
    rng = np.random.default_rng([seed, rank, step, 1])  # [seed, rank, step] draws the step's patches
    return int(rng.integers(1, 4)), bool(rng.integers(0, 2))


def _turn(x: torch.Tensor, quarter_turns: int, mirrored: bool) -> torch.Tensor:
    x = torch.rot90(x, quarter_turns, dims=_DIMS)
    return torch.flip(x, dims=(3,)) if mirrored else x


def _unturn(x: torch.Tensor, quarter_turns: int, mirrored: bool) -> torch.Tensor:
    x = torch.flip(x, dims=(3,)) if mirrored else x
    return torch.rot90(x, -quarter_turns, dims=_DIMS)


def consistency_losses(
    model: Callable[[torch.Tensor], torch.Tensor],
    lr: torch.Tensor,
    hr: torch.Tensor,
    quarter_turns: int,
    mirrored: bool,
    loss_fn: Loss = nn.functional.mse_loss,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(fit, consistency) in fp32: mean ``loss_fn`` of both passes against ``hr``, and L2 between the passes."""
    both = model(torch.cat([lr, _turn(lr, quarter_turns, mirrored)])).float()
    plain, turned = both[: len(lr)], _unturn(both[len(lr) :], quarter_turns, mirrored)
    return 0.5 * (loss_fn(plain, hr) + loss_fn(turned, hr)), nn.functional.mse_loss(plain, turned)


@torch.no_grad()
def ensemble_targets(teacher: nn.Module, lr: torch.Tensor) -> torch.Tensor:
    """``teacher``'s x8 self-ensemble of a batch, in fp32: the 8 flips/rotations in one call, turned back, averaged."""
    outs = teacher(torch.cat([_turn(lr, q, m) for q, m in _ALL_EIGHT])).float().chunk(len(_ALL_EIGHT))
    return torch.stack([_unturn(out, q, m) for out, (q, m) in zip(outs, _ALL_EIGHT, strict=True)]).mean(0)
