from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from vdsr.animation import MAX_ANIMATION_PIXELS, check_animation_output, frame_count, upscale_animation
from vdsr.imageio import ImageWriteError, read_image
from vdsr.pipeline import Upscaler

BICUBIC = partial(Upscaler(None).upscale, scale=2)


def _sprite_frames(count: int = 4, size: int = 32, background: int = 0) -> list[Image.Image]:
    """A red square moving right over a transparent background (or an opaque gray one)."""
    frames = []
    for i in range(count):
        rgba = np.full((size, size, 4), (background,) * 3 + (255 if background else 0,), np.uint8)
        rgba[8:16, 4 + 6 * i : 12 + 6 * i] = (255, 0, 0, 255)
        frames.append(Image.fromarray(rgba))
    return frames


def _read(path: Path) -> tuple[list[np.ndarray], list[int], int | None]:
    """Frames as a viewer shows them (RGBA), their durations and the loop count."""
    with Image.open(path) as im:
        frames, durations = [], []
        for frame in ImageSequence.Iterator(im):
            frame.load()
            frames.append(np.array(frame.convert("RGBA")))
            durations.append(frame.info.get("duration"))
        return frames, durations, im.info.get("loop")


@pytest.mark.parametrize("suffix", [".gif", ".png", ".webp"])
def test_every_frame_is_upscaled_with_its_timing_and_transparency(tmp_path: Path, suffix: str) -> None:
    src = tmp_path / f"sprite{suffix}"
    # Pillow reads an animated WebP as RGB when libwebp stored its changed parts opaque, so the
    # WebP case moves the square over gray: transparency is checked on GIF and PNG.
    background = 128 if suffix == ".webp" else 0
    first, *rest = _sprite_frames(background=background)
    options = {"lossless": True} if suffix == ".webp" else {"disposal": 2} if suffix == ".gif" else {}
    first.save(src, save_all=True, append_images=rest, duration=[80, 120, 80, 200], loop=0, **options)
    assert frame_count(src) == 4

    out = upscale_animation(src, tmp_path / f"out{suffix}", BICUBIC)

    frames, durations, loop = _read(out)
    assert len(frames) == 4 and durations == [80, 120, 80, 200] and loop == 0
    for i, frame in enumerate(frames):
        assert frame.shape == (64, 64, 4)
        square = frame[18:30, 10 + 12 * i : 22 + 12 * i].astype(int)  # the square, moved (WebP is lossy)
        assert np.abs(square - (255, 0, 0, 255)).max() <= 12
        if i:  # where the square was a frame before is background again, not left over from that frame
            before = frame[18:30, 10 + 12 * (i - 1) : 12 * i].astype(int)
            if background:
                assert np.abs(before - (background, background, background, 255)).max() <= 12
            else:
                assert before[..., 3].max() == 0


def test_pages_of_a_tiff_are_each_upscaled(tmp_path: Path) -> None:
    src = tmp_path / "scan.tif"
    pages = [np.full((12, 10), 40 * (i + 1), np.uint8) for i in range(3)]
    Image.fromarray(pages[0]).save(src, save_all=True, append_images=[Image.fromarray(p) for p in pages[1:]])

    out = upscale_animation(src, tmp_path / "out.tif", BICUBIC)

    with Image.open(out) as im:
        assert im.n_frames == 3
        for i, page in enumerate(ImageSequence.Iterator(im)):
            assert page.mode == "L" and page.size == (20, 24)
            assert np.array(page).mean() == pytest.approx(40 * (i + 1), abs=1)


def test_stills_count_one_frame(tmp_path: Path) -> None:
    """A still GIF is read like any image; a JPEG's second picture (MPO: the other view of a 3D camera)
    is not a frame to show."""
    rgb = np.random.default_rng(0).integers(0, 256, (8, 8, 3), np.uint8)
    Image.fromarray(rgb).save(tmp_path / "still.gif")
    Image.fromarray(rgb).save(tmp_path / "pair.mpo", save_all=True, append_images=[Image.fromarray(rgb)])
    with Image.open(tmp_path / "pair.mpo") as im:
        assert im.format == "MPO" and im.n_frames == 2
    assert frame_count(tmp_path / "still.gif") == frame_count(tmp_path / "pair.mpo") == 1
    assert read_image(tmp_path / "still.gif").shape == (8, 8, 3)


def test_outputs_that_cannot_hold_the_frames_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match=r"cannot hold 4 frames; write \.gif, \.webp or \.png"):
        check_animation_output(tmp_path / "out.jpg", 4, 64, 64)
    side = int((MAX_ANIMATION_PIXELS / 100) ** 0.5) + 1
    with pytest.raises(ImageWriteError, match="megapixels in all, over the limit"):
        check_animation_output(tmp_path / "out.gif", 100, side, side)
    src = tmp_path / "sprite.gif"
    first, *rest = _sprite_frames()
    first.save(src, save_all=True, append_images=rest)
    with pytest.raises(ImageWriteError, match="cannot hold 4 frames"):
        upscale_animation(src, tmp_path / "out.bmp", BICUBIC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sprite.gif"]


def test_16_bit_pages_bound_for_gif_are_refused_before_any_is_upscaled(tmp_path: Path) -> None:
    src = tmp_path / "deep.tif"
    pages = [Image.fromarray(np.full((6, 8), 1000 * (i + 1), np.uint16)) for i in range(2)]
    pages[0].save(src, save_all=True, append_images=pages[1:])
    calls: list[np.ndarray] = []

    def upscale(pixels: np.ndarray) -> np.ndarray:
        calls.append(pixels)
        return BICUBIC(pixels)

    with pytest.raises(ImageWriteError, match=r"16-bit frames need \.tif"):
        upscale_animation(src, tmp_path / "out.gif", upscale)
    assert not calls and sorted(p.name for p in tmp_path.iterdir()) == ["deep.tif"]
    out = upscale_animation(src, tmp_path / "out.tif", upscale)
    assert len(calls) == 2 and read_image(out).dtype == np.uint16
