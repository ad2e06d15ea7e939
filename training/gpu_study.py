"""The seed's ablation at full scale and the model it points to, in one resumable run on a GPU.

``python -m training.gpu_study --out runs/study`` does, in order, and stops cleanly before
``--time-budget`` seconds have passed:

1. the study: plain, bn and resbn VDSR at 12/18/24/30 repeats, each 2,000 iterations of batch 64,
   scored on Set5 at x2/x3/x4 against bicubic; docs/ablation.md and docs/ablation.png are rewritten
   after every variant;
2. the combined model: the study's best variant trained on the shipped model's full schedule
   (training/configs/vdsr-20-gpu.json), then compared with weights/vdsr-20.safetensors on the held-out
   video frames and on Set5: a ship / don't-ship verdict, and the check that its folded BatchNorm
   leaves the inference cost of plain VDSR;
3. with ``--real``, the real-world model's full schedule from scratch with the damage mix of
   training/configs/vdsr-20-real.json, scored on the held-out frames clean and damaged;
   ``--only-real`` runs this step alone, and ``--real-config`` trains a whole recipe instead
   (training/configs/vdsr-20-real-gpu.json fine-tunes vdsr-20).

Everything lands in ``--out`` and ``<out>/report.md``; ``--bring-back DIR`` also collects what is
worth keeping (reports, logs, plots, final weights, and the resumable state of an unfinished run)
into at most 8 files under 64 MiB. The same command resumes where it stopped. It never writes weights/.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.workloads import conv_weights
from engines import load_upscaler
from training.ablation import plan, precision_label, run_ablation, study_base
from training.ablation_report import write_report
from training.ablation_result import StudyResult, scores_from_json, scores_to_json
from training.gpu_bring_back import bring_back
from training.gpu_pack import load_holdout
from training.holdout import format_psnr_table
from training.inference_cost import folded_cost
from training.train import TrainConfig
from training.verdict import decide
from vdsr.checkpoint import load_checkpoint, read_checkpoint_info
from vdsr.color import rgb_to_y
from vdsr.config import ModelConfig
from vdsr.cpu import machine_summary
from vdsr.data import data_dir, load_rgb_folder
from vdsr.evaluate import PAPER_SET5, Score, evaluate, format_degradation_table, format_table
from vdsr.pipeline import Upscaler

__all__ = ["Budget", "VariantGate", "bring_back", "load_schedule", "main", "next_stop", "train_leg", "train_within"]

COMPARE_SECONDS = 45.0  # loading both models and scoring Set5, the held-out frames and the ONNX export
VIDEO_CODECS = ("h264", "mpeg2")  # damage specs that need PyAV
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Budget:
    """Wall-clock seconds this invocation may use, counted from its start."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    start: float = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def used(self) -> float:
        return self.clock() - self.start

    def left(self) -> float:
        return self.seconds - self.used()


@dataclass
class VariantGate:
    """Lets a study variant start only if 1.5 times the longest one so far still fits in the budget.

    The time between two calls is one variant trained and scored; before any is measured,
    ``first_guess`` stands in for it.
    """

    budget: Budget
    first_guess: float
    longest: float = 0.0
    _last: float | None = None

    def __call__(self) -> bool:
        now = self.budget.clock()
        if self._last is not None:
            self.longest = max(self.longest, now - self._last)
        if self.budget.left() < 1.5 * (self.longest or self.first_guess):
            return False
        self._last = now
        return True


def next_stop(step: int, iterations: int, seconds_per_step: float, seconds_left: float, min_leg: int) -> int:
    """The step the next training leg can reach in ``seconds_left``; ``step`` when not even ``min_leg``
    steps (or the rest of the schedule, if shorter) fit."""
    fit = int(max(0.0, seconds_left) / seconds_per_step)
    if fit < min(min_leg, iterations - step):
        return step
    return min(iterations, step + fit)


def saved_step(run_dir: Path) -> int:
    """The step a run's resumable state is at (0 for a run not started)."""
    path = run_dir / "state.pt"
    return int(torch.load(path, map_location="cpu", weights_only=True)["step"]) if path.exists() else 0


