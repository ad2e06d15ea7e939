"""Thin handlers between the Gradio UI and the core.

Each handler converts Gradio inputs (file paths, strings, numbers) to arrays,
calls :class:`vdsr.pipeline.Upscaler` (or :mod:`vdsr.video`), and writes the
results as lossless PNG / MP4 files in a per-request temporary folder.
Bad input raises :class:`gradio.Error` with a one-line reason; nothing here
keeps per-request state, so handlers are safe under concurrent requests.

The model comes from ``$VDSR_MODEL`` (a shipped name such as ``vdsr-20`` or a
path to a checkpoint), else ``vdsr.weights.DEFAULT_MODEL``; every checkpoint in
``weights/`` is offered as well. Engines are built once per (model, engine)
and shared by all requests.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from engines import ENGINES, load_upscaler
from vdsr.checkpoint import CheckpointError, read_checkpoint_info
from vdsr.degrade import protocol_pair
from vdsr.engine import EngineUnavailableError
from vdsr.imageio import ImageReadError, read_image, write_image
from vdsr.metrics import psnr, ssim
from vdsr.pipeline import InputError, UpscaleLimits, Upscaler, from_float, to_float
from vdsr.video import VideoError, VideoInfo, probe_video, read_frames
from vdsr.video import upscale_video as video_upscale
from vdsr.weights import DEFAULT_MODEL, WEIGHTS_DIR, resolve_model, shipped_models

__all__ = [
    "DOCS_DIR",
    "EXAMPLES_DIR",
    "LIMITS",
    "MODEL_ENV",
    "SCALES",
    "AppLimits",
    "about_sections",
    "compare_image",
    "default_model",
    "engine_choices",
    "example_images",
    "limits_markdown",
    "model_choices",
    "models_table",
    "preview_frame",
    "refresh_preview",
    "upscale_image",
    "upscale_video",
    "video_info",
    "warm_up",
]

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
DOCS_DIR = ROOT / "docs"
MODEL_ENV = "VDSR_MODEL"
SCALES = ("x2", "x3", "x4", "free")
METRIC_HEADERS = ["method", "PSNR (dB)", "SSIM"]


@dataclass(frozen=True)
class AppLimits:
    """Per-request bounds sized for a free CPU Space (2 vCPU, 16 GB).

    VDSR-20 costs about 1.3 MFLOP per output pixel (1.3 TFLOP per output
    megapixel), roughly 10-20 s per output megapixel on 2 vCPU: the bounds keep
    one image near a minute and one video within about ten minutes.
    """

    max_input_pixels: int = 1_000_000
    max_output_pixels: int = 4_000_000
    max_ensemble_output_pixels: int = 500_000  # the x8 self-ensemble runs the network 8 times per pixel
    min_free_scale: float = 1.1
    max_free_scale: float = 4.0
    max_video_seconds: float = 10.0
    max_video_frame_pixels: int = 640 * 360
    max_video_output_pixels: int = 30_000_000
    queue_size: int = 16
    concurrency: int = 1

    @classmethod
    def from_env(cls) -> AppLimits:
        """Defaults, overridden by ``VDSR_APP_<FIELD>`` environment variables (e.g. ``VDSR_APP_QUEUE_SIZE``)."""
        values: dict[str, Any] = {}
        for name, default in cls().__dict__.items():
            raw = os.environ.get(f"VDSR_APP_{name.upper()}")
            if raw is not None:
                values[name] = type(default)(float(raw)) if isinstance(default, int) else float(raw)
        return cls(**values)


LIMITS = AppLimits.from_env()


def limits_markdown() -> str:
    """The limits as one line of UI text."""
    return (
        f"Limits on this free CPU Space: images up to {LIMITS.max_input_pixels / 1e6:g} MP in and "
        f"{LIMITS.max_output_pixels / 1e6:g} MP out ({LIMITS.max_ensemble_output_pixels / 1e6:g} MP with the x8 "
        f"self-ensemble); videos up to {LIMITS.max_video_seconds:g} s with "
        f"frames up to {LIMITS.max_video_frame_pixels / 1e6:.2g} MP (640x360), "
        f"{LIMITS.max_video_output_pixels / 1e6:g} MP of output in all (frames x output size); "
        f"free scale {LIMITS.min_free_scale:g} to {LIMITS.max_free_scale:g}. "
        f"Requests run {LIMITS.concurrency} at a time; at most {LIMITS.queue_size} wait in the queue."
    )


# --------------------------------------------------------------------------- models and engines


def _discover_models() -> dict[str, Path]:
    """Model name -> checkpoint: ``$VDSR_MODEL`` (or the default) first, then every shipped one."""
    models: dict[str, Path] = {}
    chosen = os.environ.get(MODEL_ENV)
    if chosen:
        path = resolve_model(chosen)  # a bad $VDSR_MODEL fails loudly at start-up
        models[path.stem] = path
    for name in shipped_models():
        models.setdefault(name, WEIGHTS_DIR / f"{name}.safetensors")
    if not models:
        log.warning("no model weights: ship weights/%s.safetensors or set %s", DEFAULT_MODEL, MODEL_ENV)
    return models


MODELS = _discover_models()


def model_choices() -> list[str]:
    """Names offered in the model dropdown, default first (the default name alone if none is installed)."""
    return list(MODELS) or [DEFAULT_MODEL]


def default_model() -> str:
    """The model used when a request names none."""
    return next(iter(MODELS), DEFAULT_MODEL)


def engine_choices() -> list[str]:
    """``auto`` and every registered backend."""
    return ["auto", *ENGINES.names()]


_upscalers: dict[tuple[str, str], Upscaler] = {}
_upscalers_lock = threading.Lock()


def _upscaler(model: str | None, engine: str | None, ensemble: bool = False) -> Upscaler:
    """The upscaler for (model, engine), optionally with the x8 self-ensemble (under its own output limit)."""
    upscaler = _shared_upscaler(model, engine)
    if not ensemble:
        return upscaler
    limits = replace(upscaler.limits, max_output_pixels=LIMITS.max_ensemble_output_pixels)
    return load_upscaler(MODELS[model or default_model()], upscaler.refine, ensemble=True, limits=limits)


def _shared_upscaler(model: str | None, engine: str | None) -> Upscaler:
    """The shared upscaler for (model, engine); built on first use, then reused by every request."""
    model = model or default_model()
    engine = engine or "auto"
    key = (model, engine)
    with _upscalers_lock:
        if key in _upscalers:
            return _upscalers[key]
        if not MODELS:
            raise gr.Error(f"No model weights installed: add weights/{DEFAULT_MODEL}.safetensors or set {MODEL_ENV}.")
        if model not in MODELS:
            raise gr.Error(f"Unknown model {model!r}; available: {', '.join(MODELS)}.")
        if engine not in engine_choices():
            raise gr.Error(f"Unknown engine {engine!r}; available: {', '.join(engine_choices())}.")
        path = MODELS[model]
        limits = UpscaleLimits(max_output_pixels=LIMITS.max_output_pixels, max_scale=LIMITS.max_free_scale)
        try:
            upscaler = load_upscaler(path, engine, limits=limits)
        except (CheckpointError, EngineUnavailableError, KeyError, ValueError, RuntimeError, OSError) as exc:
            # Engines raise their own ValueError/RuntimeError subclasses (bad model file, runtime missing, export
            # failed); the user needs the reason, and another engine or model may still work.
            raise gr.Error(f"Cannot load model {model} with engine {engine}: {exc}") from None
        _upscalers[key] = upscaler
        log.info("loaded model %s (%s) with engine %s", model, path, engine)
        return upscaler


def warm_up() -> None:
    """Load the default model and engine now, so the first request does not pay for it."""
    if MODELS:
        _upscaler(default_model(), "auto")


def _bicubic(limits_from: Upscaler) -> Upscaler:
    return Upscaler(None, limits=limits_from.limits)


# --------------------------------------------------------------------------- temporary files

_WORK_ROOT = Path(tempfile.mkdtemp(prefix="vdsr-app-"))
_WORK_MAX_AGE_S = 3600.0
atexit.register(shutil.rmtree, _WORK_ROOT, True)


def _work_dir() -> Path:
    """A fresh folder for one request; folders older than an hour are removed on the way."""
    now = time.time()
    for old in _WORK_ROOT.iterdir():
        try:
            if now - old.stat().st_mtime > _WORK_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    path = _WORK_ROOT / uuid.uuid4().hex
    path.mkdir()
    return path


# --------------------------------------------------------------------------- input conversion


def parse_scale(scale: str | float | None, factor: float | None) -> float:
    """``x2``/``x3``/``x4`` -> 2/3/4; ``free`` -> ``factor``; a number (or numeric string) is taken as is."""
    text = str(scale if scale is not None else "x2").strip().lower()
    if text == "free":
        value = float(factor) if factor is not None else float("nan")
    else:
        try:
            value = float(text.removeprefix("x").removeprefix("×"))
        except ValueError:
            raise gr.Error(f"Scale must be x2, x3, x4, free or a number; got {scale!r}.") from None
    if not math.isfinite(value) or not LIMITS.min_free_scale <= value <= LIMITS.max_free_scale:
        raise gr.Error(f"Scale must be between {LIMITS.min_free_scale:g} and {LIMITS.max_free_scale:g}; got {value:g}.")
    return value


def _read_upload(path: str | None) -> np.ndarray:
    """Uploaded file -> uint8/uint16 array, or gr.Error with the reason."""
    if not path:
        raise gr.Error("Upload an image first (PNG, JPEG, BMP, WebP or TIFF).")
    try:
        img = read_image(path, max_pixels=LIMITS.max_input_pixels)
    except ImageReadError as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise gr.Error(f"Cannot use this upload ({Path(path).name}): {reason}.") from None
    return img


def _check(upscaler: Upscaler, height: int, width: int, scale: float) -> tuple[int, int]:
    """The output (height, width), or gr.Error when the request is over the upscaler's limits."""
    try:
        return upscaler.check(height, width, scale)
    except InputError as exc:
        raise gr.Error(f"{exc}.") from None


