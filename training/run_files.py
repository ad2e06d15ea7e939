"""What a training run writes: checkpoints, the resumable state and the loss/PSNR plot."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import torch
from torch.optim.swa_utils import AveragedModel

from vdsr.checkpoint import save_checkpoint
from vdsr.models import VDSR

__all__ = ["plot_log", "save_run"]


def save_run(
    out_dir: Path,
    model: VDSR,
    averaged: AveragedModel | None,
    optimizer: torch.optim.Optimizer,
    scales: tuple[int, ...],
    training: dict[str, Any],
    evaluation: dict[str, Any],
    *,
    best: float,
    improved: bool,
    elapsed: float,
) -> None:
    """Write ``last`` (and ``best`` when improved) checkpoints and the resumable state, each atomically.

    With a moving average of the weights, the checkpoints hold the average; the state holds both.
    """
    names = ["last.safetensors", "best.safetensors"] if improved else ["last.safetensors"]
    weights = model if averaged is None else averaged.module
    for name in names:
        save_checkpoint(out_dir / name, weights, scales=scales, training=training, evaluation=evaluation)
    state = {
        "model": model.state_dict(),
        **({"ema": averaged.state_dict()} if averaged is not None else {}),
        "optimizer": optimizer.state_dict(),
        "step": training["step"],
        "best": best,
        "elapsed": elapsed,
    }
    tmp = out_dir / "state.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(out_dir / "state.pt")


def plot_log(log_path: Path, out: Path) -> None:
    """Loss and validation PSNR against iterations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with log_path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    steps = [int(r["step"]) for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(steps, [float(r["loss"]) for r in rows])
    ax1.set(xlabel="iteration", ylabel="training loss", yscale="log")
    for key in (k for k in rows[0] if k.startswith("psnr_")):
        ax2.plot(steps, [float(r[key]) for r in rows], label=key.removeprefix("psnr_"))
    ax2.set(xlabel="iteration", ylabel="Set5 PSNR (dB)")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