def train_within(
    cfg: TrainConfig,
    run_dir: Path,
    root: Path,
    budget: Budget,
    *,
    reserve: float,
    step_guess: float,
    say: Callable[[str], None] = print,
) -> int:
    """Train ``cfg`` in legs that each end in a saved state, while the budget less ``reserve`` allows.

    The first leg is one validation interval long and measures the speed (start-up and validation
    included); each later leg is sized from all legs so far. Returns the step reached.
    """
    step = saved_step(run_dir)
    per_step, steps_done, spent = step_guess, 0, 0.0
    while step < cfg.iterations:
        stop = next_stop(step, cfg.iterations, per_step, budget.left() - reserve, cfg.val_every)
        if steps_done == 0:
            stop = min(stop, step + cfg.val_every)
        if stop <= step:
            break
        t0 = budget.clock()
        train_leg(cfg, run_dir, root, stop)
        spent += budget.clock() - t0
        steps_done += stop - step
        step = stop
        per_step = spent / steps_done
        say(f"{run_dir.name}: step {step:,} of {cfg.iterations:,} ({per_step * 1e3:.1f} ms per step so far)")
    return step


def train_leg(cfg: TrainConfig, run_dir: Path, root: Path, stop: int) -> None:
    """Train ``cfg`` up to step ``stop`` in a fresh Python process.

    DataLoader workers forked from a process that already trained a leg on CUDA died there with
    "CUDA error: initialization error" (seen on an H200), so each leg starts its own CUDA context.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "leg-config.json"
    config.write_text(json.dumps(dataclasses.asdict(cfg)))
    command = [sys.executable, "-m", "training.train", "--config", str(config), "--out", str(run_dir)]
    command += ["--data-dir", str(root), "--stop", str(stop), "--quiet"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    if subprocess.run(command, env=env).returncode != 0:
        raise RuntimeError(f"training {run_dir} to step {stop:,} failed; its output is above")


def load_schedule(path: Path, **changes: Any) -> TrainConfig:
    """A TrainConfig from a JSON file of its fields, with ``changes`` applied."""
    return TrainConfig.from_values({**TrainConfig.from_file(path), **changes})


def _evaluate_paths(
    models: dict[str, str], images: list[tuple[str, Any]], scales: Sequence[int], **kwargs: Any
) -> list[Score]:
    """Bicubic and each checkpoint, run as a network in memory: PyTorch in fp32, as training scores it."""
    methods = {label: load_upscaler(load_checkpoint(path)[0], "torch") for label, path in models.items()}
    return evaluate({"bicubic": Upscaler(None)} | methods, images, scales, **kwargs)


def compare_combined(
    run_dir: Path, shipped: Path, root: Path, frames: list[tuple[str, Any]], scales: Sequence[int]
) -> dict[str, Any]:
    """Score the combined model's last step and the shipped model on Set5 and the held-out frames."""
    model, info = load_checkpoint(run_dir / "last.safetensors")
    candidate = f"{info.config.name} (combined)"
    shipped_label = f"{read_checkpoint_info(shipped).config.name} (shipped)"
    models = {candidate: str(run_dir / "last.safetensors"), shipped_label: str(shipped)}
    images = load_rgb_folder(root / "Set5")
    set5 = _evaluate_paths(models, images, scales)
    holdout = _evaluate_paths(models, frames, scales, with_ssim=False)
    rgb = dict(images).get("butterfly", images[0][1])  # the image ONNX exports are checked on
    cost = folded_cost(model, check_image=rgb_to_y(rgb.astype(np.float32) / 255)[None, None, :256, :256])
    ours, theirs = cost.conv_weights, conv_weights(load_checkpoint(shipped)[0])
    return {
        "candidate": candidate,
        "shipped": shipped_label,
        "set5": scores_to_json(set5),
        "holdout": scores_to_json(holdout),
        "cost": dataclasses.asdict(cost),
        "cost_text": f"{cost.text()} Against the shipped model's {theirs:,}: {ours / theirs:.2f}x.",
        "cost_equal": cost.equal,
    }


