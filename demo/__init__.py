"""The Gradio app (UI only): :func:`build_demo` wires components to :mod:`demo.handlers`."""

from __future__ import annotations

from demo.ui import build_demo

__all__ = ["build_demo"]
