"""The ablation study: its plan, a tiny run that trains, scores, caches and reports, and the generated reading."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from training.ablation import plan, run_ablation, study_base
from training.ablation_report import MARKER, reading, write_report
from training.ablation_result import StudyResult, Variant
from vdsr.config import ModelConfig
from vdsr.evaluate import Score


def test_plan_covers_the_seed_study() -> None:
    names = [c.name for c in plan([12, 18, 24, 30], ["plain", "bn", "resbn"], all_depths=False)]
    assert names == ["vdsr-14", "vdsr-20", "vdsr-26", "vdsr-32", "vdsr-bn-20", "vdsr-resbn-20"]
    full = [c.name for c in plan([12, 18, 24, 30], ["plain", "bn", "resbn"], all_depths=True)]
    assert len(full) == 12 and full[4:8] == ["vdsr-bn-14", "vdsr-bn-20", "vdsr-bn-26", "vdsr-bn-32"]


def test_a_tiny_study_trains_scores_caches_and_reports(small_data: Path, tmp_path: Path) -> None:
    base = study_base(2, 2, [2], patch_size=24, channels=8)
    configs = plan([1], ["plain", "bn"], all_depths=True, channels=8)
    reports: list[list[str]] = []
    result = run_ablation(
        configs,
        base,
        tmp_path / "runs",
        small_data,
        [2],
        on_result=lambda so_far: reports.append([s.method for s in so_far.scores]),
    )
    assert [s.method for s in result.scores] == ["bicubic", "vdsr-3-c8", "vdsr-bn-3-c8"]
    assert reports == [["bicubic", "vdsr-3-c8"], ["bicubic", "vdsr-3-c8", "vdsr-bn-3-c8"]]  # after every variant
    # A second run reads every variant back without training (it may not start any) and gets the same scores.
    again = run_ablation(configs, base, tmp_path / "runs", small_data, [2], can_start=lambda: False)
    assert [v.scores for v in again.variants] == [v.scores for v in result.variants]
    with pytest.raises(ValueError, match="another budget"):
        run_ablation(configs, dataclasses.replace(base, iterations=3), tmp_path / "runs", small_data, [2])
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ablation.md").write_text(f"# old table\n\n{MARKER}\n\n## Footnote: the CPU table\n\n| kept |\n")
    write_report(result, [*configs, ModelConfig("resbn", 1, 8)], base, docs, machine="test CPU", precision="fp32")
    report = (docs / "ablation.md").read_text()
    assert "| vdsr-bn-3-c8 |" in report and "2 iterations of batch 2" in report and "test CPU, fp32" in report
    assert "| vdsr-resbn-3-c8 | not run |" in report and "**Incomplete:** 1 of 3 variants" in report
    assert "# old table" not in report and report.endswith(f"{MARKER}\n\n## Footnote: the CPU table\n\n| kept |\n")
    assert (docs / "ablation.png").stat().st_size > 0


def _variant(arch: str, repeats: int, psnr: float) -> Variant:
    scores = [Score(ModelConfig(arch, repeats).name, s, psnr - (s - 2) * 4, 0.9, {}) for s in (2, 3, 4)]
    return Variant(ModelConfig(arch, repeats), scores, 10.0)


def test_the_reading_follows_the_numbers() -> None:
    bicubic = [Score("bicubic", s, 33.0 - (s - 2) * 4, 0.9, {}) for s in (2, 3, 4)]
    plain = [_variant("plain", r, p) for r, p in ((12, 36.80), (18, 36.85), (24, 36.70), (30, 34.20))]
    bn = [_variant("bn", r, p) for r, p in ((12, 37.00), (18, 37.05), (24, 37.15), (30, 37.20))]
    resbn = [_variant("resbn", r, p) for r, p in ((12, 37.00), (18, 37.00), (24, 37.16), (30, 37.17))]
    result = StudyResult(bicubic, plain + bn + resbn)
    text = "\n".join(reading(result, study_base(2000, 64, [2, 3, 4])))
    assert "shows for bn, resbn but not for plain (plain is best at 20 convolutions)" in text
    assert "BatchNorm over plain at equal depth helps at every depth: +0.20 / +0.20 / +0.45 / +3.00 dB" in text
    assert "A skip around each block, with BatchNorm in both, makes no difference beyond 0.05 dB" in text
    assert "**Best:** vdsr-bn-32" in text and "0.03 dB ahead of vdsr-resbn-32 (within the noise" in text
    assert result.best().config == ModelConfig("bn", 30)
    tie = StudyResult(bicubic, [_variant("bn", 30, 37.0), _variant("bn", 18, 37.0)])
    assert tie.best().config == ModelConfig("bn", 18)  # a tie goes to the cheaper
