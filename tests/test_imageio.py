import functools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vdsr.imageio import ImageMeta, ImageReadError, ImageWriteError, read_image, read_meta, write_image


@pytest.mark.parametrize(
    ("shape", "dtype", "suffix"),
    [
        ((9, 11), np.uint8, ".png"),
        ((9, 11, 2), np.uint8, ".png"),
        ((9, 11, 3), np.uint8, ".bmp"),
        ((9, 11, 4), np.uint8, ".webp"),
        ((9, 11), np.uint16, ".png"),
        ((9, 11, 3), np.uint16, ".png"),
        ((9, 11, 4), np.uint16, ".tif"),
        ((9, 11, 3), np.uint8, ".tiff"),
    ],
)
def test_lossless_round_trip(tmp_path: Path, shape: tuple[int, ...], dtype: type, suffix: str) -> None:
    img = (np.random.default_rng(0).random(shape) * np.iinfo(dtype).max).astype(dtype)
    if suffix == ".webp":
        pytest.importorskip("PIL.WebPImagePlugin")
    write_image(tmp_path / f"a{suffix}", img, lossless=True)
    back = read_image(tmp_path / f"a{suffix}")
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, img)


def test_exif_orientation_is_honoured(tmp_path: Path) -> None:
    img = np.zeros((10, 20, 3), np.uint8)
    img[:, :5] = 255  # white on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(img).save(tmp_path / "r.jpg", exif=exif, quality=100)
    out = read_image(tmp_path / "r.jpg")
    assert out.shape == (20, 10, 3)
    assert out[:5].mean() > 200 and out[-5:].mean() < 50  # the white band is now on top


def test_palette_with_transparency_becomes_rgba(tmp_path: Path) -> None:
    im = Image.new("P", (4, 4))
    im.info["transparency"] = 0
    im.save(tmp_path / "p.png", transparency=0)
    assert read_image(tmp_path / "p.png").shape == (4, 4, 4)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"hello, I am text", "not a readable image"), (b"", "not a readable image")],
)
def test_not_an_image(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=message):
        read_image(path)


def test_truncated_files(tmp_path: Path, rgb_image: np.ndarray) -> None:
    big = np.kron(rgb_image, np.ones((8, 8, 1), np.uint8))
    for suffix in (".png", ".jpg"):
        write_image(tmp_path / f"full{suffix}", big)
        data = (tmp_path / f"full{suffix}").read_bytes()
        (tmp_path / f"cut{suffix}").write_bytes(data[: len(data) // 2])
        with pytest.raises(ImageReadError, match="damaged or truncated"):
            read_image(tmp_path / f"cut{suffix}")


def test_missing_and_too_large(tmp_path: Path, rgb_image: np.ndarray) -> None:
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.png")
    write_image(tmp_path / "a.png", rgb_image)
    with pytest.raises(ImageReadError, match="over the limit"):
        read_image(tmp_path / "a.png", max_pixels=100)


def test_unsupported_format(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "a.tga")
    with pytest.raises(ImageReadError, match="TGA images are not supported"):
        read_image(tmp_path / "a.tga")


def test_jpeg_refuses_alpha_and_16_bit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JPEG cannot store"):
        write_image(tmp_path / "a.jpg", np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="JPEG cannot store"):
        write_image(tmp_path / "a.jpg", np.zeros((4, 4, 3), np.uint16))


def test_16_bit_is_refused_where_it_would_be_cut_to_8(tmp_path: Path) -> None:
    gray16 = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    for suffix in (".webp", ".bmp"):
        with pytest.raises(ImageWriteError, match="16-bit images need .png or .tif"):
            write_image(tmp_path / f"a{suffix}", gray16)
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(
    tmp_path: Path, rgb_image: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write_image(tmp_path / "out.png", rgb_image)
    before = target.read_bytes()

    def full_disk(self: Image.Image, fp: Path, *args: object, **kwargs: object) -> None:
        Path(fp).write_bytes(b"\x89PNG half")  # what an interrupted encoder leaves behind
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    with pytest.raises(ImageWriteError, match=r"out.png: cannot write \(No space left on device\)"):
        write_image(target, rgb_image[::-1])
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_an_unwritable_place_is_one_line(tmp_path: Path, rgb_image: np.ndarray) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImageWriteError, match="is a file, not a folder"):
        write_image(tmp_path / "file" / "out.png", rgb_image)


@functools.cache
def _profile(space: bytes = b"RGB ") -> bytes:
    """A real sRGB ICC profile from LittleCMS (made once: it carries its creation time), its
    colour-space field set to ``space``."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return icc[:16] + space + icc[20:]


def _phone_photo(path: Path, rgb: np.ndarray) -> Path:
    """A JPEG as a phone writes it: sideways pixels with orientation 6, a profile, a date and a size."""
    exif = Image.Exif()
    exif[0x0112], exif[0x0132] = 6, "2009:01:02 03:04:05"
    sizes = exif.get_ifd(0x8769)
    sizes[0x9003], sizes[0xA002], sizes[0xA003] = "2009:01:02 03:04:05", rgb.shape[1], rgb.shape[0]
    Image.fromarray(rgb).save(path, quality=95, exif=exif.tobytes(), icc_profile=_profile())
    return path


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_profile_and_exif_reach_the_result_upright_and_resized(tmp_path: Path, suffix: str) -> None:
    photo = _phone_photo(tmp_path / "phone.jpg", np.zeros((20, 30, 3), np.uint8))
    upright = read_image(photo)
    assert upright.shape == (30, 20, 3)  # orientation 6: turned on reading
    bigger = np.repeat(np.repeat(upright, 2, axis=0), 2, axis=1)
    out = write_image(tmp_path / f"out{suffix}", bigger, meta=read_meta(photo))
    assert read_image(out).shape == bigger.shape  # not turned a second time
    with Image.open(out) as im:
        exif = im.getexif()
        assert im.info["icc_profile"] == _profile()
        assert exif.get(0x0112, 1) == 1 and exif[0x0132] == "2009:01:02 03:04:05"
        sizes = exif.get_ifd(0x8769)
        assert (sizes[0xA002], sizes[0xA003], sizes[0x9003]) == (40, 60, "2009:01:02 03:04:05")


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "jpeg"])
@pytest.mark.parametrize("suffix", [".tif", ".jpg"])
def test_a_scanned_tiff_keeps_its_tags_but_not_its_file_layout(
    tmp_path: Path, compression: str | None, suffix: str
) -> None:
    """A TIFF's EXIF also lists its size, strips and compression; carried over, they broke every TIFF output."""
    scan = tmp_path / "scan.tif"
    exif = Image.Exif()
    exif[0x010F], exif[0x0132], exif[0x013B] = "Epson", "1998:07:06 05:04:03", "A. Person"  # make, date, artist
    rgb = np.random.default_rng(0).integers(0, 256, (16, 24, 3), np.uint8)
    Image.fromarray(rgb).save(scan, compression=compression, exif=exif, icc_profile=_profile())
    meta = read_meta(scan)
    assert meta.icc_profile == _profile()
    bigger = np.repeat(np.repeat(rgb, 2, axis=0), 2, axis=1)
    out = write_image(tmp_path / f"out{suffix}", bigger, meta=meta)
    with Image.open(out) as im:
        assert im.size == (48, 32) and im.info["icc_profile"] == _profile()
        tags = im.getexif()
        assert (tags[0x010F], tags[0x0132], tags[0x013B]) == ("Epson", "1998:07:06 05:04:03", "A. Person")
    if suffix == ".tif":
        np.testing.assert_array_equal(read_image(out), bigger)


def test_a_profile_of_another_colour_space_is_left_out(tmp_path: Path) -> None:
    """A CMYK JPEG is read as RGB, and a gray result is not RGB: their profiles would misdescribe it."""
    cmyk = ImageMeta(icc_profile=_profile(b"CMYK"))
    with Image.open(write_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8), meta=cmyk)) as im:
        assert "icc_profile" not in im.info
    with Image.open(write_image(tmp_path / "g.png", np.zeros((4, 4), np.uint8), meta=ImageMeta(_profile()))) as im:
        assert "icc_profile" not in im.info
    gray = ImageMeta(icc_profile=_profile(b"GRAY"))
    with Image.open(write_image(tmp_path / "g2.png", np.zeros((4, 4), np.uint8), meta=gray)) as im:
        assert im.info["icc_profile"] == _profile(b"GRAY")


