"""The Batch tab: several images in, one zip out; the work is in :class:`demo.image_handlers.ImageHandlers`."""

from __future__ import annotations

import gradio as gr

from demo.image_handlers import ImageHandlers
from demo.queue_gate import QueueGate
from demo.widgets import CPU_QUEUE, Settings, output_format_row
from demo.zero_gpu import batch_gpu_seconds, with_gpu

__all__ = ["batch_tab"]


def batch_tab(handlers: ImageHandlers, settings: Settings, gate: QueueGate) -> None:
    """Lay out the Batch tab inside the current ``gr.Tab`` and wire its event."""
    most = handlers.state.limits.max_batch_files
    with gr.Row():
        with gr.Column(scale=1):
            images = gr.File(
                file_count="multiple",
                file_types=["image"],
                label=f"Images (up to {most})",
                elem_id="batch-input",
            )
            output = output_format_row("batch")
            run_btn = gr.Button("Upscale all", variant="primary", elem_id="batch-button")
        with gr.Column(scale=1):
            archive = gr.File(label="Results (zip)", interactive=False, elem_id="batch-zip")
            summary = gr.Markdown(elem_id="batch-summary")
    inputs = [images, *settings.inputs(), *output.inputs()]
    run_btn.click(
        with_gpu(handlers.upscale_batch, batch_gpu_seconds),
        inputs,
        [archive, summary],
        api_name="upscale_batch",
        concurrency_id=CPU_QUEUE,
        show_progress_on=summary,
        validator=gate.validator(len(inputs)),
    )
