"""Hugging Face Space entry point: ``python app.py``.

Serves on ``$GRADIO_SERVER_PORT`` (Gradio's default 7860 when unset) and
``$GRADIO_SERVER_NAME``. The model is ``$VDSR_MODEL`` (a shipped name or a
checkpoint path), else weights/vdsr-20.safetensors. See docs/app.md.
"""

from __future__ import annotations

import logging

from demo import build_demo
from demo.handlers import warm_up

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

demo = build_demo()
warm_up()  # load the default engine once, before the first request

if __name__ == "__main__":
    demo.launch()
