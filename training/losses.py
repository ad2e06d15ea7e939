"""Fit losses by name: ``l1``, ``l2``, and ``l2-balanced``, which weighs the scales of a batch equally in dB.

With x2, x3 and x4 mixed in a batch, plain L2 is dominated by x4, whose errors are about four
times x2's (Set5: 31.3 against 37.5 dB). ``l2-balanced`` scales each scale's MSE by the inverse of
its own (detached) value, times the batch's mean: the loss keeps plain L2's size, and its gradient
is that of the mean over scales of log MSE, that is of the mean PSNR across scales, the figure
the models are judged by.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["FIT_LOSSES", "Loss", "scale_balanced_mse"]

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def scale_balanced_mse(scales: torch.Tensor) -> Loss:
    """MSE over (N, 1, H, W) batches whose patch ``i`` is at ``scales[i]``, each scale weighted equally in dB."""
    members = (scales[:, None] == scales.unique()[None, :]).float()  # (N, scales in the batch); on the CPU: no GPU sync

    def loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        onehot = members.to(sr.device, non_blocking=True)
        per_scale = ((sr - hr).pow(2).mean(dim=(1, 2, 3)) @ onehot) / onehot.sum(0)
        weights = per_scale.detach().mean() / per_scale.detach().clamp_min(1e-12)
        return (weights * per_scale).mean()

    return loss


# TrainConfig.loss -> factory taking a batch's per-patch scales (only l2-balanced looks at them)
FIT_LOSSES: dict[str, Callable[[torch.Tensor], Loss]] = {
    "l1": lambda scales: nn.functional.l1_loss,
    "l2": lambda scales: nn.functional.mse_loss,
    "l2-balanced": scale_balanced_mse,
}
