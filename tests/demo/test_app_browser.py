"""The app in a real browser, as a new user meets it: uploads, settings, errors, a full queue, the About tab.

Needs Debian's Chromium (/usr/bin/chromium) and the ``playwright`` Python
package (no ``playwright install``); ``.ci/browser-deps.sh`` installs both.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from gradio_client import handle_file
from PIL import Image
from playwright.sync_api import expect

CHROMIUM = Path("/usr/bin/chromium")
EXAMPLE = Path(__file__).resolve().parents[2] / "engines" / "gate_images" / "head.png"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: run .ci/browser-deps.sh")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed: run .ci/browser-deps.sh")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, server) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
    page.locator("#upscale-button").wait_for(state="visible", timeout=60_000)
    try:
        yield page
    finally:
        page.close()


def _upscale_example(page) -> list[str]:
    """Upload the example, upscale it, and return the slider's two image sources once they show."""
    page.locator("#image-input input[type=file]").set_input_files(str(EXAMPLE), timeout=30_000)
    page.locator("#image-status").get_by_text("280x280 image").wait_for(timeout=30_000)
    page.locator("#upscale-button").click()
    page.locator("#upscale-info").get_by_text("Model ").wait_for(timeout=60_000)
    slider_images = page.locator("#upscale-slider img")
    slider_images.nth(1).wait_for(state="visible", timeout=60_000)
    return [slider_images.nth(i).get_attribute("src") or "" for i in range(2)]


def _slider_sources(page) -> list[str]:
    images = page.locator("#upscale-slider img")
    return [images.nth(i).get_attribute("src") or "" for i in range(images.count())]


def test_upload_upscale_shows_slider_then_compare(page, tmp_path: Path) -> None:
    shot = tmp_path / "image-tab.png"
    sources = _upscale_example(page)
    assert all(".png" in src for src in sources), sources
    assert "Ran on " in page.locator("#upscale-info").inner_text()
    page.screenshot(path=str(shot), full_page=True)
    page.locator("#image-mode").get_by_text("Compare with ground truth").click()
    page.locator("#compare-button").click()
    page.locator("#compare-table").get_by_text("gain").wait_for(state="visible", timeout=60_000)
    caption = page.locator("#compare-caption")
    caption.get_by_text("x2: ground truth 280x280").wait_for(timeout=30_000)
    page.locator("#scale").get_by_text("x3", exact=True).click()  # the table now stands for other settings
    caption.get_by_text("Settings changed since: press Compare to update this table.").wait_for(timeout=10_000)
    assert "x2: ground truth 280x280" in caption.inner_text()
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("VDSR_APP_SCREENSHOT")  # where to keep a copy, e.g. for a CI artifact
    if keep:
        shutil.copyfile(shot, keep)


def test_small_results_show_their_pixels(page, tmp_path: Path) -> None:
    small = tmp_path / "small.png"
    with Image.open(EXAMPLE) as im:
        im.crop((100, 100, 164, 148)).save(small)  # 64x48 -> 128x96, enlarged to fit the panel
    page.locator("#image-input input[type=file]").set_input_files(str(small), timeout=30_000)
    page.locator("#image-status").get_by_text("64x48 image").wait_for(timeout=30_000)
    page.locator("#upscale-button").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#upscale-slider img')].filter("
        "img => getComputedStyle(img).imageRendering === 'pixelated').length === 2",
        timeout=60_000,
    )


def test_setting_changes_enqueue_nothing(page) -> None:
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    for choice in ("x3", "x4", "free factor", "x2"):
        page.locator("#scale").get_by_text(choice, exact=True).click()
    page.locator("#image-mode").get_by_text("Compare with ground truth").click()
    page.get_by_role("tab", name="Video").click()
    page.locator("#video-mode").get_by_text("Compare with ground truth").click()
    page.locator("#scale").get_by_text("x3", exact=True).click()
    page.wait_for_timeout(1500)
    assert not [url for url in sent if "/queue/join" in url], sent


def test_free_factor_only_for_free_scale_and_an_error_never_comes_with_a_result(page) -> None:
    factor = page.locator("#factor input")
    for choice in ("x2", "x3", "x4"):
        page.locator("#scale").get_by_text(choice, exact=True).click()
        page.wait_for_timeout(300)
        assert factor.is_disabled(), choice
    before = _upscale_example(page)
    page.locator("#scale").get_by_text("free factor", exact=True).click()
    page.wait_for_function("() => !document.querySelector('#factor input').disabled", timeout=10_000)
    factor.fill("6")
    page.locator("#upscale-button").click()
    page.get_by_text("Scale must be between 1 and 4; got 6.").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert _slider_sources(page) == before  # no clamped run behind the message


def test_bad_uploads_are_named_at_upload_and_the_result_survives(page, tmp_path: Path) -> None:
    before = _upscale_example(page)
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    status = page.locator("#image-status")
    for path, message in (
        (text, "This file is not an image; PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP and TIFF work."),
        (empty, "The file is empty."),
    ):
        page.locator("#image-input input[type=file]").set_input_files(str(path), timeout=30_000)
        status.get_by_text(message).wait_for(timeout=30_000)
        assert page.locator("#image-input img").count() == 0  # no broken picture left in the input
    page.locator("#upscale-button").click()
    page.get_by_text("Upload an image first").first.wait_for(timeout=30_000)
    assert _slider_sources(page) == before
    assert "Error" not in page.locator("#upscale-slider").inner_text()


