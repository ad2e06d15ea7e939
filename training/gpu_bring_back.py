"""What a GPU run brings back: a few files, each small enough to travel, from which the run resumes."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["MAX_FILE", "MAX_TOTAL", "bring_back"]

MAX_FILE = 16 * 2**20  # what one brought-back file may weigh
MAX_TOTAL = 64 * 2**20  # what the device machine carries back in all


def bring_back(dest: Path, docs: Path, report: Path, study: Sequence[Path], runs: Sequence[Path]) -> list[str]:
    """Collect what is worth keeping into ``dest``: at most 8 files, none over 16 MiB; returns warnings.

    One tar holds every study variant's log, scores and plot; one tar per long run holds its log, plot
    and comparison with its last checkpoint once compared, or its resumable state until then (the
    state holds the weights too). Unpacking the tars into ``--out`` elsewhere resumes the run there.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for src in (docs / "ablation.md", docs / "ablation.png", report):
        if src.exists():
            _atomic_copy(src, dest / src.name)
    small = ("log.csv", "config.json", "scores.json", "comparison.json", "training.png")
    if study:
        _write_tar(dest / "study.tar", [(f"{d.name}/{n}", d / n) for d in study for n in small])
    for run in runs:
        weights = "last.safetensors" if (run / "comparison.json").exists() else "state.pt"
        _write_tar(dest / f"{run.name}.tar", [(f"{run.name}/{n}", run / n) for n in (*small, weights)])
    files = [p for p in dest.iterdir() if p.is_file()]
    sizes = {p.name: p.stat().st_size for p in files}
    warnings = [f"{name} is {size / 2**20:.1f} MiB, over 16 MiB" for name, size in sizes.items() if size > MAX_FILE]
    total = sum(sizes.values())
    if total > MAX_TOTAL or len(files) > 8:
        warnings.append(f"{dest} holds {len(files)} files, {total / 2**20:.1f} MiB: more than 8 files or 64 MiB")
    return warnings


def _atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)


def _write_tar(path: Path, members: Sequence[tuple[str, Path]]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, src in members:
            if src.exists():
                tar.add(src, arcname=name)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)
