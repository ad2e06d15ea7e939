"""The app's handler helpers, in process (no server): scale parsing, compare-mode sizes, about pages."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from demo import handlers


@pytest.mark.parametrize(("scale", "factor", "expected"), [("x2", 9.0, 2.0), ("x4", None, 4.0), ("free", 2.5, 2.5),
                                                           ("3", None, 3.0), (" X3 ", None, 3.0)])
def test_parse_scale(scale: str, factor: float | None, expected: float) -> None:
    assert handlers.parse_scale(scale, factor) == expected


@pytest.mark.parametrize(("scale", "factor"), [("x9", None), ("free", 0.5), ("free", None), ("big", None)])
def test_parse_scale_rejects(scale: str, factor: float | None) -> None:
    with pytest.raises(gr.Error):
        handlers.parse_scale(scale, factor)


@pytest.mark.parametrize("scale", [2.0, 3.0, 2.5, 2.7, 1.5])
def test_degrade_sizes_are_exact(scale: float) -> None:
    """Restoring the low-resolution copy by the returned scale lands exactly on the ground-truth size."""
    img = (np.random.default_rng(0).random((101, 83, 3)) * 255).astype(np.uint8)
    hr, lr, exact = handlers._degrade(img, scale)
    assert lr.dtype == np.uint8 and abs(exact - scale) < 0.05
    restored = handlers.Upscaler(None).upscale(lr, exact)
    assert restored.shape == hr.shape


def test_compare_rows_with_identity_refiner() -> None:
    """Bicubic as 'VDSR' gives zero gain; the table has bicubic, VDSR and gain rows."""
    img = (np.random.default_rng(1).random((48, 48, 3)) * 255).astype(np.uint8)
    _, bicubic, sr, rows, _ = handlers._compare_arrays(img, 2.0, handlers.Upscaler(lambda y: y, receptive_radius=0))
    assert np.array_equal(bicubic, sr)
    assert [r[0] for r in rows] == ["bicubic", "VDSR", "gain"] and rows[2][1:] == [0.0, 0.0]


def test_about_pages_serve_their_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ablation.md").write_text("# Ablation\n![plot](ablation.png)\n![web](https://x.org/a.png)\n")
    (tmp_path / "app.md").write_text("# API\n")
    (tmp_path / "ablation.png").write_bytes(b"png")
    (tmp_path / "benchmark.png").write_bytes(b"png")
    monkeypatch.setattr(handlers, "DOCS_DIR", tmp_path)
    pages, plots = handlers.about_sections(lambda p: f"/file={p.name}")
    assert pages == ["# Ablation\n![plot](/file=ablation.png)\n![web](https://x.org/a.png)\n"]
    assert plots == [tmp_path / "benchmark.png"]  # the linked plot shows inside its page, not twice


def test_limits_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VDSR_APP_QUEUE_SIZE", "32")
    monkeypatch.setenv("VDSR_APP_MAX_VIDEO_SECONDS", "30")
    limits = handlers.AppLimits.from_env()
    assert limits.queue_size == 32 and limits.max_video_seconds == 30.0
