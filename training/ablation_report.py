"""docs/ablation.md and docs/ablation.png from the study's scores: one table, a plot and a reading.

The reading is generated from the numbers (what depth, BatchNorm and residual blocks do, and whether
"deeper is better" shows), so it can never disagree with the table above it. Everything in an
existing docs/ablation.md below :data:`MARKER` (the earlier, smaller runs) is kept as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from training.ablation_result import StudyResult, Variant
from training.train import TrainConfig
from vdsr.config import ModelConfig
from vdsr.evaluate import PAPER_SET5

__all__ = ["MARKER", "NOISE_DB", "footnote", "format_study_table", "plot_study", "reading", "write_report"]

MARKER = "<!-- The ablation study rewrites everything above this line and keeps everything below it. -->"
NOISE_DB = 0.05  # differences of mean PSNR smaller than this are read as no difference
ARCH_WORDS = {"plain": "plain", "bn": "BatchNorm", "resbn": "residual+BatchNorm"}


def footnote(report: Path) -> str:
    """What an existing report keeps below :data:`MARKER` ("" when there is none)."""
    if not report.exists():
        return ""
    text = report.read_text()
    return text.split(MARKER, 1)[1].strip("\n") if MARKER in text else ""


def _budget_text(base: TrainConfig) -> str:
    return (
        f"{base.iterations:,} iterations of batch {base.batch_size} ({base.patch_size}x{base.patch_size} "
        f"patches from {base.train_set}, x{'/x'.join(map(str, base.scales))} mixed in every batch), "
        f"{base.optimizer} lr {base.lr:g} with {base.warmup} warm-up iterations and {base.schedule} decay, "
        f"{base.loss} loss, gradient norm clipped at {base.clip_grad_norm:g}"
    )


def format_study_table(result: StudyResult, planned: Sequence[ModelConfig]) -> str:
    """Markdown: bicubic, every planned variant (``not run`` where it has no scores), the paper's figures."""
    scales = sorted(s.scale for s in result.bicubic)
    done = {v.config: v for v in result.variants}
    bicubic = {s.scale: s.psnr for s in result.bicubic}
    best = {
        scale: max((s.psnr for v in result.variants for s in v.scores if s.scale == scale), default=None)
        for scale in scales
    }
    head = "| variant | " + " | ".join(f"x{s} PSNR / SSIM" for s in scales) + " | mean gain | training time |"
    lines = [head, "|" + "---|" * (len(scales) + 3)]
    lines.append("| bicubic | " + " | ".join(f"{bicubic[s]:.2f} / {_ssim(result, s):.4f}" for s in scales) + " | | |")
    for cfg in planned:
        variant = done.get(cfg)
        if variant is None:
            lines.append(f"| {cfg.name} | not run | " + "| " * (len(scales) + 1) + "|")
            continue
        cells = []
        for s in sorted(variant.scores, key=lambda s: s.scale):
            psnr = f"{s.psnr:.2f}"
            cells.append(f"{f'**{psnr}**' if s.psnr == best[s.scale] else psnr} / {s.ssim:.4f}")
        gain = variant.mean_psnr() - float(np.mean([bicubic[s] for s in scales]))
        lines.append(f"| {cfg.name} | " + " | ".join(cells) + f" | {gain:+.2f} | {variant.seconds:.0f} s |")
    if all(s in PAPER_SET5 for s in scales):
        for i, label in enumerate(("bicubic (paper)", "VDSR-20 (paper, 80 epochs)")):
            lines.append(f"| {label} | " + " | ".join(f"{PAPER_SET5[s][i]:.2f}" for s in scales) + " | | |")
    return "\n".join(lines)


def _ssim(result: StudyResult, scale: int) -> float:
    return next(s.ssim for s in result.bicubic if s.scale == scale)


def _means(result: StudyResult, arch: str) -> list[tuple[int, float]]:
    """(convolutions, mean PSNR) of one block type, shallow to deep."""
    return sorted((v.config.depth, v.mean_psnr()) for v in result.variants if v.config.arch == arch)


