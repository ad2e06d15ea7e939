"""The app's endpoints: thin handlers between the Gradio UI and the core.

Each handler turns Gradio inputs (file paths, strings, numbers) into arrays, runs
:class:`vdsr.pipeline.Upscaler` (or :mod:`vdsr.video`), and writes the results in a
fresh folder of the request's own. Bad input raises :class:`gradio.Error` with a
one-line reason. The handlers share only the read-only :class:`~demo.state.AppState`,
so concurrent requests cannot disturb each other. Every result comes with one line
saying which model ran, why, and on which backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from demo.compare import METRIC_HEADERS, compare, damage_kind, damage_label
from demo.errors import request_error, user_error
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
from demo.models import AUTOMATIC
from demo.state import AppState
from vdsr.imageio import write_image
from vdsr.pipeline import InputError, Upscaler
from vdsr.video import VideoError
from vdsr.video import upscale_video as video_upscale
from vdsr.weights import input_kind

__all__ = ["Handlers"]


def _pair(upscaler: Upscaler, img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(bicubic, VDSR) from one resize; a size or scale the upscaler refuses becomes a one-line error."""
    try:
        return upscaler.upscale_pair(img, scale)
    except InputError as exc:
        raise user_error(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None


@dataclass(frozen=True)
class Handlers:
    """The endpoints, bound to the app's state (a method per endpoint, so Gradio sees each one's parameters)."""

    state: AppState

    def check_image(self, image: str | None) -> tuple[str | None, str]:
        """At upload: describe the image and the model automatic would pick, or clear the upload and say why
        it cannot be used, in plain words (a broken file never sits in the input as a broken picture).

        Returns:
            (the upload, or None to clear it; the description or the reason). The upload goes back as a
            value, never as a component update, which would replace the input's path-only preprocessing.
        """
        if not image:
            return None, ""
        try:
            img = read_upload(image, self.state.limits)
            pick = self.state.models.pick(AUTOMATIC, input_kind(image))
        except gr.Error as exc:
            return None, f"**{exc.message}**"
        height, width = img.shape[:2]
        return image, f"{width}x{height} image. The automatic model choice is {pick.name}: {pick.reason}."

    def upscale_image(
        self,
        image: str | None,
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
        ensemble: bool = False,
    ) -> tuple[tuple[str, str], str, str]:
        """Upscale an image with VDSR.

        Args:
            image: path of the image (PNG, JPEG, WebP, BMP or TIFF; 8/16-bit, gray, RGB or RGBA).
            scale: ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is used).
            factor: the free scale factor, 1.1 to 4.
            model: ``auto`` (follows the input: the real-world model for JPEG and lossy WebP) or a model name.
            engine: ``auto`` or a backend that runs here.
            ensemble: average the network over the 8 flips/rotations (sharper, 8x the time; smaller output limit).

        Returns:
            ((bicubic PNG, VDSR PNG) for the before/after slider, the VDSR PNG to download, which model ran and why).
        """
        img = read_upload(image, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        run = self.state.run(self.state.models.pick(model, input_kind(image or "")), engine, ensemble=ensemble)
        bicubic, sr = _pair(run.upscaler, img, value)
        out = self.state.work.request_folder()
        name = f"{file_stem(image, 'image')}_{scale_tag(value)}"
        sr_path = str(write_image(out / f"{name}_vdsr.png", sr))
        bicubic_path = str(write_image(out / f"{name}_bicubic.png", bicubic))
        return (bicubic_path, sr_path), sr_path, run.describe()

    def compare_image(
        self,
        image: str | None,
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
        ensemble: bool = False,
        damage: str = "clean",
    ) -> tuple[dict[str, Any], str, tuple[str, str], tuple[str, str], str]:
        """Take the image as ground truth: downscale it, optionally damage it, restore it by bicubic and VDSR,
        and score both.

        Arguments as for :meth:`upscale_image`, and ``damage``: ``clean``, ``jpeg:90/70/50/30`` or
        ``h264:18/23/28/33``, applied to the downscaled copy before restoring it.

        Returns:
            (table of PSNR/SSIM for bicubic, VDSR and the gain; what the table was computed for (scale, sizes,
            damage); (ground truth, VDSR) slider; (bicubic, VDSR) slider; which model ran and why).
        """
        img = read_upload(image, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        context = f"for input with {damage_label(damage)} damage"
        pick = self.state.models.pick(model, damage_kind(damage), context)
        run = self.state.run(pick, engine, ensemble=ensemble)
        result = compare(img, value, run.upscaler, damage)
        out = self.state.work.request_folder()
        name = f"{file_stem(image, 'image')}_{scale_tag(result.scale)}"
        gt_path = str(write_image(out / f"{name}_ground_truth.png", result.ground_truth))
        bicubic_path = str(write_image(out / f"{name}_bicubic.png", result.bicubic))
        sr_path = str(write_image(out / f"{name}_vdsr.png", result.upscaled))
        return result.table(), result.caption(), (gt_path, sr_path), (bicubic_path, sr_path), run.describe()

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
        damage: str = "clean",
    ) -> tuple[tuple[str, str], dict[str, Any], str]:
        """Preview one frame: bicubic vs VDSR.

        In ``upscale`` mode the frame itself is upscaled; in ``compare`` mode it is taken as
        ground truth (downscaled, damaged by ``damage``, then restored) and PSNR/SSIM are measured.

        Returns:
            ((bicubic PNG, VDSR PNG) for the slider, the metrics table (no rows in upscale mode),
            which model ran and why, after what the table was computed for in compare mode).
        """
        if mode not in ("upscale", "compare"):
            raise user_error(f"Mode must be 'upscale' or 'compare', got {mode!r}.")
        path = uploaded_video(video)
        info = probe_upload(path, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        index = int(frame or 0)
        rgb = read_frame(path, index, info)
        table: dict[str, Any] = {"headers": METRIC_HEADERS, "data": []}
        caption = ""
        if mode == "compare":
            context = f"for input with {damage_label(damage)} damage"
            run = self.state.run(self.state.models.pick(model, damage_kind(damage), context), engine)
            result = compare(rgb, value, run.upscaler, damage)
            bicubic, sr, value, table = result.bicubic, result.upscaled, result.scale, result.table()
            caption = result.caption() + "\n\n"
        else:
            run = self.state.run(self.state.models.pick(model, "video"), engine)
            bicubic, sr = _pair(run.upscaler, rgb, value)
        out = self.state.work.request_folder()
        name = f"{file_stem(path, 'video')}_f{index:06d}_{scale_tag(value)}"
        bicubic_path = str(write_image(out / f"{name}_bicubic.png", bicubic))
        sr_path = str(write_image(out / f"{name}_vdsr.png", sr))
        return (bicubic_path, sr_path), table, caption + run.describe()

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
            (path of the upscaled MP4, a summary: frames, size, time, and which model ran and why).
        """
        path = uploaded_video(video)
        info = probe_upload(path, self.state.limits)
        value = parse_scale(scale, factor, self.state.limits)
        run = self.state.run(self.state.models.pick(model, "video"), engine)
        try:
            out_size = run.upscaler.check(info.height, info.width, value)
        except InputError as exc:
            raise user_error(f"{exc}.") from None
        check_video_work(info, out_size, self.state.limits)
        progress(0.0, desc="Starting")

        def report(done: int, total: int) -> None:
            progress((done, total), desc="Upscaling frames", unit="frames")

        dst = self.state.work.request_folder() / f"{file_stem(path, 'video')}_{scale_tag(value)}.mp4"
        try:
            result = video_upscale(path, dst, run.upscaler, value, progress=report)
        except (VideoError, InputError) as exc:
            raise request_error("Cannot upscale this video", exc, path, dst) from None
        audio = ", ".join(result.audio) if result.audio else "no audio"
        summary = (
            f"{result.frames} frames at {result.width}x{result.height}, {float(result.fps):.3g} fps, {audio}; "
            f"{result.seconds:.1f} s ({result.frames_per_second:.2f} frames/s).\n\n{run.describe()}"
        )
        return str(result.path), summary