def _run(upscaler: Upscaler, img: np.ndarray, scale: float) -> np.ndarray:
    try:
        return upscaler.upscale(img, scale)
    except InputError as exc:
        raise gr.Error(f"{exc}.") from None


def _stem(path: str | None, fallback: str = "image") -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(path).stem) if path else ""
    return stem or fallback


def _scale_tag(scale: float) -> str:
    return f"x{scale:g}"


# --------------------------------------------------------------------------- compare mode


def _drop_alpha(img: np.ndarray) -> np.ndarray:
    """(H, W[, C]) -> (H, W) gray or (H, W, 3) RGB: metrics compare colour, not transparency."""
    if img.ndim == 2:
        return img
    return img[..., 0] if img.shape[2] in (1, 2) else img[..., :3]


def _degrade(img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Ground truth -> (hr float [0, 1], lr uint8, exact scale) in the core's evaluation protocol."""
    hr, lr, exact = protocol_pair(_drop_alpha(img), scale)
    if min(lr.shape[:2]) < 8:
        raise gr.Error(f"Image is too small for x{scale:g} compare mode: the low-resolution copy would be under 8 px.")
    return hr, lr, exact


def _metrics_rows(hr: np.ndarray, bicubic: np.ndarray, sr: np.ndarray, scale: float) -> list[list[Any]]:
    """PSNR/SSIM on Y with ``ceil(scale)`` border pixels shaved, for bicubic, VDSR and the gain."""
    border = math.ceil(scale)
    hr = hr[..., :3] if hr.ndim == 3 else hr
    b, s = to_float(bicubic), to_float(sr)
    b_psnr, s_psnr = psnr(b, hr, crop_border=border), psnr(s, hr, crop_border=border)
    b_ssim, s_ssim = ssim(b, hr, crop_border=border), ssim(s, hr, crop_border=border)
    return [
        ["bicubic", round(b_psnr, 2), round(b_ssim, 4)],
        ["VDSR", round(s_psnr, 2), round(s_ssim, 4)],
        ["gain", round(s_psnr - b_psnr, 2), round(s_ssim - b_ssim, 4)],
    ]


def _compare_arrays(
    img: np.ndarray, scale: float, upscaler: Upscaler
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[Any]], float]:
    """Ground truth -> (gt, bicubic, sr) uint8-or-input-dtype arrays, the metrics rows and the exact scale."""
    hr, lr, exact = _degrade(img, scale)
    bicubic = _run(_bicubic(upscaler), lr, exact)
    sr = _run(upscaler, lr, exact)
    if sr.shape[:2] != hr.shape[:2]:  # cannot happen with _degrade's exact sizes; guard the metrics anyway
        raise gr.Error(f"internal size mismatch {sr.shape} vs {hr.shape}")
    rows = _metrics_rows(hr, bicubic, sr, exact)
    gt = from_float(hr, np.dtype(np.uint8))
    return gt, bicubic, sr, rows, exact