def _effect(deltas: Sequence[tuple[int, float]], what: str) -> str:
    """``what``, then the deltas by depth and how many of them are beyond noise either way."""
    listed = " / ".join(f"{d:+.2f}" for _, d in deltas) + " dB at " + " / ".join(str(n) for n, _ in deltas)
    up = sum(d > NOISE_DB for _, d in deltas)
    down = sum(d < -NOISE_DB for _, d in deltas)
    n = len(deltas)
    if up == n:
        verdict = "helps at every depth"
    elif down == n:
        verdict = "hurts at every depth"
    elif up == down == 0:
        verdict = f"makes no difference beyond {NOISE_DB} dB"
    else:
        parts = [f"{verb} at {k}" for k, verb in ((up, "helps"), (down, "hurts"), (n - up - down, "is within noise"))]
        parts = [part for part in parts if not part.endswith(" at 0")]
        verdict = ", ".join(parts[:-1]) + f" and {parts[-1]} of {n} depths"
    return f"{what} {verdict}: {listed} convolutions."


def _delta(result: StudyResult, arch: str, against: str) -> list[tuple[int, float]]:
    ours, theirs = dict(_means(result, arch)), dict(_means(result, against))
    return [(d, ours[d] - theirs[d]) for d in sorted(set(ours) & set(theirs))]


def _deeper_is_better(means: Sequence[tuple[int, float]]) -> bool:
    """Each step deeper loses less than the noise, and the deepest gains more than it over the shallowest."""
    values = [m for _, m in means]
    steps_ok = all(b - a > -NOISE_DB for a, b in zip(values, values[1:], strict=False))
    return steps_ok and values[-1] - values[0] > NOISE_DB


def reading(result: StudyResult, base: TrainConfig) -> list[str]:
    """Markdown bullets that read the table: depth, BatchNorm, residual blocks, the best variant."""
    bullets = []
    archs = [a for a in dict.fromkeys(v.config.arch for v in result.variants)]
    deep = {a: _means(result, a) for a in archs if len(_means(result, a)) > 1}
    if deep:
        per_arch = "; ".join(
            f"{a}: " + " / ".join(f"{m:.2f}" for _, m in means) + " dB at " + " / ".join(str(d) for d, _ in means)
            for a, means in deep.items()
        )
        holds = [a for a, means in deep.items() if _deeper_is_better(means)]
        fails = {a: max(means, key=lambda dm: dm[1])[0] for a, means in deep.items() if a not in holds}
        if not fails:
            claim = 'the paper\'s "deeper is better" shows for every block type'
        elif not holds:
            claim = 'the paper\'s "deeper is better" does not show'
        else:
            claim = f'the paper\'s "deeper is better" shows for {", ".join(holds)} but not for {", ".join(fails)}'
        best_at = "; ".join(f"{a} is best at {d} convolutions" for a, d in fails.items())
        bullets.append(
            f"**Depth** (mean PSNR over the scales by convolutions; {per_arch}): at this budget {claim}"
            + (f" ({best_at})." if fails else ".")
        )
    if {"bn", "plain"} <= set(archs) and _delta(result, "bn", "plain"):
        text = _effect(_delta(result, "bn", "plain"), "BatchNorm over plain at equal depth")
        bullets.append("**BatchNorm:** " + text)
    if "resbn" in archs:
        if "bn" in archs and _delta(result, "resbn", "bn"):
            text = _effect(_delta(result, "resbn", "bn"), "A skip around each block, with BatchNorm in both,")
            bullets.append("**Residual blocks:** " + text)
        if "plain" in archs and _delta(result, "resbn", "plain"):
            bullets.append(
                "**Residual+BatchNorm against plain:** "
                + _effect(_delta(result, "resbn", "plain"), "Residual+BatchNorm over plain at equal depth")
            )
    if result.variants:
        bullets.append(_best_bullet(result))
    bullets.append(
        f"Every variant had the same {base.iterations:,} iterations of batch {base.batch_size}: the table ranks how "
        "far each gets in that budget, not what each can reach on a full schedule. Differences under "
        f"{NOISE_DB} dB are read as noise."
    )
    return bullets


