"""What an input is: its compression read from the file, and a former JPEG found in a lossless file's pixels."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.jpeg_history_study import halve, study
from vdsr.data import load_rgb_folder
from vdsr.input_kind import InputKind, input_kind, jpeg_history_quality, jpeg_quality
from vdsr.weights import REAL_MODEL, pick_model


@pytest.fixture()
def picture() -> Image.Image:
    return Image.fromarray((np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8))


@pytest.mark.parametrize(
    ("name", "options", "kind"),
    [
        ("a.png", {}, InputKind("lossless")),
        ("a.bmp", {}, InputKind("lossless")),
        ("a.tiff", {}, InputKind("lossless")),
        ("a.jpg", {}, InputKind("lossy", 75)),
        ("a.jpg", {"quality": 92}, InputKind("lossy", 92)),
        ("a.jpg", {"quality": 98, "subsampling": 0}, InputKind("lossy", 98)),
        ("a.webp", {"lossless": True}, InputKind("lossless")),
        ("a.webp", {"quality": 80}, InputKind("lossy")),
    ],
)
def test_input_kind_of_images(tmp_path: Path, picture: Image.Image, name: str, options: dict, kind: InputKind) -> None:
    path = tmp_path / name
    picture.save(path, **options)
    assert input_kind(path) == kind


def test_input_kind_reads_the_content_not_the_name(tmp_path: Path, picture: Image.Image) -> None:
    path = tmp_path / "really-a-jpeg.png"
    picture.save(path, format="JPEG")
    assert input_kind(path) == InputKind("lossy", 75)
    (tmp_path / "notes.png").write_text("not an image")
    assert input_kind(tmp_path / "notes.png") == InputKind("lossless")  # reading it reports the real problem


def test_jpeg_quality_is_read_from_the_quantisation_tables(tmp_path: Path, picture: Image.Image) -> None:
    for quality in range(1, 101):
        path = tmp_path / f"q{quality}.jpg"
        picture.save(path, quality=quality)
        with Image.open(path) as im:
            assert jpeg_quality(im) == quality
    picture.save(tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as im:
        assert jpeg_quality(im) is None


def test_videos_are_compressed() -> None:
    assert input_kind("clip.MP4") == InputKind("video") == input_kind("tape.mkv")


@pytest.fixture(scope="module")
def photos(data_root: Path) -> list[Image.Image]:
    """Set5's bird and butterfly, halved: real photographs with no JPEG history of their own."""
    images = dict(load_rgb_folder(data_root / "Set5"))
    return [Image.fromarray(halve(images[name])) for name in ("bird", "butterfly")]


def _via_jpeg(im: Image.Image, quality: int, **options: int) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, **options)
    with Image.open(buf) as out:
        return out.convert(im.mode)


@pytest.mark.parametrize(("quality", "options"), [(40, {}), (75, {}), (90, {}), (95, {}), (85, {"subsampling": 0})])
def test_a_former_jpeg_is_found_at_its_quality(photos: list[Image.Image], quality: int, options: dict) -> None:
    for photo in photos:
        assert jpeg_history_quality(photo) is None
        assert jpeg_history_quality(_via_jpeg(photo, quality, **options)) == quality
    assert jpeg_history_quality(_via_jpeg(photos[0].convert("L"), quality)) == quality


@pytest.mark.parametrize(("quality", "left", "top"), [(50, 3, 0), (75, 0, 5), (92, 7, 1)])
def test_a_former_jpeg_cropped_off_its_grid_is_found(
    photos: list[Image.Image], quality: int, left: int, top: int
) -> None:
    for photo in photos:
        cropped = _via_jpeg(photo, quality).crop((left, top, *photo.size))
        assert jpeg_history_quality(cropped) == quality
        assert jpeg_history_quality(photo.crop((left, top, *photo.size))) is None


def test_pictures_that_were_never_jpegs_show_no_history() -> None:
    rng = np.random.default_rng(0)
    ramp = np.tile(np.linspace(0, 255, 200), (120, 1)).astype(np.uint8)
    pictures = {
        "flat": Image.new("RGB", (200, 120), (90, 120, 200)),
        "ramp": Image.fromarray(ramp),
        "noise": Image.fromarray(rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)),
        "tiny": _via_jpeg(Image.fromarray(rng.integers(0, 256, (24, 200, 3), dtype=np.uint8)), 50),
        "palette": _via_jpeg(Image.fromarray(ramp).convert("RGB"), 50).convert("P"),
    }
    assert {name: jpeg_history_quality(im) for name, im in pictures.items()} == dict.fromkeys(pictures)


@pytest.mark.parametrize(
    ("suffix", "options"), [(".png", {}), (".bmp", {}), (".tiff", {}), (".webp", {"lossless": True})]
)
def test_a_lossless_file_made_from_a_jpeg_gets_the_model_for_its_damage(
    tmp_path: Path, photos: list[Image.Image], suffix: str, options: dict
) -> None:
    path = tmp_path / f"converted{suffix}"
    _via_jpeg(photos[0], 60).save(path, **options)
    kind = input_kind(path)
    assert kind == InputKind("lossy", 60, resaved_as=Image.open(path).format)
    assert pick_model(kind) == (
        REAL_MODEL,
        f"the image is a {kind.resaved_as} made from a JPEG of quality 60, lossy-compressed",
    )
    photos[0].save(path, **options)
    assert input_kind(path) == InputKind("lossless")


@pytest.mark.parametrize(("first", "then"), [(30, 80), (70, 95), (60, 98)])
def test_a_jpeg_saved_again_at_a_higher_quality_shows_its_first(
    photos: list[Image.Image], first: int, then: int
) -> None:
    for photo in photos:
        assert jpeg_history_quality(_via_jpeg(photo, then), below=then) is None
        assert jpeg_history_quality(_via_jpeg(_via_jpeg(photo, first), then), below=then) == first


def test_a_jpeg_saved_again_gets_the_model_for_its_first_damage(tmp_path: Path, photos: list[Image.Image]) -> None:
    path = tmp_path / "shared.jpg"
    _via_jpeg(photos[0], 60).save(path, quality=95)
    kind = input_kind(path)
    assert kind == InputKind("lossy", 60, resaved_as="JPEG")
    assert pick_model(kind) == (REAL_MODEL, "the image is a JPEG made from a JPEG of quality 60, lossy-compressed")
    photos[0].save(path, quality=95)
    assert input_kind(path) == InputKind("lossy", 95)


def test_the_study_counts_what_it_finds(photos: list[Image.Image]) -> None:
    rows = study([(str(i), np.asarray(p)) for i, p in enumerate(photos)])
    assert rows["none"] == {"pictures": 2, "found": 0, "right_quality": 0, "within_2": 0}
    assert rows["JPEG 88"] == {"pictures": 2, "found": 2, "right_quality": 2, "within_2": 2}
    assert rows["JPEG 75, then resized x2"]["found"] == 0
    assert rows["a JPEG 95 file, saved once"]["found"] == 0
    assert rows["a JPEG 95 file, JPEG 70 before"] == {"pictures": 2, "found": 2, "right_quality": 2, "within_2": 2}
