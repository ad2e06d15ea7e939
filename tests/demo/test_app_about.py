"""The About tab shows the user docs only, and every link on it works."""

from __future__ import annotations

import re
from pathlib import Path

from demo.about import DOCS_DIR, USER_DOCS, about_pages

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)")


def test_about_shows_the_existing_user_docs_with_served_images(tmp_path: Path) -> None:
    (tmp_path / "models.md").write_text(
        "# Models\n![plot](models.png)\nSee [benchmarks](benchmarks.md), [notes](notes.md), [web](https://x.org/a),"
        " [up](../README.md), [anchor](#models) and ![gone](missing.png).\n"
    )
    (tmp_path / "benchmarks.md").write_text("# Benchmarks\n[ref]: notes.md\n")
    (tmp_path / "notes.md").write_text("# Lab notes\n")
    (tmp_path / "app.md").write_text("# API\n")
    (tmp_path / "models.png").write_bytes(b"png")
    (tmp_path / "training.png").write_bytes(b"png")
    docs = about_pages(lambda p: f"/file={p.name}", tmp_path)
    assert docs.pages == [
        "# Models\n![plot](/file=models.png)\nSee benchmarks, notes, [web](https://x.org/a), up, anchor and gone.\n",
        "# Benchmarks\n\n",
    ]
    assert docs.images == [(tmp_path / "models.png").resolve()]


def test_the_real_docs_have_no_broken_link_and_no_lab_notes() -> None:
    docs = about_pages(lambda p: f"/gradio_api/file={p}")
    shown = [name for name in USER_DOCS if (DOCS_DIR / name).is_file()]
    assert len(docs.pages) == len(shown)
    for page in docs.pages:
        for target in LINK.findall(page):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert target.startswith("/gradio_api/file="), target
            assert Path(target.removeprefix("/gradio_api/file=")) in docs.images
    assert all(image.is_file() and image.parent == DOCS_DIR for image in docs.images)
    assert "notes.md" not in USER_DOCS and "app.md" not in USER_DOCS
