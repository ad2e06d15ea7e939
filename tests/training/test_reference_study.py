"""The reference study: the same content scored against references stored at falling bit rates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from training.reference_study import CARPHONE_FRAMES, intra_frames, main, reference_sets, stream_bits_per_pixel
from vdsr.data import HOLDOUT_FRAMES
from vdsr.metrics import psnr
from vdsr.pipeline import to_float


def test_references_are_the_set_then_its_x264_decodes_at_falling_rates(data_root: Path) -> None:
    refs = reference_sets("carphone", data_root, crfs=[28, 40])
    assert [name for name, _, _ in refs] == ["as given", "h264:28", "h264:40"]
    given, coarse = refs[0][2], refs[2][2]
    assert [n for n, _ in given] == [f"carphone@{i}" for i in CARPHONE_FRAMES]
    assert all(a.shape == b.shape == (144, 176, 3) for (_, a), (_, b) in zip(given, coarse, strict=True))
    rates = [bits for _, bits, _ in refs]
    assert rates[0] > 1.0 > rates[1] > rates[2] > 0  # the MANIFEST's near-lossless clip, then x264 at CRF 28, 40
    # a coarser reference is further from the pristine frame
    dist = [
        np.mean([psnr(to_float(r), to_float(g), crop_border=0) for (_, r), (_, g) in zip(images, given, strict=True)])
        for _, _, images in refs[1:]
    ]
    assert 20 < dist[1] < dist[0] < 50


def test_the_held_out_clips_are_low_rate_h264(data_root: Path) -> None:
    # Why the held-out frames need this study: their references are the clips' own H.264 at < 0.1 bit/pixel.
    for clip in ("bikes.mp4", "bigbuckbunny.mp4"):
        assert 0.01 < stream_bits_per_pixel(data_root / "video" / clip) < 0.1


def test_bikes_sets_its_intra_frames_beside_its_held_out_frames(data_root: Path) -> None:
    # One clip, one encoder: the intra-coded frames carry about ten times the bits of the held-out ones.
    indices, rate = intra_frames(data_root / "video" / "bikes.mp4")
    assert indices[0] == 0 and len(indices) >= 3 and not set(indices) & set(HOLDOUT_FRAMES["bikes.mp4"])
    (intra_name, intra_rate, intra), (held_name, held_rate, held) = reference_sets("bikes", data_root, crfs=[28])
    assert (intra_name, held_name) == ("intra-coded frames", "the held-out frames") and intra_rate == rate
    assert intra_rate > 5 * held_rate > 0
    assert [n for n, _ in intra] == [f"bikes@{i}" for i in indices]
    assert [n for n, _ in held] == [f"bikes@{i}" for i in HOLDOUT_FRAMES["bikes.mp4"]]
    assert all(rgb.shape == (272, 640, 3) for _, rgb in intra + held)


def test_the_command_scores_every_reference(data_root: Path, tiny_checkpoint: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "study.json"
    argv = [
        "--models",
        str(tiny_checkpoint),
        "--sets",
        "Set5",
        "--crfs",
        "34",
        "--degradation",
        "jpeg:50",
        "--data-dir",
        str(data_root),
        "--json",
        str(out),
    ]
    assert main(argv) == 0
    rows = json.loads(out.read_text())
    assert [(r["set"], r["reference"]) for r in rows] == [("Set5", "as given"), ("Set5", "h264:34")]
    assert rows[0]["bits_per_pixel"] is None and 0 < rows[1]["bits_per_pixel"] < 1
    for row in rows:
        scores = row["psnr"]["jpeg:50"]
        assert set(scores) == {"bicubic", str(tiny_checkpoint)} and 20 < scores["bicubic"] < 40
    table = capsys.readouterr().out
    gain = rows[1]["psnr"]["jpeg:50"][str(tiny_checkpoint)] - rows[1]["psnr"]["jpeg:50"]["bicubic"]
    assert f"| Set5 | h264:34 | {rows[1]['bits_per_pixel']:.2f} | {gain:+.2f} |" in table
