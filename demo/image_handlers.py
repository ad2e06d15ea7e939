"""The Image and Batch tabs' endpoints: thin handlers between the Gradio UI and the core.

Each handler turns Gradio inputs (file paths, strings, numbers) into arrays, runs
:class:`vdsr.pipeline.Upscaler`, and writes the results in a fresh folder of the request's
own. Bad input raises :class:`gradio.Error` with a one-line reason. The handlers share only
the :class:`~demo.state.AppState`, so concurrent requests cannot disturb each other. Every
result comes with one line saying which model ran, why, and on which backend.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from demo.compare import compare, damage_kind, damage_label
from demo.errors import user_error
from demo.inputs import (
    check_output_size,
    file_stem,
    image_size,
    over_input_limit,
    parse_scale,
    read_upload,
    scale_tag,
)
from demo.models import AUTOMATIC, Run
from demo.output_format import check_format, save_animation, save_result
from demo.state import AppState
from vdsr.animation import frame_count
from vdsr.imageio import read_meta, write_image
from vdsr.input_kind import input_kind
from vdsr.resize import scaled_size

__all__ = ["ImageHandlers"]


def _unique(stem: str, used: set[str]) -> str:
    """``stem``, or ``stem-1``, ``stem-2``...: two uploads of the same name must not overwrite each other."""
    name, k = stem, 0
    while name in used:
        k += 1
        name = f"{stem}-{k}"
    used.add(name)
    return name


@dataclass(frozen=True)
class ImageHandlers:
    """The image endpoints, bound to the app's state (a method per endpoint, so Gradio sees each one's parameters)."""

    state: AppState

    def check_image(self, image: str | None) -> tuple[str | None, str]:
        """At upload: describe the image and the model automatic would pick, or say in plain words why it
        cannot be used, clearing a file that is not a usable image (so no broken picture stays in the input).

        Returns:
            (the upload, or None to clear it; the description or the reason). The upload goes back as a
            value, never as a component update, which would replace the input's path-only preprocessing.
        """
        if not image:
            return None, ""
        size = image_size(image)
        limits = self.state.limits
        if size and limits.max_input_pixels < size[0] * size[1] <= limits.max_shrink_input_pixels:
            return image, f"**{over_input_limit(*size, limits)}**"  # kept: 'Shrink to fit first' can use it
        try:
            img = read_upload(image, limits)
            pick = self.state.models.pick(AUTOMATIC, input_kind(image))
        except gr.Error as exc:
            return None, f"**{exc.message}**"
        height, width = img.shape[:2]
        frames = frame_count(image)
        kind = (
            "image"
            if frames == 1
            else f"image, animated ({frames} frames): the first is upscaled here; the command line upscales every frame"
        )
        return image, f"{width}x{height} {kind}. The automatic model choice is {pick.name}: {pick.reason}."

    def _upscale(
        self, path: str | None, value: float, model: str | None, engine: str, ensemble: bool, shrink: bool
    ) -> tuple[np.ndarray, np.ndarray, Run]:
        """(bicubic, VDSR, the run) for one upload, within the limits."""
        img = read_upload(path, self.state.limits, shrink=shrink)
        assert path is not None  # read_upload refuses a missing upload
        limit = self.state.limits.upscale_limits(ensemble=ensemble).max_output_pixels
        check_output_size(img.shape[0], img.shape[1], value, limit, self.state.limits)
        run = self.state.run(self.state.models.pick(model, input_kind(path)), engine, ensemble=ensemble)
        bicubic, sr = run.pair(img, value)
        return bicubic, sr, run

    def upscale_image(
        self,
        image: str | None,
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
        ensemble: bool = False,
        shrink: bool = False,
        output_format: str = "png",
        quality: float = 90,
    ) -> tuple[tuple[str, str], str, str]:
        """Upscale an image with VDSR.

        Args:
            image: path of the image (PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP or TIFF; 8/16-bit, gray, RGB or RGBA).
            scale: ``x1`` (the same size, cleaned up), ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is used).
            factor: the free scale factor, 1 to 4.
            model: ``auto`` (the model that suits the input, see vdsr.weights) or a model name.
            engine: ``auto`` or a backend that runs here.
            ensemble: average the network over the 8 flips/rotations (sharper, 8x the time; smaller output limit).
            shrink: downscale an image over the upload limit to fit it first, instead of refusing it.
            output_format: the download's format, ``png`` (lossless), ``jpeg`` or ``webp``.
            quality: JPEG/WebP quality, 1 to 100.

        Returns:
            ((bicubic PNG, VDSR PNG) for the before/after slider, the result to download in the chosen format,
            which model ran and why).
        """
        fmt, q = check_format(output_format, quality)
        value = parse_scale(scale, factor, self.state.limits)
        bicubic, sr, run = self._upscale(image, value, model, engine, ensemble, shrink)
        out = self.state.work.request_folder()
        name = f"{file_stem(image, 'image')}_{scale_tag(value)}"
        meta = read_meta(image) if image else None  # the photo's colour profile and EXIF, kept
        sr_path = str(write_image(out / f"{name}_vdsr.png", sr, meta=meta))
        bicubic_path = str(write_image(out / f"{name}_bicubic.png", bicubic, meta=meta))
        download = sr_path if fmt == "png" else str(save_result(out, f"{name}_vdsr", sr, fmt, q, meta))
        animated, note = self._animation(image, sr.shape[:2], value, run, fmt, q, out / f"{name}_vdsr_animated")
        return (bicubic_path, sr_path), animated or download, run.describe() + note

    def _animation(
        self, path: str | None, size: tuple[int, ...], value: float, run: Run, fmt: str, quality: int, stem: Path
    ) -> tuple[str | None, str]:
        """For an animated upload: every frame for the download where it fits, or why only the first."""
        if path is None or (frames := frame_count(path)) == 1:
            return None, ""
        first = f" The download is the first of {frames} frames:"
        if fmt == "jpeg":
            return None, f"{first} JPEG holds one; choose PNG or WebP for all of them."
        total, limit = frames * size[0] * size[1], self.state.limits.max_video_output_pixels
        if total > limit:
            return None, f"{first} all would be {total / 1e6:.3g} MP, over the {limit / 1e6:.3g} MP limit here."
        width, height = image_size(path) or (0, 0)
        if scaled_size(height, width, value) != tuple(size):
            return None, f"{first} the upload was shrunk to fit, and its frames are not."
        upscale = partial(run.upscaler.upscale, scale=value)
        animation = save_animation(path, stem.parent, stem.name, upscale, fmt, quality)
        return str(animation), f" The download has all {frames} frames, with their timing."

    def upscale_batch(
        self,
        images: list[str] | None,
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
        output_format: str = "png",
        quality: float = 90,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects the tracker through this default
    ) -> tuple[str, str]:
        """Upscale several images and return one zip with a result per image.

        A file that cannot be upscaled is left out of the zip and named, with the reason, in the summary;
        the others still run.

        Args:
            images: the image files (PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP or TIFF), up to the batch limit.
            scale: ``x1`` (the same size, cleaned up), ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is used).
            factor: the free scale factor, 1 to 4.
            model: ``auto`` (picked per image, as for one image) or a model name.
            engine: ``auto`` or a backend that runs here.
            output_format: the results' format, ``png`` (lossless), ``jpeg`` or ``webp``.
            quality: JPEG/WebP quality, 1 to 100.

        Returns:
            (the zip's path, a Markdown summary: one line per image with its result or the reason it failed).
        """
        fmt, q = check_format(output_format, quality)
        value = parse_scale(scale, factor, self.state.limits)
        paths = [str(p) for p in images or []]
        if not paths:
            raise user_error("Upload one or more images first.")
        if len(paths) > self.state.limits.max_batch_files:
            raise user_error(f"{len(paths)} images is over the limit of {self.state.limits.max_batch_files} at once.")
        out = self.state.work.request_folder()
        lines, written, stems = [], [], set[str]()
        for i, path in enumerate(paths):
            progress((i, len(paths)), desc="Upscaling images", unit="images")
            name = Path(path).name
            stem = _unique(file_stem(path, f"image{i + 1}"), stems)
            try:
                _, sr, run = self._upscale(path, value, model, engine, False, False)
                target = f"{stem}_{scale_tag(value)}_vdsr"
                animated, note = self._animation(path, sr.shape[:2], value, run, fmt, q, out / target)
                result = Path(animated) if animated else save_result(out, target, sr, fmt, q, read_meta(path))
            except gr.Error as exc:
                lines.append(f"- {name}: **not upscaled**: {exc.message}")
                continue
            written.append(result)
            lines.append(f"- {name} -> {result.name}: {run.describe()}{note}")
        if not written:
            raise user_error("None of the images could be upscaled: " + " ".join(lines).replace("**", ""))
        archive = out / f"vdsr_{scale_tag(value)}_{len(written)}_images.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:  # PNG/JPEG/WebP are compressed already
            for result in written:
                zf.write(result, result.name)
        summary = f"{len(written)} of {len(paths)} images upscaled at x{value:g}:\n\n" + "\n".join(lines)
        return str(archive), summary

    def compare_image(
        self,
        image: str | None,
        scale: str = "x2",
        factor: float = 2.5,
        model: str | None = None,
        engine: str = "auto",
        ensemble: bool = False,
        damage: str = "clean",
        shrink: bool = False,
    ) -> tuple[dict[str, Any], str, tuple[str, str], tuple[str, str], str]:
        """Take the image as ground truth: downscale it, optionally damage it, restore it by bicubic and VDSR,
        and score both.

        Args:
            image: path of the ground-truth image (PNG, JPEG, HEIC, AVIF, WebP, GIF, BMP or TIFF).
            scale: ``x1`` (the same size, cleaned up), ``x2``, ``x3``, ``x4`` or ``free`` (then ``factor`` is used).
            factor: the free scale factor, 1 to 4.
            model: ``auto`` (picked for the damaged input) or a model name.
            engine: ``auto`` or a backend that runs here.
            ensemble: average the network over the 8 flips/rotations (sharper, 8x the time).
            damage: ``clean``, ``jpeg:90``, ``jpeg:70``, ``jpeg:50``, ``jpeg:30``, ``h264:18``, ``h264:23``,
                ``h264:28`` or ``h264:33``, applied to the downscaled copy before restoring it.
            shrink: downscale an image over the upload limit to fit it first, instead of refusing it.

        Returns:
            (table of PSNR/SSIM for bicubic, VDSR and the gain; what the table was computed for (scale, sizes,
            damage); (ground truth, VDSR) slider; (bicubic, VDSR) slider; which model ran and why).
        """
        img = read_upload(image, self.state.limits, shrink=shrink)
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
