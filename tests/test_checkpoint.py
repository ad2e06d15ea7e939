import os
import stat
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from vdsr.checkpoint import CheckpointError, load_checkpoint, read_checkpoint_info, save_checkpoint
from vdsr.config import ModelConfig
from vdsr.models import ARCHS, build_model


@pytest.mark.parametrize("arch", ARCHS.names())
def test_every_variant_round_trips(tmp_path: Path, arch: str) -> None:
    model = build_model(ModelConfig(arch=arch, repeats=3)).eval()
    for p in model.parameters():
        p.data.normal_(0, 0.05)
    path = save_checkpoint(
        tmp_path / "m.safetensors",
        model,
        scales=[2, 3, 4],
        training={"iterations": 7},
        evaluation={"psnr": {"2": 30.0}},
    )
    loaded, info = load_checkpoint(path)
    assert info.config == model.config
    assert info.scales == (2.0, 3.0, 4.0)
    assert info.training == {"iterations": 7}
    x = torch.rand(1, 1, 12, 12)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_a_checkpoint_gets_the_mode_of_any_new_file(tmp_path: Path) -> None:
    """0666 less the umask, so a shared folder's other users can read it (safetensors' own writer gives 0600)."""
    path = save_checkpoint(tmp_path / "m.safetensors", build_model(ModelConfig(repeats=1)), scales=[2])
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint_info(tmp_path / "nope.safetensors")


def test_not_a_safetensors_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(path)


def test_safetensors_without_vdsr_metadata(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="not a VDSR checkpoint"):
        load_checkpoint(path)


def test_tensors_that_do_not_match_the_config(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "m.safetensors", build_model(ModelConfig(repeats=3)), scales=[2])
    with torch.no_grad():
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    meta["config"] = ModelConfig(repeats=5).to_json()
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="do not match its config vdsr-7"):
        load_checkpoint(path)
