"""What the About tab shows besides the models table: the explanation and the project's docs pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

__all__ = ["ABOUT_MARKDOWN", "DOCS_DIR", "about_sections"]

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
API_PAGE = "app.md"  # documents the app itself; the About tab is for the model and its results

ABOUT_MARKDOWN = """## What VDSR is
VDSR first enlarges the image with bicubic interpolation, then a stack of 3x3 convolutions (20 layers in the
paper) predicts the *residual*, the detail bicubic misses, on the luma (Y) channel only; colour (Cb, Cr) stays
bicubic. One network serves every scale because it always sees an image that has already been enlarged.
This app runs it tile by tile with a halo the size of the receptive field, so the result equals an untiled run.

PSNR and SSIM follow the standard protocol: the ground truth is cropped to a multiple of the scale, downscaled
bicubically to 8 bits, restored, and compared on BT.601 Y with `scale` pixels shaved from every border."""

_IMAGE_LINK = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)(\))")


def _serve_links(markdown: str, folder: Path, url_for: Callable[[Path], str]) -> str:
    """Point relative image links in ``markdown`` at files the app serves."""

    def repl(match: re.Match[str]) -> str:
        target = match.group(2)
        if "://" in target or target.startswith("/"):
            return match.group(0)
        path = (folder / target).resolve()
        return f"{match.group(1)}{url_for(path)}{match.group(3)}" if path.is_file() else match.group(0)

    return _IMAGE_LINK.sub(repl, markdown)


def about_sections(url_for: Callable[[Path], str], docs_dir: Path = DOCS_DIR) -> tuple[list[str], list[Path]]:
    """Markdown of every ``docs/*.md`` but the API page, and the plots no page links to (shown once, not twice)."""
    if not docs_dir.is_dir():
        return [], []
    pages, linked = [], set()
    for page in sorted(docs_dir.glob("*.md")):
        if page.name == API_PAGE:
            continue
        text = page.read_text(encoding="utf-8")
        linked.update((docs_dir / m.group(2)).resolve() for m in _IMAGE_LINK.finditer(text))
        pages.append(_serve_links(text, docs_dir, url_for))
    plots = [p for p in sorted(docs_dir.glob("*.png")) + sorted(docs_dir.glob("*.svg")) if p.resolve() not in linked]
    return pages, plots
