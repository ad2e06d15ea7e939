"""The Image tab's endpoints: thin handlers between the Gradio UI and the core.

Each handler turns Gradio inputs (file paths, strings, numbers) into arrays, runs
:class:`vdsr.pipeline.Upscaler`, and writes the results in a fresh folder of the request's
own. Bad input raises :class:`gradio.Error` with a one-line reason. The handlers share only
the :class:`~demo.state.AppState`, so concurrent requests cannot disturb each other. Every
result comes with one line saying which model ran, why, and on which backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.compare import compare, damage_kind, damage_label
from demo.inputs import file_stem, parse_scale, read_upload, scale_tag
from demo.models import AUTOMATIC
from demo.state import AppState
from vdsr.imageio import write_image
from vdsr.weights import input_kind

__all__ = ["ImageHandlers"]


@dataclass(frozen=True)
class ImageHandlers:
    """The image endpoints, bound to the app's state (a method per endpoint, so Gradio sees each one's parameters)."""

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
        bicubic, sr = run.pair(img, value)
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
