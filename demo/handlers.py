"""The app's endpoints: thin handlers between the Gradio UI and the core.

Each handler turns Gradio inputs (file paths, strings, numbers) into arrays, runs
:class:`vdsr.pipeline.Upscaler` (or :mod:`vdsr.video`), and writes the results as
lossless PNG / MP4 files in a fresh folder of the request's own. Bad input raises
:class:`gradio.Error` with a one-line reason. The handlers share only the read-only
:class:`~demo.state.AppState`, so concurrent requests cannot disturb each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.compare import METRIC_HEADERS, compare
from demo.errors import request_error
from demo.inputs import (
    check_video_work,
    describe_video,
    file_stem,
    parse_scale,
    probe_upload,
    read_frame,
    read_upload,
    scale_tag,
    uploaded_video,
)
from demo.state import AppState
from vdsr.imageio import write_image
from vdsr.pipeline import InputError, Upscaler
from vdsr.video import VideoError
from vdsr.video import upscale_video as video_upscale

__all__ = ["Handlers"]


@dataclass(frozen=True)
class Handlers:
    """The endpoints, bound to the app's state (a method per endpoint, so Gradio sees each one's parameters)."""

    state: AppState

    def _upscaler(self, model: str | None, engine: str | None, ensemble: bool = False) -> Upscaler:
        limits = self.state.limits.upscale_limits(ensemble=ensemble)
        return self.state.models.upscaler(model, engine, limits, ensemble=ensemble)

    def upscale_image(
        self,
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
        img = read_upload(image, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        upscaler = self._upscaler(model, engine, ensemble)
        try:
            bicubic, sr = upscaler.upscale_pair(img, value)
        except InputError as exc:
            raise gr.Error(f"{exc}.") from None
        out = self.state.work.request_folder()
        name = f"{file_stem(image, 'image')}_{scale_tag(value)}"
        sr_path = str(write_image(out / f"{name}_vdsr.png", sr))
        bicubic_path = str(write_image(out / f"{name}_bicubic.png", bicubic))
        return sr_path, (bicubic_path, sr_path), sr_path

    def compare_image(
        self,
        image: str | None,
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
        ensemble: bool = False,
    ) -> tuple[tuple[str, str], tuple[str, str], dict[str, Any]]:
        """Take the upload as ground truth: downscale it, restore it by bicubic and VDSR, and score both.

        Arguments as for :meth:`upscale_image`.

        Returns:
            ((ground truth, VDSR) slider, (bicubic, VDSR) slider, table of PSNR/SSIM for bicubic, VDSR and the gain).
        """
        img = read_upload(image, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        result = compare(img, value, self._upscaler(model, engine, ensemble))
        out = self.state.work.request_folder()
        name = f"{file_stem(image, 'image')}_{scale_tag(result.scale)}"
        gt_path = str(write_image(out / f"{name}_ground_truth.png", result.ground_truth))
        bicubic_path = str(write_image(out / f"{name}_bicubic.png", result.bicubic))
        sr_path = str(write_image(out / f"{name}_vdsr.png", result.upscaled))
        return (gt_path, sr_path), (bicubic_path, sr_path), result.table()

    def video_info(self, video: str | None) -> tuple[gr.Slider, str]:
        """Describe an uploaded video and size the frame slider to it.

        Returns:
            (an update for the frame slider: maximum = last frame index, value 0; a one-line description).
        """
        info = probe_upload(uploaded_video(video), self.state.limits)
        return gr.Slider(minimum=0, maximum=max(info.frames - 1, 0), value=0, step=1), describe_video(info)

    def preview_frame(
        self,
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
        path = uploaded_video(video)
        info = probe_upload(path, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        upscaler = self._upscaler(model, engine)
        index = int(frame or 0)
        rgb = read_frame(path, index, info)
        table: dict[str, Any] = {"headers": METRIC_HEADERS, "data": []}
        if mode == "compare":
            result = compare(rgb, value, upscaler)
            bicubic, sr, value, table = result.bicubic, result.upscaled, result.scale, result.table()
        elif mode == "upscale":
            try:
                bicubic, sr = upscaler.upscale_pair(rgb, value)
            except InputError as exc:
                raise gr.Error(f"{exc}.") from None
        else:
            raise gr.Error(f"Mode must be 'upscale' or 'compare', got {mode!r}.")
        out = self.state.work.request_folder()
        name = f"{file_stem(path, 'video')}_f{index:06d}_{scale_tag(value)}"
        bicubic_path = str(write_image(out / f"{name}_bicubic.png", bicubic))
        sr_path = str(write_image(out / f"{name}_vdsr.png", sr))
        return (bicubic_path, sr_path), table

    def refresh_preview(
        self,
        video: str | None,
        frame: float = 0,
        mode: str = "upscale",
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
    ) -> tuple[Any, Any]:
        """:meth:`preview_frame` after a settings change; leaves the outputs alone when no video is loaded."""
        if not video:
            return gr.skip(), gr.skip()
        return self.preview_frame(video, frame, mode, scale, factor, model, engine)

    def upscale_video(
        self,
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
        path = uploaded_video(video)
        info = probe_upload(path, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        upscaler = self._upscaler(model, engine)
        try:
            out_size = upscaler.check(info.height, info.width, value)
        except InputError as exc:
            raise gr.Error(f"{exc}.") from None
        check_video_work(info, out_size, self.state.limits)
        progress(0.0, desc="Starting")

        def report(done: int, total: int) -> None:
            progress((done, total), desc="Upscaling frames", unit="frames")

        dst = self.state.work.request_folder() / f"{file_stem(path, 'video')}_{scale_tag(value)}.mp4"
        try:
            result = video_upscale(path, dst, upscaler, value, progress=report)
        except (VideoError, InputError) as exc:
            raise request_error("Cannot upscale this video", exc, path, dst) from None
        audio = ", ".join(result.audio) if result.audio else "no audio"
        summary = (
            f"{result.frames} frames at {result.width}x{result.height}, {float(result.fps):.3g} fps, {audio}; "
            f"{result.seconds:.1f} s ({result.frames_per_second:.2f} frames/s)."
        )
        return str(result.path), summary
