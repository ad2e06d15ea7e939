"""Render ``python -m vdsr evaluate --json`` files as the real-world quality report and its plot.

``python -m training.report set5.json holdout.json --doc docs/real-world.md`` writes the tables (one
per set and scale: PSNR per degradation and method, gain over bicubic in brackets) between the
document's ``<!-- tables -->`` and ``<!-- /tables -->`` lines, and the gains at x2 as a plot beside
it (``docs/real-world.png``). Files scored separately (say, the baselines once and a new model
later) are merged by (set, method, degradation, scale).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from vdsr.evaluate import Score, format_degradation_table

__all__ = ["fill_document", "load_scores", "main", "plot_gains", "render_tables"]

START, END = "<!-- tables -->", "<!-- /tables -->"

_SET_TITLES = {"Set5": "Set5 (5 images)", "holdout": "Held-out video frames (bikes and Big Buck Bunny, 6 frames)"}


def load_scores(paths: Sequence[Path]) -> dict[str, list[Score]]:
    """Set name -> scores, later files overriding earlier ones for the same method, degradation and scale."""
    merged: dict[str, dict[tuple[str, str, int], Score]] = {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        rows = merged.setdefault(data["set"], {})
        for r in data["scores"]:
            score = Score(
                r["method"],
                r["scale"],
                r["psnr"],
                r["ssim"],
                {k: tuple(v) for k, v in r["per_image"].items()},
                r.get("degradation", "clean"),
            )
            rows[score.method, score.degradation, score.scale] = score
    return {name: list(rows.values()) for name, rows in merged.items()}


def render_tables(scores: dict[str, list[Score]]) -> str:
    """Markdown: a heading per set, then one table per scale."""
    parts = []
    for name, rows in scores.items():
        parts.append(f"### {_SET_TITLES.get(name, name)}")
        for scale in sorted({s.scale for s in rows}):
            parts += [f"x{scale}, PSNR dB on Y (gain over bicubic):", "", format_degradation_table(rows, scale), ""]
    return "\n".join(parts)


def plot_gains(scores: dict[str, list[Score]], out: Path, scale: int = 2) -> None:
    """Grouped bars: each method's gain over bicubic per degradation at ``scale``, one panel per set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(len(scores), 1, figsize=(11, 3.6 * len(scores)), squeeze=False)
    for ax, (name, rows) in zip(axes[:, 0], scores.items(), strict=True):
        at = {(s.degradation, s.method): s.psnr for s in rows if s.scale == scale}
        specs = list(dict.fromkeys(s.degradation for s in rows))
        methods = [m for m in dict.fromkeys(s.method for s in rows) if m != "bicubic"]
        width = 0.8 / len(methods)
        for i, method in enumerate(methods):
            gains = [at.get((spec, method), np.nan) - at.get((spec, "bicubic"), np.nan) for spec in specs]
            ax.bar(np.arange(len(specs)) + (i - (len(methods) - 1) / 2) * width, gains, width, label=method)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(np.arange(len(specs)), specs, rotation=20)
        ax.set(ylabel=f"x{scale} gain over bicubic (dB)", title=_SET_TITLES.get(name, name))
        ax.legend(fontsize=8, ncol=len(methods))
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def fill_document(doc: Path, tables: str) -> None:
    """Replace what stands between the document's table markers with ``tables``."""
    text = doc.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{doc} has no {START} ... {END} lines to fill")
    head, rest = text.split(START, 1)
    doc.write_text(f"{head}{START}\n{tables}\n{END}{rest.split(END, 1)[1]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.report", description=__doc__.splitlines()[0])
    p.add_argument("json", nargs="+", type=Path, help="files written by python -m vdsr evaluate --json")
    p.add_argument("--doc", type=Path, default=Path("docs/real-world.md"), help="document whose tables to fill")
    args = p.parse_args(argv)
    fill_document(args.doc, render_tables(load_scores(args.json)))
    plot_gains(load_scores(args.json), args.doc.with_suffix(".png"))
    print(f"wrote {args.doc} and {args.doc.with_suffix('.png')}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
