"""Fit losses: l2-balanced weighs each scale of a batch equally in dB."""

from __future__ import annotations

import pytest
import torch

from training.losses import scale_balanced_mse


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    scales = torch.tensor([2, 4, 2, 3, 4, 4])
    hr = torch.rand(6, 1, 8, 8)
    noise = torch.randn(6, 1, 8, 8) * scales.view(-1, 1, 1, 1).float() ** 2 * 0.01  # x4 errors ~4x x2's
    return (hr + noise).requires_grad_(), hr, scales


def test_value_is_the_mean_of_the_scales_mses() -> None:
    sr, hr, scales = _batch()
    per_scale = [((sr - hr)[scales == s] ** 2).mean() for s in (2, 3, 4)]
    assert scale_balanced_mse(scales)(sr, hr).item() == pytest.approx(torch.stack(per_scale).mean().item(), rel=1e-6)


def test_gradient_is_that_of_the_mean_log_mse_across_scales() -> None:
    sr, hr, scales = _batch()
    scale_balanced_mse(scales)(sr, hr).backward()
    balanced = sr.grad.clone()
    sr.grad = None
    per_scale = torch.stack([((sr - hr)[scales == s] ** 2).mean() for s in (2, 3, 4)])
    (per_scale.detach().mean() * per_scale.log().mean()).backward()
    torch.testing.assert_close(balanced, sr.grad)
    # so x2, with the smallest errors, gets a larger share of the gradient than under plain L2
    sr.grad = None
    torch.nn.functional.mse_loss(sr, hr).backward()
    share = lambda g: (g[scales == 2].norm() / g.norm()).item()  # noqa: E731
    assert share(balanced) > 2 * share(sr.grad)


def test_one_scale_is_plain_mse() -> None:
    sr, hr, _ = _batch()
    same = torch.full((6,), 3)
    torch.testing.assert_close(scale_balanced_mse(same)(sr, hr), torch.nn.functional.mse_loss(sr, hr))
