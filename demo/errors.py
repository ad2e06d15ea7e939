"""How failures reach people: one line at start-up, or one line in the browser."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

__all__ = ["SetupError", "request_error"]


class SetupError(RuntimeError):
    """The app cannot start as configured (a bad ``$VDSR_MODEL`` or ``VDSR_APP_*`` value); the message is one line."""


def request_error(context: str, exc: Exception, *files: str | Path | None) -> gr.Error:
    """``<context>: <the core's reason>.`` as the error a request shows, with each of ``files`` named by its name.

    The core's messages name the file they were given (``/tmp/gradio/3f0c.../clip.mp4: no video stream``): right
    for the command line, but in the app that path is a server-side copy the person never saw, so the message shows
    the uploaded file's name instead. The reason itself is shown whole.
    """
    message = str(exc)
    for file in files:
        if file:
            path = Path(file)
            message = message.replace(str(path), path.name)
    return gr.Error(f"{context}: {message}.")
