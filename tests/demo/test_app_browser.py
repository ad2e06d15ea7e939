"""The image tab in a real browser: upload, upscale, wait for the slider, screenshot.

Needs Debian's Chromium (/usr/bin/chromium) and the ``playwright`` Python
package (no ``playwright install``); ``.ci/browser-deps.sh`` installs both.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
EXAMPLE = Path(__file__).resolve().parents[2] / "demo" / "examples" / "head.png"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: run .ci/browser-deps.sh")


def test_upload_upscale_shows_slider_then_compare(server, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed: run .ci/browser-deps.sh")
    shot = tmp_path / "image-tab.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
            page.locator("#image-input input[type=file]").set_input_files(str(EXAMPLE), timeout=30_000)
            page.locator("#image-input img").first.wait_for(state="visible", timeout=30_000)  # upload preview
            page.locator("#upscale-button").click()
            slider_images = page.locator("#upscale-slider img")
            slider_images.nth(1).wait_for(state="visible", timeout=60_000)  # bicubic | VDSR
            assert slider_images.count() >= 2
            sources = [slider_images.nth(i).get_attribute("src") or "" for i in range(2)]
            assert all(".png" in src for src in sources), sources
            page.screenshot(path=str(shot), full_page=True)
            page.locator("#image-mode").get_by_text("Compare with ground truth").click()
            page.locator("#compare-button").click()
            page.locator("#compare-table").get_by_text("gain").wait_for(state="visible", timeout=60_000)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("VDSR_APP_SCREENSHOT")  # where to keep a copy, e.g. for a CI artifact
    if keep:
        shutil.copyfile(shot, keep)
