import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import training.train as train_module
from training.consistency import ensemble_targets
from training.dataset import PatchBank
from training.losses import FIT_LOSSES
from training.train import TrainConfig, _objective, learning_rate, resolve_precision, train
from vdsr.checkpoint import load_checkpoint, save_checkpoint
from vdsr.config import ModelConfig
from vdsr.models import build_model

QUICK = {"repeats": 1, "channels": 16, "batch_size": 4, "patch_size": 24, "val_scales": (2,), "warmup": 2, "lr": 1e-3}


def test_a_few_steps_lower_the_loss_on_a_fixed_batch(small_data: Path) -> None:
    torch.manual_seed(0)
    batch = PatchBank(small_data / "T91", patch_size=24).sample(8, np.random.default_rng(0))
    model = build_model(ModelConfig(repeats=2, channels=32))
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    lr, hr = torch.from_numpy(batch.lr), torch.from_numpy(batch.hr)
    losses = []
    for _ in range(100):
        loss = nn.functional.mse_loss(model(lr), hr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]  # measured: 0.00138 -> 0.00116


def test_resume_continues_from_the_saved_step(small_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(TrainConfig(**QUICK, iterations=2, val_every=2), out, small_data, show_progress=False)
    train(TrainConfig(**QUICK, iterations=4, val_every=2), out, small_data, show_progress=False)
    with (out / "log.csv").open() as f:
        steps = [int(r["step"]) for r in csv.DictReader(f)]
    assert steps == [2, 4]
    assert torch.load(out / "state.pt", weights_only=True)["step"] == 4
    model, info = load_checkpoint(out / "last.safetensors")
    assert info.training["step"] == 4 and "2" in info.evaluation["psnr"]
    assert info.config == ModelConfig(repeats=1, channels=16)
    assert (out / "training.png").stat().st_size > 0


def test_a_consistency_run_stops_early_and_resumes(small_data: Path, tmp_path: Path) -> None:
    out, cfg = tmp_path / "run", TrainConfig(**QUICK, iterations=6, val_every=2, consistency=2.0)
    train(cfg, out, small_data, show_progress=False, stop=4)
    assert torch.load(out / "state.pt", weights_only=True)["step"] == 4
    train(cfg, out, small_data, show_progress=False)
    with (out / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    assert all(float(r["consistency"]) > 0 for r in rows)
    _, info = load_checkpoint(out / "last.safetensors")
    assert info.training["config"]["consistency"] == 2.0 and info.training["step"] == 6
    assert set(info.evaluation["psnr"]) == set(info.evaluation["ssim"]) == {"2"}


def test_distillation_needs_a_teacher_and_records_its_share(
    tiny_checkpoint: Path, small_data: Path, tmp_path: Path
) -> None:
    cfg = {**QUICK, "repeats": 2, "channels": 8, "iterations": 2, "val_every": 2, "distill": 0.5}
    with pytest.raises(ValueError, match="distill needs a teacher"):
        train(TrainConfig(**cfg), tmp_path / "none", small_data, show_progress=False)
    out = tmp_path / "run"
    train(TrainConfig(**cfg, init_from=str(tiny_checkpoint)), out, small_data, show_progress=False)
    _, info = load_checkpoint(out / "last.safetensors")
    assert info.training["config"]["distill"] == 0.5 and info.training["step"] == 2


def test_a_named_teacher_replaces_the_starting_point_as_distillations_target(
    tiny_model, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    other = save_checkpoint(tmp_path / "teacher.safetensors", tiny_model(seed=2), scales=[2, 3, 4])
    start, _ = load_checkpoint(tiny_checkpoint)
    wanted, _ = load_checkpoint(other)
    cfg = TrainConfig(distill=0.5, init_from=str(tiny_checkpoint), teacher=str(other), repeats=2, channels=8)
    teacher = train_module._ensemble_teacher(cfg, cfg.model, torch.device("cpu"))
    assert teacher is not None and not any(p.requires_grad for p in teacher.parameters())
    for got, want, first in zip(teacher.parameters(), wanted.parameters(), start.parameters(), strict=True):
        assert torch.equal(got, want) and not torch.equal(got, first)


def test_the_distillation_loss_mixes_ground_truth_and_the_teachers_ensemble(tiny_model) -> None:
    student, teacher = tiny_model(seed=1).train(), tiny_model(seed=2)
    lr, hr = torch.rand(2, 1, 12, 12), torch.rand(2, 1, 12, 12)
    loss, cons = _objective(TrainConfig(distill=0.25), student, teacher, nn.MSELoss(), lr, hr, 0, 0)
    sr, target = student(lr), ensemble_targets(teacher, lr)
    expected = 0.75 * nn.functional.mse_loss(sr, hr) + 0.25 * nn.functional.mse_loss(sr, target)
    assert torch.isclose(loss, expected) and cons.item() == 0.0


def test_train_takes_the_balanced_loss_and_refuses_unknown_names(small_data: Path, tmp_path: Path) -> None:
    assert set(FIT_LOSSES) == {"l1", "l2", "l2-balanced"}
    out = tmp_path / "run"
    train(
        TrainConfig(**QUICK, iterations=2, val_every=2, loss="l2-balanced", consistency=1.0),
        out,
        small_data,
        show_progress=False,
    )
    assert (out / "last.safetensors").exists()
    with pytest.raises(ValueError, match="unknown loss 'l3'"):
        train(TrainConfig(**QUICK, iterations=1, loss="l3"), tmp_path / "bad", small_data, show_progress=False)
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("consistency", [0.0, 2.0])
def test_the_loss_border_leaves_the_patch_edges_out_of_the_fit(tiny_model, consistency: float) -> None:
    net, lr = tiny_model(seed=1), torch.rand(2, 1, 12, 12)
    hr = net(lr).detach()
    hr[..., :3, :] += 1.0  # wrong only within 3 px of an edge
    cfg = TrainConfig(loss_border=3, consistency=consistency)
    fit, _ = _objective(cfg, net, None, nn.functional.mse_loss, lr, hr, 0, 0)
    full_fit, _ = _objective(TrainConfig(consistency=consistency), net, None, nn.functional.mse_loss, lr, hr, 0, 0)
    assert full_fit > fit + 0.1  # the edge error counts only without the border
    if not consistency:  # (with it, the turned-back second pass of a random network differs from the first)
        assert fit.item() == 0


def test_a_loss_border_that_leaves_no_patch_is_refused(small_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="leaves nothing of a 24px patch"):
        train(TrainConfig(**QUICK, iterations=1, loss_border=12), tmp_path / "bad", small_data, show_progress=False)
    out = tmp_path / "run"
    train(TrainConfig(**QUICK, iterations=2, val_every=2, loss_border=4), out, small_data, show_progress=False)
    assert load_checkpoint(out / "last.safetensors")[1].training["config"]["loss_border"] == 4


def test_the_network_fields_are_the_model_configs(tmp_path: Path) -> None:
    cfg = TrainConfig.from_values({"arch": "bn", "repeats": 4, "scales": [2, 4], "val_degradations": ["jpeg:50"]})
    assert cfg.model == ModelConfig("bn", 4, 64) and cfg.model.name == "vdsr-bn-6"
    assert cfg.scales == (2, 4) and cfg.val_degradations == ("jpeg:50",)  # JSON lists become the fields' tuples
    with pytest.raises(ValueError, match="unknown arch"):  # checked once, by ModelConfig
        TrainConfig(arch="wide")
    (tmp_path / "run.json").write_text('{"arch": "plain", "repeat": 4}')
    with pytest.raises(ValueError, match="unknown keys"):
        TrainConfig.from_file(tmp_path / "run.json")


def test_learning_rate_schedule() -> None:
    cfg = TrainConfig(lr=1e-3, warmup=10, iterations=110, min_lr=0.0)
    assert learning_rate(cfg, 0) == 1e-4
    assert learning_rate(cfg, 10) == 1e-3
    assert abs(learning_rate(cfg, 60) - 5e-4) < 1e-12
    assert learning_rate(cfg, 110) == 0.0
    step = TrainConfig(lr=0.1, warmup=0, schedule="step", step_every=20)
    assert abs(learning_rate(step, 45) - 0.1 * 0.01) < 1e-12


def test_precision_is_fp32_unless_asked_or_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_precision("fp32", torch.device("cpu")) is None
    assert resolve_precision("bf16", torch.device("cpu")) == torch.bfloat16
    monkeypatch.setattr(train_module, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert resolve_precision("auto", torch.device("cpu")) is None  # measured slower than fp32 without AMX
    monkeypatch.setattr(train_module, "cpu_flags", lambda: {"avx512_bf16", "amx_bf16"})
    assert resolve_precision("auto", torch.device("cpu")) == torch.bfloat16


def test_two_process_torchrun_on_cpu(small_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "training.train",
        "--data-dir",
        str(small_data),
        "--out",
        str(out),
        "--quiet",
        "--repeats",
        "1",
        "--channels",
        "8",
        "--batch-size",
        "4",
        "--patch-size",
        "24",
        "--iterations",
        "3",
        "--val-every",
        "3",
        "--val-scales",
        "2",
        "--warmup",
        "1",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, info = load_checkpoint(out / "last.safetensors")
    assert info.training["step"] == 3


def test_the_patch_bank_is_kept_for_the_next_leg_until_the_data_change(small_data: Path) -> None:
    cfg = TrainConfig(**QUICK)
    first = train_module.patch_bank(cfg, small_data / "T91")
    assert train_module.patch_bank(cfg, small_data / "T91") is first
    image = next(f for f in sorted((small_data / "T91").iterdir()) if f.is_file())
    os.utime(image, ns=(0, 0))
    assert train_module.patch_bank(cfg, small_data / "T91") is not first


def test_init_from_starts_at_a_checkpoints_weights(small_data: Path, tmp_path: Path) -> None:
    torch.manual_seed(123)  # not train()'s seed, so its own fresh init would differ
    model = build_model(ModelConfig(repeats=1, channels=16))
    start = save_checkpoint(tmp_path / "start.safetensors", model, scales=[2])
    frozen = {**QUICK, "lr": 0.0, "warmup": 10}  # a zero learning rate: the weights must come out as they went in
    train(
        TrainConfig(**frozen, iterations=2, val_every=2, init_from=str(start)),
        tmp_path / "ft",
        small_data,
        show_progress=False,
    )
    after, info = load_checkpoint(tmp_path / "ft" / "last.safetensors")
    for name, weight in model.state_dict().items():
        assert torch.equal(weight, after.state_dict()[name]), name
    assert info.training["config"]["init_from"] == str(start)
    with pytest.raises(ValueError, match="vdsr-3-c16"):
        train(
            TrainConfig(**{**QUICK, "repeats": 2}, iterations=1, init_from=str(start)),
            tmp_path / "bad",
            small_data,
            show_progress=False,
        )


def test_a_moving_average_is_saved_and_resumes_exactly(small_data: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(**QUICK, iterations=4, val_every=2, ema=0.5)
    train(cfg, tmp_path / "legs", small_data, show_progress=False, stop=2)
    train(cfg, tmp_path / "legs", small_data, show_progress=False)
    train(cfg, tmp_path / "once", small_data, show_progress=False)
    state = torch.load(tmp_path / "legs" / "state.pt", weights_only=True)
    saved, _ = load_checkpoint(tmp_path / "legs" / "last.safetensors")
    once, _ = load_checkpoint(tmp_path / "once" / "last.safetensors")
    assert int(state["ema"]["n_averaged"]) == 4
    for name, weight in saved.state_dict().items():
        assert torch.equal(weight, state["ema"][f"module.{name}"]), name  # the checkpoint is the average...
        assert torch.allclose(weight, once.state_dict()[name], atol=1e-6), name  # ...and two legs make one run
    assert any(not torch.equal(w, state["model"][n]) for n, w in saved.state_dict().items())  # not the raw weights
    with pytest.raises(ValueError, match="between 0 and 1"):
        train(TrainConfig(**QUICK, iterations=1, ema=1.0), tmp_path / "bad", small_data, show_progress=False)