def test_metadata_is_optional_and_never_an_error(tmp_path: Path) -> None:
    plain = write_image(tmp_path / "plain.png", np.zeros((4, 4, 3), np.uint8))
    assert read_meta(plain) == ImageMeta()
    assert read_meta(tmp_path / "missing.png") == ImageMeta()
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    assert read_meta(tmp_path / "junk.jpg") == ImageMeta()
    photo = _phone_photo(tmp_path / "phone.jpg", np.zeros((8, 8, 3), np.uint8))
    write_image(tmp_path / "out.bmp", np.zeros((8, 8, 3), np.uint8), meta=read_meta(photo))  # BMP holds none


@pytest.mark.parametrize("suffix", [".heic", ".avif"])
def test_phone_and_web_photo_formats_are_read_upright_with_their_metadata(
    tmp_path: Path, data_root: Path, suffix: str
) -> None:
    from vdsr.input_kind import InputKind, input_kind

    rgb = read_image(data_root / "Set5" / "bird.png")[:96, :160]
    exif = Image.Exif()
    exif[0x0112], exif[0x0132] = 6, "2009:01:02 03:04:05"
    path = tmp_path / f"photo{suffix}"
    Image.fromarray(rgb).save(path, quality=90, exif=exif.tobytes(), icc_profile=_profile())
    img = read_image(path)
    assert (img.shape, img.dtype) == ((160, 96, 3), np.uint8)  # turned upright once
    assert np.abs(img.astype(int) - np.rot90(rgb, -1)).mean() < 4  # the picture, lossy-coded
    meta = read_meta(path)
    assert meta.icc_profile == _profile() and Image.Exif().load(meta.exif) is None
    assert input_kind(path) == InputKind("lossy")


def test_heic_without_its_reader_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vdsr.imageio

    (tmp_path / "a.heic").write_bytes(b"not really a photo")
    monkeypatch.setattr(vdsr.imageio, "HEIF_READER", False)
    with pytest.raises(ImageReadError, match=r"a.heic: not a readable image \(HEIC needs pillow-heif"):
        read_image(tmp_path / "a.heic")