def test_a_full_queue_is_said_once_and_the_result_survives(page, client, server, tmp_path: Path) -> None:
    before = _upscale_example(page)
    big = tmp_path / "big.png"
    Image.fromarray((np.random.default_rng(0).random((900, 1000, 3)) * 255).astype(np.uint8)).save(big)
    jobs = [client.submit(handle_file(big), "x2", api_name="/upscale_image") for _ in range(8)]
    try:
        deadline = time.monotonic() + 30
        while (
            httpx.get(server.url + "/gradio_api/queue/status", timeout=5).json().get("queue_size", 0)
            < server.queue_size
        ):
            assert time.monotonic() < deadline, "the queue never filled"
            time.sleep(0.05)
        page.locator("#upscale-button").click()
        message = page.get_by_text("The queue is full: ")
        message.first.wait_for(timeout=30_000)
        assert message.count() == 1 and "Please try again in a minute." in message.first.inner_text()
        assert _slider_sources(page) == before
    finally:
        for job in jobs:  # free the queue for the next test
            job.cancel()
        for job in jobs:
            with contextlib.suppress(Exception):  # cancelled, or refused as queue-full
                job.result(timeout=60)


def test_video_estimate_and_start_duration(page, clip: Path) -> None:
    page.get_by_role("tab", name="Video").click()
    page.locator("#video-input input[type=file]").set_input_files(str(clip), timeout=30_000)
    plan = page.locator("#video-plan")
    plan.get_by_text("Estimated time: about").wait_for(timeout=60_000)  # measured by the first-frame preview
    # Waits out Gradio's pending timer ("0.1s"), shown in the element while an event still updates it.
    expect(plan).to_have_text(re.compile(r"^\s*To upscale: 0 to 1\.0 s, 12 frames to 96x64\."), timeout=30_000)
    assert page.locator("#video-duration input").input_value() == "1"  # the longest part that fits
    page.locator("#video-start input").fill("0.5")
    page.locator("#video-duration input").fill("0.25")
    page.locator("#video-duration input").blur()
    plan.get_by_text("To upscale: 0.5 to 0.8 s, 3 frames to 96x64.").wait_for(timeout=30_000)
    page.locator("#video-button").click()
    page.locator("#video-summary").get_by_text("3 frames at 96x64").wait_for(timeout=60_000)


def test_a_video_job_shows_frames_and_can_be_stopped(page, slow_clip: Path) -> None:
    page.get_by_role("tab", name="Video").click()
    page.locator("#scale").get_by_text("x4", exact=True).click()
    page.locator("#video-input input[type=file]").set_input_files(str(slow_clip), timeout=30_000)
    page.locator("#video-plan").get_by_text("Estimated time").wait_for(timeout=60_000)
    page.locator("#video-button").click()
    page.locator("#video-latest img").wait_for(state="visible", timeout=60_000)  # a picture while it runs
    assert " frames done." in page.locator("#video-summary").inner_text()
    page.locator("#video-stop").click()
    page.locator("#video-summary").get_by_text("Stopped; no video was written.").wait_for(timeout=30_000)
    page.wait_for_timeout(3000)
    assert page.locator("#video-result video").count() == 0


def test_video_compare_mode_says_what_it_does(page) -> None:
    page.get_by_role("tab", name="Video").click()
    page.locator("#video-mode").get_by_text("Compare with ground truth").click()
    page.locator("#video-compare-note").get_by_text("Compare mode scores single frames.").wait_for(timeout=10_000)
    assert not page.locator("#video-button").is_visible()
    page.locator("#video-preview").get_by_text("Frame as ground truth, downscaled then restored").wait_for(
        timeout=10_000
    )
    page.locator("#video-mode").get_by_text("Upscale", exact=True).click()
    page.locator("#video-button").wait_for(state="visible", timeout=10_000)


def test_about_tab_has_no_broken_link(page, server) -> None:
    page.get_by_role("tab", name="About").click()
    page.locator("#models-table").wait_for(timeout=30_000)
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    images = page.eval_on_selector_all("img[src]", "els => els.map(e => e.getAttribute('src'))")
    local = [url for url in links + images if not url.startswith(("http://", "https://", "mailto:", "data:"))]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for url in local:
            assert http.get(url).status_code == 200, url
    text = page.locator("body").inner_text()
    assert "free CPU Space" not in text and "git show" not in text
    fonts = page.eval_on_selector_all("h1, h2, h3", "els => els.map(e => getComputedStyle(e).fontFamily)")
    assert fonts and all(font.startswith("system-ui") for font in fonts), fonts  # no web font to fall back from


def test_an_iphone_photo_upscales(page, tmp_path: Path) -> None:
    """HEIC is what iPhones save. A browser that knows its type (Safari, and Chrome on a Mac) uploads it
    as ``image/heic``; it may not draw it, but the app reads it."""
    import vdsr.imageio  # noqa: F401 - lets PIL write HEIC here

    photo = tmp_path / "IMG_0001.HEIC"
    with Image.open(EXAMPLE) as im:
        im.convert("RGB").crop((0, 0, 120, 80)).save(photo, format="HEIF", quality=80)
    upload = {"name": photo.name, "mimeType": "image/heic", "buffer": photo.read_bytes()}
    page.locator("#image-input input[type=file]").set_input_files(upload, timeout=30_000)
    status = page.locator("#image-status")
    status.get_by_text("120x80 image").wait_for(timeout=30_000)
    assert "vdsr-20-real: the image is lossy-compressed (HEIC, AVIF" in status.inner_text()
    page.locator("#upscale-button").click()
    page.locator("#upscale-info").get_by_text("Ran on ").wait_for(timeout=60_000)
    page.locator("#upscale-slider img").nth(1).wait_for(state="visible", timeout=60_000)
    assert all(".png" in src for src in _slider_sources(page))
