import csv
from pathlib import Path

import torch
from torch import nn

from training.finetune_consistency import consistency_losses, main
from vdsr.checkpoint import read_checkpoint_info


def test_consistency_is_zero_only_for_an_equivariant_network(tiny_model) -> None:
    lr, hr = torch.rand(3, 1, 12, 12), torch.rand(3, 1, 12, 12)
    fit, cons = consistency_losses(nn.Identity(), lr, hr, quarter_turns=1, mirrored=True)
    assert cons.item() == 0.0 and torch.isclose(fit, nn.functional.mse_loss(lr, hr))
    fit, cons = consistency_losses(tiny_model().train(), lr, hr, quarter_turns=3, mirrored=False)
    assert cons.item() > 0.0
    cons.backward()  # the term trains the network


def test_finetune_writes_a_checkpoint_with_its_recipe_and_a_log(tiny_checkpoint: Path, small_data: Path,
                                                               tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"batch_size": 2, "patch_size": 24, "iterations": 6, "val_every": 2, "val_scales": [2], '
                      '"lr": 1e-4, "warmup": 1, "loss": "l2"}')
    out = tmp_path / "ft.safetensors"
    assert main(["--init-from", str(tiny_checkpoint), "--out", str(out), "--config", str(config),
                 "--data-dir", str(small_data), "--consistency", "2", "--stop", "4", "--quiet"]) == 0
    info = read_checkpoint_info(out)
    assert info.training["step"] == 4 and info.training["consistency"] == 2.0
    assert info.training["config"]["iterations"] == 6 and info.evaluation["step"] == 4
    assert set(info.evaluation["psnr"]) == set(info.evaluation["ssim"]) == {"2"}
    rows = list(csv.DictReader(out.with_suffix(".csv").open()))
    assert [int(r["step"]) for r in rows] == [2, 4]
    assert all(float(r["consistency_l2"]) > 0 for r in rows)