def compare_real(
    run_dir: Path, cfg: TrainConfig, shipped: Path, frames: list[tuple[str, Any]], scales: Sequence[int]
) -> dict[str, Any]:
    """The real-world run against the shipped models on the held-out frames, clean and damaged."""
    models = {
        _real_label(cfg): str(run_dir / "last.safetensors"),
        f"{read_checkpoint_info(shipped).config.name} (shipped)": str(shipped),
    }
    real = shipped.with_name("vdsr-20-real.safetensors")  # the fine-tuned real-world model, where shipped
    if real.exists():
        models["vdsr-20-real (shipped)"] = str(real)
    rows = [
        s
        for spec in ("clean", *cfg.val_degradations)
        for s in _evaluate_paths(models, frames, scales, with_ssim=False, degradation=spec)
    ]
    return {"holdout": scores_to_json(rows)}


@dataclass
class Report:
    """What each stage reached, rewritten to ``path`` after every step so a cut-short run still says it."""

    path: Path
    budget: Budget
    machine: str
    sections: dict[str, tuple[str, bool]] = field(default_factory=dict)

    def set(self, stage: str, text: str, *, finished: bool) -> None:
        self.sections[stage] = (text, finished)
        self.write()

    @property
    def finished(self) -> bool:
        return all(done for _, done in self.sections.values())

    def write(self) -> None:
        tail = "Nothing left to run." if self.finished else "Unfinished: run the same command again to continue."
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(
            f"# GPU study, {date.today()}\n\nOn {self.machine}; {self.budget.used():.0f} s of a "
            f"{self.budget.seconds:.0f} s budget.\n\n"
            + "\n\n".join(text for text, _ in self.sections.values())
            + f"\n\n{tail}\n"
        )


def _study_text(result: StudyResult, planned: int) -> str:
    done = len(result.variants)
    head = f"## 1. Study: {done} of {planned} variants" + (" (time limit)" if done < planned else "")
    best = f"; best {result.best().config.name}" if result.variants else ""
    return f"{head}\n\nTable, plot and reading in docs/ablation.md{best}."


def _unfinished(head: str, step: int, cfg: TrainConfig, not_compared: str) -> str:
    """A part the time limit cut short: in training, or trained but not yet measured."""
    return f"{head} (time limit)" if step < cfg.iterations else f"{head}\n\n{not_compared} (time limit)."


def _combined_text(name: str, step: int, cfg: TrainConfig, comparison: dict[str, Any] | None) -> str:
    head = f"## 2. Combined model {name}: step {step:,} of {cfg.iterations:,}"
    if step < cfg.iterations or comparison is None:
        return _unfinished(head, step, cfg, "Not yet compared with the shipped model")
    set5 = scores_from_json(comparison["set5"])
    holdout = scores_from_json(comparison["holdout"])
    verdict = decide(comparison["candidate"], comparison["shipped"], holdout, set5)
    return (
        f"{head}\n\n**{verdict.text()}**\n\n{comparison['cost_text']}\n\nSet5 (PSNR dB / SSIM on Y):\n\n"
        f"{format_table(set5, paper=PAPER_SET5)}\n\nHeld-out video frames (PSNR dB on Y):\n\n"
        f"{format_psnr_table(holdout)}\n\nNothing was written to weights/. To ship it: `python -m training.ship "
        f"{comparison['run_dir']}/last.safetensors weights/<name>.safetensors`, then make it the default and "
        "update the README tables."
    )


def _real_label(cfg: TrainConfig) -> str:
    """How the real-world run started: from scratch, or fine-tuned from a checkpoint."""
    return f"fine-tuned from {Path(cfg.init_from).stem}" if cfg.init_from else "from scratch"


def _real_text(step: int, cfg: TrainConfig, comparison: dict[str, Any] | None) -> str:
    head = f"## 3. Real-world model {_real_label(cfg)}: step {step:,} of {cfg.iterations:,}"
    if step < cfg.iterations or comparison is None:
        return _unfinished(head, step, cfg, "Not yet scored")
    rows = scores_from_json(comparison["holdout"])
    tables = "\n\n".join(f"x{s}:\n\n{format_degradation_table(rows, s)}" for s in sorted({r.scale for r in rows}))
    return f"{head}\n\nHeld-out video frames, PSNR dB on Y (gain over bicubic):\n\n{tables}"


