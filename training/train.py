"""Train one VDSR variant: ``python -m training.train --arch plain --repeats 18 ...``.

Resumes from ``<out>/state.pt`` when present (``--stop`` ends a run early, to go
on later), logs loss and Set5 PSNR to ``<out>/log.csv``, writes safetensors
checkpoints (``last`` and ``best``) and a loss/PSNR plot. Runs under ``torchrun``
with DistributedDataParallel (gloo on CPU, nccl on CUDA); rank 0 does all writing.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from engines import load_upscaler
from engines.torch_ import TorchOptions
from training.consistency import consistency_losses, ensemble_targets, step_transform
from training.dataset import PatchBank, PatchStream
from training.losses import FIT_LOSSES, Loss
from training.run_files import plot_log, save_run
from vdsr.checkpoint import load_checkpoint
from vdsr.config import ModelConfig
from vdsr.cpu import cpu_flags, machine_summary
from vdsr.data import data_dir, load_rgb_folder
from vdsr.evaluate import Score, evaluate
from vdsr.models import VDSR, build_model

__all__ = ["TrainConfig", "main", "train"]

log = logging.getLogger(__name__)

EVAL_OPTIONS = TorchOptions(precision="fp32")  # reported quality figures are fp32 on any device
PARALLEL_BANK_FROM = 500  # image versions (about 0.1 s each) that pay for starting a process pool


@dataclass(frozen=True)
class TrainConfig(ModelConfig):
    """Everything that defines a run, saved into every checkpoint: the network (``arch``, ``repeats`` and
    ``channels``, defined and checked by :class:`~vdsr.config.ModelConfig`) and the recipe.

    The fields stay flat, so a run's JSON file and its command-line flags read the same.
    """

    scales: tuple[int, ...] = (2, 3, 4)
    patch_size: int = 41
    batch_size: int = 64
    iterations: int = 20000
    optimizer: str = "adam"  # adam | sgd
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    clip_grad_norm: float = 0.4  # 0 disables; SGD applies it as theta / lr (the paper's adjustable clipping)
    schedule: str = "cosine"  # cosine | step
    warmup: int = 200
    step_every: int = 5000  # step schedule: divide lr by 10 every this many iterations
    min_lr: float = 1e-6
    loss: str = "l1"  # l1 | l2 | l2-balanced (training/losses.py)
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    val_every: int = 250
    val_scales: tuple[int, ...] = (2, 3, 4)
    seed: int = 0
    train_set: str = "T91"
    val_set: str = "Set5"
    init_from: str = ""  # fine-tuning: start from this checkpoint's weights (a resumed run ignores it)
    consistency: float = 0.0  # weight of the flip/rotation consistency term (training/consistency.py); 0: off
    distill: float = 0.0  # share of the loss that targets the teacher's x8 self-ensemble, not the ground truth; 0: off
    teacher: str = ""  # distill's teacher checkpoint (default init_from): any VDSR, e.g. a model trained from scratch
    ema: float = 0.0  # decay of a moving average of the weights, validated and saved instead of them; 0: off
    loss_border: int = 0  # pixels of each patch edge left out of the loss: their context reaches the zero padding
    # The share of patches degraded by each spec of vdsr.degrade (ranges draw per image version); clean: the paper's.
    degradations: dict[str, float] = field(default_factory=lambda: {"clean": 1.0})
    degradation_variants: int = 4  # precomputed versions of each low-resolution image per random spec
    val_degradations: tuple[str, ...] = ()  # validation also scores Set5 under these specs (e.g. jpeg:50)

    @property
    def model(self) -> ModelConfig:
        """The network this run trains."""
        return ModelConfig(self.arch, self.repeats, self.channels)

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from JSON-like values (lists where the fields are tuples)."""
        hints = get_type_hints(cls)
        converted: dict[str, Any] = {k: tuple(v) if get_origin(hints[k]) is tuple else v for k, v in values.items()}
        return cls(**converted)

    @classmethod
    def from_file(cls, path: str | Path) -> dict[str, Any]:
        """The field values a JSON file sets; unknown keys are an error, so typos fail loudly."""
        data = json.loads(Path(path).read_text())
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown keys in {path}: {sorted(unknown)}")
        return data


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype to use, or None for fp32.

    ``auto`` trains in bf16 on a CPU only with AMX. A VDSR-20 step (16 patches of 64x64) took 0.20 s in
    bf16 against 0.80 s in fp32 on a Xeon with AMX, but 1.7 s against 1.1 s on one exposing
    AVX512-BF16 without AMX.
    """
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if "amx_bf16" in (cpu_flags() or set()) else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to ``min_lr`` or a step schedule."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if cfg.schedule == "step":
        return cfg.lr * 0.1 ** (step // cfg.step_every)
    progress = (step - cfg.warmup) / max(1, cfg.iterations - cfg.warmup)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        on_cuda = next(model.parameters()).is_cuda  # fused: one kernel for all parameters, not a few per tensor
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=on_cuda or None)
    raise ValueError(f"optimizer must be adam or sgd, got {cfg.optimizer!r}")


def validation_scores(
    model: VDSR,
    images: list[tuple[str, np.ndarray]],
    scales: Sequence[int],
    *,
    with_ssim: bool = False,
    degradation: str = "clean",
) -> list[Score]:
    """Scores per scale through the same pipeline users run, in fp32; the model is left in train mode."""
    model.eval()
    scores = evaluate(
        {"model": load_upscaler(model, "torch")}, images, scales, with_ssim=with_ssim, degradation=degradation
    )
    model.train()
    return scores


def _init_model(cfg: TrainConfig, model_cfg: ModelConfig) -> VDSR:
    """The ``init_from`` network, checked to be the architecture this run trains."""
    model, info = load_checkpoint(cfg.init_from)
    if info.config != model_cfg:
        raise ValueError(f"--init-from {cfg.init_from} is {info.config.name}, but this run trains {model_cfg.name}")
    return model


def _ensemble_teacher(cfg: TrainConfig, model_cfg: ModelConfig, device: torch.device) -> VDSR | None:
    """The frozen network whose x8 self-ensemble ``distill`` targets (None when off): ``teacher``, else
    ``init_from``. A teacher other than the starting point moves its skill into the starting point's
    basin, where the blends of :mod:`vdsr.blend` work."""
    if not cfg.distill:
        return None
    if not (cfg.teacher or cfg.init_from) or cfg.consistency:
        raise ValueError("distill needs a teacher (teacher or init_from) and no consistency term")
    teacher = load_checkpoint(cfg.teacher)[0] if cfg.teacher else _init_model(cfg, model_cfg)
    return teacher.to(device, memory_format=torch.channels_last).eval().requires_grad_(False)


def _objective(
    cfg: TrainConfig,
    net: nn.Module,
    teacher: VDSR | None,
    loss_fn: Loss,
    lr_in: torch.Tensor,
    hr: torch.Tensor,
    rank: int,
    step: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(fit loss, consistency L2) of one batch, in fp32; the consistency is 0 unless ``cfg.consistency``.

    With ``cfg.loss_border``, only each patch's centre counts: like a pixel inside an inference tile, it
    sees real image context rather than the convolutions' zero padding.
    """
    border = cfg.loss_border

    def centre(x: torch.Tensor) -> torch.Tensor:
        return x[..., border:-border, border:-border] if border else x

    if cfg.consistency:  # a square's centre crop commutes with its flips and rotations
        return consistency_losses(
            lambda x: centre(net(x)), lr_in, centre(hr), *step_transform(cfg.seed, rank, step), loss_fn
        )
    sr = centre(net(lr_in).float())
    loss = loss_fn(sr, centre(hr))
    if teacher is not None:
        target = centre(ensemble_targets(teacher, lr_in))
        loss = (1 - cfg.distill) * loss + cfg.distill * nn.functional.mse_loss(sr, target)
    return loss, torch.zeros((), device=sr.device)


