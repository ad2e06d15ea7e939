"""Refuse work when the queue is full, in plain words: how many are waiting, and when to try again.

Gradio's own refusal ("This application is currently busy", or "Queue is full" to API clients)
says neither. So the app leaves Gradio's queue unbounded and checks the length itself, in a
validator that runs before an event is queued; a refusal never reaches the network's queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from demo.errors import log

__all__ = ["QueueGate"]


@dataclass
class QueueGate:
    """Admits an event while fewer than ``max_waiting`` events wait; bind it to the app with :meth:`watch`."""

    max_waiting: int
    _blocks: gr.Blocks | None = field(default=None, repr=False)

    def watch(self, blocks: gr.Blocks) -> None:
        """The app whose queue to measure (known only once the layout is built)."""
        self._blocks = blocks

    def waiting(self) -> int:
        """Events queued and not yet finished (Gradio exposes the length only on its queue object)."""
        queue = getattr(self._blocks, "_queue", None)
        return len(queue) if queue is not None else 0

    def message(self) -> str | None:
        """Why an event cannot be queued now, or None when it can."""
        waiting = self.waiting()
        if waiting < self.max_waiting:
            return None
        return f"The queue is full: {waiting} requests are waiting. Please try again in a minute."

    def validator(self, count: int) -> Callable[..., list[dict[str, Any]]]:
        """A Gradio ``validator`` for an event with ``count`` inputs: the refusal is attached to the first."""

        def check(*_inputs: Any) -> list[dict[str, Any]]:
            message = self.message()
            if message is not None:
                log.info("refused: %s", message)
            first = gr.validate(message is None, message or "")
            return [first, *(gr.validate(True, "") for _ in range(count - 1))]

        return check
