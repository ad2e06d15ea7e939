"""The seed's ablation study: every variant trained at one fixed, equal budget.

``python -m training.ablation --iterations 2000 --batch-size 64 --all-depths`` trains plain VDSR,
BatchNorm VDSR and residual-BatchNorm VDSR at 12/18/24/30 middle blocks (without ``--all-depths`` the
last two only at 18), scores each on Set5 at x2/x3/x4 against bicubic, and rewrites docs/ablation.md
and docs/ablation.png after every variant. Each variant keeps its Set5 scores in its run folder, so an
interrupted study continues where it stopped and a finished one is not trained or scored again.
``python -m training.gpu_study`` runs this study and then the model it points to.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engines import load_upscaler
from training.ablation_report import write_report
from training.ablation_result import StudyResult, Variant, scores_from_json, scores_to_json
from training.train import TrainConfig, resolve_precision, train
from vdsr.checkpoint import load_checkpoint
from vdsr.config import ModelConfig
from vdsr.cpu import machine_summary
from vdsr.data import data_dir, load_rgb_folder
from vdsr.evaluate import PAPER_SET5, evaluate, format_table
from vdsr.pipeline import Upscaler

__all__ = ["main", "plan", "precision_label", "run_ablation", "study_base"]

SCORES_FILE = "scores.json"


def plan(depths: list[int], archs: list[str], all_depths: bool, channels: int = 64) -> list[ModelConfig]:
    """Plain at every depth; the other block types at 18 repeats unless ``all_depths``."""
    configs = [ModelConfig("plain", r, channels) for r in depths]
    for arch in (a for a in archs if a != "plain"):
        configs += [ModelConfig(arch, r, channels) for r in (depths if all_depths else [18])]
    return configs


def study_base(iterations: int, batch_size: int, scales: Sequence[int], **overrides: Any) -> TrainConfig:
    """The study's budget per variant: validated once, at the end, on the scales the table shows."""
    return TrainConfig(
        iterations=iterations,
        batch_size=batch_size,
        val_every=iterations,
        val_scales=tuple(scales),
        warmup=min(100, iterations // 10 + 1),
        **overrides,
    )


def precision_label(precision: str) -> str:
    """How the training arithmetic runs on this machine, for the report (``bf16 autocast`` on a recent GPU)."""
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    labels = {None: "fp32", torch.bfloat16: "bf16 autocast", torch.float16: "fp16 autocast"}
    return labels[resolve_precision(precision, device)]


def _budget(run: TrainConfig) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(run)))  # tuples as lists, as read back from a file


def _training_seconds(run_dir: Path) -> float:
    """Seconds of training the run's log records (validation excluded)."""
    with (run_dir / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    return float(rows[-1]["seconds"]) if rows else 0.0


def _cached(run_dir: Path, run: TrainConfig, scales: Sequence[int]) -> Variant | None:
    """The variant's stored result, if it was trained at this budget and scored at these scales."""
    path = run_dir / SCORES_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if data["budget"] != _budget(run):
        raise ValueError(f"{run_dir} holds a run at another budget; give the study another --out")
    scores = scores_from_json(data["scores"])
    if sorted(s.scale for s in scores) != sorted(scales):
        return None
    return Variant(ModelConfig(run.arch, run.repeats, run.channels), scores, float(data["seconds"]))


def run_ablation(
    configs: list[ModelConfig],
    base: TrainConfig,
    out_dir: Path,
    data_root: Path,
    scales: list[int],
    on_result: Callable[[StudyResult], None] | None = None,
    can_start: Callable[[], bool] | None = None,
) -> StudyResult:
    """Train (or resume) every config at the same budget, scoring each on Set5 as soon as it is trained.

    ``on_result`` gets the result so far after each variant, so a study cut short still leaves a
    report; ``can_start`` is asked before each variant that still needs training, and a False ends
    the study there (a time limit).
    """
    images = load_rgb_folder(data_root / base.val_set)
    result = StudyResult(evaluate({"bicubic": Upscaler(None)}, images, scales), [])
    for cfg in configs:
        run = dataclasses.replace(base, **dataclasses.asdict(cfg))
        run_dir = out_dir / cfg.name
        variant = _cached(run_dir, run, scales)
        if variant is None:
            if can_start is not None and not can_start():
                break
            model, info = load_checkpoint(train(run, run_dir, data_root, show_progress=False))
            scores = evaluate({info.config.name: load_upscaler(model, "torch")}, images, scales)
            variant = Variant(info.config, scores, _training_seconds(run_dir))
            record = {"budget": _budget(run), "seconds": variant.seconds, "scores": scores_to_json(scores)}
            (run_dir / SCORES_FILE).write_text(json.dumps(record, indent=1))
        result = StudyResult(result.bicubic, [*result.variants, variant])
        if on_result is not None:
            on_result(result)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.ablation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--depths", type=int, nargs="+", default=[12, 18, 24, 30], help="middle blocks")
    p.add_argument("--archs", nargs="+", default=["plain", "bn", "resbn"])
    p.add_argument("--all-depths", action="store_true", help="bn and resbn at every depth too")
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--out", type=Path, default=Path("runs/ablation"))
    p.add_argument("--docs", type=Path, default=Path("docs"))
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--val-every", type=int, help="also validate every this many steps (default: at the end only)")
    args = p.parse_args(argv)
    base = study_base(args.iterations, args.batch_size, args.scales)
    if args.val_every:
        base = dataclasses.replace(base, val_every=args.val_every)
    configs = plan(args.depths, args.archs, args.all_depths)
    machine, precision = machine_summary(), precision_label(base.precision)
    command = f"python -m training.ablation --iterations {args.iterations} --batch-size {args.batch_size}"
    result = run_ablation(
        configs,
        base,
        args.out,
        data_dir(args.data_dir),
        args.scales,
        on_result=lambda so_far: write_report(
            so_far, configs, base, args.docs, machine=machine, precision=precision, command=command
        ),
    )
    print(format_table(result.scores, paper=PAPER_SET5))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
