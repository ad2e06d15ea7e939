"""Before/after sliders that show small results as pixels, not as a blur.

A result smaller than its panel is enlarged by the browser, which smooths it: both sides of the
slider then look soft, and the difference the user came to see is gone. Once a result has loaded,
this marks each slider image that is shown at 1:1 or larger, and the page's CSS draws those with
nearest-neighbour sampling. Images shrunk to fit keep the browser's smoothing. The slider's own
wheel zoom and drag then show the pixels of the result.
"""

from __future__ import annotations

import gradio as gr

__all__ = ["PIXEL_VIEW_CSS", "pixel_slider"]

_CLASS = "pixel-view"
PIXEL_VIEW_CSS = f".{_CLASS} img.pixels {{ image-rendering: pixelated; }}"

# Runs in the browser after a slider's value changes (no server call): the images load a moment later.
_MARK_ENLARGED = f"""() => {{
  const mark = (img) => {{
    const box = img.closest('.{_CLASS}');
    if (!box || !img.naturalWidth) return;
    const limit = parseFloat(getComputedStyle(img).maxHeight) || Infinity;
    img.classList.toggle('pixels', img.naturalWidth <= box.clientWidth && img.naturalHeight <= limit);
  }};
  setTimeout(() => document.querySelectorAll('.{_CLASS} img').forEach((img) => {{
    if (img.complete) mark(img); else img.addEventListener('load', () => mark(img), {{ once: true }});
  }}), 50);
}}"""


def pixel_slider(label: str, elem_id: str | None = None) -> gr.ImageSlider:
    """A before/after slider of PNG files whose results, shown at 1:1 or larger, are drawn as pixels."""
    slider = gr.ImageSlider(label=label, format="png", type="filepath", elem_id=elem_id, elem_classes=[_CLASS])
    slider.change(None, js=_MARK_ENLARGED, queue=False, api_visibility="private", show_progress="hidden")
    return slider
