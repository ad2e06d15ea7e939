"""The Gradio app: :func:`build_demo` makes its state and lays out the tabs over the handlers (image, video)."""

from __future__ import annotations

from demo.ui import build_demo, launch_options

__all__ = ["build_demo", "launch_options"]
