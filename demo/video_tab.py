"""The Video tab: layout and wiring only; the work is in :class:`demo.video_handlers.VideoHandlers`.

A settings change refreshes the frame preview only when a video is loaded, and decides that in
the browser: with no video, changing a setting sends nothing to the server, so it can never wait
in (or fill) the queue that the network's work goes through. The plan (which part, whether it
fits, how long it should take) runs no network, so it is answered outside the queue.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from demo.pixel_view import pixel_slider
from demo.queue_gate import QueueGate
from demo.video_handlers import VideoHandlers
from demo.widgets import CPU_QUEUE, Settings, damage_menu, metrics_table, mode_radio
from demo.zero_gpu import preview_gpu_seconds, video_gpu_seconds, with_gpu

__all__ = ["video_tab"]

# Runs in the browser on a settings change: bump the refresh counter only when a video is loaded.
_BUMP_IF_VIDEO = "(video, count) => (video ? (count || 0) + 1 : count)"
_PREVIEW_LABEL = {
    "upscale": "Frame: bicubic | VDSR",
    "compare": "Frame as ground truth, downscaled then restored: bicubic | VDSR",
}
_COMPARE_NOTE = "Compare mode scores single frames. Choose *Upscale* to upscale the video."


def video_tab(handlers: VideoHandlers, settings: Settings, gate: QueueGate) -> None:
    """Lay out the Video tab inside the current ``gr.Tab`` and wire its events."""
    with gr.Row():
        with gr.Column(scale=1):
            video = gr.Video(label="Video", sources=["upload"], include_audio=True, elem_id="video-input")
            about = gr.Markdown(elem_id="video-about")
            frame = gr.Slider(0, 1, value=0, step=1, label="Frame to preview", elem_id="video-frame")
            mode = mode_radio("video-mode")
            damage = damage_menu("video-damage")
            with gr.Row():
                start = gr.Number(0.0, minimum=None, label="Start (s)", step=0.1, elem_id="video-start")
                duration = gr.Number(
                    None,
                    label="Duration (s)",
                    step=0.1,
                    info="set at upload to the longest that fits",
                    elem_id="video-duration",
                )
            plan = gr.Markdown(elem_id="video-plan")
            with gr.Row() as run_row:
                run_btn = gr.Button("Upscale video", variant="primary", elem_id="video-button")
                stop_btn = gr.Button("Stop", variant="stop", elem_id="video-stop")
            compare_note = gr.Markdown(_COMPARE_NOTE, visible=False, elem_id="video-compare-note")
            refresh = gr.Number(0, visible="hidden", elem_id="video-refresh")
        with gr.Column(scale=2):
            preview = pixel_slider(_PREVIEW_LABEL["upscale"], "video-preview")
            table = metrics_table(visible=False, elem_id="frame-table")
            preview_info = gr.Markdown(elem_id="frame-info")
            latest = gr.Image(label="Latest upscaled frame", interactive=False, elem_id="video-latest")
            result = gr.Video(label="Upscaled video (H.264)", interactive=False, elem_id="video-result")
            summary = gr.Markdown(elem_id="video-summary")

    preview_frame = with_gpu(handlers.preview_frame, preview_gpu_seconds)
    preview_inputs = [video, frame, mode, *settings.inputs(), damage]
    preview_outputs = [preview, table, preview_info]
    plan_inputs = [video, start, duration, *settings.inputs()]
    info = video.upload(
        handlers.video_info,
        [video, settings.scale, settings.factor],
        [frame, about, start, duration],
        api_name="video_info",
        show_progress_on=about,
        queue=False,
        show_progress="hidden",
    )
    info.success(
        handlers.video_plan, plan_inputs, plan, api_name="video_plan", queue=False, show_progress="hidden"
    ).success(
        preview_frame,
        preview_inputs,
        preview_outputs,
        api_name="preview_first_frame",
        api_visibility="private",
        concurrency_id=CPU_QUEUE,
        show_progress_on=preview_info,
        validator=gate.validator(len(preview_inputs)),
    ).success(handlers.video_plan, plan_inputs, plan, api_visibility="private", queue=False, show_progress="hidden")
    frame.release(
        preview_frame,
        preview_inputs,
        preview_outputs,
        api_name="preview_frame",
        concurrency_id=CPU_QUEUE,
        trigger_mode="always_last",
        show_progress_on=preview_info,
        validator=gate.validator(len(preview_inputs)),
    )
    gr.on(
        [start.blur, start.submit, duration.blur, duration.submit],
        handlers.video_plan,
        plan_inputs,
        plan,
        api_visibility="private",
        trigger_mode="always_last",
        queue=False,
        show_progress="hidden",
    )

    def show(mode_value: str) -> tuple[Any, ...]:
        compare = mode_value == "compare"
        return (
            gr.Dataframe(visible=compare),
            gr.Dropdown(visible=compare),
            gr.ImageSlider(label=_PREVIEW_LABEL["compare" if compare else "upscale"]),
            gr.Row(visible=not compare),
            gr.Markdown(visible=compare),
        )

    mode.change(
        show,
        mode,
        [table, damage, preview, run_row, compare_note],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    gr.on(
        [
            mode.change,
            damage.change,
            settings.scale.change,
            settings.factor.submit,
            settings.factor.blur,
            settings.model.change,
            settings.engine.change,
        ],
        None,
        [video, refresh],
        refresh,
        js=_BUMP_IF_VIDEO,
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    refresh.change(
        preview_frame,
        preview_inputs,
        preview_outputs,
        api_name="refresh_preview",
        api_visibility="private",
        concurrency_id=CPU_QUEUE,
        trigger_mode="always_last",
        show_progress_on=preview_info,
        validator=gate.validator(len(preview_inputs)),
    ).success(handlers.video_plan, plan_inputs, plan, api_visibility="private", queue=False, show_progress="hidden")
    job = run_btn.click(
        with_gpu(handlers.upscale_video, video_gpu_seconds),
        [video, *settings.inputs(), start, duration],
        [result, summary, latest],
        api_name="upscale_video",
        concurrency_id=CPU_QUEUE,
        show_progress_on=summary,
        validator=gate.validator(1 + len(settings.inputs()) + 2),
    )
    stop_btn.click(
        # the job may finish as Stop is pressed: clear its result too, so what shows matches the message
        lambda: (None, "Stopped; no video was written.", None),
        None,
        [result, summary, latest],
        cancels=[job],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
