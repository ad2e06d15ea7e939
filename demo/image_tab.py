"""The Image tab: layout and wiring only; the work is in :class:`demo.image_handlers.ImageHandlers`.

Each result is shown once: a before/after slider, a download, and one line saying which model
ran. A run that fails shows its reason on that line and leaves the last good result on screen.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from demo.image_handlers import ImageHandlers
from demo.pixel_view import pixel_slider
from demo.queue_gate import QueueGate
from demo.widgets import (
    CPU_QUEUE,
    Settings,
    damage_menu,
    metrics_table,
    mode_radio,
    output_format_row,
    upload_path_only,
)
from demo.zero_gpu import image_gpu_seconds, with_gpu
from engines.shipped import GATE_IMAGES

__all__ = ["EXAMPLES_DIR", "image_tab"]

EXAMPLES_DIR = GATE_IMAGES  # three Set5 images the package ships for the quality gate
STALE_NOTE = "**Settings changed since: press Compare to update this table.**"
# Runs in the browser on a settings change (no server call): a table never stands for settings it was not run with.
_MARK_STALE = f"(text) => (text && !text.startsWith({STALE_NOTE!r}) ? {STALE_NOTE!r} + ' ' + text : text)"


def _example_images() -> list[str]:
    """The example images shipped with the app."""
    return [str(p) for p in sorted(EXAMPLES_DIR.glob("*.png"))]


def image_tab(handlers: ImageHandlers, settings: Settings, gate: QueueGate) -> None:
    """Lay out the Image tab inside the current ``gr.Tab`` and wire its events."""
    limits_mp = f"{handlers.state.limits.max_input_pixels / 1e6:g}"
    with gr.Row():
        with gr.Column(scale=1):
            image = upload_path_only(
                gr.Image(
                    type="filepath",
                    image_mode=None,
                    format="png",
                    sources=["upload", "clipboard"],
                    label="Image",
                    elem_id="image-input",
                )
            )
            status = gr.Markdown(elem_id="image-status")
            gr.Examples(_example_images(), inputs=[image], label="Set5 examples")
            mode = mode_radio("image-mode")
            damage = damage_menu("image-damage")
            ensemble = gr.Checkbox(
                False,
                label="x8 self-ensemble",
                elem_id="image-ensemble",
                info="average the 8 flips and rotations: about +0.1 dB on Set5, 8 times slower",
            )
            shrink = gr.Checkbox(
                False,
                label="Shrink to fit first",
                elem_id="image-shrink",
                info=f"downscale an image over the {limits_mp} MP limit to fit it, instead of refusing it",
            )
            output = output_format_row("image")
            upscale_btn = gr.Button("Upscale", variant="primary", elem_id="upscale-button")
            compare_btn = gr.Button(
                "Compare with ground truth", variant="primary", visible=False, elem_id="compare-button"
            )
        with gr.Column(scale=2):
            with gr.Column(visible=True) as upscale_box:
                slider = pixel_slider("Bicubic | VDSR", "upscale-slider")
                download = gr.File(label="Download", interactive=False, elem_id="upscale-download")
                info = gr.Markdown(elem_id="upscale-info")
            with gr.Column(visible=False) as compare_box:
                caption = gr.Markdown(elem_id="compare-caption")
                table = metrics_table(visible=True, elem_id="compare-table")
                compare_info = gr.Markdown(elem_id="compare-info")
                gt_slider = pixel_slider("Ground truth | VDSR")
                bicubic_slider = pixel_slider("Bicubic | VDSR")

    def show(mode_value: str) -> tuple[Any, ...]:
        compare = mode_value == "compare"
        return (
            gr.Button(visible=not compare),
            gr.Button(visible=compare),
            gr.Column(visible=not compare),
            gr.Column(visible=compare),
            gr.Dropdown(visible=compare),
            gr.Row(visible=not compare),
        )

    mode.change(
        show,
        mode,
        [upscale_btn, compare_btn, upscale_box, compare_box, damage, output.row],
        queue=False,
        api_visibility="private",
        show_progress="hidden",
    )
    image.upload(
        handlers.check_image,
        image,
        [image, status],
        queue=False,
        api_visibility="private",
        show_progress="hidden",
    )
    gr.on(
        [
            settings.scale.change,
            settings.factor.blur,
            settings.model.change,
            settings.engine.change,
            ensemble.change,
            damage.change,
        ],
        None,
        caption,
        caption,
        js=_MARK_STALE,
        queue=False,
        api_visibility="private",
        show_progress="hidden",
    )
    inputs = [image, *settings.inputs(), ensemble, shrink]
    upscale_btn.click(
        with_gpu(handlers.upscale_image, image_gpu_seconds),
        [*inputs, *output.inputs()],
        [slider, download, info],
        api_name="upscale_image",
        concurrency_id=CPU_QUEUE,
        validator=gate.validator(len(inputs) + 2),
        show_progress_on=info,
    )
    compare_btn.click(
        with_gpu(handlers.compare_image, image_gpu_seconds),
        [image, *settings.inputs(), ensemble, damage, shrink],
        [table, caption, gt_slider, bicubic_slider, compare_info],
        api_name="compare_image",
        concurrency_id=CPU_QUEUE,
        validator=gate.validator(len(inputs) + 1),
        show_progress_on=compare_info,
    )
