from __future__ import annotations

import json
from pathlib import Path

from training.report import load_scores, main


def _write(path: Path, set_name: str, rows: list[tuple[str, str, int, float]]) -> Path:
    scores = [
        {"method": m, "degradation": d, "scale": s, "psnr": p, "ssim": 0.9, "per_image": {"a": [p, 0.9]}}
        for m, d, s, p in rows
    ]
    path.write_text(json.dumps({"set": set_name, "scores": scores}))
    return path


def test_separately_scored_files_merge_into_one_report(tmp_path: Path) -> None:
    base = _write(
        tmp_path / "base.json",
        "holdout",
        [("bicubic", "clean", 2, 39.9), ("bicubic", "jpeg:50", 2, 35.25), ("vdsr-20", "jpeg:50", 2, 34.71)],
    )
    new = _write(tmp_path / "new.json", "holdout", [("vdsr-20-real", "jpeg:50", 2, 36.5)])
    assert [s.method for s in load_scores([base, new])["holdout"]] == ["bicubic", "bicubic", "vdsr-20", "vdsr-20-real"]
    doc = tmp_path / "real.md"
    doc.write_text("# Report\n\n<!-- tables -->\nold\n<!-- /tables -->\n\nAfter.\n")
    assert main([str(base), str(new), "--doc", str(doc)]) == 0
    tables = doc.read_text()
    assert tables.startswith("# Report\n") and tables.endswith("<!-- /tables -->\n\nAfter.\n") and "old" not in tables
    assert "| input | bicubic | vdsr-20 | vdsr-20-real |" in tables
    assert "| jpeg:50 | 35.25 | 34.71 (-0.54) | 36.50 (+1.25) |" in tables
    assert (tmp_path / "real.png").stat().st_size > 1000


def test_ship_records_the_figures_it_measures(small_data: Path, tiny_checkpoint: Path, tmp_path: Path) -> None:
    from training.ship import ship
    from vdsr.checkpoint import read_checkpoint_info

    evaluation = ship(tiny_checkpoint, tmp_path / "shipped.safetensors", small_data, ["jpeg:50"], scales=[2])
    info = read_checkpoint_info(tmp_path / "shipped.safetensors")
    assert info.evaluation == evaluation
    assert set(info.evaluation["psnr"]) == {"2"} and set(info.evaluation["degraded_psnr"]["jpeg:50"]) == {"2"}
    assert info.evaluation["degraded_psnr"]["jpeg:50"]["2"] < info.evaluation["psnr"]["2"]