def _parse_combined(text: str) -> tuple[str, int]:
    arch, _, repeats = text.partition(":")
    return arch, int(repeats)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.gpu_study", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", type=Path, default=Path("runs/study"), help="run folders and report.md")
    p.add_argument("--docs", type=Path, default=Path("docs"), help="where ablation.md and ablation.png go")
    p.add_argument("--data-dir", type=Path, help="datasets root (default $VDSR_DATA_DIR or ../shared/data)")
    p.add_argument("--bring-back", type=Path, help="also collect the results worth keeping here (8 files, 64 MiB)")
    p.add_argument("--time-budget", type=float, default=540, help="seconds; stops cleanly before (default 540)")
    p.add_argument("--reserve", type=float, default=60, help="seconds kept for comparing and collecting")
    study = p.add_argument_group("the study (equal budget per variant)")
    study.add_argument("--iterations", type=int, default=2000)
    study.add_argument("--batch-size", type=int, default=64)
    study.add_argument("--patch-size", type=int, default=41)
    study.add_argument("--channels", type=int, default=64)
    study.add_argument("--depths", type=int, nargs="+", default=[12, 18, 24, 30], help="middle blocks")
    study.add_argument("--archs", nargs="+", default=["plain", "bn", "resbn"])
    study.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    study.add_argument("--variant-seconds", type=float, default=30, help="first guess of one variant's time")
    combined = p.add_argument_group("the combined model and the real-world model")
    combined.add_argument("--schedule", type=Path, default=Path("training/configs/vdsr-20-gpu.json"))
    combined.add_argument("--combined", help="ARCH:REPEATS instead of the study's best, e.g. bn:18")
    combined.add_argument("--shipped", type=Path, default=Path("weights/vdsr-20.safetensors"))
    combined.add_argument("--step-seconds", type=float, default=0.015, help="first guess of one step's time")
    combined.add_argument("--real", action="store_true", help="then the real-world model from scratch")
    combined.add_argument("--real-recipe", type=Path, default=Path("training/configs/vdsr-20-real.json"))
    combined.add_argument(
        "--real-config",
        type=Path,
        help="a whole real-world recipe to train instead, e.g. training/configs/vdsr-20-real-gpu.json",
    )
    combined.add_argument("--only-real", action="store_true", help="skip the study and the combined model")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    budget = Budget(args.time_budget)
    root = data_dir(args.data_dir)
    if not args.shipped.exists():
        raise FileNotFoundError(f"the shipped model to compare with is not at {args.shipped}")
    frames = load_holdout(root)  # before any training: a missing video must not surface after the GPU time
    machine = machine_summary()
    report = Report(args.out / "report.md", budget, machine)
    long_runs: list[Path] = []
    configs = plan(args.depths, args.archs, all_depths=True, channels=args.channels)
    base = study_base(args.iterations, args.batch_size, args.scales, patch_size=args.patch_size, channels=args.channels)
    precision = precision_label(base.precision)
    command = f"python -m training.gpu_study --iterations {args.iterations} --batch-size {args.batch_size}"

    def collect() -> None:
        if args.bring_back is not None:
            for warning in bring_back(
                args.bring_back,
                args.docs,
                report.path,
                [] if args.only_real else [args.out / c.name for c in configs],
                long_runs,
            ):
                print(f"warning: {warning}", flush=True)

    def after_variant(result: StudyResult) -> None:
        write_report(result, configs, base, args.docs, machine=machine, precision=precision, command=command)
        report.set("study", _study_text(result, len(configs)), finished=len(result.variants) == len(configs))
        collect()
        print(f"study: {result.variants[-1].config.name} done ({budget.used():.0f} s)", flush=True)

    if not args.only_real:
        result = run_ablation(
            configs,
            base,
            args.out,
            root,
            args.scales,
            on_result=after_variant,
            can_start=VariantGate(budget, args.variant_seconds),
        )
        write_report(result, configs, base, args.docs, machine=machine, precision=precision, command=command)
        study_done = len(result.variants) == len(configs)
        report.set("study", _study_text(result, len(configs)), finished=study_done)
        if not study_done:
            report.set("combined", "## 2. Combined model: waits for the study", finished=False)
        else:
            best = result.best().config
            arch, repeats = _parse_combined(args.combined) if args.combined else (best.arch, best.repeats)
            _combined_stage(args, arch, repeats, root, frames, budget, report, long_runs)
    if args.real or args.only_real:
        _real_stage(args, root, frames, budget, report, long_runs)
    collect()
    print(report.path.read_text(), flush=True)
    return 0


