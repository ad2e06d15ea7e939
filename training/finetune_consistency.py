"""Fine-tune with a flip/rotation consistency term: teach one pass what the x8 self-ensemble knows.

The x8 self-ensemble added about 0.2 dB to the GPU-trained VDSR-20 (docs/training.md), so
the network's outputs for an image and for its flipped or rotated copy disagree. Each
step here runs a batch and one random non-identity flip/rotation of it through the
network in one call. The loss is the mean L2 of both outputs (the second turned back)
against the ground truth, plus ``consistency`` times the L2 between the two outputs.
Everything else (patches, schedule, optimiser) is :mod:`training.train`'s.

    python -m training.finetune_consistency --init-from base.safetensors --out ft.safetensors \\
        --config runs/vdsr-20/config-finetune.json --consistency 2 --stop 400
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import asdict, fields
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from training.dataset import PatchBank, PatchStream
from training.train import TrainConfig, learning_rate, validation_scores
from vdsr.checkpoint import load_checkpoint, save_checkpoint
from vdsr.cpu import machine_summary
from vdsr.data import data_dir, load_rgb_folder
from vdsr.models import VDSR

__all__ = ["consistency_losses", "finetune", "main"]

_DIMS = (2, 3)  # (H, W) of an (N, 1, H, W) batch


def _turn(x: torch.Tensor, quarter_turns: int, mirrored: bool) -> torch.Tensor:
    x = torch.rot90(x, quarter_turns, dims=_DIMS)
    return torch.flip(x, dims=(3,)) if mirrored else x


def _unturn(x: torch.Tensor, quarter_turns: int, mirrored: bool) -> torch.Tensor:
    x = torch.flip(x, dims=(3,)) if mirrored else x
    return torch.rot90(x, -quarter_turns, dims=_DIMS)


def consistency_losses(
    model: nn.Module, lr: torch.Tensor, hr: torch.Tensor, quarter_turns: int, mirrored: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """(fit, consistency): mean L2 of both passes against ``hr``, and L2 between the two passes."""
    both = model(torch.cat([lr, _turn(lr, quarter_turns, mirrored)]))
    plain, turned = both[: len(lr)], _unturn(both[len(lr) :], quarter_turns, mirrored)
    mse = nn.functional.mse_loss
    return 0.5 * (mse(plain, hr) + mse(turned, hr)), mse(plain, turned)


def _val_scores(model: VDSR, images: list, scales: list[int], with_ssim: bool) -> dict[str, dict[str, float]]:
    scores = validation_scores(model, images, scales, with_ssim=with_ssim)
    result = {"psnr": {str(s.scale): round(s.psnr, 4) for s in scores}}
    if with_ssim:
        result["ssim"] = {str(s.scale): round(s.ssim, 4) for s in scores}
    return result


def finetune(
    init_from: Path,
    out: Path,
    data_root: Path,
    cfg: TrainConfig,
    *,
    consistency: float,
    stop: int,
    transform_seed: int = 12345,
    show_progress: bool = True,
) -> Path:
    """Fine-tune ``init_from`` for ``stop`` steps of ``cfg``'s schedule; write ``out`` and ``out``.csv.

    ``out`` is rewritten at every validation and at the end, with the recipe, the base
    checkpoint's own training record and the Set5 figures in its metadata.
    """
    torch.manual_seed(cfg.seed)
    model, base = load_checkpoint(init_from)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    bank = PatchBank(data_root / cfg.train_set, scales=cfg.scales, patch_size=cfg.patch_size)
    stream = PatchStream(bank, cfg.batch_size, seed=cfg.seed, rank=0, start=0, stop=stop)
    val_images = load_rgb_folder(data_root / cfg.val_set)
    transforms = np.random.default_rng(transform_seed)
    recipe = {"config": {**asdict(cfg), "init_from": str(init_from)}, "consistency": consistency, "stop": stop,
              "transform_seed": transform_seed, "base": base.training, "machine": machine_summary(),
              "precision": "fp32", "train_set": cfg.train_set, "script": "training.finetune_consistency"}
    log_path = out.with_suffix(".csv")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", newline="") as f:
        csv.writer(f).writerow(["step", "lr", "fit_l2", "consistency_l2", "seconds",
                                *(f"psnr_x{s}" for s in cfg.val_scales)])
    start, fit_sum, cons_sum, count = time.perf_counter(), 0.0, 0.0, 0
    bar = tqdm(total=stop, disable=not show_progress, dynamic_ncols=True)
    for step, (lr_in, hr) in enumerate(stream, start=1):
        lr_now = learning_rate(cfg, step - 1)
        for group in optimizer.param_groups:
            group["lr"] = lr_now
        quarter_turns, mirrored = int(transforms.integers(1, 4)), bool(transforms.integers(0, 2))
        fit, cons = consistency_losses(model, lr_in, hr, quarter_turns, mirrored)
        optimizer.zero_grad(set_to_none=True)
        (fit + consistency * cons).backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
        optimizer.step()
        fit_sum, cons_sum, count = fit_sum + fit.item(), cons_sum + cons.item(), count + 1
        bar.update(1)
        if step % cfg.val_every and step != stop:
            continue
        final = step == stop
        scores = _val_scores(model, val_images, list(cfg.val_scales), with_ssim=final)
        seconds = time.perf_counter() - start
        with log_path.open("a", newline="") as f:
            csv.writer(f).writerow([step, f"{lr_now:.4g}", f"{fit_sum / count:.6g}", f"{cons_sum / count:.4g}",
                                    round(seconds), *scores["psnr"].values()])
        fit_sum, cons_sum, count = 0.0, 0.0, 0
        bar.write(f"step {step}: " + ", ".join(f"x{s} {p:.4f} dB" for s, p in scores["psnr"].items()))
        evaluation = {**scores, "set": cfg.val_set, "step": step, "date": datetime.now(timezone.utc).isoformat(),
                      "engine": "torch fp32 on the CPU (the code of python -m vdsr evaluate)"}
        save_checkpoint(out, model, scales=list(base.scales),
                        training={**recipe, "step": step, "seconds": round(seconds)}, evaluation=evaluation)
    bar.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.finetune_consistency", description=__doc__.split("\n\n")[0])
    p.add_argument("--init-from", required=True, type=Path, help="checkpoint to start from")
    p.add_argument("--out", required=True, type=Path, help="safetensors file to write (a .csv log goes beside it)")
    p.add_argument("--config", type=Path, help="a training config JSON (learning rate, schedule, patches, ...)")
    p.add_argument("--consistency", type=float, default=2.0, help="weight of the consistency term (default 2)")
    p.add_argument("--stop", type=int, default=None, help="steps to run (default: the config's iterations)")
    p.add_argument("--data-dir", help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    names = {f.name for f in fields(TrainConfig)}
    values = json.loads(args.config.read_text()) if args.config else {}
    cfg = TrainConfig(**{k: v for k, v in values.items() if k in names and k != "init_from"})
    finetune(args.init_from, args.out, data_dir(args.data_dir), cfg, consistency=args.consistency,
             stop=args.stop or cfg.iterations, show_progress=not args.quiet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
