"""The app's pieces, in process (no server): scale parsing, compare mode, limits, errors, work folders, state."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from demo.compare import DAMAGE_CHOICES, compare, damage_label, protocol_input
from demo.engine_menu import EngineMenu
from demo.errors import SetupError, request_error, user_error
from demo.image_handlers import ImageHandlers
from demo.inputs import describe_video, parse_scale
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
    models = ModelCatalog({"tiny": tiny_checkpoint}, pinned=True)
    state = AppState(AppLimits(), models, WorkDir.create(tmp_path), EngineMenu(("torch",)))
    rng = np.random.default_rng(3)
    Image.fromarray((rng.random((24, 30, 3)) * 255).astype(np.uint8)).save(tmp_path / "in put.png")
    (bicubic, sr), download, line = ImageHandlers(state).upscale_image(
        str(tmp_path / "in put.png"), "x3", engine="torch"
    )
    assert sr == download and Path(sr).name == "in_put_x3_vdsr.png"
    assert line == "Model tiny: chosen in the menu. Ran on torch (fp32)."
    assert Path(sr).parent.parent == state.work.root
    img = read_image(tmp_path / "in put.png")
    np.testing.assert_array_equal(read_image(bicubic), Upscaler(None).upscale(img, 3))
    assert read_image(sr).shape == (72, 90, 3)
    from tests.test_imageio import _phone_photo, _profile

    photo = _phone_photo(tmp_path / "phone.jpg", np.full((20, 30, 3), 90, np.uint8))
    (bicubic, sr), download, _ = ImageHandlers(state).upscale_image(
        str(photo), "x2", engine="torch", output_format="jpeg"
    )
    for path in (bicubic, sr, download):
        with Image.open(path) as im:
            assert im.info["icc_profile"] == _profile() and im.getexif()[0x0132] == "2009:01:02 03:04:05", path
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(gr.Error) as caught:
        ImageHandlers(state).upscale_image(str(tmp_path / "notes.png"))
    assert caught.value.message == "This file is not an image; PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP and TIFF work."


def test_an_animated_upload_downloads_with_every_frame(tiny_checkpoint: Path, tmp_path: Path) -> None:
    models = ModelCatalog({"tiny": tiny_checkpoint}, pinned=True)
    state = AppState(AppLimits(), models, WorkDir.create(tmp_path), EngineMenu(("torch",)))
    rng = np.random.default_rng(4)
    frames = [Image.fromarray((rng.random((20, 24, 3)) * 255).astype(np.uint8)) for _ in range(3)]
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:], duration=90, loop=0)
    handlers = ImageHandlers(state)
    (_, sr), download, line = handlers.upscale_image(str(tmp_path / "moving.gif"), "x2", output_format="webp")
    assert line.endswith("The download has all 3 frames, with their timing.")
    with Image.open(download) as im:
        assert (im.format, im.n_frames, im.size, im.info["loop"]) == ("WEBP", 3, (48, 40), 0)
    assert read_image(sr).shape == (40, 48, 3)  # the slider: the first frame
    _, download, line = handlers.upscale_image(str(tmp_path / "moving.gif"), "x2", output_format="jpeg")
    assert line.endswith("The download is the first of 3 frames: JPEG holds one; choose PNG or WebP for all of them.")
    assert read_image(download).shape == (40, 48, 3)
    archive, summary = handlers.upscale_batch([str(tmp_path / "moving.gif")], "x2", output_format="webp")
    with zipfile.ZipFile(archive) as zf, Image.open(zf.open("moving_x2_vdsr.webp")) as im:
        assert im.n_frames == 3 and "The download has all 3 frames" in summary
    (tmp_path / "w").mkdir()
    small = AppState(AppLimits(max_video_output_pixels=3000), models, WorkDir.create(tmp_path / "w"), EngineMenu(()))
    _, download, line = ImageHandlers(small).upscale_image(str(tmp_path / "moving.gif"), "x2")
    assert line.endswith("all would be 0.00576 MP, over the 0.003 MP limit here.")
    assert Image.open(download).n_frames == 1


def _run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
    )


def test_importing_the_app_modules_does_nothing(tmp_path: Path) -> None:
    """No work folder, no model lookup at import: a bad $VDSR_MODEL only matters once the app is built."""
    modules = sorted(p.stem for p in (ROOT / "demo").glob("*.py") if p.stem != "__init__")
    code = "import demo, " + ", ".join(f"demo.{name}" for name in modules)
    proc = _run_python(code, tmp_path, VDSR_MODEL="no-such-model")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not list(tmp_path.glob("vdsr-app-*"))


def test_app_with_a_bad_model_stops_with_one_line(tmp_path: Path) -> None:
    proc = _run_python("import runpy; runpy.run_path('app.py')", tmp_path, VDSR_MODEL="no-such-model")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Cannot start the app: VDSR_MODEL: unknown model 'no-such-model': not a file"), last
    assert not list(tmp_path.glob("vdsr-app-*"))


def test_a_user_error_is_one_log_line_and_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="demo.requests"):
        error = user_error("The file is empty.")
    assert error.message == "The file is empty." and error.print_exception is False
    assert [r.getMessage() for r in caplog.records] == ["refused: The file is empty."]


def test_compare_damages_the_input_and_says_what_the_table_is_for() -> None:
    img = (np.random.default_rng(5).random((48, 64, 3)) * 255).astype(np.uint8)
    identity = Upscaler(lambda y: y, receptive_radius=0)
    clean = compare(img, 2.0, identity)
    damaged = compare(img, 2.0, identity, "h264:33")
    assert damaged.rows[0][1] < clean.rows[0][1]  # bicubic from a damaged input scores lower
    assert damaged.caption() == (
        "x2: ground truth 64x48 downscaled to 32x24, damage: H.264 CRF 33, restored to 64x48. "
        "PSNR and SSIM on luma (Y), 2 px border left out."
    )
    assert (
        compare(img, 1.0, identity, "jpeg:50")
        .caption()
        .startswith("x1: ground truth 64x48 kept at its size, damage: JPEG quality 50, restored to 64x48.")
    )
    assert [damage_label(v) for _, v in DAMAGE_CHOICES] == [
        "clean",
        *(f"JPEG quality {q}" for q in (90, 70, 50, 30)),
        *(f"H.264 CRF {c}" for c in (18, 23, 28, 33)),
    ]
    with pytest.raises(gr.Error, match="Damage must be one of clean, jpeg:90"):
        compare(img, 2.0, identity, "blur:3")


def test_uploads_are_checked_in_plain_words(tiny_checkpoint: Path, tmp_path: Path) -> None:
    models = ModelCatalog({"tiny": tiny_checkpoint}, pinned=True)
    state = AppState(AppLimits(), models, WorkDir.create(tmp_path), EngineMenu(()))
    handlers = ImageHandlers(state)
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("not an image")
    Image.new("RGB", (30, 20)).save(tmp_path / "ok.png")
    assert handlers.check_image(str(tmp_path / "empty.png")) == (None, "**The file is empty.**")
    assert handlers.check_image(str(tmp_path / "notes.png")) == (
        None,
        "**This file is not an image; PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP and TIFF work.**",
    )
    path, text = handlers.check_image(str(tmp_path / "ok.png"))
    assert path == str(tmp_path / "ok.png") and text.startswith("30x20 image. The automatic model choice is tiny")
    Image.new("RGB", (30, 20)).save(
        tmp_path / "moving.gif", save_all=True, append_images=[Image.new("RGB", (30, 20), "red")]
    )
    path, text = handlers.check_image(str(tmp_path / "moving.gif"))
    assert path == str(tmp_path / "moving.gif")
    assert text.startswith(
        "30x20 image, animated (2 frames): the first is upscaled here; the command line upscales every"
    )
    assert handlers.check_image(None) == (None, "")


def test_video_plan_says_what_fits_and_how_long_it_takes(clip: Path) -> None:
    from demo.video_plan import VideoPlan, format_seconds
    from vdsr.video import probe_video

    info = probe_video(clip)  # 48x32, 12 frames at 12 fps
    limits = AppLimits(max_video_output_pixels=96 * 64 * 6)  # six output frames at x2
    plan = VideoPlan.make(info, 0.25, None, (64, 96))
    assert (plan.duration, plan.frames, plan.longest(limits)) == (0.75, 9, 0.5)
    assert plan.describe(limits, None) == (
        "To upscale: 0.25 to 1.0 s, 9 frames to 96x64. **Too long: up to 0.5 s fit from 0.25 s at this scale.** "
        "The time estimate appears once a frame has been previewed."
    )
    with pytest.raises(gr.Error, match="up to 0.5 s fit"):
        plan.check(limits)
    fitting = VideoPlan.make(info, 0.25, 0.5, (64, 96))
    fitting.check(limits)
    assert fitting.describe(limits, 96 * 64 * 2.0).endswith("Estimated time: about 3.0 s (2 frames/s measured here).")
    with pytest.raises(gr.Error, match="The start must be from 0 to 1.0 s"):
        VideoPlan.make(info, 5.0, None, (64, 96))
    with pytest.raises(gr.Error, match="Even one frame of 96x64 is over the limit"):
        VideoPlan.make(info, 0, None, (64, 96)).check(AppLimits(max_video_output_pixels=1000))
    assert [format_seconds(s) for s in (2.5, 42, 185, 120)] == ["2.5 s", "42 s", "3 min 5 s", "2 min"]


def test_a_stopped_video_job_continues_when_asked_again(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import demo.video_handlers
    from demo.video_handlers import VideoHandlers
    from tests.test_video import make_clip

    clip = make_clip(tmp_path / "clip.mp4", frames=40)  # 1.6 s: four segments of 0.4 s
    real = demo.video_handlers.video_upscale
    stop_after: list[int] = [12]

    def short_segments(*args: Any, progress: Callable[[int, int], None], **kwargs: Any) -> Any:
        def report(done: int, total: int) -> None:
            progress(done, total)
            if stop_after and done >= stop_after[0]:
                raise RuntimeError("the server went down")

        return real(*args, progress=report, segment_seconds=0.4, **kwargs)

    monkeypatch.setattr(demo.video_handlers, "video_upscale", short_segments)
    models = ModelCatalog({"tiny": tiny_checkpoint}, pinned=True)
    handlers = VideoHandlers(AppState(AppLimits(), models, WorkDir.create(tmp_path), EngineMenu(("torch",))))
    with pytest.raises(RuntimeError, match="the server went down"):
        list(handlers.upscale_video(str(clip), "x2", engine="torch"))
    stop_after.clear()
    *_, (video, summary, latest) = handlers.upscale_video(str(clip), "x2", engine="torch")
    assert (
        summary.startswith("40 frames at 128x96") and "Continued a stopped run: 10 frames were already done." in summary
    )
    assert Path(video).is_file() and latest is None
    *_, (_, again, _) = handlers.upscale_video(str(clip), "x3", engine="torch")  # another scale: a job of its own
    assert "Continued" not in again


def test_an_interlaced_upload_is_described_as_such(tmp_path: Path, clip: Path) -> None:
    from tests.video.test_deinterlace import make_interlaced_clip
    from vdsr.video import probe_video

    assert describe_video(probe_video(make_interlaced_clip(tmp_path / "woven.mp4"))).endswith(
        "Interlaced: deinterlaced before upscaling."
    )
    assert "nterlaced" not in describe_video(probe_video(clip))


def test_warm_up_builds_every_models_engine(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JPEG or a video runs vdsr-20-real or its blend and a PNG vdsr-20: no first request waits for ``auto``."""
    import shutil

    import demo.models
    from engines.torch_ import TorchEngine

    second = shutil.copy(tiny_checkpoint, tmp_path / "second.safetensors")
    models = ModelCatalog({"tiny": tiny_checkpoint, "second": Path(second)})
    state = AppState(AppLimits(), models, WorkDir.create(tmp_path), EngineMenu(()))
    built: list[tuple[str, str]] = []

    def create_engine(engine: str, path: Path) -> TorchEngine:
        built.append((engine, path.name))
        return TorchEngine(path)

    monkeypatch.setattr(demo.models, "create_engine", create_engine)
    state.warm_up()
    assert built == [("auto", "tiny.safetensors"), ("auto", "second.safetensors")]
