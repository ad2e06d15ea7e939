"""The shipped models load safely and measure their recorded figures; the default model suits the input."""

from pathlib import Path

import pytest

from engines import load_upscaler
from vdsr import weights
from vdsr.checkpoint import load_checkpoint
from vdsr.config import ModelConfig
from vdsr.data import load_rgb_folder
from vdsr.evaluate import evaluate
from vdsr.input_kind import InputKind
from vdsr.pipeline import Upscaler
from vdsr.weights import (
    DEFAULT_MODEL,
    MODEL_DESCRIPTIONS,
    REAL_MODEL,
    WEIGHTS_DIR,
    offered_models,
    pick_model,
    resolve_model,
    shipped_models,
)


def test_default_model_is_shipped_and_is_the_papers_vdsr20() -> None:
    assert shipped_models()[0] == DEFAULT_MODEL
    model, info = load_checkpoint(resolve_model())
    assert info.config == ModelConfig(arch="plain", repeats=18)
    assert info.scales == (2.0, 3.0, 4.0)
    assert info.path == WEIGHTS_DIR / f"{DEFAULT_MODEL}.safetensors"
    assert info.path.stat().st_size < 5_000_000


# The shipped model's measured gain over bicubic on Set5 is +3.77 / +3.17 / +2.80 dB at x2 / x3 / x4
# (docs/notes.md). x2 is issue 3's floor; x3 and x4 guard what was reached.
MIN_GAIN_DB = {2: 3.5, 3: 3.0, 4: 2.6}


def test_default_model_beats_bicubic_and_matches_its_recorded_figures(data_root: Path) -> None:
    model, info = load_checkpoint(resolve_model())
    images = load_rgb_folder(data_root / "Set5")
    methods = {"bicubic": Upscaler(None), "vdsr": load_upscaler(model)}
    scores = {(s.method, s.scale): s.psnr for s in evaluate(methods, images, [2, 3, 4], with_ssim=False)}
    for scale in (2, 3, 4):
        assert scores["vdsr", scale] - scores["bicubic", scale] >= MIN_GAIN_DB[scale], scale
        # The figures written into the checkpoint (and the README) are what this code measures.
        assert scores["vdsr", scale] == pytest.approx(info.evaluation["psnr"][str(scale)], abs=0.01)


@pytest.mark.parametrize(
    ("kind", "model", "reason"),
    [
        (InputKind("video"), REAL_MODEL, "video is always lossy-compressed"),
        (InputKind("lossy"), REAL_MODEL, "the image is lossy-compressed (HEIC, AVIF or lossy WebP)"),
        (InputKind("lossy", 87), REAL_MODEL, "the image is a JPEG of quality 87, lossy-compressed"),
        (InputKind("lossy", 88), f"{REAL_MODEL}@0.75", "the image is a JPEG of quality 88, lightly compressed"),
        (InputKind("lossy", 95), f"{REAL_MODEL}@0.75", "the image is a JPEG of quality 95, lightly compressed"),
        (InputKind("lossy", 96), DEFAULT_MODEL, "the image is a JPEG of quality 96, nearly lossless"),
        (InputKind("lossless"), DEFAULT_MODEL, "the image is stored losslessly"),
    ],
)
def test_pick_model_by_kind(kind: InputKind, model: str, reason: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "shipped_models", lambda: [DEFAULT_MODEL, REAL_MODEL])
    assert pick_model(kind) == (model, reason)
    assert model in offered_models()


def test_without_the_real_model_every_pick_is_the_clean_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "shipped_models", lambda: [DEFAULT_MODEL])
    assert offered_models() == [DEFAULT_MODEL]
    for kind in (InputKind("video"), InputKind("lossy", 90)):
        name, reason = pick_model(kind)
        assert name == DEFAULT_MODEL and f"{REAL_MODEL} is not installed" in reason


def test_every_offered_model_says_what_it_is_for() -> None:
    assert offered_models() == [DEFAULT_MODEL, REAL_MODEL, f"{REAL_MODEL}@0.75"]
    assert MODEL_DESCRIPTIONS[f"{REAL_MODEL}@0.75"].endswith("for JPEGs of quality 88 to 95")
    assert set(MODEL_DESCRIPTIONS) == set(offered_models())


@pytest.mark.parametrize("name", [n for n in shipped_models() if n != DEFAULT_MODEL])
def test_other_shipped_models_measure_their_recorded_figures(name: str, data_root: Path) -> None:
    """Every figure a shipped model records (Set5 clean, and under each damage it names) re-measures."""
    model, info = load_checkpoint(resolve_model(name))
    assert info.config == ModelConfig(arch="plain", repeats=18) and info.path.stat().st_size < 5_000_000
    images = load_rgb_folder(data_root / "Set5")
    recorded = {"clean": info.evaluation["psnr"], **info.evaluation.get("degraded_psnr", {})}
    upscaler = load_upscaler(model)
    for spec, by_scale in recorded.items():
        scales = [int(s) for s in by_scale]
        for score in evaluate({"m": upscaler}, images, scales, with_ssim=False, degradation=spec):
            assert score.psnr == pytest.approx(by_scale[str(score.scale)], abs=0.01), (spec, score.scale)


def test_below_x2_the_models_still_beat_bicubic(data_root: Path) -> None:
    """The network runs at x2 below x2 (vdsr.pipeline.NETWORK_MIN_SCALE). Run directly, it fell below
    bicubic: vdsr-20 -0.29 dB at x1.5, vdsr-20-real -4.74 dB on a JPEG at x1. Measured: +3.72 and +1.20."""
    images = load_rgb_folder(data_root / "Set5")
    bicubic = Upscaler(None)
    clean = {
        s.method: s.psnr
        for s in evaluate({"bicubic": bicubic, "m": load_upscaler("vdsr-20", "torch")}, images, [1.5], with_ssim=False)
    }
    methods = {"bicubic": bicubic, "m": load_upscaler(REAL_MODEL, "torch")}
    jpeg = {s.method: s.psnr for s in evaluate(methods, images, [1], with_ssim=False, degradation="jpeg:50")}
    assert clean["m"] - clean["bicubic"] >= 3.0
    assert jpeg["m"] - jpeg["bicubic"] >= 0.9  # at x1, "bicubic" is the damaged input itself


def test_the_automatic_choice_for_a_jpeg_follows_its_quality(data_root: Path) -> None:
    """The quality bounds of JPEG_STRENGTHS, measured on Set5 at x2: the model picked for quality 90 (the
    blend) leads both shipped models there (by 0.10 dB), and the one picked for 75 (vdsr-20-real) leads
    the blend (by 0.31 dB)."""
    images = load_rgb_folder(data_root / "Set5")
    names = (DEFAULT_MODEL, f"{REAL_MODEL}@0.75", REAL_MODEL)
    methods = {name: load_upscaler(name, "torch") for name in names}
    for quality in (90, 75):
        scores = {
            s.method: s.psnr for s in evaluate(methods, images, [2], with_ssim=False, degradation=f"jpeg:{quality}")
        }
        picked = pick_model(InputKind("lossy", quality))[0]
        assert all(scores[picked] >= scores[n] + 0.05 for n in names if n != picked), (quality, scores)
