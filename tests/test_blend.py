"""Blends of vdsr-20 and vdsr-20-real: exact weights, names that resolve, and clear errors."""

from pathlib import Path

import pytest
import torch

from tests.conftest import make_model
from training.interpolate import main as interpolate_main
from vdsr.blend import blend, split_strength
from vdsr.checkpoint import CheckpointError, load_checkpoint, read_checkpoint_info, save_checkpoint
from vdsr.weights import DEFAULT_MODEL, REAL_MODEL, resolve_model


def test_blend_is_linear_in_the_weights() -> None:
    a, b = make_model(seed=0), make_model(seed=1)
    for alpha, want in ((0.0, a), (1.0, b)):
        got = blend(a, b, alpha).state_dict()
        assert all(torch.equal(got[k], v) for k, v in want.state_dict().items())
    mid = blend(a, b, 0.25).state_dict()["tail.weight"]
    torch.testing.assert_close(mid, 0.75 * a.state_dict()["tail.weight"] + 0.25 * b.state_dict()["tail.weight"])
    with pytest.raises(ValueError, match="alpha"):
        blend(a, b, 1.5)


def test_a_strength_names_the_blend_of_the_shipped_pair() -> None:
    path = resolve_model(f"{REAL_MODEL}@0.75")
    assert path.stem == f"{REAL_MODEL}@0.75" and resolve_model(f"{REAL_MODEL}@0.750") == path  # made once
    got, info = load_checkpoint(path)
    clean, _ = load_checkpoint(resolve_model(DEFAULT_MODEL))
    real, real_info = load_checkpoint(resolve_model(REAL_MODEL))
    assert info.scales == real_info.scales and info.training["blend"]["alpha"] == 0.75
    for k, v in got.state_dict().items():
        torch.testing.assert_close(v, 0.25 * clean.state_dict()[k] + 0.75 * real.state_dict()[k])
    assert resolve_model(f"{REAL_MODEL}@1") == resolve_model(REAL_MODEL)
    assert resolve_model(f"{REAL_MODEL}@0") == resolve_model(DEFAULT_MODEL)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (f"{REAL_MODEL}@1.5", "give 0 to 1 in steps of 0.01"),
        (f"{REAL_MODEL}@0.333", "give 0 to 1 in steps of 0.01"),
        (f"{REAL_MODEL}@half", "give 0 to 1 in steps of 0.01"),
        (f"{DEFAULT_MODEL}@0.5", f"only {REAL_MODEL} takes a strength"),
    ],
)
def test_bad_strengths_are_refused_in_one_line(name: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message) as info:
        resolve_model(name)
    assert "\n" not in str(info.value)


def test_a_file_whose_name_holds_an_at_sign_is_still_a_file(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "run@0.5.safetensors", make_model(), scales=[2])
    assert resolve_model(path) == path and split_strength("vdsr-20") is None


def test_interpolate_writes_any_pair(tiny_checkpoint: Path, tmp_path: Path) -> None:
    other = save_checkpoint(tmp_path / "b.safetensors", make_model(seed=1), scales=[2, 3])
    out = tmp_path / "c.safetensors"
    assert interpolate_main([str(tiny_checkpoint), str(other), "--alpha", "0.5", "--out", str(out)]) == 0
    info = read_checkpoint_info(out)
    assert info.training["blend"] == {"a": tiny_checkpoint.name, "b": "b.safetensors", "alpha": 0.5}


def test_two_processes_making_one_blend_both_get_it_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Video workers and folder runs may resolve the same blend at once; each write goes through its own
    temporary, so neither fails and the file is whole."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    monkeypatch.setenv("VDSR_CACHE_DIR", str(tmp_path))
    # spawn, not fork: a forked child of a process that has started torch's thread pools can deadlock
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        paths = list(pool.map(resolve_model, [f"{REAL_MODEL}@0.4", f"{REAL_MODEL}@0.40"]))
    assert paths[0] == paths[1] and load_checkpoint(paths[0])[1].training["blend"]["alpha"] == 0.4
    assert [p.name for p in paths[0].parent.iterdir()] == [f"{REAL_MODEL}@0.4.safetensors"]
