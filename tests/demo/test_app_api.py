"""Drive every endpoint of the running app with gradio_client, as an API user would."""

from __future__ import annotations

import zipfile
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from demo.engine_menu import EngineMenu
from vdsr.input_kind import InputKind
from vdsr.weights import WEIGHTS_DIR, pick_model

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "engines" / "gate_images" / "head.png"  # 280x280 Set5 image
SHIPPED = WEIGHTS_DIR / "vdsr-20.safetensors"


def _size(path: str) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def _small_png(tmp_path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / "small.png"
    Image.fromarray((rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)).save(path)
    return path


def _assert_serving(client) -> None:
    (_, sr), _, _ = client.predict(handle_file(EXAMPLE), "x2", api_name="/upscale_image")
    assert _size(sr) == (560, 560)


def test_named_endpoints_need_only_the_file(client) -> None:
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name in ("/upscale_image", "/compare_image", "/upscale_batch", "/upscale_video"):
        assert name in api, f"{name} missing from {sorted(api)}"
        required = [p["parameter_name"] for p in api[name]["parameters"] if not p["parameter_has_default"]]
        assert len(required) == 1, f"{name} requires {required}; only the image or video should be required"


def test_upscale_image_defaults(client) -> None:
    (bicubic, sr), download, line = client.predict(handle_file(EXAMPLE), api_name="/upscale_image")
    assert _size(sr) == (560, 560) and _size(bicubic) == (560, 560)
    assert Path(sr).suffix == Path(download).suffix == ".png"
    assert Path(sr).read_bytes() == Path(download).read_bytes()
    assert line.startswith("Model tiny-test: chosen in the menu. Ran on "), line


@pytest.mark.parametrize(
    ("scale", "factor", "expected"), [("x3", 2.5, (120, 90)), ("x4", 2.5, (160, 120)), ("free", 2.5, (100, 75))]
)
def test_upscale_image_sizes(client, tmp_path: Path, scale: str, factor: float, expected: tuple[int, int]) -> None:
    (_, sr), _, _ = client.predict(handle_file(_small_png(tmp_path)), scale, factor, api_name="/upscale_image")
    assert _size(sr) == expected


def test_upscale_image_keeps_alpha(client, tmp_path: Path) -> None:
    rgba = np.zeros((20, 24, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, np.linspace(0, 255, 24, dtype=np.uint8)[None, :]
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    (_, sr), _, _ = client.predict(handle_file(path), api_name="/upscale_image")
    with Image.open(sr) as im:
        assert im.mode == "RGBA" and im.size == (48, 40)


def test_an_image_over_the_limit_can_be_shrunk_first(client, tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.fromarray(np.full((1000, 1100, 3), 90, np.uint8)).save(big)
    (_, sr), _, _ = client.predict(handle_file(big), "x2", 2.5, None, "auto", False, True, api_name="/upscale_image")
    assert _size(sr) == (2 * 1048, 2 * 953)  # shrunk to 1048x953 (1 MP), then doubled


@pytest.mark.parametrize(
    ("fmt", "suffix", "pil_format"), [("png", ".png", "PNG"), ("jpeg", ".jpg", "JPEG"), ("webp", ".webp", "WEBP")]
)
def test_the_format_choice_writes_that_format(client, tmp_path: Path, fmt: str, suffix: str, pil_format: str) -> None:
    (_, sr), download, _ = client.predict(
        handle_file(_small_png(tmp_path)), "x2", 2.5, None, "auto", False, False, fmt, 80, api_name="/upscale_image"
    )
    assert Path(sr).suffix == ".png" and Path(download).suffix == suffix
    with Image.open(download) as im:
        assert im.format == pil_format and im.size == (80, 60)


def test_format_refusals(client, tmp_path: Path) -> None:
    rgba = tmp_path / "alpha.png"
    Image.new("RGBA", (20, 16), (200, 0, 0, 100)).save(rgba)
    with pytest.raises(AppError, match="JPEG cannot store transparency, and this image has some; choose PNG or WebP"):
        client.predict(handle_file(rgba), "x2", 2.5, None, "auto", False, False, "jpeg", api_name="/upscale_image")
    with pytest.raises(AppError, match="Quality must be a whole number from 1 to 100; got 101"):
        client.predict(handle_file(rgba), "x2", 2.5, None, "auto", False, False, "webp", 101, api_name="/upscale_image")


def test_batch_gives_a_zip_with_one_output_per_input(client, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    images = [_small_png(first), _small_png(second, (24, 20)), EXAMPLE]
    archive, summary = client.predict(
        [handle_file(p) for p in images], "x2", 2.5, None, "auto", "webp", 85, api_name="/upscale_batch"
    )
    with zipfile.ZipFile(archive) as zf:  # two uploads named small.png: neither overwrites the other
        assert sorted(zf.namelist()) == ["head_x2_vdsr.webp", "small-1_x2_vdsr.webp", "small_x2_vdsr.webp"]
    assert summary.startswith("3 of 3 images upscaled at x2")
    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    archive, summary = client.predict([handle_file(EXAMPLE), handle_file(notes)], api_name="/upscale_batch")
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == ["head_x2_vdsr.png"]
    assert "- notes.png: **not upscaled**: This file is not an image" in summary
    with pytest.raises(AppError, match="None of the images could be upscaled"):
        client.predict([handle_file(notes)], api_name="/upscale_batch")


def test_compare_image_table(client) -> None:
    table, caption, gt_pair, bicubic_pair, _ = client.predict(handle_file(EXAMPLE), "x3", api_name="/compare_image")
    assert caption.startswith("x3: ground truth 279x279 downscaled to 93x93, damage: clean, restored to 279x279")
    assert _size(gt_pair[0]) == _size(gt_pair[1]) == (279, 279)  # modcropped to a multiple of 3
    assert bicubic_pair[1] == gt_pair[1]
    rows = {row[0]: row[1:] for row in table["data"]}
    assert set(rows) == {"bicubic", "VDSR", "gain"}
    assert 20 < rows["bicubic"][0] < 50 and 0 < rows["bicubic"][1] <= 1
    assert rows["gain"][0] == pytest.approx(rows["VDSR"][0] - rows["bicubic"][0], abs=0.011)


@pytest.mark.skipif(not SHIPPED.is_file(), reason=f"trained weights {SHIPPED} not committed yet")
def test_compare_image_trained_vdsr_beats_bicubic(client, tmp_path: Path) -> None:
    with Image.open(ROOT / "engines" / "gate_images" / "butterfly.png") as im:
        im.crop((64, 64, 192, 192)).save(tmp_path / "butterfly_crop.png")  # 128x128 keeps the CPU cost low
    # engine torch: loads at once, where auto would first export and verify an ONNX copy (seconds of CPU)
    table, *_ = client.predict(
        handle_file(tmp_path / "butterfly_crop.png"), "x2", 2.5, "vdsr-20", "torch", api_name="/compare_image"
    )
    rows = {row[0]: row[1:] for row in table["data"]}
    assert rows["VDSR"][0] > rows["bicubic"][0], table
    x8_table, *_ = client.predict(
        handle_file(tmp_path / "butterfly_crop.png"), "x2", 2.5, "vdsr-20", "torch", True, api_name="/compare_image"
    )
    x8 = {row[0]: row[1:] for row in x8_table["data"]}
    assert x8["bicubic"] == rows["bicubic"]
    assert x8["VDSR"][0] > rows["VDSR"][0], (table, x8_table)  # the self-ensemble is sharper on real content


@pytest.mark.skipif(not SHIPPED.is_file(), reason=f"trained weights {SHIPPED} not committed yet")
def test_automatic_model_follows_the_upload(client, tmp_path: Path) -> None:
    jpeg = tmp_path / "photo.jpg"
    with Image.open(_small_png(tmp_path)) as im:
        im.save(jpeg, quality=70)
    # vdsr-20-real once shipped, else vdsr-20 saying the other is missing
    name, reason = pick_model(InputKind("lossy", 70))
    *_, line = client.predict(handle_file(jpeg), "x2", 2.5, "auto", "torch", api_name="/upscale_image")
    assert line == f"Model {name}: {reason}. Ran on torch (fp32)."


def test_video_info_and_preview(client, clip: Path) -> None:
    slider, text, start, duration = client.predict(handle_file(clip), api_name="/video_info")
    assert slider["maximum"] == 11 and "48x32" in text
    assert (start, duration) == (0, 1.0)  # the whole 1 s clip fits at x2
    (bicubic, sr), table, line = client.predict(handle_file(clip), 5, api_name="/preview_frame")
    assert _size(bicubic) == _size(sr) == (96, 64) and table["data"] in ([], None)
    assert line.startswith("Model tiny-test: chosen in the menu. Ran on ")
    (bicubic, sr), table, line = client.predict(handle_file(clip), 11, "compare", "x2", api_name="/preview_frame")
    assert _size(sr) == (48, 32) and [row[0] for row in table["data"]] == ["bicubic", "VDSR", "gain"]
    assert line.startswith("x2: ground truth 48x32 downscaled to 24x16, damage: clean")
    plan = client.predict(handle_file(clip), 0.25, 0.5, api_name="/video_plan")  # timed by the previews above
    assert plan.startswith("To upscale: 0.25 to 0.8 s, 6 frames to 96x64. Up to 0.8 s fit from 0.25 s at this scale.")
    assert "Estimated time: about " in plan


def test_upscale_video_keeps_audio(client, clip: Path) -> None:
    video, summary, latest = client.predict(handle_file(clip), api_name="/upscale_video")
    assert latest is None  # the latest-frame preview is cleared when the video is ready
    path = video["video"] if isinstance(video, dict) else video
    with av.open(path) as container:
        assert container.streams.video[0].codec_context.width == 96
        assert container.streams.video[0].codec_context.height == 64
        assert container.streams.video[0].frames == 12
        assert len(container.streams.audio) == 1 and container.streams.audio[0].codec_context.name == "aac"
    assert "12 frames" in summary


def test_upscale_a_part_of_a_long_video(client, long_clip: Path) -> None:
    _, _, _, duration = client.predict(handle_file(long_clip), api_name="/video_info")
    assert duration == 10.0  # the longest part that fits, proposed at upload
    video, summary, _ = client.predict(
        handle_file(long_clip), "x2", 2.5, None, "auto", 2.0, 1.5, api_name="/upscale_video"
    )
    path = video["video"] if isinstance(video, dict) else video
    with av.open(path) as container:
        assert container.streams.video[0].frames == 6  # 1.5 s at 4 fps
    assert summary.startswith("6 frames at 64x64, 4 fps, no audio;")


def test_bad_uploads_get_messages(client, server, tmp_path: Path, audio_only: Path, long_clip: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    full = tmp_path / "full.jpg"
    with Image.open(EXAMPLE) as im:
        im.save(full, quality=90)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(full.read_bytes()[:3000])
    big = tmp_path / "big.png"
    Image.new("RGB", (1100, 1000)).save(big)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    cases = [
        (text, "/upscale_image", "This file is not an image; PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP and TIFF work"),
        (empty, "/compare_image", "The file is empty"),
        (truncated, "/compare_image", "truncated"),
        (big, "/upscale_image", "1100x1000 \\(1.1 MP\\) is over the 1 MP limit for images. Tick 'Shrink to fit first'"),
        (audio_only, "/upscale_video", "no video stream"),
        (audio_only, "/video_info", "no video stream"),
        (long_clip, "/upscale_video", r"11\.5 s from 0 s is too long: at 64x64, up to 10\.0 s fit"),
    ]
    for path, endpoint, message in cases:
        with pytest.raises(AppError, match=message):
            client.predict(handle_file(path), api_name=endpoint)
    with pytest.raises(AppError, match="Scale must be between 1 and 4; got 9."):
        client.predict(handle_file(EXAMPLE), "free", 9.0, api_name="/upscale_image")
    with pytest.raises(AppError, match="over the output limit of 4 MP; the largest scale that fits this image is x2.5"):
        client.predict(handle_file(_small_png(tmp_path, (800, 800))), "x4", api_name="/upscale_image")
    with pytest.raises(AppError, match="limit of 0.5 MP; the largest scale that fits this image is x2.5"):  # x8
        client.predict(handle_file(EXAMPLE), "x3", 2.5, None, "auto", True, api_name="/upscale_image")
    _assert_serving(client)
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]  # each refusal is one line, not a traceback
    assert "demo.requests: refused: The file is empty." in log


def test_engine_menu_offers_only_what_runs_here(server, app_checkpoint: Path) -> None:
    config = httpx.get(server.url + "/config", timeout=30).json()
    (engine,) = [c["props"] for c in config["components"] if c["props"].get("elem_id") == "engine"]
    offered = [choice[1] for choice in engine["choices"]]
    assert offered == EngineMenu.probe(app_checkpoint).values()
    if "tensorrt" not in offered:
        assert "tensorrt (" in engine["info"] and "pip install" not in engine["info"]


def test_mcp_schema_lists_the_upscaler(server) -> None:
    pytest.importorskip("mcp", reason="gradio[mcp] not installed (requirements.txt installs it): no MCP server")
    tools = {tool["name"]: tool for tool in httpx.get(server.url + "/gradio_api/mcp/schema", timeout=30).json()}
    assert {"upscale_image", "compare_image", "upscale_batch", "upscale_video"} <= set(tools)
    upscale = tools["upscale_image"]
    assert upscale["description"].startswith("Upscale an image with VDSR.")
    properties = upscale["inputSchema"]["properties"]
    assert {"image", "scale", "model", "output_format"} <= set(properties)
    assert all(spec.get("description") for spec in properties.values())  # every parameter explained


def test_burst_of_20_requests_is_served_or_refused(client, server, tmp_path: Path) -> None:
    image = handle_file(_small_png(tmp_path, (64, 48)))
    jobs = [client.submit(image, "x2", api_name="/upscale_image") for _ in range(20)]
    done, refused = 0, 0
    for job in jobs:
        try:
            (_, sr), _, _ = job.result(timeout=120)
        except Exception as exc:  # a full queue is the only acceptable failure, said plainly
            assert "The queue is full: " in str(exc) and "Please try again in a minute." in str(exc), repr(exc)
            refused += 1
        else:
            assert _size(sr) == (128, 96)
            done += 1
    print(f"burst of 20: {done} served, {refused} refused (queue full)")
    assert done + refused == 20 and done >= 1
    assert httpx.get(server.url + "/", timeout=5).status_code == 200
    _assert_serving(client)
