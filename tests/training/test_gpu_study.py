"""The GPU study end to end on the CPU at a tiny budget, and its parts: the time budget, the verdict rule,
the folded cost check and the data pack."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from training import gpu_pack
from training.ablation_report import MARKER
from training.gpu_pack import HOLDOUT_FOLDER, SITE_ARCHIVE, holdout_names, load_holdout, pack
from training.gpu_study import Budget, VariantGate, bring_back, main, next_stop
from training.inference_cost import folded_cost
from training.verdict import decide
from vdsr.config import ModelConfig
from vdsr.data import load_rgb_folder
from vdsr.evaluate import Score
from vdsr.imageio import read_image, write_image
from vdsr.models import VDSR

VARIANTS = ["vdsr-3-c8", "vdsr-4-c8", "vdsr-bn-3-c8", "vdsr-bn-4-c8"]


@pytest.fixture()
def study_data(small_data: Path, tmp_path: Path) -> Path:
    """small_data plus six small crops named as the held-out frames, so scoring them stays quick."""
    root = tmp_path / "data"
    shutil.copytree(small_data, root)
    bird = read_image(root / "Set5" / "bird.png")
    for i, name in enumerate(holdout_names()):
        write_image(root / HOLDOUT_FOLDER / f"{name}.png", bird[i * 8 : i * 8 + 48, i * 6 : i * 6 + 48])
    return root


def _args(tmp_path: Path, root: Path, shipped: Path, budget: float) -> list[str]:
    schedule = tmp_path / "schedule.json"
    schedule.write_text(
        json.dumps({"batch_size": 2, "patch_size": 24, "iterations": 4, "warmup": 1, "val_every": 2, "val_scales": [2]})
    )
    return [
        *("--out", str(tmp_path / "runs"), "--docs", str(tmp_path / "docs"), "--data-dir", str(root)),
        *("--bring-back", str(tmp_path / "back"), "--time-budget", str(budget), "--reserve", "0"),
        *("--iterations", "2", "--batch-size", "2", "--patch-size", "24", "--channels", "8", "--scales", "2"),
        *("--depths", "1", "2", "--archs", "plain", "bn", "--schedule", str(schedule), "--shipped", str(shipped)),
    ]


def test_the_study_and_the_combined_model_run_end_to_end_and_resume(
    study_data: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ablation.md").write_text(f"# awaiting the GPU\n\n{MARKER}\n\n## Footnote: the CPU table\n")
    recipe = tmp_path / "real.json"  # the real-world mix, shrunk to damage that needs no video codec
    recipe.write_text(json.dumps({"degradations": {"clean": 0.5, "jpeg:30-90": 0.5}, "val_degradations": ["jpeg:50"]}))
    args = [*_args(tmp_path, study_data, tiny_checkpoint, budget=600), "--real", "--real-recipe", str(recipe)]
    assert main(args) == 0

    ablation = (docs / "ablation.md").read_text()
    assert all(f"| {name} | " in ablation for name in VARIANTS) and "not run" not in ablation
    assert "## Reading it" in ablation and "**Best:**" in ablation and "awaiting the GPU" not in ablation
    assert ablation.endswith("## Footnote: the CPU table\n")
    report = (tmp_path / "runs" / "report.md").read_text()
    assert "## 1. Study: 4 of 4 variants" in report and "Nothing left to run." in report
    combined = next(line for line in report.splitlines() if line.startswith("## 2. Combined model"))
    name = combined.split()[4].rstrip(":")
    assert name in VARIANTS and combined.endswith("step 4 of 4")
    assert any(line.startswith(("**SHIP ", "**DON'T SHIP ")) for line in report.splitlines())
    assert "Inference cost:" in report and "equal to plain VDSR's" in report and "Held-out video frames" in report
    assert "## 3. Real-world model from scratch: step 4 of 4" in report and "| jpeg:50 |" in report

    back = tmp_path / "back"
    files = sorted(p.name for p in back.iterdir())
    assert files == sorted(
        ["ablation.md", "ablation.png", "report.md", "study.tar", f"combined-{name}.tar", "real-scratch.tar"]
    )
    with tarfile.open(back / f"combined-{name}.tar") as tar:
        members = tar.getnames()
    assert f"combined-{name}/last.safetensors" in members and f"combined-{name}/comparison.json" in members
    with tarfile.open(back / "study.tar") as tar:
        assert {f"{v}/scores.json" for v in VARIANTS} <= set(tar.getnames())

    assert f"combined-{name}/state.pt" not in members  # finished: the weights, not the optimiser's state

    # Elsewhere, from what was brought back: nothing is trained or scored again.
    elsewhere = tmp_path / "elsewhere"
    for tar_path in back.glob("*.tar"):
        with tarfile.open(tar_path) as tar:
            tar.extractall(elsewhere, filter="data")
    stamps = {p: p.stat().st_mtime_ns for p in elsewhere.rglob("*.json")}
    assert len(stamps) == 2 * len(VARIANTS) + 4  # config and scores of each variant, config and comparison of two
    assert main([*args, "--out", str(elsewhere)]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert not (elsewhere / f"combined-{name}" / "state.pt").exists() and not list(
        (elsewhere / "real-scratch").glob("*.pt")
    )
    assert "Nothing left to run." in (elsewhere / "report.md").read_text()


def test_only_real_fine_tunes_a_whole_recipe_and_skips_the_study(
    study_data: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    recipe = tmp_path / "real-gpu.json"  # a whole recipe, as training/configs/vdsr-20-real-gpu.json, shrunk
    values = {"arch": "plain", "repeats": 2, "channels": 8, "batch_size": 2, "patch_size": 24, "iterations": 4}
    values |= {"warmup": 1, "val_every": 2, "val_scales": [2], "init_from": str(tiny_checkpoint)}
    values |= {"degradations": {"clean": 0.5, "jpeg:30-90": 0.5}, "val_degradations": ["jpeg:50"]}
    recipe.write_text(json.dumps(values))
    args = [*_args(tmp_path, study_data, tiny_checkpoint, budget=600), "--only-real", "--real-config", str(recipe)]
    assert main(args) == 0
    report = (tmp_path / "runs" / "report.md").read_text()
    assert "## 3. Real-world model fine-tuned from tiny: step 4 of 4" in report and "| jpeg:50 |" in report
    assert "## 1. Study" not in report and not any((tmp_path / "runs" / v).exists() for v in VARIANTS)
    brought = {p.name for p in (tmp_path / "back").iterdir()}
    assert "real-finetune.tar" in brought and "study.tar" not in brought


def test_without_time_it_stops_cleanly_and_lists_every_row(
    study_data: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    assert main(_args(tmp_path, study_data, tiny_checkpoint, budget=0)) == 0
    ablation = (tmp_path / "docs" / "ablation.md").read_text()
    assert all(f"| {name} | not run |" in ablation for name in VARIANTS)
    report = (tmp_path / "runs" / "report.md").read_text()
    assert "## 1. Study: 0 of 4 variants (time limit)" in report and "waits for the study" in report
    assert "Unfinished: run the same command again to continue." in report


def test_an_unfinished_run_brings_back_its_state(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "combined-vdsr-bn-20"
    run.mkdir(parents=True)
    for name in ("log.csv", "state.pt", "last.safetensors"):
        (run / name).write_bytes(b"x")
    assert bring_back(tmp_path / "back", tmp_path / "docs", tmp_path / "report.md", [], [run]) == []
    with tarfile.open(tmp_path / "back" / f"{run.name}.tar") as tar:
        assert tar.getnames() == [f"{run.name}/log.csv", f"{run.name}/state.pt"]
    (run / "state.pt").write_bytes(bytes(17 * 2**20))
    warnings = bring_back(tmp_path / "back", tmp_path / "docs", tmp_path / "report.md", [], [run])
    assert warnings == [f"{run.name}.tar is 17.0 MiB, over 16 MiB"]


def test_a_variant_starts_only_if_it_fits() -> None:
    now = [0.0]
    budget = Budget(100, clock=lambda: now[0])
    gate = VariantGate(budget, first_guess=30)
    assert gate()  # 1.5 x 30 s fits in 100 s
    now[0] = 40.0  # the first variant took 40 s: the next needs 60 s, and 60 are left
    assert gate()
    now[0] = 60.0  # 40 left
    assert not gate()


def test_a_training_leg_ends_where_the_time_runs_out() -> None:
    assert next_stop(0, 68000, 0.01, 300, 2500) == 30000
    assert next_stop(60000, 68000, 0.01, 300, 2500) == 68000  # the rest fits
    assert next_stop(0, 68000, 0.01, 20, 2500) == 0  # not even one validation interval
    assert next_stop(67000, 68000, 0.01, 15, 2500) == 68000  # the last 1,000 steps need 10 s
    assert next_stop(0, 68000, 0.01, -5, 2500) == 0


def _scores(method: str, psnrs: list[float]) -> list[Score]:
    return [Score(method, scale, p, float("nan"), {}) for scale, p in zip((2, 3, 4), psnrs, strict=True)]


@pytest.mark.parametrize(
    ("holdout", "set5", "ships", "lost"),
    [
        ([43.70, 37.80, 34.75], [37.55, 33.60, 31.25], True, None),
        ([43.55, 37.78, 34.73], [37.55, 33.60, 31.25], False, "the held-out frames"),  # mean -0.023 dB
        ([43.70, 37.80, 34.75], [37.40, 33.60, 31.25], False, "Set5"),
        ([43.64, 37.77, 34.72], [37.46, 33.58, 31.23], False, "the held-out frames or Set5"),  # a tie is no win
    ],
)
def test_the_verdict_needs_a_win_on_both_sets(
    holdout: list[float], set5: list[float], ships: bool, lost: str | None
) -> None:
    shipped_holdout, shipped_set5 = _scores("old", [43.64, 37.77, 34.72]), _scores("old", [37.46, 33.58, 31.23])
    verdict = decide("new", "old", _scores("new", holdout) + shipped_holdout, _scores("new", set5) + shipped_set5)
    assert verdict.ship is ships
    text = verdict.text()
    assert text.startswith("SHIP new" if ships else "DON'T SHIP new")
    if lost:
        assert f"does not beat old on {lost}:" in text
    assert ("meets the paper's 37.53" in text) is (set5[0] >= 37.53)


@pytest.mark.parametrize("arch", ["plain", "bn", "resbn"])
def test_folded_batchnorm_costs_what_plain_costs(arch: str, tiny_model: Callable[..., VDSR]) -> None:
    cost = folded_cost(tiny_model(ModelConfig(arch, 2, 8)))
    assert cost.equal and cost.conv_weights == cost.plain_conv_weights == 8 * 9 + 2 * 8 * 8 * 9 + 8 * 9
    assert cost.bn_folded == (0 if arch == "plain" else 2)
    assert cost.onnx_max_abs_diff is not None and cost.onnx_max_abs_diff <= 1e-4  # the ONNX runs the folded graph
    assert "equal to plain VDSR's" in cost.text()


def test_the_pack_carries_the_sets_the_held_out_frames_and_the_wheels(
    small_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    frames = [(name, rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)) for name in holdout_names()]
    monkeypatch.setattr(gpu_pack, "holdout_frames", lambda root: frames)  # the videos are decoded in test_holdout
    wheel = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fake/__init__.py", "ANSWER = 42\n")
    assert pack(tmp_path / "pack", small_data, [wheel]) > 0
    data = tmp_path / "pack" / "data"
    assert sorted(p.name for p in data.iterdir()) == sorted(["Set5", "T91", HOLDOUT_FOLDER])
    for name in ("Set5", "T91"):  # lossless: the packed sets read back pixel for pixel
        packed, original = load_rgb_folder(data / name), load_rgb_folder(small_data / name)
        assert [n for n, _ in packed] == [n for n, _ in original]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(packed, original, strict=True))
    loaded = load_holdout(data)
    assert [n for n, _ in loaded] == holdout_names()
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(loaded, frames, strict=True))
    with tarfile.open(tmp_path / "pack" / SITE_ARCHIVE) as tar:
        tar.extractall(tmp_path / "site", filter="data")
    assert (tmp_path / "site" / "fake" / "__init__.py").read_text() == "ANSWER = 42\n"
    (data / HOLDOUT_FOLDER / f"{holdout_names()[0]}.webp").unlink()
    with pytest.raises(FileNotFoundError, match="not the held-out frames"):
        load_holdout(data)