def _moving_average(cfg: TrainConfig, model: VDSR, state: dict[str, Any] | None) -> AveragedModel | None:
    """The exponential moving average of ``model``'s weights (None when ``cfg.ema`` is 0), resumed from ``state``.

    Averaging over the last ~1/(1 - decay) steps smooths out the noise of small batches; it matters for a
    run stopped early or on a flat learning rate (at the end of a cosine decay it scored as the raw weights
    did). Buffers (BatchNorm statistics) are averaged too.
    """
    if not cfg.ema:
        return None
    if not 0 < cfg.ema < 1:
        raise ValueError(f"ema is a decay between 0 and 1 (e.g. 0.999), got {cfg.ema}")
    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema), use_buffers=True)
    if state is not None:
        averaged.load_state_dict(state)
    return averaged


def _setup_distributed() -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        rank = dist.get_rank()
        if torch.cuda.is_available():
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            return rank, world, torch.device("cuda", local)
        return rank, world, torch.device("cpu")
    return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_workers(device: torch.device) -> int:
    """Patch-sampling processes: enough to keep a GPU fed; none on a CPU, whose cores do the training."""
    return min(8, (os.cpu_count() or 1) - 1) if device.type == "cuda" else 0


def patch_bank(cfg: TrainConfig, folder: Path) -> PatchBank:
    """The run's patch bank, kept for the next run on the same data in this process.

    Precomputing codec damage takes minutes of CPU time: a large bank is built on all this process's
    cores, and runs trained one after another in one process (the ablation's variants) pay for it
    once. The files' sizes and times are part of the key.
    """
    files = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(folder.iterdir()) if f.is_file())
    mix = tuple(cfg.degradations.items())
    return _bank(str(folder), files, cfg.scales, cfg.patch_size, mix, cfg.degradation_variants, cfg.seed)


