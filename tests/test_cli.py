import json
import logging
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.conftest import make_model
from vdsr.checkpoint import save_checkpoint
from vdsr.cli import main
from vdsr.imageio import read_image, write_image
from vdsr.pipeline import Upscaler


@pytest.fixture()
def images(tmp_path: Path, data_root: Path) -> Path:
    """A folder of real images in every supported kind, made from Set5's bird."""
    rgb = read_image(data_root / "Set5" / "bird.png")[:60, :80]
    folder = tmp_path / "in"
    alpha = np.linspace(0, 255, rgb.shape[1], dtype=np.uint8)[None].repeat(rgb.shape[0], 0)
    write_image(folder / "rgb.png", rgb)
    write_image(folder / "rgba.png", np.dstack([rgb, alpha]))
    write_image(folder / "gray.png", rgb[..., 1])
    write_image(folder / "deep.png", rgb.astype(np.uint16) * 257)
    write_image(folder / "photo.jpg", rgb)
    frames = [Image.fromarray(np.roll(rgb, 4 * i, axis=1)) for i in range(3)]
    frames[0].save(folder / "moving.gif", save_all=True, append_images=frames[1:], duration=70, loop=0)
    return folder


def test_every_kind_of_image_in_a_folder(images: Path, tmp_path: Path, tiny_checkpoint: Path) -> None:
    out = tmp_path / "out"
    assert main(["-q", "upscale", str(images), str(out), "--scale", "2", "--model", str(tiny_checkpoint)]) == 0
    expected = {
        "rgb.png": ((120, 160, 3), np.uint8),
        "rgba.png": ((120, 160, 4), np.uint8),
        "gray.png": ((120, 160), np.uint8),
        "deep.png": ((120, 160, 3), np.uint16),
        "photo.jpg": ((120, 160, 3), np.uint8),
        "moving.gif": ((120, 160, 3), np.uint8),  # the first of its frames
    }
    for name, (shape, dtype) in expected.items():
        img = read_image(out / name)
        assert (img.shape, img.dtype) == (shape, dtype), name
    with Image.open(out / "moving.gif") as im:
        assert (im.n_frames, im.info["duration"], im.info["loop"]) == (3, 70, 0)


def test_single_file_with_a_free_factor(images: Path, tmp_path: Path, tiny_checkpoint: Path) -> None:
    out = tmp_path / "x.png"
    argv = [
        "upscale",
        str(images / "rgb.png"),
        str(out),
        "--scale",
        "2.5",
        "--model",
        str(tiny_checkpoint),
        "--engine",
        "torch",
    ]
    assert main(argv) == 0
    assert read_image(out).shape == (150, 200, 3)


def test_an_animated_gif_becomes_an_animated_webp_or_a_video(
    images: Path, tmp_path: Path, tiny_checkpoint: Path
) -> None:
    out = tmp_path / "moving.webp"
    model = ["--model", str(tiny_checkpoint), "--engine", "torch"]
    assert main(["-q", "upscale", str(images / "moving.gif"), str(out), "--scale", "2", *model]) == 0
    with Image.open(out) as im:
        assert (im.format, im.n_frames, im.size, im.info["loop"]) == ("WEBP", 3, (160, 120), 0)
    clip = tmp_path / "moving.mp4"  # FFmpeg reads a GIF as video: asked for one, that is what it writes
    assert main(["-q", "upscale", str(images / "moving.gif"), str(clip), "--scale", "2", *model]) == 0
    with av.open(str(clip)) as container:
        times = [round(float(frame.time), 2) for frame in container.decode(video=0)]
        assert times == [0.0, 0.07, 0.14] and container.streams.video[0].codec_context.width == 160


