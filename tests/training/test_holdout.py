"""The held-out check: the six video frames, and scores per model path on them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from training.holdout import HOLDOUT_FRAMES, format_psnr_table, holdout_frames, holdout_scores


@pytest.fixture(scope="module")
def frames(data_root: Path) -> list:
    return holdout_frames(data_root)


def test_holdout_frames_are_the_listed_video_frames(frames: list) -> None:
    expected = [f"{Path(name).stem}@{i}" for name, indices in HOLDOUT_FRAMES.items() for i in indices]
    assert [name for name, _ in frames] == expected
    shapes = {name.split("@")[0]: rgb.shape for name, rgb in frames}
    assert shapes == {"bikes": (272, 640, 3), "bigbuckbunny": (720, 1280, 3)}  # the MANIFEST's sizes
    assert all(rgb.dtype.name == "uint8" for _, rgb in frames)
    assert len({rgb.tobytes() for _, rgb in frames}) == len(frames)  # six different frames


def test_holdout_scores_keep_models_apart_by_path(data_root: Path, tiny_checkpoint: Path, tmp_path: Path) -> None:
    # Two runs' checkpoints are usually both called last.safetensors: their rows must stay apart.
    other = tmp_path / "run-b" / tiny_checkpoint.name
    other.parent.mkdir()
    shutil.copy(tiny_checkpoint, other)
    scores = holdout_scores([str(tiny_checkpoint), str(other)], data_root, scales=[4])
    assert [s.method for s in scores] == ["bicubic", str(tiny_checkpoint), str(other)]
    assert all(len(s.per_image) == 6 for s in scores)
    # identical weights, identical scores; the random tiny model is not bicubic
    assert [v[0] for v in scores[1].per_image.values()] == [v[0] for v in scores[2].per_image.values()]
    assert scores[1].psnr != scores[0].psnr
    table = format_psnr_table(scores, per_frame=True)
    assert f"| {other} | {scores[2].psnr:.4f} | {scores[2].psnr:.4f} |" in table  # one scale: the mean is it
    per_frame_rows = table.split("\n\n")[1].splitlines()[2:]
    assert [row.split(" | ")[1] for row in per_frame_rows] == ["x4"] * 3
    assert all(row.count("|") == 6 + 3 for row in per_frame_rows)  # method, scale and six frames