@functools.lru_cache(maxsize=1)
def _bank(
    folder: str,
    files: tuple[tuple[str, int, int], ...],
    scales: tuple[int, ...],
    patch_size: int,
    mix: tuple[tuple[str, float], ...],
    variants: int,
    seed: int,
) -> PatchBank:
    versions = len(files) * (1 + variants * sum(spec != "clean" for spec, _ in mix))
    cores = len(os.sched_getaffinity(0)) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    processes = max(1, cores) if versions >= PARALLEL_BANK_FROM else 1
    return PatchBank(
        folder,
        scales=scales,
        patch_size=patch_size,
        degradations=dict(mix),
        variants=variants,
        seed=seed,
        processes=processes,
    )


def train(
    cfg: TrainConfig,
    out_dir: Path,
    data_root: Path,
    *,
    show_progress: bool = True,
    workers: int | None = None,
    stop: int | None = None,
) -> Path:
    """Run (or resume) training up to step ``stop`` (default: the end); returns the last checkpoint's path.

    ``workers`` sets the DataLoader processes that sample patches (default: :func:`default_workers`);
    the data of every step are the same whatever it is.
    """
    if cfg.loss not in FIT_LOSSES:
        raise ValueError(f"unknown loss {cfg.loss!r}; choose from {sorted(FIT_LOSSES)}")
    if not 0 <= 2 * cfg.loss_border < cfg.patch_size:
        raise ValueError(f"loss_border {cfg.loss_border} leaves nothing of a {cfg.patch_size}px patch to train on")
    rank, world, device = _setup_distributed()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # one patch shape all run long: let cuDNN pick its fastest kernels
    torch.manual_seed(cfg.seed)
    model_cfg = cfg.model
    model = build_model(model_cfg).to(device, memory_format=torch.channels_last)
    optimizer = make_optimizer(cfg, model)
    state_path, log_path = out_dir / "state.pt", out_dir / "log.csv"
    step, best, elapsed, saved_average = 0, -math.inf, 0.0, None
    if state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, best, elapsed = int(state["step"]), float(state["best"]), float(state.get("elapsed", 0.0))
        saved_average = state.get("ema")
        if rank == 0:
            log.info("resumed %s at step %d", out_dir, step)
    elif cfg.init_from:
        model.load_state_dict(_init_model(cfg, model_cfg).state_dict())
    averaged = _moving_average(cfg, model, saved_average)
    shown = model if averaged is None else averaged.module  # the weights validated and saved
    teacher = _ensemble_teacher(cfg, model_cfg, device)
    net: nn.Module = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    autocast_dtype = resolve_precision(cfg.precision, device)
    scaler = torch.amp.GradScaler(device.type, enabled=autocast_dtype == torch.float16)
    bank = patch_bank(cfg, data_root / cfg.train_set)
    val_images = load_rgb_folder(data_root / cfg.val_set) if rank == 0 else []
    per_rank_batch = max(1, cfg.batch_size // world)
    provenance = {
        "config": asdict(cfg),
        "train_set": cfg.train_set,
        "precision": str(autocast_dtype or "fp32"),
        "machine": machine_summary(),
    }
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    stop = cfg.iterations if stop is None else min(stop, cfg.iterations)
    bar = tqdm(total=stop, initial=step, disable=rank != 0 or not show_progress, dynamic_ncols=True)
    model.train()
    stream = PatchStream(bank, per_rank_batch, seed=cfg.seed, rank=rank, start=step, stop=stop)
    workers = default_workers(device) if workers is None else workers
    loader = torch.utils.data.DataLoader(
        stream,
        batch_size=None,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if workers else None,
    )
    running, running_cons = torch.zeros((), device=device), torch.zeros((), device=device)
    running_steps, t0 = 0, time.perf_counter()
    for lr_cpu, hr_cpu, scales in loader:
        lr_in = lr_cpu.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        hr = hr_cpu.to(device, non_blocking=True)
        lr_now = learning_rate(cfg, step)
        for group in optimizer.param_groups:
            group["lr"] = lr_now
        loss_fn = FIT_LOSSES[cfg.loss](scales)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss, cons = _objective(cfg, net, teacher, loss_fn, lr_in, hr, rank, step)
        running_cons += cons.detach()
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss + cfg.consistency * cons).backward()
        scaler.unscale_(optimizer)
        if cfg.clip_grad_norm > 0:
            # SGD: the paper's adjustable clipping, theta / lr; Adam: a plain norm bound.
            clip = cfg.clip_grad_norm / lr_now if cfg.optimizer == "sgd" else cfg.clip_grad_norm
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()
        if averaged is not None:
            averaged.update_parameters(model)
        step += 1
        running += loss.detach()  # summed on the device: reading it every step would stall a GPU
        running_steps += 1
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{running.item() / running_steps:.4f}", lr=f"{lr_now:.2e}")
        if rank == 0 and (step % cfg.val_every == 0 or step == stop):
            elapsed += time.perf_counter() - t0
            scores = validation_scores(shown, val_images, cfg.val_scales, with_ssim=True)
            psnrs = {s.scale: s.psnr for s in scores}
            degraded = {
                spec: validation_scores(shown, val_images, cfg.val_scales, degradation=spec)
                for spec in cfg.val_degradations
            }
            degraded_psnrs = {f"{spec} x{s.scale}": s.psnr for spec, rows in degraded.items() for s in rows}
            mean_psnr = float(np.mean([*psnrs.values(), *degraded_psnrs.values()]))
            new_file = not log_path.exists()
            with log_path.open("a", newline="") as f:
                writer = csv.writer(f)
                extra = ["consistency"] if cfg.consistency else []
                if new_file:
                    writer.writerow(
                        [
                            "step",
                            "loss",
                            "lr",
                            "seconds",
                            *[f"psnr_x{s}" for s in cfg.val_scales],
                            *extra,
                            *[f"psnr_{key}" for key in degraded_psnrs],
                        ]
                    )
                mean_loss = running.item() / max(1, running_steps)
                mean_cons = [f"{running_cons.item() / max(1, running_steps):.4g}"] if extra else []
                writer.writerow(
                    [
                        step,
                        f"{mean_loss:.6f}",
                        f"{lr_now:.3e}",
                        f"{elapsed:.1f}",
                        *[f"{psnrs[s]:.4f}" for s in cfg.val_scales],
                        *mean_cons,
                        *[f"{v:.4f}" for v in degraded_psnrs.values()],
                    ]
                )
            running.zero_()
            running_cons.zero_()
            running_steps = 0
            evaluation = {
                "set": cfg.val_set,
                "step": step,
                "psnr": {str(s.scale): round(s.psnr, 4) for s in scores},
                "ssim": {str(s.scale): round(s.ssim, 4) for s in scores},
                **({"degraded_psnr": {k: round(v, 4) for k, v in degraded_psnrs.items()}} if degraded_psnrs else {}),
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "engine": "torch fp32 (the code of python -m vdsr evaluate)",
            }
            improved = mean_psnr > best
            best = max(best, mean_psnr)
            save_run(
                out_dir,
                model,
                averaged,
                optimizer,
                cfg.scales,
                {**provenance, "step": step, "seconds": round(elapsed)},
                evaluation,
                best=best,
                improved=improved,
                elapsed=elapsed,
            )
            bar.write(
                f"step {step}: "
                + "  ".join(f"x{s} {p:.2f} dB" for s, p in psnrs.items())
                + "".join(f"  {k} {v:.2f}" for k, v in degraded_psnrs.items())
            )
            t0 = time.perf_counter()
    bar.close()
    if rank == 0:
        plot_log(log_path, out_dir / "training.png")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return out_dir / "last.safetensors"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--config", type=Path, help="JSON file with TrainConfig fields (flags override it)")
    p.add_argument("--out", type=Path, help="run folder (default runs/<model name>)")
    p.add_argument("--data-dir", type=Path, help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, help="patch-sampling processes (default: 8 on a GPU, 0 on a CPU)")
    p.add_argument("--stop", type=int, help="end this invocation at this step (the schedule still spans --iterations)")
    for name, kind in get_type_hints(TrainConfig).items():
        flag = "--" + name.replace("_", "-")
        if get_origin(kind) is dict:
            p.add_argument(flag, type=json.loads, help='JSON, e.g. \'{"clean": 0.3, "jpeg:30-95": 0.7}\'')
        elif get_origin(kind) is tuple:
            p.add_argument(flag, type=get_args(kind)[0], nargs="+")
        else:
            p.add_argument(flag, type=kind)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    values = TrainConfig.from_file(args.config) if args.config else {}
    for f in fields(TrainConfig):
        given = getattr(args, f.name, None)
        if given is not None:
            values[f.name] = given
    cfg = TrainConfig.from_values(values)
    out = args.out or Path("runs") / cfg.model.name
    path = train(cfg, out, data_dir(args.data_dir), show_progress=not args.quiet, workers=args.workers, stop=args.stop)
    print(f"checkpoint: {path}")  # noqa: T201 - CLI output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