# --------------------------------------------------------------------------- image endpoints


def upscale_image(
    image: str | None,
    scale: str = "x2",
    factor: float = 2.5,
    model: str | None = None,
    engine: str = "auto",
    ensemble: bool = False,
) -> tuple[str, tuple[str, str], str]:
    """Upscale an image.

    Args:
        image: path of the uploaded image (any size up to the limits; 8/16-bit, gray, RGB, RGBA).
        scale: ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is used).
        factor: the free scale factor.
        model: a name from the model dropdown; default model if empty.
        engine: ``auto`` or a backend name.
        ensemble: average the network over the 8 flips/rotations (sharper, 8x the time; smaller output limit).

    Returns:
        (full-resolution VDSR PNG, (bicubic PNG, VDSR PNG) for the slider, the PNG again for download).
    """
    img = _read_upload(image)
    value = parse_scale(scale, factor)
    upscaler = _upscaler(model, engine, ensemble)
    _check(upscaler, img.shape[0], img.shape[1], value)
    sr = _run(upscaler, img, value)
    bicubic = _run(_bicubic(upscaler), img, value)
    out = _work_dir()
    name = f"{_stem(image)}_{_scale_tag(value)}"
    sr_path = str(write_image(out / f"{name}_vdsr.png", sr))
    bicubic_path = str(write_image(out / f"{name}_bicubic.png", bicubic))
    return sr_path, (bicubic_path, sr_path), sr_path


