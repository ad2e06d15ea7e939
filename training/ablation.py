"""The seed's ablation study: every variant trained at one fixed, equal budget.

``python -m training.ablation --iterations 2000`` trains plain VDSR at 12/18/24/30
middle blocks and the BatchNorm and residual-BatchNorm variants (at 18 blocks, or
at every depth with ``--all-depths``), evaluates each on Set5 at x2/x3/x4 against
bicubic, and writes docs/ablation.md and docs/ablation.png, rewritten after every variant. Each run
resumes from its own folder, so an interrupted study continues where it stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path

from engines import load_upscaler
from training.train import TrainConfig, train
from vdsr.checkpoint import load_checkpoint
from vdsr.config import ModelConfig
from vdsr.cpu import machine_summary
from vdsr.data import data_dir, load_rgb_folder
from vdsr.evaluate import PAPER_SET5, Score, evaluate, format_table
from vdsr.pipeline import Upscaler

__all__ = ["main", "plan", "run_ablation"]


def plan(depths: list[int], archs: list[str], all_depths: bool) -> list[ModelConfig]:
    """Plain at every depth; the other block types at 18 repeats unless ``all_depths``."""
    configs = [ModelConfig("plain", r) for r in depths]
    for arch in (a for a in archs if a != "plain"):
        configs += [ModelConfig(arch, r) for r in (depths if all_depths else [18])]
    return configs


def run_ablation(
    configs: list[ModelConfig],
    base: TrainConfig,
    out_dir: Path,
    data_root: Path,
    scales: list[int],
    on_result: Callable[[list[Score]], None] | None = None,
) -> list[Score]:
    """Train (or resume) every config at the same budget, scoring each on Set5 as soon as it is trained.

    ``on_result`` gets the scores so far after each variant, so a study cut short still leaves a report.
    """
    images = load_rgb_folder(data_root / base.val_set)
    scores = evaluate({"bicubic": Upscaler(None)}, images, scales)
    for cfg in configs:
        run = dataclasses.replace(base, arch=cfg.arch, repeats=cfg.repeats)  # the budget and width come from base
        model, info = load_checkpoint(train(run, out_dir / cfg.name, data_root))
        scores += evaluate({info.config.name: load_upscaler(model, "torch")}, images, scales)
        if on_result is not None:
            on_result(scores)
    return scores


def write_report(scores: list[Score], base: TrainConfig, docs: Path) -> None:
    """docs/ablation.md (table, budget, date, machine) and docs/ablation.png (PSNR gain by variant)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    docs.mkdir(parents=True, exist_ok=True)
    budget = (
        f"{base.iterations} iterations of batch {base.batch_size} ({base.patch_size}x{base.patch_size} "
        f"patches from {base.train_set}, scales {'/'.join(map(str, base.scales))} mixed), "
        f"{base.optimizer} lr {base.lr} with {base.schedule} decay, {base.loss} loss"
    )
    table = format_table(scores, paper=PAPER_SET5)
    text = (
        f"# Ablation: VDSR variants at an equal budget\n\nMeasured {date.today()} on {machine_summary()}.\n\n"
        f"Budget per variant: {budget}.\n\nSet5, PSNR dB / SSIM on Y, `scale` pixels shaved; inputs are "
        f"bicubic downscales of the ground truth.\n\n{table}\n\n![PSNR gain](ablation.png)\n"
    )
    (docs / "ablation.md").write_text(text)
    methods = [m for m in dict.fromkeys(s.method for s in scores) if m != "bicubic"]
    scales = sorted({s.scale for s in scores})
    bicubic = {s.scale: s.psnr for s in scores if s.method == "bicubic"}
    fig, ax = plt.subplots(figsize=(max(6, len(methods) * 1.2), 4))
    width = 0.8 / len(scales)
    for i, scale in enumerate(scales):
        gains = [next(s.psnr for s in scores if s.method == m and s.scale == scale) - bicubic[scale] for m in methods]
        ax.bar([j + i * width for j in range(len(methods))], gains, width, label=f"x{scale}")
    ax.set_xticks([j + width * (len(scales) - 1) / 2 for j in range(len(methods))], methods, rotation=30)
    ax.set(ylabel="PSNR gain over bicubic (dB)", title="Set5")
    ax.legend()
    fig.tight_layout()
    fig.savefig(docs / "ablation.png", dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.ablation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--depths", type=int, nargs="+", default=[12, 18, 24, 30], help="middle blocks")
    p.add_argument("--archs", nargs="+", default=["plain", "bn", "resbn"])
    p.add_argument("--all-depths", action="store_true", help="bn and resbn at every depth too")
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--out", type=Path, default=Path("runs/ablation"))
    p.add_argument("--docs", type=Path, default=Path("docs"))
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--val-every", type=int, default=500)
    args = p.parse_args(argv)
    base = TrainConfig(
        iterations=args.iterations,
        batch_size=args.batch_size,
        val_every=args.val_every,
        warmup=min(100, args.iterations // 10 + 1),
    )
    scores = run_ablation(
        plan(args.depths, args.archs, args.all_depths),
        base,
        args.out,
        data_dir(args.data_dir),
        args.scales,
        on_result=lambda so_far: write_report(so_far, base, args.docs),
    )
    print(format_table(scores, paper=PAPER_SET5))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
