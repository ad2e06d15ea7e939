"""What the About tab shows: a short explanation and the user-facing docs pages, with every link working.

Only the pages in :data:`USER_DOCS` are shown (those that exist); lab notes and maintainer pages
stay in the repository. Links are rewritten for the app: images the pages show are served by the
app, web links stay, and links to anything the app does not serve (another page, the README, an
anchor) keep their text but lose the link, so nothing on the tab points at a missing page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ABOUT_MARKDOWN", "DOCS_DIR", "USER_DOCS", "AboutPages", "about_pages"]

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
# The user-facing pages, in the order shown: the models and their quality, then how they were chosen and how fast.
USER_DOCS = ("models.md", "real-world.md", "ablation.md", "benchmarks.md")

ABOUT_MARKDOWN = """## What VDSR is
VDSR first enlarges the image with bicubic interpolation, then a stack of 3x3 convolutions (20 layers in the
paper) predicts the *residual*, the detail bicubic misses, on the luma (Y) channel only; colour (Cb, Cr) stays
bicubic. One network serves every scale because it always sees an image that has already been enlarged.
This app runs it tile by tile with a halo the size of the receptive field, so the result equals an untiled run.

PSNR and SSIM follow the standard protocol: the ground truth is cropped to a multiple of the scale, downscaled
bicubically to 8 bits, restored, and compared on BT.601 luma (Y) with as many pixels as the scale left out at
every border."""

# [text](target) or ![alt](target "title"); the target is group 3.
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+).*$", re.MULTILINE)
_WEB = ("http://", "https://", "mailto:")


@dataclass(frozen=True)
class AboutPages:
    """The pages' Markdown, ready to show, and the image files they link to (which the app must serve)."""

    pages: list[str]
    images: list[Path]


def _is_web(target: str) -> bool:
    return target.startswith(_WEB)


def about_pages(url_for: Callable[[Path], str], docs_dir: Path = DOCS_DIR) -> AboutPages:
    """The existing :data:`USER_DOCS` pages with their links made safe for the app (see the module docstring)."""
    pages: list[str] = []
    images: list[Path] = []

    def rewrite(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        if _is_web(target):
            return match.group(0)
        path = (docs_dir / target.split("#")[0]).resolve()
        if bang and path.is_file() and path.parent == docs_dir.resolve():
            images.append(path)
            return f"![{text}]({url_for(path)})"
        return text  # a page or file the app does not serve: keep the words, drop the link

    for name in USER_DOCS:
        page = docs_dir / name
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        text = _REFERENCE.sub(lambda m: m.group(0) if _is_web(m.group(1)) else "", text)
        pages.append(_LINK.sub(rewrite, text))
    return AboutPages(pages, images)