def compare_image(
    image: str | None,
    scale: str = "x2",
    factor: float = 2.5,
    model: str | None = None,
    engine: str = "auto",
    ensemble: bool = False,
) -> tuple[tuple[str, str], tuple[str, str], dict[str, Any]]:
    """Take the upload as ground truth: downscale it, restore it by bicubic and VDSR, and score both.

    Arguments as for :func:`upscale_image`.

    Returns:
        ((ground truth, VDSR) slider, (bicubic, VDSR) slider, table of PSNR/SSIM for bicubic, VDSR and the gain).
    """
    img = _read_upload(image)
    value = parse_scale(scale, factor)
    upscaler = _upscaler(model, engine, ensemble)
    gt, bicubic, sr, rows, exact = _compare_arrays(img, value, upscaler)
    out = _work_dir()
    name = f"{_stem(image)}_{_scale_tag(exact)}"
    gt_path = str(write_image(out / f"{name}_ground_truth.png", gt))
    bicubic_path = str(write_image(out / f"{name}_bicubic.png", bicubic))
    sr_path = str(write_image(out / f"{name}_vdsr.png", sr))
    return (gt_path, sr_path), (bicubic_path, sr_path), {"headers": METRIC_HEADERS, "data": rows}


def example_images() -> list[str]:
    """The example images shipped with the app."""
    return [str(p) for p in sorted(EXAMPLES_DIR.glob("*.png"))]


# --------------------------------------------------------------------------- video endpoints


