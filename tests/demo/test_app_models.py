"""The model and engine menus, in process: what is offered, which model a request runs, and the line that says so."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from demo.engine_menu import EngineMenu
from demo.image_handlers import ImageHandlers
from demo.limits import AppLimits
from demo.models import AUTOMATIC, ModelCatalog, ModelPick, Run
from demo.state import AppState
from demo.workdir import WorkDir
from vdsr.input_kind import InputKind
from vdsr.pipeline import Upscaler
from vdsr.weights import MODEL_DESCRIPTIONS

LOSSY = "the image is lossy-compressed (HEIC, AVIF or lossy WebP)"
BLEND = "vdsr-20-real@0.75"
JPEG_90 = "the image is a JPEG of quality 90, lightly compressed"
LOSSLESS = "the image is stored losslessly"


@pytest.fixture
def weights(tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A weights folder holding the clean and the real-world model (both the tiny checkpoint)."""
    folder = tmp_path / "weights"
    folder.mkdir()
    for name in ("vdsr-20", "vdsr-20-real"):
        shutil.copyfile(tiny_checkpoint, folder / f"{name}.safetensors")
    monkeypatch.setattr("vdsr.weights.WEIGHTS_DIR", folder)
    return folder


def _state(models: ModelCatalog, tmp_path: Path) -> AppState:
    return AppState(AppLimits(), models, WorkDir.create(tmp_path), EngineMenu(("torch",)))


def _image(tmp_path: Path, name: str, shape: tuple[int, int] = (32, 40), **save: int) -> Path:
    rng = np.random.default_rng(4)
    path = tmp_path / name
    Image.fromarray((rng.random((*shape, 3)) * 255).astype(np.uint8)).save(path, **save)
    return path


def test_menu_lists_automatic_then_each_model_with_what_it_is_for(weights: Path) -> None:
    models = ModelCatalog.discover({})
    assert models.default() == AUTOMATIC
    assert [value for _, value in models.menu()] == [AUTOMATIC, "vdsr-20", "vdsr-20-real", BLEND]
    labels = dict((value, label) for label, value in models.menu())
    for name in ("vdsr-20", "vdsr-20-real", BLEND):
        assert labels[name] == f"{name}: {MODEL_DESCRIPTIONS[name]}"
    rows = [row[:2] for row in models.table()]
    assert rows == [[name, MODEL_DESCRIPTIONS[name]] for name in ("vdsr-20", "vdsr-20-real", BLEND)]


def test_automatic_follows_the_input(weights: Path) -> None:
    models = ModelCatalog.discover({})
    lossy = InputKind("lossy")
    assert models.pick(AUTOMATIC, lossy) == ModelPick("vdsr-20-real", LOSSY)
    assert models.pick(AUTOMATIC, InputKind("lossy", 90)) == ModelPick(BLEND, JPEG_90)
    assert models.pick(None, InputKind("video")) == ModelPick("vdsr-20-real", "video is always lossy-compressed")
    assert models.pick(AUTOMATIC, InputKind("lossless")) == ModelPick("vdsr-20", LOSSLESS)
    assert models.pick("vdsr-20", lossy) == ModelPick("vdsr-20", "chosen in the menu")
    assert models.pick(AUTOMATIC, lossy, "for input with JPEG quality 50 damage").reason == (
        f"for input with JPEG quality 50 damage, {LOSSY}"
    )
    with pytest.raises(gr.Error, match=f"Unknown model 'vdsr-30'; available: auto, vdsr-20, vdsr-20-real, {BLEND}"):
        models.pick("vdsr-30", lossy)


def test_without_the_real_world_model_automatic_says_so(weights: Path) -> None:
    (weights / "vdsr-20-real.safetensors").unlink()
    models = ModelCatalog.discover({})
    assert [value for _, value in models.menu()] == [AUTOMATIC, "vdsr-20"]  # no blend without both models
    pick = models.pick(AUTOMATIC, InputKind("lossy"))
    assert pick == ModelPick("vdsr-20", f"{LOSSY}, but vdsr-20-real is not installed")


