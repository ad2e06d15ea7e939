from pathlib import Path

import pytest

from vdsr.imageio import read_image, write_image


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """A data root with three T91 images and one small validation image, so training tests are quick."""
    root = tmp_path_factory.mktemp("data")
    for name in ("000t1.bmp", "000t2.bmp", "000t3.bmp"):
        write_image(root / "T91" / name.replace(".bmp", ".png"), read_image(data_root / "T91" / name))
    write_image(root / "Set5" / "bird.png", read_image(data_root / "Set5" / "bird.png")[:96, :96])
    return root
