"""Components the tabs share: the settings row, the mode, damage and format menus, the metrics table, uploads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.compare import DAMAGE_CHOICES, METRIC_HEADERS
from demo.output_format import FORMAT_CHOICES
from demo.state import AppState

__all__ = [
    "CPU_QUEUE",
    "OutputFormat",
    "Settings",
    "damage_menu",
    "metrics_table",
    "mode_radio",
    "output_format_row",
    "settings_row",
    "upload_path_only",
]

_FACTOR_OFF = "choose 'free factor' to use it"
# One worker pool for everything that runs the network: on 2 vCPU, parallel runs only slow each other down.
CPU_QUEUE = "vdsr-cpu"


@dataclass(frozen=True)
class Settings:
    """The settings both tabs use: scale, free factor, model and engine."""

    scale: gr.Radio
    factor: gr.Number
    model: gr.Dropdown
    engine: gr.Dropdown

    def inputs(self) -> list[Any]:
        return [self.scale, self.factor, self.model, self.engine]


def settings_row(state: AppState) -> Settings:
    """Scale, free factor (usable only when the scale is 'free factor'), model and engine menus."""
    limits = state.limits
    with gr.Row():
        scale = gr.Radio(
            [("x1: clean up", "x1"), ("x2", "x2"), ("x3", "x3"), ("x4", "x4"), ("free factor", "free")],
            value="x2",
            label="Scale",
            elem_id="scale",
        )
        # A number box with no bounds of its own: an out-of-range factor gets the app's one message (and no
        # result), where a slider would also clamp it and run, showing an error and a result together.
        factor = gr.Number(
            value=2.5,
            step=0.1,
            label="Free factor",
            info=_FACTOR_OFF,
            interactive=False,
            elem_id="factor",
        )
        model = gr.Dropdown(
            state.models.menu(),
            value=state.models.default(),
            label="Model",
            info="automatic: the real-world model for video and lossy photos, the clean one for the rest",
            elem_id="model",
        )
        engine = gr.Dropdown(
            state.engines.values(), value="auto", label="Engine", info=state.engines.info(), elem_id="engine"
        )

    factor_on = f"the scale, from {limits.min_free_scale:g} to {limits.max_free_scale:g}"

    def free_factor(choice: str) -> gr.Number:
        free = choice == "free"
        return gr.Number(interactive=free, info=factor_on if free else _FACTOR_OFF)

    scale.change(free_factor, scale, factor, queue=False, api_visibility="private", show_progress="hidden")
    return Settings(scale, factor, model, engine)


def mode_radio(elem_id: str) -> gr.Radio:
    return gr.Radio(
        [("Upscale", "upscale"), ("Compare with ground truth", "compare")],
        value="upscale",
        label="Mode",
        elem_id=elem_id,
        info="Compare takes the upload as ground truth: it is downscaled, then restored by bicubic and by VDSR.",
    )


def damage_menu(elem_id: str) -> gr.Dropdown:
    return gr.Dropdown(
        DAMAGE_CHOICES,
        value="clean",
        label="Damage the ground truth with",
        info="applied to the downscaled copy before restoring it, as compressed photos and video are",
        visible=False,
        elem_id=elem_id,
    )


def metrics_table(visible: bool, elem_id: str) -> gr.Dataframe:
    return gr.Dataframe(
        elem_id=elem_id,
        headers=METRIC_HEADERS,
        datatype=["str", "number", "number"],
        interactive=False,
        label="PSNR / SSIM against the ground truth",
        visible=visible,
    )


def upload_path_only(image: gr.Image) -> gr.Image:
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


@dataclass(frozen=True)
class OutputFormat:
    """The download's format and its quality (shown only for the lossy formats)."""

    row: gr.Row
    fmt: gr.Radio
    quality: gr.Number

    def inputs(self) -> list[Any]:
        return [self.fmt, self.quality]


def output_format_row(elem_prefix: str) -> OutputFormat:
    """Format (PNG, JPEG, WebP) and quality; the quality box appears for JPEG and WebP only."""
    with gr.Row() as row:
        fmt = gr.Radio(FORMAT_CHOICES, value="png", label="Save as", elem_id=f"{elem_prefix}-format")
        # A number box, not a slider: an out-of-range value gets the app's one-line message, not Gradio's traceback.
        quality = gr.Number(
            90, precision=0, label="Quality", info="1 to 100", visible=False, elem_id=f"{elem_prefix}-quality"
        )
    fmt.change(
        lambda value: gr.Number(visible=value != "png"),
        fmt,
        quality,
        queue=False,
        api_visibility="private",
        show_progress="hidden",
    )
    return OutputFormat(row, fmt, quality)
