from pathlib import Path

from training.ablation import plan, run_ablation, write_report
from training.train import TrainConfig


def test_plan_covers_the_seed_study() -> None:
    names = [c.name for c in plan([12, 18, 24, 30], ["plain", "bn", "resbn"], all_depths=False)]
    assert names == ["vdsr-14", "vdsr-20", "vdsr-26", "vdsr-32", "vdsr-bn-20", "vdsr-resbn-20"]
    assert len(plan([12, 18], ["plain", "bn", "resbn"], all_depths=True)) == 6


def test_a_tiny_study_trains_scores_and_reports(small_data: Path, tmp_path: Path) -> None:
    base = TrainConfig(channels=8, batch_size=2, patch_size=24, iterations=2, val_every=2, val_scales=(2,), warmup=1)
    configs = plan([1], ["plain", "bn"], all_depths=True)
    reports: list[list[str]] = []
    scores = run_ablation(
        configs,
        base,
        tmp_path / "runs",
        small_data,
        [2],
        on_result=lambda so_far: reports.append([s.method for s in so_far]),
    )
    assert [s.method for s in scores] == ["bicubic", "vdsr-3-c8", "vdsr-bn-3-c8"]
    assert reports == [["bicubic", "vdsr-3-c8"], ["bicubic", "vdsr-3-c8", "vdsr-bn-3-c8"]]  # after every variant
    write_report(scores, base, tmp_path / "docs")
    report = (tmp_path / "docs" / "ablation.md").read_text()
    assert "| vdsr-bn-3-c8 |" in report and "2 iterations of batch 2" in report
    assert (tmp_path / "docs" / "ablation.png").stat().st_size > 0
