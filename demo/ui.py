"""The Gradio app: :func:`build_demo` makes the state and lays out the tabs; every computation is in
:mod:`demo.image_handlers` and :mod:`demo.video_handlers`.

Public endpoints (api_name): ``upscale_image``, ``compare_image``, ``upscale_batch``, ``upscale_video``, plus the
helpers the video tab uses, ``video_info``, ``video_plan`` and ``preview_frame``. See docs/app.md. Importing this
module does nothing; :func:`build_demo` reads the configuration and makes the app's state.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import gradio as gr

from demo.about import about_pages
from demo.about_tab import about_tab
from demo.batch_tab import batch_tab
from demo.image_handlers import ImageHandlers
from demo.image_tab import image_tab
from demo.limits import limits_markdown
from demo.pixel_view import PIXEL_VIEW_CSS
from demo.queue_gate import QueueGate
from demo.state import AppState
from demo.video_handlers import VideoHandlers
from demo.video_tab import video_tab
from demo.widgets import settings_row

__all__ = ["build_demo", "launch_options"]

_INTRO = """# VDSR super-resolution
Upscale images and short videos with **VDSR** (Kim et al., *Accurate Image Super-Resolution Using Very Deep
Convolutional Networks*, CVPR 2016), or take an image as ground truth and measure how much VDSR recovers over
bicubic interpolation."""

# System fonts: the default theme's web fonts are fetched from the internet, and without them some headings fell
# back to a font that drew small capitals ("ᴀblation").
_THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``demo.launch()``: the theme and the page's CSS (Gradio takes them at launch), and
    the MCP server where ``gradio[mcp]`` is installed, so an AI assistant can call the public endpoints as tools."""
    return {"theme": _THEME, "css": PIXEL_VIEW_CSS, "mcp_server": importlib.util.find_spec("mcp") is not None}


def build_demo(*, warm_up: bool = False) -> gr.Blocks:
    """Build the whole app, with its queue configured (call ``.launch()`` on the result).

    This is where the app's state is made: the limits and the models are read from the environment,
    the engines that run here are found, and the work folder is created (and removed at exit).
    ``warm_up`` also builds each model's ``auto`` engine, so the first request does not wait for it.

    Raises:
        demo.errors.SetupError: ``$VDSR_MODEL`` or a ``VDSR_APP_*`` limit is unusable; the message is one line.
    """
    state = AppState.from_env()
    gate = QueueGate(state.limits.queue_size)
    image_handlers = ImageHandlers(state)
    docs = about_pages(lambda path: f"/gradio_api/file={path}")
    if docs.images:
        gr.set_static_paths(docs.images)  # only the images the pages show, not the docs folder
    # Gradio's cache (uploads, returned files): swept every 30 min of files older than 1 h.
    with gr.Blocks(title="VDSR super-resolution", delete_cache=(1800, 3600)) as demo:
        gr.Markdown(_INTRO)
        gr.Markdown(limits_markdown(state.limits), elem_id="limits")
        settings = settings_row(state)
        with gr.Tab("Image"):
            image_tab(image_handlers, settings, gate)
        with gr.Tab("Batch"):
            batch_tab(image_handlers, settings, gate)
        with gr.Tab("Video"):
            video_tab(VideoHandlers(state), settings, gate)
        with gr.Tab("About"):
            about_tab(state, docs)
    gate.watch(demo)
    # Unbounded here: the gate refuses work past the app's queue size, with a message that says how many wait.
    demo.queue(max_size=None, default_concurrency_limit=state.limits.concurrency)
    if warm_up:
        state.warm_up()
    return demo