def _train_and_compare(
    cfg: TrainConfig,
    run_dir: Path,
    root: Path,
    budget: Budget,
    args: argparse.Namespace,
    compare: Callable[[], dict[str, Any]],
) -> tuple[int, dict[str, Any] | None]:
    """Train (or resume) a full schedule within the budget, then compare it once; returns (step, comparison).

    The comparison is kept in the run folder, and a run that has one is done: brought back without
    its resumable state, it is neither trained nor scored again.
    """
    path = run_dir / "comparison.json"
    if path.exists():
        return cfg.iterations, json.loads(path.read_text())
    step = train_within(cfg, run_dir, root, budget, reserve=args.reserve, step_guess=args.step_seconds, say=_say)
    if step < cfg.iterations or budget.left() <= COMPARE_SECONDS:
        return step, None
    comparison = compare()
    path.write_text(json.dumps(comparison, indent=1))
    return step, comparison


def _combined_stage(
    args: argparse.Namespace,
    arch: str,
    repeats: int,
    root: Path,
    frames: list[tuple[str, Any]],
    budget: Budget,
    report: Report,
    long_runs: list[Path],
) -> None:
    cfg = load_schedule(args.schedule, arch=arch, repeats=repeats, channels=args.channels)
    name = ModelConfig(arch, repeats, args.channels).name
    run_dir = args.out / f"combined-{name}"
    long_runs.append(run_dir)
    report.set("combined", _combined_text(name, saved_step(run_dir), cfg, None), finished=False)
    step, comparison = _train_and_compare(
        cfg,
        run_dir,
        root,
        budget,
        args,
        lambda: {**compare_combined(run_dir, args.shipped, root, frames, args.scales), "run_dir": str(run_dir)},
    )
    report.set("combined", _combined_text(name, step, cfg, comparison), finished=comparison is not None)


def _real_stage(
    args: argparse.Namespace,
    root: Path,
    frames: list[tuple[str, Any]],
    budget: Budget,
    report: Report,
    long_runs: list[Path],
) -> None:
    if args.real_config:
        cfg = load_schedule(args.real_config)
    else:
        recipe = TrainConfig.from_file(args.real_recipe)
        keep = ("arch", "repeats", "degradations", "degradation_variants", "val_degradations")
        cfg = load_schedule(args.schedule, **{k: recipe[k] for k in keep if k in recipe}, channels=args.channels)
    specs = [*cfg.degradations, *cfg.val_degradations]
    if any(spec.split(":")[0] in VIDEO_CODECS for spec in specs) and importlib.util.find_spec("av") is None:
        text = f"## 3. Real-world model {_real_label(cfg)}: not run, its h264/mpeg2 damage needs PyAV (pip install av)"
        report.set("real", text, finished=False)
        return
    run_dir = args.out / ("real-finetune" if cfg.init_from else "real-scratch")
    long_runs.append(run_dir)
    report.set("real", _real_text(saved_step(run_dir), cfg, None), finished=False)
    step, comparison = _train_and_compare(
        cfg, run_dir, root, budget, args, lambda: compare_real(run_dir, cfg, args.shipped, frames, args.scales)
    )
    report.set("real", _real_text(step, cfg, comparison), finished=comparison is not None)


def _say(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
