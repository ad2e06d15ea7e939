"""The app's pieces, in process (no server): scale parsing, compare mode, about pages, limits, models, state."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from demo.about import about_sections
from demo.compare import compare, protocol_input
from demo.errors import SetupError, request_error
from demo.handlers import Handlers
from demo.inputs import parse_scale
from demo.limits import AppLimits
from demo.models import ModelCatalog
from demo.state import AppState
from demo.workdir import WorkDir
from vdsr.imageio import read_image
from vdsr.pipeline import Upscaler

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("scale", "factor", "expected"),
    [("x2", 9.0, 2.0), ("x4", None, 4.0), ("free", 2.5, 2.5), ("3", None, 3.0), (" X3 ", None, 3.0)],
)
def test_parse_scale(scale: str, factor: float | None, expected: float) -> None:
    assert parse_scale(scale, factor, AppLimits()) == expected


@pytest.mark.parametrize(("scale", "factor"), [("x9", None), ("free", 0.5), ("free", None), ("big", None)])
def test_parse_scale_rejects(scale: str, factor: float | None) -> None:
    with pytest.raises(gr.Error):
        parse_scale(scale, factor, AppLimits())


@pytest.mark.parametrize("scale", [2.0, 3.0, 2.5, 2.7, 1.5])
def test_degrade_sizes_are_exact(scale: float) -> None:
    """Restoring the low-resolution copy by the returned scale lands exactly on the ground-truth size."""
    img = (np.random.default_rng(0).random((101, 83, 3)) * 255).astype(np.uint8)
    hr, lr, exact = protocol_input(img, scale)
    assert lr.dtype == np.uint8 and abs(exact - scale) < 0.05
    restored = Upscaler(None).upscale(lr, exact)
    assert restored.shape == hr.shape


def test_compare_rows_with_identity_refiner() -> None:
    """Bicubic as 'VDSR' gives zero gain; the table has bicubic, VDSR and gain rows."""
    img = (np.random.default_rng(1).random((48, 48, 3)) * 255).astype(np.uint8)
    result = compare(img, 2.0, Upscaler(lambda y: y, receptive_radius=0))
    assert np.array_equal(result.bicubic, result.upscaled)
    assert [r[0] for r in result.rows] == ["bicubic", "VDSR", "gain"] and result.rows[2][1:] == [0.0, 0.0]


def test_compare_scores_as_the_benchmark_protocol(tiny_checkpoint: Path) -> None:
    """The compare table is vdsr.evaluate's score of the same image, rounded (RGBA uploads are scored on RGB)."""
    from engines import load_upscaler
    from vdsr.evaluate import evaluate

    rgb = (np.random.default_rng(2).random((40, 52, 3)) * 255).astype(np.uint8)
    upscaler = load_upscaler(tiny_checkpoint, "torch")
    scores = {s.method: s for s in evaluate({"bicubic": Upscaler(None), "VDSR": upscaler}, [("img", rgb)], [3])}
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])
    rows = {row[0]: row[1:] for row in compare(rgba, 3.0, upscaler).rows}
    for method in ("bicubic", "VDSR"):
        assert rows[method] == [round(scores[method].psnr, 2), round(scores[method].ssim, 4)]


def test_compare_refuses_a_tiny_image() -> None:
    with pytest.raises(gr.Error, match="too small"):
        protocol_input(np.zeros((20, 20, 3), np.uint8), 4.0)


def test_about_pages_serve_their_images(tmp_path: Path) -> None:
    (tmp_path / "ablation.md").write_text("# Ablation\n![plot](ablation.png)\n![web](https://x.org/a.png)\n")
    (tmp_path / "app.md").write_text("# API\n")
    (tmp_path / "ablation.png").write_bytes(b"png")
    (tmp_path / "benchmark.png").write_bytes(b"png")
    pages, plots = about_sections(lambda p: f"/file={p.name}", tmp_path)
    assert pages == ["# Ablation\n![plot](/file=ablation.png)\n![web](https://x.org/a.png)\n"]
    assert plots == [tmp_path / "benchmark.png"]  # the linked plot shows inside its page, not twice


def test_limits_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VDSR_APP_QUEUE_SIZE", "32")
    monkeypatch.setenv("VDSR_APP_MAX_VIDEO_SECONDS", "30")
    limits = AppLimits.from_env()
    assert limits.queue_size == 32 and limits.max_video_seconds == 30.0
    assert isinstance(limits.queue_size, int)
    with pytest.raises(SetupError, match="VDSR_APP_QUEUE_SIZE must be a number, got 'many'"):
        AppLimits.from_env({"VDSR_APP_QUEUE_SIZE": "many"})