def test_a_pinned_model_is_the_default(weights: Path, tiny_checkpoint: Path) -> None:
    models = ModelCatalog.discover({"VDSR_MODEL": str(tiny_checkpoint)})
    assert [value for _, value in models.menu()] == ["tiny", AUTOMATIC, "vdsr-20", "vdsr-20-real", BLEND]
    assert models.default() == "tiny"
    assert models.pick(None, InputKind("lossy")) == ModelPick("tiny", "chosen in the menu")
    assert models.menu()[0][0] == "tiny: the checkpoint set by VDSR_MODEL"


def test_each_result_says_which_model_ran_and_why(weights: Path, tmp_path: Path) -> None:
    handlers = ImageHandlers(_state(ModelCatalog.discover({}), tmp_path))
    jpeg = _image(tmp_path, "photo.jpg", quality=60)
    png = _image(tmp_path, "drawing.png")
    *_, line = handlers.upscale_image(str(jpeg), engine="torch")
    assert line == "Model vdsr-20-real: the image is a JPEG of quality 60, lossy-compressed. Ran on torch (fp32)."
    *_, line = handlers.upscale_image(str(_image(tmp_path, "phone.jpg", quality=90)), engine="torch")
    assert line == f"Model {BLEND}: {JPEG_90}. Ran on torch (fp32)."
    *_, line = handlers.upscale_image(str(png), engine="torch", ensemble=True)
    assert line == f"Model vdsr-20: {LOSSLESS}. Ran on torch (fp32), x8 self-ensemble."
    with Image.open(_image(tmp_path, "larger.jpg", (48, 64), quality=60)) as im:
        im.save(tmp_path / "saved-as.png")  # a JPEG converted to PNG keeps JPEG's damage (40 px are needed to tell)
    *_, line = handlers.upscale_image(str(tmp_path / "saved-as.png"), engine="torch")
    assert line.endswith(": the image is a PNG made from a JPEG of quality 60, lossy-compressed. Ran on torch (fp32).")
    assert line.startswith("Model vdsr-20-real: ")
    table, caption, *_, line = handlers.compare_image(str(png), "x2", engine="torch", damage="jpeg:50")
    assert line.startswith(
        "Model vdsr-20-real: for input with JPEG quality 50 damage, the image is a JPEG of quality 50,"
    )
    assert caption.startswith("x2: ground truth 40x32 downscaled to 20x16, damage: JPEG quality 50, restored to 40x32")
    assert [row[0] for row in table["data"]] == ["bicubic", "VDSR", "gain"]
    *_, line = handlers.compare_image(str(jpeg), "x2", model=AUTOMATIC, engine="torch")
    assert line.startswith("Model vdsr-20: for input with clean damage, ")  # scored on a clean downscale


def test_run_line_without_a_precision() -> None:
    run = Run(Upscaler(None), ModelPick("vdsr-20", "chosen in the menu"), "fake", "")
    assert run.describe() == "Model vdsr-20: chosen in the menu. Ran on fake."


def test_engine_menu_offers_only_what_runs_here(tiny_checkpoint: Path) -> None:
    menu = EngineMenu.probe(tiny_checkpoint)
    assert menu.values()[0] == "auto" and "torch" in menu.values()
    assert set(menu.runnable).isdisjoint(menu.missing)
    info = menu.info()
    assert info.startswith("auto picks the fastest backend that runs here")
    for name in menu.missing:
        assert f"{name} (" in info
    assert "pip install" not in info and "requirements" not in info
    assert EngineMenu.probe(None).values() == ["auto"]


def test_an_engine_not_in_the_menu_is_refused(tiny_checkpoint: Path, tmp_path: Path) -> None:
    state = _state(ModelCatalog({"tiny": tiny_checkpoint}), tmp_path)
    with pytest.raises(gr.Error, match=r"Unknown engine 'tensorrt'; available here: auto, torch\."):
        state.run(ModelPick("tiny", "chosen in the menu"), "tensorrt")
    with pytest.raises(gr.Error, match="No model weights installed"):
        ModelCatalog({}).pick(AUTOMATIC, "lossy")
