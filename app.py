"""Hugging Face Space entry point: ``python app.py``.

Serves on ``$GRADIO_SERVER_PORT`` (Gradio's default 7860 when unset) and
``$GRADIO_SERVER_NAME``. The models are every ``weights/*.safetensors``, and
``$VDSR_MODEL`` (a shipped name or a checkpoint path) when set. See docs/app.md.
"""

from __future__ import annotations

import logging
import sys

from demo import build_demo, launch_options
from demo.errors import SetupError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("onnxruntime").setLevel(logging.WARNING)  # its quantiser's progress lines are not ours

try:
    demo = build_demo(warm_up=True)  # build each model's auto engine once, before the first request
except SetupError as exc:
    sys.exit(f"Cannot start the app: {exc}")

if __name__ == "__main__":
    demo.launch(**launch_options())
