"""The Gradio app: :func:`build_demo` makes its state and wires the UI (:mod:`demo.ui`) to :mod:`demo.handlers`."""

from __future__ import annotations

from demo.ui import build_demo

__all__ = ["build_demo"]
