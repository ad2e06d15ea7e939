"""The About tab: what VDSR is, the models offered here, and the user-facing docs pages (see :mod:`demo.about`)."""

from __future__ import annotations

import gradio as gr

from demo.about import ABOUT_MARKDOWN, AboutPages
from demo.models import MODELS_TABLE_HEADERS
from demo.state import AppState

__all__ = ["about_tab"]


def about_tab(state: AppState, docs: AboutPages) -> None:
    """Lay out the About tab inside the current ``gr.Tab``; ``docs`` images must already be served."""
    gr.Markdown(ABOUT_MARKDOWN)
    gr.Markdown("## Models offered here")
    gr.Dataframe(state.models.table(), headers=MODELS_TABLE_HEADERS, interactive=False, elem_id="models-table")
    for page in docs.pages:
        gr.Markdown(page, elem_classes=["about-page"])
