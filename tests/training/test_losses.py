"""Fit losses: l2-balanced weighs each scale of a batch equally in dB."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from training.losses import FIT_LOSSES, scale_balanced_mse
from training.train import TrainConfig, train

QUICK = {"repeats": 1, "channels": 16, "batch_size": 4, "patch_size": 24, "val_scales": (2,), "warmup": 2}


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


def test_train_takes_the_balanced_loss_and_refuses_unknown_names(small_data: Path, tmp_path: Path) -> None:
    assert set(FIT_LOSSES) == {"l1", "l2", "l2-balanced"}
    out = tmp_path / "run"
    train(TrainConfig(**QUICK, iterations=2, val_every=2, loss="l2-balanced", consistency=1.0), out, small_data,
          show_progress=False)
    assert (out / "last.safetensors").exists()
    with pytest.raises(ValueError, match="unknown loss 'l3'"):
        train(TrainConfig(**QUICK, iterations=1, loss="l3"), tmp_path / "bad", small_data, show_progress=False)
    assert not (tmp_path / "bad").exists()