def test_ensemble_has_its_own_output_limit() -> None:
    limits = AppLimits()
    assert limits.upscale_limits().max_output_pixels == limits.max_output_pixels
    assert limits.upscale_limits(ensemble=True).max_output_pixels == limits.max_ensemble_output_pixels
    assert limits.upscale_limits(ensemble=True).max_scale == limits.max_free_scale


def test_chosen_model_comes_first(tiny_checkpoint: Path) -> None:
    models = ModelCatalog.discover({"VDSR_MODEL": str(tiny_checkpoint)})
    assert models.choices()[0] == models.default() == "tiny"
    assert models.table()[0][:3] == ["tiny", 4, "x2, x3, x4"]


@pytest.mark.parametrize("value", ["no-such-model", "/nowhere/model.safetensors", "README.md"])
def test_a_bad_model_is_one_line_at_setup(value: str) -> None:
    with pytest.raises(SetupError, match="^VDSR_MODEL: ") as caught:
        ModelCatalog.discover({"VDSR_MODEL": str(ROOT / value) if value == "README.md" else value})
    assert "\n" not in str(caught.value)


def test_unknown_model_or_engine_is_refused(tiny_checkpoint: Path) -> None:
    models = ModelCatalog({"tiny": tiny_checkpoint})
    limits = AppLimits().upscale_limits()
    with pytest.raises(gr.Error, match="Unknown model 'other'; available: tiny"):
        models.upscaler("other", "torch", limits, ensemble=False)
    with pytest.raises(gr.Error, match="Unknown engine 'fast'"):
        models.upscaler("tiny", "fast", limits, ensemble=False)


def test_request_error_names_the_upload_not_the_server_path(tmp_path: Path) -> None:
    upload = tmp_path / "3f0c" / "clip.mp4"
    error = request_error("Cannot use this upload", ValueError(f"{upload}: no video stream (audio only: aac)"), upload)
    assert error.message == "Cannot use this upload: clip.mp4: no video stream (audio only: aac)."


def test_work_folders_are_fresh_and_old_ones_swept(tmp_path: Path) -> None:
    work = WorkDir.create(tmp_path)
    first, second = work.request_folder(), work.request_folder()
    assert first != second and first.parent == second.parent == work.root
    old = time.time() - 2 * work.max_age_s
    os.utime(first, (old, old))
    third = work.request_folder()
    assert not first.exists() and second.exists() and third.exists()


def test_handlers_upscale_image_in_process(tiny_checkpoint: Path, tmp_path: Path) -> None:
    """Handlers run on a state built by hand; bicubic and VDSR come from one upscale_pair call."""
    state = AppState(AppLimits(), ModelCatalog({"tiny": tiny_checkpoint}), WorkDir.create(tmp_path))
    rng = np.random.default_rng(3)
    Image.fromarray((rng.random((24, 30, 3)) * 255).astype(np.uint8)).save(tmp_path / "in put.png")
    sr, (bicubic, sr_again), download = Handlers(state).upscale_image(
        str(tmp_path / "in put.png"), "x3", engine="torch"
    )
    assert sr == sr_again == download and Path(sr).name == "in_put_x3_vdsr.png"
    assert Path(sr).parent.parent == state.work.root
    img = read_image(tmp_path / "in put.png")
    np.testing.assert_array_equal(read_image(bicubic), Upscaler(None).upscale(img, 3))
    assert read_image(sr).shape == (72, 90, 3)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(gr.Error, match=r"Cannot use this upload: notes\.png: not a readable image"):
        Handlers(state).upscale_image(str(tmp_path / "notes.png"))


def _run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
    )


def test_importing_the_app_modules_does_nothing(tmp_path: Path) -> None:
    """No work folder, no model lookup at import: a bad $VDSR_MODEL only matters once the app is built."""
    code = "import demo, demo.about, demo.compare, demo.handlers, demo.inputs, demo.models, demo.state, demo.ui"
    proc = _run_python(code, tmp_path, VDSR_MODEL="no-such-model")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not list(tmp_path.glob("vdsr-app-*"))


def test_app_with_a_bad_model_stops_with_one_line(tmp_path: Path) -> None:
    proc = _run_python("import runpy; runpy.run_path('app.py')", tmp_path, VDSR_MODEL="no-such-model")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Cannot start the app: VDSR_MODEL: unknown model 'no-such-model': not a file"), last
    assert not list(tmp_path.glob("vdsr-app-*"))