def test_folder_carries_on_past_a_bad_file(
    images: Path, tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (images / "broken.png").write_text("not an image")
    out = tmp_path / "out"
    assert main(["upscale", str(images), str(out), "--scale", "2", "--model", str(tiny_checkpoint)]) == 1
    assert (out / "rgb.png").exists() and not (out / "broken.png").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("plain text"), "not a readable image"),
        (lambda p: p.write_bytes(b""), "not a readable image"),
        (lambda p: None, "no such file"),
    ],
)
def test_bad_input_is_one_line_without_traceback(tmp_path: Path, tiny_checkpoint: Path, make, message: str) -> None:
    bad = tmp_path / "bad.png"
    make(bad)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vdsr",
            "upscale",
            str(bad),
            str(tmp_path / "o.png"),
            "--scale",
            "2",
            "--model",
            str(tiny_checkpoint),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_model_and_unknown_engine(
    images: Path, tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst = str(images / "rgb.png"), str(tmp_path / "o.png")
    assert main(["upscale", src, dst, "--scale", "2", "--model", str(tmp_path / "none.safetensors")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    assert main(["upscale", src, dst, "--scale", "2", "--model", str(tiny_checkpoint), "--engine", "warp"]) == 2
    assert "unknown engine 'warp'" in capsys.readouterr().err


@pytest.mark.parametrize(("set_name", "with_paper_rows"), [("Set5", True), ("photos", False)])
def test_evaluate_writes_a_table_and_json(
    tmp_path: Path,
    tiny_checkpoint: Path,
    data_root: Path,
    capsys: pytest.CaptureFixture[str],
    set_name: str,
    with_paper_rows: bool,
) -> None:
    folder = tmp_path / set_name
    write_image(folder / "bird.png", read_image(data_root / "Set5" / "bird.png"))
    out = tmp_path / "scores.json"
    assert (
        main(
            ["evaluate", "--images", str(folder), "--scales", "2", "--models", str(tiny_checkpoint), "--json", str(out)]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "| bicubic |" in table and "| tiny |" in table
    assert ("VDSR (paper)" in table) == with_paper_rows  # the paper's figures are for Set5 only
    assert '"method": "tiny"' in out.read_text()


@pytest.fixture()
def one_bird(tmp_path: Path, data_root: Path) -> Path:
    """A folder of one 96x96 crop of Set5's bird: a set small enough to score in seconds."""
    folder = tmp_path / "one"
    write_image(folder / "bird.png", read_image(data_root / "Set5" / "bird.png")[:96, :96])
    return folder


def test_evaluate_keeps_two_runs_whose_checkpoints_share_a_name(
    tmp_path: Path, one_bird: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs all write ``last.safetensors``: comparing two must give two columns, not one under one name."""
    runs = [tmp_path / "run-a" / "last.safetensors", tmp_path / "run-b" / "last.safetensors"]
    for seed, path in enumerate(runs):
        save_checkpoint(path, make_model(seed=seed), scales=[2])
    assert main(["evaluate", "--images", str(one_bird), "--scales", "2", "--models", *map(str, runs)]) == 0
    table = capsys.readouterr().out
    assert "\n| last |" in table and "\n| run-b/last |" in table


def test_evaluate_scores_each_degradation_against_bicubic(
    tmp_path: Path, tiny_checkpoint: Path, one_bird: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = one_bird
    out = tmp_path / "scores.json"
    assert (
        main(
            [
                "evaluate",
                "--images",
                str(folder),
                "--scales",
                "2",
                "3",
                "--models",
                str(tiny_checkpoint),
                "--degradation",
                "clean",
                "jpeg:40",
                "h264:30",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "x2:" in text and "x3:" in text
    assert "| input | bicubic | lanczos | tiny |" in text
    assert "| jpeg:40 |" in text and "| h264:30 |" in text
    rows = json.loads(out.read_text())["scores"]
    psnr = {(r["degradation"], r["method"], r["scale"]): r["psnr"] for r in rows}
    assert len(psnr) == 3 * 3 * 2
    for method in ("bicubic", "lanczos", "tiny"):  # compression costs every method quality
        assert psnr["jpeg:40", method, 2] < psnr["clean", method, 2]


def test_evaluate_refuses_a_bad_degradation_in_one_line(
    tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--models", str(tiny_checkpoint), "--degradation", "jpeg:500"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "jpeg takes 1 to 100" in err


def test_ensemble_flag_upscales_and_scores_both_ways(
    images: Path, tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single, ensembled = tmp_path / "single.png", tmp_path / "x8.png"
    src, model = str(images / "rgb.png"), ["--model", str(tiny_checkpoint)]
    assert main(["-q", "upscale", src, str(single), "--scale", "2", *model]) == 0
    assert main(["-q", "upscale", src, str(ensembled), "--scale", "2", "--ensemble", *model]) == 0
    a, b = read_image(single), read_image(ensembled)
    assert a.shape == b.shape == (120, 160, 3)
    assert np.abs(a.astype(int) - b).max() > 0  # the random tiny network is not symmetric: x8 changes the result
    assert (
        main(["evaluate", "--images", str(images), "--scales", "2", "--models", str(tiny_checkpoint), "--ensemble"])
        == 0
    )
    table = capsys.readouterr().out
    assert "| tiny |" in table and "| tiny +x8 |" in table


def test_video_with_frames_and_a_short_clip(tmp_path: Path, tiny_checkpoint: Path, data_root: Path) -> None:
    import av

    clip = data_root / "video" / "carphone_distorted.mp4"
    if not clip.exists():
        pytest.skip(f"{clip} not found")
    out = tmp_path / "x2.mp4"
    argv = ["-q", "upscale", str(clip), str(out), "--scale", "2", "--duration", "0.2", "--model", str(tiny_checkpoint)]
    assert main(argv) == 0
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (352, 288)
        assert sum(1 for _ in container.decode(stream)) == 6  # 0.2 s at 29.97 fps
    look = tmp_path / "look"
    assert (
        main(
            ["-q", "upscale", str(clip), str(look), "--scale", "2", "--frames", "0,3", "--model", str(tiny_checkpoint)]
        )
        == 0
    )
    pngs = sorted(look.glob("*.png"))
    assert len(pngs) == 2 and read_image(pngs[0]).shape == (288, 770, 3)  # 352 wide, shown 385: pixels 128/117


def test_corrupt_video_is_one_line(tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    assert main(["upscale", str(bad), str(tmp_path / "o.mp4"), "--scale", "2", "--model", str(tiny_checkpoint)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "broken.mp4" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize(("fmt", "reason"), [("PNG", "stored losslessly"), ("JPEG", "lossy-compressed")])
def test_the_default_model_suits_the_input_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fmt: str, reason: str
) -> None:
    from PIL import Image

    src = tmp_path / f"in.{fmt.lower()}"
    Image.fromarray((np.random.default_rng(0).random((20, 24, 3)) * 255).astype(np.uint8)).save(src, format=fmt)
    with caplog.at_level("INFO", logger="vdsr"):
        assert main(["upscale", str(src), str(tmp_path / "out.png"), "--scale", "2", "--engine", "torch"]) == 0
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("model "))
    assert reason in line and "--model chooses another" in line


def test_nothing_overwrites_the_input_and_bad_requests_fail_before_any_model_loads(
    images: Path, tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded for a request that cannot succeed")

    monkeypatch.setattr("vdsr.cli._load_upscaler", no_model)
    src = images / "rgb.png"
    original = src.read_bytes()
    clip = tmp_path / "clip.mp4"
    clip.write_bytes((data_root / "video" / "carphone_distorted.mp4").read_bytes())
    cases = [
        ([str(src), str(images / "." / "rgb.png")], "would overwrite the input"),
        ([str(images), str(images)], "would overwrite the input"),
        ([str(clip), str(clip)], "would overwrite the input"),
        ([str(src), str(tmp_path / "o.png"), "--scale", "0"], "scale must be a number >= 1"),
        ([str(images), str(tmp_path / "out"), "--scale", "20"], "above the limit"),
        ([str(src), str(tmp_path / "o.tga")], "unsupported output format .tga"),
        ([str(images / "rgba.png"), str(tmp_path / "o.jpg")], "JPEG cannot store alpha"),
        ([str(images / "moving.gif"), str(tmp_path / "o.jpg")], "cannot hold 3 frames; write .gif, .webp or .png"),
        ([str(clip), str(tmp_path / "o.avi")], "unsupported output container .avi"),
        ([str(clip), str(tmp_path / "o.mp4"), "--crf", "60"], "crf must be 0-51"),
        ([str(clip), str(tmp_path / "look"), "--frames", "a,b"], "--frames takes frame numbers"),
        ([str(clip), str(tmp_path / "look"), "--frames", "3", "--scale", "9"], "above the limit"),
    ]
    for args, message in cases:
        scale = [] if "--scale" in args else ["--scale", "2"]
        assert main(["-q", "upscale", *args, *scale]) == 2, args
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, (args, err)
    assert src.read_bytes() == original


def test_an_unwritable_output_is_one_line(
    images: Path, tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x")
    model = ["--model", str(tiny_checkpoint), "--scale", "2"]
    assert main(["-q", "upscale", str(images / "rgb.png"), str(tmp_path / "a-file" / "o.png"), *model]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["-q", "upscale", str(images), str(tmp_path / "a-file"), *model]) == 2
    assert "is a file; the output of a folder is a folder" in capsys.readouterr().err


def test_a_frame_past_the_end_writes_no_frame(
    tmp_path: Path, tiny_checkpoint: Path, data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip, look = data_root / "video" / "carphone_distorted.mp4", tmp_path / "look"
    argv = [
        "-q",
        "upscale",
        str(clip),
        str(look),
        "--frames",
        "5,9999",
        "--scale",
        "2",
        "--model",
        str(tiny_checkpoint),
    ]
    assert main(argv) == 2
    assert "frame 9999 is past the end (120 frames)" in capsys.readouterr().err
    assert not look.exists()


def test_each_image_of_a_folder_gets_the_model_that_suits_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A phone's folder mixes JPEG photos with PNG screenshots (and clips, left for their own run)."""
    loaded: list[str | None] = []

    def record(model: str | None, engine: str, **kwargs: object) -> Upscaler:
        loaded.append(model)
        return Upscaler(None)

    monkeypatch.setattr("vdsr.cli._load_upscaler", record)
    picture = Image.fromarray((np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8))
    folder = tmp_path / "phone"
    folder.mkdir()
    picture.save(folder / "a_photo.jpg", quality=70)
    picture.save(folder / "b_screenshot.png")
    picture.save(folder / "c_photo.jpg", quality=50)
    (folder / "d_clip.mp4").write_bytes(b"not read")
    with caplog.at_level(logging.INFO, logger="vdsr"):
        assert main(["upscale", str(folder), str(tmp_path / "out"), "--scale", "2"]) == 0
    assert loaded == ["vdsr-20-real", "vdsr-20"]  # each loaded once, when an image first needs it
    assert "wrote 3 of 3 images" in caplog.text and "left out d_clip.mp4: give each video" in caplog.text
    loaded.clear()
    assert main(["upscale", str(folder), str(tmp_path / "out2"), "--scale", "2", "--model", "vdsr-20"]) == 0
    assert loaded == ["vdsr-20"]


def test_a_photos_profile_and_exif_survive_a_file_and_a_folder_run(tmp_path: Path, tiny_checkpoint: Path) -> None:
    from tests.test_imageio import _phone_photo, _profile

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = _phone_photo(folder / "phone.jpg", np.full((20, 30, 3), 90, np.uint8))
    model = ["--scale", "2", "--model", str(tiny_checkpoint), "--engine", "torch"]
    assert main(["-q", "upscale", str(photo), str(tmp_path / "one.png"), *model]) == 0
    assert main(["-q", "upscale", str(folder), str(tmp_path / "all"), *model]) == 0
    for out in (tmp_path / "one.png", tmp_path / "all" / "phone.jpg"):
        assert read_image(out).shape == (60, 40, 3)
        with Image.open(out) as im:
            assert im.info["icc_profile"] == _profile() and im.getexif()[0x0132] == "2009:01:02 03:04:05"


def test_evaluate_takes_free_factors_and_refuses_shrinking(
    tmp_path: Path, tiny_checkpoint: Path, one_bird: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scores.json"
    argv = ["evaluate", "--images", str(one_bird), "--models", str(tiny_checkpoint), "--json", str(out)]
    assert main([*argv, "--scales", "1.5", "2"]) == 0
    assert "x1.5 PSNR / SSIM" in capsys.readouterr().out
    assert {r["scale"] for r in json.loads(out.read_text())["scores"]} == {1.5, 2}
    with pytest.raises(SystemExit):
        main([*argv, "--scales", "0.5"])
    assert "a scale is a number >= 1, got '0.5'" in capsys.readouterr().err


def test_a_factor_below_x2_says_why_it_takes_the_time_of_x2(
    images: Path, tmp_path: Path, tiny_checkpoint: Path, caplog: pytest.LogCaptureFixture
) -> None:
    argv = ["upscale", str(images / "rgb.png"), str(tmp_path / "out.png"), "--model", str(tiny_checkpoint)]
    with caplog.at_level("INFO", logger="vdsr"):
        assert main([*argv, "--scale", "1.5", "--engine", "torch"]) == 0
        assert main([*argv, "--scale", "2", "--engine", "torch"]) == 0
    said = [r.getMessage() for r in caplog.records if "runs at x2" in r.getMessage()]
    assert said == ["x1.5: the network learned x2 to x4, so it runs at x2 and its result is resized down"]
    assert read_image(tmp_path / "out.png").shape == (120, 160, 3)