def _probe(video: str | None) -> VideoInfo:
    """Uploaded video -> its description, or gr.Error if it is unreadable or over the limits."""
    if not video:
        raise gr.Error("Upload a video first (MP4, MOV, MKV, WebM, ...).")
    try:
        info = probe_video(video)
    except VideoError as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise gr.Error(f"Cannot use this upload ({Path(video).name}): {reason}.") from None
    if info.width * info.height > LIMITS.max_video_frame_pixels:
        raise gr.Error(
            f"Frames of {info.width}x{info.height} are over this Space's limit of "
            f"{LIMITS.max_video_frame_pixels / 1e6:.2g} MP (640x360); downscale the video first."
        )
    if info.duration > LIMITS.max_video_seconds + 0.05:
        raise gr.Error(
            f"The video is {info.duration:.1f} s long; this Space upscales clips up to "
            f"{LIMITS.max_video_seconds:g} s. Trim it first."
        )
    return info


def _check_video_work(info: VideoInfo, upscaler: Upscaler, scale: float) -> None:
    out_h, out_w = _check(upscaler, info.height, info.width, scale)
    work = info.frames * out_h * out_w
    if work > LIMITS.max_video_output_pixels:
        raise gr.Error(
            f"{info.frames} frames of {out_w}x{out_h} are {work / 1e6:.0f} MP of output, over this Space's limit of "
            f"{LIMITS.max_video_output_pixels / 1e6:g} MP; use a smaller scale or a shorter clip."
        )


def _describe(info: VideoInfo) -> str:
    audio = ", ".join(info.audio_codecs) if info.audio_codecs else "none"
    return (
        f"**{info.width}x{info.height}**, {float(info.fps):.3g} fps, {info.frames} frames, "
        f"{info.duration:.2f} s, video {info.codec}, audio {audio}."
    )


def video_info(video: str | None) -> tuple[gr.Slider, str]:
    """Describe an uploaded video and size the frame slider to it.

    Returns:
        (an update for the frame slider: maximum = last frame index, value 0; a one-line description).
    """
    info = _probe(video)
    return gr.Slider(minimum=0, maximum=max(info.frames - 1, 0), value=0, step=1), _describe(info)


def _read_frame(video: str, index: int, info: VideoInfo) -> np.ndarray:
    """Frame ``index`` of the video as upright (H, W, 3) uint8 RGB."""
    if not 0 <= index < max(info.frames, 1):
        raise gr.Error(f"Frame {index} is out of range: the video has {info.frames} frames (0 to {info.frames - 1}).")
    try:
        ((_, rgb),) = read_frames(video, [index])
    except VideoError as exc:
        raise gr.Error(f"Cannot read frame {index}: {str(exc).split(': ', 1)[-1]}.") from None
    return rgb


def preview_frame(
    video: str | None,
    frame: float = 0,
    mode: str = "upscale",
    scale: str = "x2",
    factor: float = 2.5,
    model: str | None = None,
    engine: str = "auto",
) -> tuple[tuple[str, str], dict[str, Any]]:
    """Preview one frame: bicubic vs VDSR.

    In ``upscale`` mode the frame itself is upscaled; in ``compare`` mode it is
    taken as ground truth (downscaled, then restored) and PSNR/SSIM are measured.

    Returns:
        ((bicubic PNG, VDSR PNG) for the slider, the metrics table; empty rows in upscale mode).
    """
    info = _probe(video)
    value = parse_scale(scale, factor)
    upscaler = _upscaler(model, engine)
    rgb = _read_frame(video, int(frame or 0), info)
    rows: list[list[Any]] = []
    if mode == "compare":
        _, bicubic, sr, rows, value = _compare_arrays(rgb, value, upscaler)
    elif mode == "upscale":
        _check(upscaler, rgb.shape[0], rgb.shape[1], value)
        sr, bicubic = _run(upscaler, rgb, value), _run(_bicubic(upscaler), rgb, value)
    else:
        raise gr.Error(f"Mode must be 'upscale' or 'compare', got {mode!r}.")
    out = _work_dir()
    name = f"{_stem(video, 'video')}_f{int(frame or 0):06d}_{_scale_tag(value)}"
    bicubic_path = str(write_image(out / f"{name}_bicubic.png", bicubic))
    sr_path = str(write_image(out / f"{name}_vdsr.png", sr))
    return (bicubic_path, sr_path), {"headers": METRIC_HEADERS, "data": rows}


