"""The Gradio layout: components and wiring only; every computation is in :mod:`demo.handlers`.

Public endpoints (api_name): ``upscale_image``, ``compare_image``,
``upscale_video``, plus the helpers the video tab uses, ``video_info`` and
``preview_frame``. See docs/app.md. Importing this module does nothing;
:func:`build_demo` reads the configuration and makes the app's state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from demo.about import ABOUT_MARKDOWN, DOCS_DIR, about_sections
from demo.compare import METRIC_HEADERS
from demo.handlers import Handlers
from demo.limits import limits_markdown
from demo.models import MODELS_TABLE_HEADERS, engine_choices
from demo.state import AppState

__all__ = ["build_demo"]

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"

# One worker pool for everything that runs the network: on 2 vCPU, parallel runs only slow each other down.
_CPU = "vdsr-cpu"

_INTRO = """# VDSR super-resolution
Upscale images and short videos with **VDSR** (Kim et al., *Accurate Image Super-Resolution Using Very Deep
Convolutional Networks*, CVPR 2016), or take an image as ground truth and measure how much VDSR recovers over
bicubic interpolation."""


def _upload_path_only(image: gr.Image) -> gr.Image:
    """Make ``image`` hand its handler the uploaded file's path untouched.

    The stock ``gr.Image`` opens the file with PIL while preprocessing, so a
    broken upload fails there with a generic, hidden error before the app sees
    it. Passing the path through lets :func:`vdsr.imageio.read_image` decode it
    (keeping 16-bit and alpha) and report a clear message. This overrides the
    method on the instance: a ``gr.Image`` subclass would make Gradio write a
    ``.pyi`` stub into the source tree at import time.
    """
    stock = image.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is None or (payload.url or "").startswith("data:"):
            return stock(payload)
        return str(payload.path) if payload.path else None

    image.preprocess = preprocess  # type: ignore[method-assign]
    return image


def _settings(state: AppState) -> tuple[gr.Radio, gr.Slider, gr.Dropdown, gr.Dropdown]:
    """Scale, free factor, model and engine: shared by the image and video tabs."""
    limits = state.limits
    with gr.Row():
        scale = gr.Radio(
            [("x2", "x2"), ("x3", "x3"), ("x4", "x4"), ("free factor", "free")],
            value="x2",
            label="Scale",
        )
        factor = gr.Slider(
            limits.min_free_scale,
            limits.max_free_scale,
            value=2.5,
            step=0.1,
            label="Free factor",
            info="used when the scale is 'free factor'",
        )
        model = gr.Dropdown(
            state.models.choices(),
            value=state.models.default(),
            label="Model",
            info="the default first, then every shipped variant",
        )
        engine = gr.Dropdown(
            engine_choices(), value="auto", label="Engine", info="auto picks the fastest backend that runs here"
        )
    return scale, factor, model, engine


def _mode_radio(elem_id: str) -> gr.Radio:
    return gr.Radio(
        [("Upscale", "upscale"), ("Compare with ground truth", "compare")],
        value="upscale",
        label="Mode",
        elem_id=elem_id,
        info="Compare takes the upload as ground truth: it is downscaled, then restored by bicubic and by VDSR.",
    )


def _metrics_table(visible: bool, elem_id: str) -> gr.Dataframe:
    return gr.Dataframe(
        elem_id=elem_id,
        headers=METRIC_HEADERS,
        datatype=["str", "number", "number"],
        interactive=False,
        label="PSNR / SSIM (Y channel, border of `scale` pixels shaved)",
        visible=visible,
    )


def _example_images() -> list[str]:
    """The example images shipped with the app."""
    return [str(p) for p in sorted(EXAMPLES_DIR.glob("*.png"))]


def _image_tab(handlers: Handlers, scale: gr.Radio, factor: gr.Slider, model: gr.Dropdown, engine: gr.Dropdown) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            image = _upload_path_only(
                gr.Image(
                    type="filepath",
                    image_mode=None,
                    format="png",
                    sources=["upload", "clipboard"],
                    label="Image",
                    elem_id="image-input",
                )
            )
            gr.Examples(_example_images(), inputs=[image], label="Set5 examples")
            mode = _mode_radio("image-mode")
            ensemble = gr.Checkbox(
                False,
                label="x8 self-ensemble",
                elem_id="image-ensemble",
                info="average the 8 flips and rotations: about +0.1 dB on Set5, 8 times slower",
            )
            upscale_btn = gr.Button("Upscale", variant="primary", elem_id="upscale-button")
            compare_btn = gr.Button(
                "Compare with ground truth", variant="primary", visible=False, elem_id="compare-button"
            )
        with gr.Column(scale=2):
            with gr.Column(visible=True) as upscale_box:
                slider = gr.ImageSlider(label="Bicubic | VDSR", format="png", type="filepath", elem_id="upscale-slider")
                result = gr.Image(label="VDSR, full resolution", format="png", type="filepath", interactive=False)
                download = gr.File(label="Download the full-resolution PNG", interactive=False)
            with gr.Column(visible=False) as compare_box:
                gt_slider = gr.ImageSlider(label="Ground truth | VDSR", format="png", type="filepath")
                bicubic_slider = gr.ImageSlider(label="Bicubic | VDSR", format="png", type="filepath")
                table = _metrics_table(visible=True, elem_id="compare-table")

    def show(mode_value: str) -> tuple[Any, ...]:
        compare = mode_value == "compare"
        return (
            gr.Button(visible=not compare),
            gr.Button(visible=compare),
            gr.Column(visible=not compare),
            gr.Column(visible=compare),
        )

    mode.change(show, mode, [upscale_btn, compare_btn, upscale_box, compare_box], queue=False, api_visibility="private")
    settings = [scale, factor, model, engine, ensemble]
    upscale_btn.click(
        handlers.upscale_image,
        [image, *settings],
        [result, slider, download],
        api_name="upscale_image",
        concurrency_id=_CPU,
    )
    compare_btn.click(
        handlers.compare_image,
        [image, *settings],
        [gt_slider, bicubic_slider, table],
        api_name="compare_image",
        concurrency_id=_CPU,
    )


def _video_tab(handlers: Handlers, scale: gr.Radio, factor: gr.Slider, model: gr.Dropdown, engine: gr.Dropdown) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            video = gr.Video(label="Video", sources=["upload"], include_audio=True)
            about = gr.Markdown(label="Video description")
            frame = gr.Slider(0, 1, value=0, step=1, label="Frame to preview")
            mode = _mode_radio("video-mode")
            run_btn = gr.Button("Upscale video", variant="primary")
        with gr.Column(scale=2):
            preview = gr.ImageSlider(label="Frame: bicubic | VDSR", format="png", type="filepath")
            table = _metrics_table(visible=False, elem_id="frame-table")
            result = gr.Video(label="Upscaled video (H.264, audio kept)", interactive=False)
            summary = gr.Markdown(label="Summary")

    settings = [scale, factor, model, engine]
    preview_inputs = [video, frame, mode, *settings]
    info = video.upload(handlers.video_info, video, [frame, about], api_name="video_info")
    info.success(
        handlers.preview_frame,
        preview_inputs,
        [preview, table],
        api_name="preview_first_frame",
        api_visibility="private",
        concurrency_id=_CPU,
    )
    frame.release(
        handlers.preview_frame,
        preview_inputs,
        [preview, table],
        api_name="preview_frame",
        concurrency_id=_CPU,
        trigger_mode="always_last",
    )
    mode.change(lambda m: gr.Dataframe(visible=m == "compare"), mode, table, queue=False, api_visibility="private")
    gr.on(
        [mode.change, scale.change, factor.release, model.change, engine.change],
        handlers.refresh_preview,
        preview_inputs,
        [preview, table],
        api_name="refresh_preview",
        api_visibility="private",
        concurrency_id=_CPU,
        trigger_mode="always_last",
    )
    run_btn.click(
        handlers.upscale_video, [video, *settings], [result, summary], api_name="upscale_video", concurrency_id=_CPU
    )


def _about_tab(state: AppState) -> None:
    gr.Markdown(ABOUT_MARKDOWN)
    gr.Markdown("## Shipped models")
    gr.Dataframe(state.models.table(), headers=MODELS_TABLE_HEADERS, interactive=False)
    pages, plots = about_sections(lambda path: f"/gradio_api/file={path}")
    for page in pages:
        gr.Markdown(page)
    for plot in plots:
        gr.Image(str(plot), label=Path(plot).stem, interactive=False, format="png")
    if not pages:
        gr.Markdown("*The ablation, benchmark and quality tables appear here once `docs/*.md` pages are written.*")


def build_demo(*, warm_up: bool = False) -> gr.Blocks:
    """Build the whole app, with its queue configured (call ``.launch()`` on the result).

    This is where the app's state is made: the limits and the model are read from the environment
    and the work folder is created (and removed at exit). ``warm_up`` also builds the default
    engine, so the first request does not wait for it.

    Raises:
        demo.errors.SetupError: ``$VDSR_MODEL`` or a ``VDSR_APP_*`` limit is unusable; the message is one line.
    """
    state = AppState.from_env()
    handlers = Handlers(state)
    if DOCS_DIR.is_dir():
        gr.set_static_paths([DOCS_DIR])
    # Gradio's cache (uploads, returned files): swept every 30 min of files older than 1 h.
    with gr.Blocks(title="VDSR super-resolution", delete_cache=(1800, 3600)) as demo:
        gr.Markdown(_INTRO)
        gr.Markdown(limits_markdown(state.limits))
        settings = _settings(state)
        with gr.Tab("Image"):
            _image_tab(handlers, *settings)
        with gr.Tab("Video"):
            _video_tab(handlers, *settings)
        with gr.Tab("About"):
            _about_tab(state)
    demo.queue(max_size=state.limits.queue_size, default_concurrency_limit=state.limits.concurrency)
    if warm_up:
        state.models.warm_up(state.limits.upscale_limits())
    return demo