def _best_bullet(result: StudyResult) -> str:
    best = result.best()
    bicubic = float(np.mean([s.psnr for s in result.bicubic]))
    others = sorted((v for v in result.variants if v is not best), key=Variant.mean_psnr, reverse=True)
    text = (
        f"**Best:** {best.config.name} ({ARCH_WORDS.get(best.config.arch, best.config.arch)} blocks, "
        f"{best.config.depth} convolutions), {best.mean_psnr():.2f} dB mean, {best.mean_psnr() - bicubic:+.2f} over "
        "bicubic"
    )
    if others:
        margin = best.mean_psnr() - others[0].mean_psnr()
        close = " (within the noise: the top of the ranking is not settled)" if margin < NOISE_DB else ""
        text += f", {margin:.2f} dB ahead of {others[0].config.name}{close}"
    return text + ". The combined model trains this block type at this depth on the full schedule."


def plot_study(result: StudyResult, path: Path) -> None:
    """One panel per scale: PSNR gain over bicubic against convolutions, one line per block type."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = sorted(s.scale for s in result.bicubic)
    bicubic = {s.scale: s.psnr for s in result.bicubic}
    archs = list(dict.fromkeys(v.config.arch for v in result.variants))
    fig, axes = plt.subplots(1, len(scales), figsize=(4 * len(scales), 3.6), squeeze=False)
    for ax, scale in zip(axes[0], scales, strict=True):
        for arch in archs:
            points = sorted(
                (v.config.depth, s.psnr - bicubic[scale])
                for v in result.variants
                if v.config.arch == arch
                for s in v.scores
                if s.scale == scale
            )
            ax.plot([d for d, _ in points], [g for _, g in points], marker="o", label=ARCH_WORDS.get(arch, arch))
        ax.set_xticks(sorted({v.config.depth for v in result.variants}))
        ax.set(title=f"Set5 x{scale}", xlabel="convolutions", ylabel="PSNR gain over bicubic (dB)")
        ax.grid(alpha=0.3)
    if archs:
        axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(
    result: StudyResult,
    planned: Sequence[ModelConfig],
    base: TrainConfig,
    docs: Path,
    *,
    machine: str,
    precision: str,
    command: str = "python -m training.gpu_study",
) -> Path:
    """Rewrite ``docs/ablation.md`` and ``docs/ablation.png``; returns the Markdown file's path."""
    docs.mkdir(parents=True, exist_ok=True)
    report = docs / "ablation.md"
    kept = footnote(report)
    plot_study(result, docs / "ablation.png")
    missing = len(planned) - len(result.variants)
    status = (
        f"**Incomplete:** {missing} of {len(planned)} variants did not run (time limit); running the same "
        "command again trains only those.\n\n"
        if missing
        else ""
    )
    text = (
        "# Ablation: VDSR variants at an equal budget\n\n"
        f"{status}Measured {date.today()} on {machine}, {precision}, with `{command}`.\n\n"
        f"Budget per variant: {_budget_text(base)}. Names count convolutions: vdsr-N is plain VDSR (N-2 "
        "conv+ReLU repeats), vdsr-bn-N puts BatchNorm2d between each Conv2d and ReLU, vdsr-resbn-N is built of "
        "residual blocks, x + ReLU(BatchNorm(Conv(x))).\n\n"
        "Set5, PSNR dB / SSIM on Y, `scale` pixels shaved; inputs are bicubic downscales of the ground truth. "
        "Bold: the best variant at each scale; mean gain: over bicubic, averaged over the scales; training "
        "time: the loop alone, without start-up and validation.\n\n"
        f"{format_study_table(result, planned)}\n\n![PSNR gain over bicubic by depth](ablation.png)\n\n"
        "## Reading it\n\n" + "\n".join(f"- {b}" for b in reading(result, base)) + f"\n\n{MARKER}\n"
    )
    report.write_text(text + (f"\n{kept}\n" if kept else ""))
    return report