def refresh_preview(
    video: str | None,
    frame: float = 0,
    mode: str = "upscale",
    scale: str = "x2",
    factor: float = 2.5,
    model: str | None = None,
    engine: str = "auto",
) -> tuple[Any, Any]:
    """:func:`preview_frame` after a settings change; leaves the outputs alone when no video is loaded."""
    if not video:
        return gr.skip(), gr.skip()
    return preview_frame(video, frame, mode, scale, factor, model, engine)


def upscale_video(
    video: str | None,
    scale: str = "x2",
    factor: float = 2.5,
    model: str | None = None,
    engine: str = "auto",
    progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects the tracker through this default
) -> tuple[str, str]:
    """Upscale every frame of a short clip; H.264 out, audio copied, timing kept.

    Returns:
        (path of the upscaled MP4, a one-line summary).
    """
    info = _probe(video)
    value = parse_scale(scale, factor)
    upscaler = _upscaler(model, engine)
    _check_video_work(info, upscaler, value)
    progress(0.0, desc="Starting")

    def report(done: int, total: int) -> None:
        progress((done, total), desc="Upscaling frames", unit="frames")

    dst = _work_dir() / f"{_stem(video, 'video')}_{_scale_tag(value)}.mp4"
    try:
        result = video_upscale(video, dst, upscaler, value, progress=report)
    except (VideoError, InputError) as exc:
        raise gr.Error(f"Cannot upscale this video: {str(exc).split(': ', 1)[-1]}.") from None
    audio = ", ".join(result.audio) if result.audio else "no audio"
    summary = (
        f"{result.frames} frames at {result.width}x{result.height}, {float(result.fps):.3g} fps, {audio}; "
        f"{result.seconds:.1f} s ({result.frames_per_second:.2f} frames/s)."
    )
    return str(result.path), summary


# --------------------------------------------------------------------------- about tab

_IMAGE_LINK = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)(\))")


def _serve_links(markdown: str, folder: Path, url_for: Callable[[Path], str]) -> str:
    """Point relative image links in ``markdown`` at files the app serves."""

    def repl(match: re.Match[str]) -> str:
        target = match.group(2)
        if "://" in target or target.startswith("/"):
            return match.group(0)
        path = (folder / target).resolve()
        return f"{match.group(1)}{url_for(path)}{match.group(3)}" if path.is_file() else match.group(0)

    return _IMAGE_LINK.sub(repl, markdown)


def about_sections(url_for: Callable[[Path], str]) -> tuple[list[str], list[Path]]:
    """Markdown of every ``docs/*.md`` (except the API page) and the plots no page links to."""
    if not DOCS_DIR.is_dir():
        return [], []
    pages, linked = [], set()
    for page in sorted(DOCS_DIR.glob("*.md")):
        if page.name == "app.md":
            continue
        text = page.read_text(encoding="utf-8")
        linked.update((DOCS_DIR / m.group(2)).resolve() for m in _IMAGE_LINK.finditer(text))
        pages.append(_serve_links(text, DOCS_DIR, url_for))
    plots = [p for p in sorted(DOCS_DIR.glob("*.png")) + sorted(DOCS_DIR.glob("*.svg")) if p.resolve() not in linked]
    return pages, plots


def models_table() -> list[list[Any]]:
    """One row per offered model: name, layers, trained scales, and the PSNR its checkpoint records."""
    rows = []
    for name, path in MODELS.items():
        try:
            info = read_checkpoint_info(path)
        except CheckpointError as exc:
            rows.append([name, "?", "?", f"unreadable: {exc}"])
            continue
        evaluation = info.evaluation or {}
        scores = evaluation.get("psnr", {})
        measured = ", ".join(f"x{k}: {v:.2f} dB" for k, v in scores.items()) if isinstance(scores, dict) else ""
        where = f" on {evaluation['set']}" if measured and "set" in evaluation else ""
        rows.append([name, info.config.depth, ", ".join(f"x{s:g}" for s in info.scales), (measured + where) or "-"])
    return rows
