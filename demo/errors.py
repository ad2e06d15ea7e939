"""How failures reach people: one line at start-up, or one line in the browser and one in the server log.

A request the user can fix (a bad upload, a scale over a limit) is not a fault of the app: it is
logged as one line, without the traceback Gradio would print for any other exception, which is
kept for real faults.
"""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

__all__ = ["SetupError", "request_error", "user_error"]

log = logging.getLogger("demo.requests")


class SetupError(RuntimeError):
    """The app cannot start as configured (a bad ``$VDSR_MODEL`` or ``VDSR_APP_*`` value); the message is one line."""


def user_error(message: str) -> gr.Error:
    """The error a request shows for input the user can fix; logged here as one line, never as a traceback."""
    log.info("refused: %s", message)
    return gr.Error(message, print_exception=False)


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
    return user_error(f"{context}: {message}.")
