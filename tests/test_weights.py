"""Which model suits an input: judged from the file's content, with the reason said in plain words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vdsr import weights
from vdsr.weights import DEFAULT_MODEL, REAL_MODEL, input_kind, pick_model


@pytest.fixture()
def picture() -> Image.Image:
    return Image.fromarray((np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8))


@pytest.mark.parametrize(
    ("name", "options", "kind"),
    [
        ("a.png", {}, "lossless"),
        ("a.bmp", {}, "lossless"),
        ("a.tiff", {}, "lossless"),
        ("a.jpg", {}, "lossy"),
        ("a.webp", {"lossless": True}, "lossless"),
        ("a.webp", {"quality": 80}, "lossy"),
    ],
)
def test_input_kind_of_images(tmp_path: Path, picture: Image.Image, name: str, options: dict, kind: str) -> None:
    path = tmp_path / name
    picture.save(path, **options)
    assert input_kind(path) == kind


def test_input_kind_reads_the_content_not_the_name(tmp_path: Path, picture: Image.Image) -> None:
    path = tmp_path / "really-a-jpeg.png"
    picture.save(path, format="JPEG")
    assert input_kind(path) == "lossy"
    (tmp_path / "notes.png").write_text("not an image")
    assert input_kind(tmp_path / "notes.png") == "lossless"  # reading it reports the real problem


def test_videos_are_compressed() -> None:
    assert input_kind("clip.MP4") == "video" and input_kind("tape.mkv") == "video"


def test_pick_model_by_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "shipped_models", lambda: [DEFAULT_MODEL, REAL_MODEL])
    assert pick_model("video")[0] == REAL_MODEL
    assert pick_model("lossy") == (REAL_MODEL, "the image is lossy-compressed (JPEG or lossy WebP)")
    assert pick_model("lossless")[0] == DEFAULT_MODEL
    monkeypatch.setattr(weights, "shipped_models", lambda: [DEFAULT_MODEL])
    name, reason = pick_model("video")
    assert name == DEFAULT_MODEL and f"{REAL_MODEL} is not installed" in reason
