from pathlib import Path

import numpy as np
import pytest

from vdsr.folders import upscale_folder
from vdsr.imageio import read_image, write_image
from vdsr.pipeline import Upscaler

BICUBIC = Upscaler(None)


def test_folder_round_trip_carries_on_past_a_bad_file(tmp_path: Path) -> None:
    src, dst = tmp_path / "frames", tmp_path / "up"
    rng = np.random.default_rng(0)
    names = ["f0001.png", "f0002.jpg", "f0004.png"]
    for name in names:
        write_image(src / name, rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    (src / "f0003.png").write_text("not an image")
    (src / "notes.txt").write_text("ignored")
    calls: list[tuple[int, int]] = []
    result = upscale_folder(src, dst, BICUBIC, 2, progress=lambda d, t: calls.append((d, t)))
    assert [p.name for p in result.written] == names
    assert list(result.failed) == ["f0003.png"] and "not a readable image" in result.failed["f0003.png"]
    assert sorted(p.name for p in dst.iterdir()) == names  # no partial files left behind
    assert all(read_image(p).shape == (40, 60, 3) for p in result.written)
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_folder_errors(tmp_path: Path) -> None:
    src = tmp_path / "frames"
    write_image(src / "a.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="must differ"):
        upscale_folder(src, src, BICUBIC, 2)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        upscale_folder(tmp_path / "empty", tmp_path / "x", BICUBIC, 2)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        upscale_folder(tmp_path / "missing", tmp_path / "x", BICUBIC, 2)


def test_formats_it_cannot_write_become_png_without_clashing(tmp_path: Path) -> None:
    from PIL import Image

    src, dst = tmp_path / "photos", tmp_path / "up"
    rgb = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    src.mkdir()
    for name in ("a.heic", "b.avif", "b.png"):
        Image.fromarray(rgb).save(src / name)
    result = upscale_folder(src, dst, BICUBIC, 2)
    assert sorted(p.name for p in result.written) == ["a.png", "b.avif.png", "b.png"] and not result.failed
    assert all(read_image(p).shape == (40, 60, 3) for p in result.written)


def test_a_camera_dump_is_walked_into_the_same_subfolders(tmp_path: Path) -> None:
    """With ``recursive``: subfolders mirrored, the output folder inside the input never walked, and
    hidden folders (a viewer's thumbnails) left alone; without it, only the top folder."""
    src = tmp_path / "DCIM"
    rgb = np.random.default_rng(2).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    for name in ("top.png", "100APPLE/a.jpg", "100APPLE/b.png", "101APPLE/deep/c.png", ".thumbs/t.png"):
        write_image(src / name, rgb)
    (src / "100APPLE" / "bad.png").write_text("not an image")
    (src / "101APPLE" / "clip.mov").write_bytes(b"")
    dst = src / "x2"  # inside the input: a second run must not upscale the first run's results
    for _ in range(2):
        result = upscale_folder(src, dst, BICUBIC, 2, recursive=True)
        written = sorted(p.relative_to(dst).as_posix() for p in result.written)
        assert written == ["100APPLE/a.jpg", "100APPLE/b.png", "101APPLE/deep/c.png", "top.png"]
        assert list(result.failed) == ["100APPLE/bad.png"] and result.videos == ["101APPLE/clip.mov"]
    assert read_image(dst / "101APPLE" / "deep" / "c.png").shape == (20, 24, 3)
    flat = upscale_folder(src, tmp_path / "flat", BICUBIC, 2)
    assert [p.name for p in flat.written] == ["top.png"]
